"""Exports of formations, in LHEO XML or Excel: what to export, and the background build of a large one.

- ``formations_a_exporter(...)``: the formations of an OF (or all, for staff / the command line), in every
  state, optionally filtered by état.
- ``formations_du_contexte(request, params)``: what the "Exporter" button exports: the search result when the
  query string holds search criteria (engineer F's ``ofeli.recherche.services.formations_pour``), else all the
  formations the user may see. Returns (queryset, errors).
- ``export_creer(...)``: records an Export row and enqueues its build on commit.
- ``export_construire(export_id)``: builds the file (called by the Huey task and usable from a shell), with
  progress, LHEO validation against the XSD, the file saved in private storage.
"""

import errno
import logging
import os
import tempfile
from collections.abc import Callable

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from ofeli.lheo.validate import valider_lheo
from ofeli.lheo.writer import ExportStats, ExportVide, write_formations
from ofeli.offre.models import Formation
from ofeli.organismes.gate import SESSION_KEY, organisme_scope

from .excel import write_excel
from .models import Export

logger = logging.getLogger(__name__)

# Query-string keys that are not search criteria (pagination, sorting, the export's own format).
PARAMS_NON_CRITERES = {"page", "tri", "ordre", "format", "csrfmiddlewaretoken"}


def formations_a_exporter(*, organisme=None, etats=None):
    """Every formation (every state, ended sessions included), of one organisme if given, of the given états."""
    queryset = Formation.objects.all()
    if organisme is not None:
        queryset = queryset.filter(organisme=organisme)
    if etats:
        queryset = queryset.filter(etat__in=list(etats))
    return queryset


def _recherche():
    """F's search entry point, if present: formations_pour(request, params) -> (queryset, errors)."""
    try:
        from ofeli.recherche.services import formations_pour
    except ImportError:
        return None
    return formations_pour


def a_des_criteres(params: QueryDict | dict) -> bool:
    return any(key not in PARAMS_NON_CRITERES and any(v for v in _values(params, key)) for key in params)


def _values(params, key) -> list:
    if isinstance(params, QueryDict):
        return params.getlist(key)
    value = params[key]
    return value if isinstance(value, list) else [value]


def formations_du_contexte(request, params: QueryDict):
    """(queryset, errors): the search result for `params` when it holds criteria, else all visible formations.

    The scope is the gate's: an OF contact sees its own organisme's formations, staff everything.
    """
    base = organisme_scope(request, Formation.objects.all())
    if not a_des_criteres(params):
        return base, {}
    recherche = _recherche()
    if recherche is None:
        return base.none(), {"__all__": ["La recherche n'est pas disponible : export impossible sur ces critères."]}
    queryset, errors = recherche(request, params)
    return queryset, errors or {}


def requete_pour(export: Export) -> HttpRequest:
    """A request standing for the export's author in the background job, so the search applies the same scope."""
    request = HttpRequest()
    request.method = "GET"
    request.user = export.user
    request.session = {SESSION_KEY: export.organisme_id} if export.organisme_id else {}
    query = QueryDict(mutable=True)
    for key, values in (export.params or {}).items():
        query.setlist(key, values if isinstance(values, list) else [values])
    request.GET = query
    return request


def export_queryset(export: Export):
    request = requete_pour(export)
    queryset, errors = formations_du_contexte(request, request.GET)
    if errors:
        messages = [m for values in errors.values() for m in (values if isinstance(values, list) else [values])]
        raise ValueError(" ".join(str(m) for m in messages))
    if export.organisme_id:
        queryset = queryset.filter(organisme_id=export.organisme_id)
    return queryset


def ecrire(output, format: str, source, *, progress: Callable[[ExportStats], None] | None = None) -> ExportStats:
    """Writes `source` (queryset or ids) in `format` ("lheo" or "excel") to the binary file `output`."""
    if format == Export.Format.LHEO:
        return write_formations(output, source, progress=progress)
    return write_excel(output, source, progress=progress)


def export_creer(*, user, organisme, format: str, params: dict, total: int = 0) -> Export:
    """Records a background export and enqueues its build once the transaction is committed."""
    from .tasks import export_construire_task

    with transaction.atomic():
        export = Export.objects.create(user=user, organisme=organisme, format=format, params=params, total=total)
        transaction.on_commit(lambda: export_construire_task(export.pk))
    return export


def _mettre_a_jour(export_id: int, **fields) -> None:
    Export.objects.filter(pk=export_id).update(**fields)


def _stocker(path: str, nom: str) -> str:
    """Copies the finished file into the storage under `nom`, a name of this export's own (its id in the path).

    The storage writes the file in place: a copy cut short (disk full) would leave a truncated file there, never
    attached to an export but taking space. Since no other export writes under this name, it is removed.
    """
    try:
        with open(path, "rb") as handle:
            return default_storage.save(nom, File(handle))
    except BaseException:
        if default_storage.exists(nom):
            default_storage.delete(nom)
        raise


def export_construire(export_id: int) -> Export:
    """Builds the file of a pending export; idempotent (an export already started is left alone)."""
    with transaction.atomic():
        claimed = Export.objects.filter(pk=export_id, statut=Export.Statut.EN_ATTENTE).update(
            statut=Export.Statut.EN_COURS, started_at=timezone.now()
        )
    export = Export.objects.select_related("user", "organisme").get(pk=export_id)
    if not claimed:
        return export
    fd, path = tempfile.mkstemp(prefix="ofeli-export-", suffix=".tmp")
    output = os.fdopen(fd, "wb")
    try:
        queryset = export_queryset(export)
        total = queryset.count()
        _mettre_a_jour(export_id, total=total)

        def progress(stats: ExportStats) -> None:
            _mettre_a_jour(export_id, traitees=stats.formations + stats.omises)

        with output:
            stats = ecrire(output, export.format, queryset, progress=progress)
        if export.format == Export.Format.LHEO:
            erreurs = valider_lheo(path)
            if erreurs:
                raise ValueError(
                    "le fichier produit n'est pas conforme au schéma LHEO : " + " ; ".join(str(e) for e in erreurs[:5])
                )
        name = _stocker(path, f"exports/{timezone.now():%Y/%m}/{export.pk}/{export.nom_fichier}")
        _mettre_a_jour(
            export_id,
            statut=Export.Statut.PRET,
            fichier=name,
            taille=default_storage.size(name),
            traitees=stats.formations + stats.omises,
            nb_formations=stats.formations,
            nb_actions=stats.actions,
            nb_sessions=stats.sessions,
            nb_omises=stats.omises,
            finished_at=timezone.now(),
        )
    except ExportVide as exc:
        _mettre_a_jour(export_id, statut=Export.Statut.ECHEC, erreur=str(exc), finished_at=timezone.now())
    except OSError as exc:
        logger.exception("Export %s en échec (fichier)", export_id)
        erreur = (
            "Espace disque insuffisant sur le serveur : l'export n'a pas pu être écrit. Réessayez plus tard ou "
            "prévenez l'équipe technique."
            if exc.errno == errno.ENOSPC
            else "L'export n'a pas pu être écrit sur le serveur. Réessayez plus tard ou prévenez l'équipe technique."
        )
        _mettre_a_jour(export_id, statut=Export.Statut.ECHEC, erreur=erreur, finished_at=timezone.now())
    except Exception as exc:
        logger.exception("Export %s en échec", export_id)
        _mettre_a_jour(
            export_id,
            statut=Export.Statut.ECHEC,
            erreur=f"L'export a échoué : {exc}",
            finished_at=timezone.now(),
        )
    finally:
        output.close()
        if os.path.exists(path):
            os.unlink(path)
    export.refresh_from_db()
    return export
