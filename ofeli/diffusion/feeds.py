"""The nightly feeds: for each active partner, a full LHEO file of the offer validated for it and a delta.

Readers of the validated offer read publications only (design note 1). Each publication's LHEO fragment is
computed once, at validation (`publication_lheo_preparer`), from the working copy restricted to the sessions the
publication holds; the feeds stream those fragments, filtered per partner (ofeli.diffusion.partenaires).

A night's diffusion for one partner (`diffuser_partenaire`) writes two files and two DiffusionRun rows:

- the full file: every current publication with at least one session the partner receives;
- the delta since the partner's last successful night, computed against EtatDiffusion (what was last sent,
  per formation: the publication and the session numbers). A formation is in the delta when it is new for the
  partner or when its publication or its set of sessions sent changed; the whole <formation> (with the
  sessions the partner receives now) is written, so the partner replaces what it holds.
  Withdrawn items — LHEO has no deletion element — are said twice: in the run's `retraits` (API metadata:
  [{"formation": numéro, "sessions": [numéros], "formation_retiree": bool}]) and, when the delta file has at
  least one formation, in ``<extras info="ofeli-retraits">`` at the end of <lheo>, one
  ``<extra info="formation-retiree" numero="…"/>`` per formation no longer sent and one
  ``<extra info="session-retiree" numero="…" ref="numéro de la formation"/>`` per session no longer sent.
  A delta with no formation at all has no file (LHEO requires at least one formation): its withdrawals are in
  the run's metadata only.

Guarantees:
- EtatDiffusion is updated in the same transaction that marks the runs successful, and records exactly what
  was written: a publication validated while the run was building is not in the files and not in
  EtatDiffusion, so the next delta carries it; a failed run marks nothing as sent.
- The list of publications is read once at the start (one consistent set); their fragments are immutable.
- Files are written to a temporary name in private storage, validated against the LHEO XSD, fsynced and
  renamed atomically. Their content depends only on the data and the night (datecrea is the night's date), so
  a rerun on unchanged data gives the same bytes; a night already successful for a partner is not rebuilt:
  the successful runs are returned as they are.
- A failed run stays recorded (statut "echec", with the error); the next attempt gets tentative + 1.
"""

import copy
import datetime
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr  # nosec B406  # writes (escapes) XML attributes, parses nothing

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from lxml import etree

from ofeli.core.processus import processus_arrete, processus_courant
from ofeli.lheo import NS_23
from ofeli.lheo.validate import valider_lheo
from ofeli.lheo.writer import FormationIncomplete, formation_fragment, iter_formations
from ofeli.offre.models import Etat, Formation
from ofeli.validation.models import Publication

from .models import DiffusionRun, EtatDiffusion, Partenaire, PublicationLheo, Telechargement
from .partenaires import refus_session as refus_session_partenaire
from .partenaires import sessions_transmises

logger = logging.getLogger("ofeli.jobs")

CHUNK = 500
# A run "en cours" that has given no sign of life for this long is dead (its worker was killed, on any machine)
# and may be replaced; a running one gives one at least every BATTEMENT (per chunk of formations, before each file).
RUN_INACTIF = datetime.timedelta(minutes=15)
BATTEMENT = datetime.timedelta(seconds=30)


class DiffusionEnCours(RuntimeError):
    """Another run of the same partner is building its files."""


# --- fragments ---------------------------------------------------------------------------------------------


def _numero_session(session: dict) -> str:
    return session.get("numero") or f"OFELI-S{session['id']}"


def _numero_formation(data: dict, formation_id: int) -> str:
    return (data.get("formation") or {}).get("numero") or f"OFELI-F{formation_id}"


def _session_ids(publication: Publication) -> set[int]:
    return {s["id"] for a in publication.data.get("actions", []) for s in a.get("sessions", [])}


def _fragment_pour(formation, publication) -> tuple[str, int]:
    ids = _session_ids(publication)
    if not ids:
        return "", 0
    try:
        fragment = formation_fragment(formation, session_filter=lambda s: s.pk in ids)
    except FormationIncomplete:
        return "", 0
    return fragment.decode("utf-8"), len(ids)


@transaction.atomic
def publication_lheo_preparer(publication: Publication) -> PublicationLheo:
    """Computes and stores the LHEO fragment of `publication` (call it right after the publication is created).

    Rendered from the working copy, restricted to the sessions the publication holds: at validation the working
    copy of what is validated is the publication. Except for what the publication keeps from the previous one
    while its change waits for validation (an action or a session "en attente" or "complément"): its element is
    taken from the previous publication's fragment, so the pending change is not diffused.
    """
    formation = next(iter(iter_formations([publication.formation_id])))
    fragment, nb = _fragment_pour(formation, publication)
    if fragment:
        fragment = _reprendre_en_suspens(formation, publication, fragment)
    row, _ = PublicationLheo.objects.update_or_create(
        publication=publication, defaults={"fragment": fragment, "nb_sessions": nb}
    )
    return row


def _reprendre_en_suspens(formation, publication: Publication, fragment: str) -> str:
    en_suspens = (Etat.EN_ATTENTE, Etat.COMPLEMENT)
    ids = _session_ids(publication)
    actions = [a for a in formation.actions.all() if a.etat in en_suspens]
    sessions = [s for a in formation.actions.all() for s in a.sessions.all() if s.pk in ids and s.etat in en_suspens]
    if not actions and not sessions:
        return fragment
    precedente = (
        PublicationLheo.objects.filter(
            publication__formation_id=publication.formation_id, publication__numero__lt=publication.numero
        )
        .exclude(fragment="")
        .order_by("-publication__numero")
        .values_list("fragment", flat=True)
        .first()
    )
    if precedente is None:
        return fragment
    action_tag, session_tag = f"{{{NS_23}}}action", f"{{{NS_23}}}session"
    ancien = etree.fromstring(precedente.encode("utf-8"))
    anciennes_actions = {e.get("numero"): e for e in ancien.iterchildren(action_tag)}
    anciennes_sessions = {e.get("numero"): e for e in ancien.iter(session_tag)}
    publiees = {_numero_session(s) for a in publication.data.get("actions", []) for s in a.get("sessions", [])}
    actions_numeros = {a.numero for a in actions if a.numero}
    sessions_numeros = {s.numero for s in sessions if s.numero}
    element = etree.fromstring(fragment.encode("utf-8"))
    for action in list(element.iterchildren(action_tag)):
        numero = action.get("numero")
        if numero in actions_numeros and numero in anciennes_actions:
            # the old action, with only the sessions this publication holds
            remplacement = copy.deepcopy(anciennes_actions[numero])
            for session in list(remplacement.iterchildren(session_tag)):
                if session.get("numero") not in publiees:
                    remplacement.remove(session)
            element.replace(action, remplacement)
            action = remplacement
        for session in list(action.iterchildren(session_tag)):
            if session.get("numero") in sessions_numeros and session.get("numero") in anciennes_sessions:
                action.replace(session, copy.deepcopy(anciennes_sessions[session.get("numero")]))
    return etree.tostring(element, encoding="utf-8", pretty_print=True).decode("utf-8")


def preparer_fragments(publications: list[Publication]) -> list[PublicationLheo]:
    """Fragments of many publications at once (chunked loading of their formations); for bulk use (bench, feeds)."""
    par_formation = {p.formation_id: p for p in publications}
    rows = []
    for formation in iter_formations(list(par_formation), chunk_size=CHUNK):
        publication = par_formation[formation.pk]
        fragment, nb = _fragment_pour(formation, publication)
        rows.append(PublicationLheo(publication=publication, fragment=fragment, nb_sessions=nb))
    PublicationLheo.objects.bulk_create(rows, batch_size=CHUNK, ignore_conflicts=True)
    return rows


def _filtrer(fragment: str, numeros: set[str], tous: bool) -> bytes:
    """The fragment with only the sessions `numeros` (actions left empty removed)."""
    data = fragment.encode("utf-8")
    if tous:
        return data
    element = etree.fromstring(data)
    session_tag, action_tag = f"{{{NS_23}}}session", f"{{{NS_23}}}action"
    for action in list(element.iterchildren(action_tag)):
        for session in list(action.iterchildren(session_tag)):
            if session.get("numero") not in numeros:
                action.remove(session)
        if next(action.iterchildren(session_tag), None) is None:
            element.remove(action)
    return etree.tostring(element, encoding="utf-8") + b"\n"


# --- files -------------------------------------------------------------------------------------------------


class _Fichier:
    """An LHEO document written by hand around stored fragments, to a temporary file, hashed as it goes."""

    def __init__(self, directory: Path, nuit: datetime.date):
        directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".xml")
        self.path = Path(name)
        self.file = os.fdopen(fd, "wb")
        self.hash = hashlib.sha256()
        self.taille = 0
        self.formations = 0
        self.sessions = 0
        self._write(
            b"<?xml version='1.0' encoding='utf-8'?>\n"
            + f'<lheo xmlns="{NS_23}" datecrea="{nuit:%Y%m%d}">\n<offres>\n'.encode()
        )

    def _write(self, data: bytes):
        self.file.write(data)
        self.hash.update(data)
        self.taille += len(data)

    def formation(self, data: bytes, nb_sessions: int):
        self._write(data)
        self.formations += 1
        self.sessions += nb_sessions

    def fermer(self, retraits: list[dict]):
        self._write(b"</offres>\n")
        lignes = []
        for retrait in retraits:
            formation = quoteattr(retrait["formation"])
            if retrait["formation_retiree"]:
                lignes.append(f'<extra info="formation-retiree" numero={formation}/>\n')
            else:
                for numero in retrait["sessions"]:
                    lignes.append(f'<extra info="session-retiree" numero={quoteattr(numero)} ref={formation}/>\n')
        if lignes:
            self._write(('<extras info="ofeli-retraits">\n' + "".join(lignes) + "</extras>\n").encode())
        self._write(b"</lheo>\n")
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()

    def abandonner(self):
        if not self.file.closed:
            self.file.close()
        self.path.unlink(missing_ok=True)


def chemin_fichier(partenaire: Partenaire, nuit: datetime.date, kind: str) -> str:
    return f"diffusion/{partenaire.slug}/{nuit:%Y-%m-%d}-{kind}.xml"


def _publier_fichier(fichier: _Fichier, nom: str) -> None:
    erreurs = valider_lheo(str(fichier.path))
    if erreurs:
        raise ValueError("Fichier LHEO non conforme au schéma : " + " ; ".join(str(e) for e in erreurs[:5]))
    final = Path(default_storage.path(nom))
    os.replace(fichier.path, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# --- the night's run for one partner ---------------------------------------------------------------------


@dataclass
class _Resultat:
    complet: _Fichier
    delta: _Fichier
    nouvelles: int = 0
    modifiees: int = 0
    retraits: list = field(default_factory=list)
    erreurs: list = field(default_factory=list)
    envoyes: dict = field(default_factory=dict)  # formation_id -> (publication_id, [numéros]) of the delta
    retirees: list = field(default_factory=list)  # formation ids no longer sent


def _runs_reussis(partenaire, nuit):
    runs = {
        r.kind: r
        for r in DiffusionRun.objects.filter(partenaire=partenaire, nuit=nuit, statut=DiffusionRun.Statut.REUSSI)
    }
    if len(runs) == 2:
        return runs[DiffusionRun.Kind.COMPLET], runs[DiffusionRun.Kind.DELTA]
    return None


@transaction.atomic
def _runs_ouvrir(partenaire, nuit, user) -> tuple[DiffusionRun, DiffusionRun, bool]:
    """The two runs of the night: the successful ones (False) or two new attempts "en cours" (True)."""
    Partenaire.objects.select_for_update().get(pk=partenaire.pk)
    if reussis := _runs_reussis(partenaire, nuit):
        return (*reussis, False)
    now = timezone.now()
    en_cours = DiffusionRun.objects.filter(partenaire=partenaire, statut=DiffusionRun.Statut.EN_COURS)
    if any(_vivant(run, now) for run in en_cours):
        raise DiffusionEnCours(f"Une diffusion vers {partenaire} est déjà en cours.")
    if en_cours.update(statut=DiffusionRun.Statut.ECHEC, finished_at=now, erreur="Interrompue (processus arrêté)."):
        _nettoyer_temporaires(partenaire)
    runs = []
    hote, pid = processus_courant()
    for kind in (DiffusionRun.Kind.COMPLET, DiffusionRun.Kind.DELTA):
        derniere = (
            DiffusionRun.objects.filter(partenaire=partenaire, nuit=nuit, kind=kind)
            .order_by("-tentative")
            .values_list("tentative", flat=True)
            .first()
        )
        runs.append(
            DiffusionRun.objects.create(
                partenaire=partenaire,
                nuit=nuit,
                kind=kind,
                tentative=(derniere or 0) + 1,
                started_at=now,
                lance_par=user,
                hote=hote,
                pid=pid,
                battement=now,
            )
        )
    return (*runs, True)


def _vivant(run: DiffusionRun, now) -> bool:
    """Whether a run "en cours" may still be running: its process is not known to be gone (same machine: see
    core.processus) and it gave a sign of life within RUN_INACTIF (any machine)."""
    return not processus_arrete(run.hote, run.pid) and (run.battement or run.started_at) >= now - RUN_INACTIF


class _Battement:
    """The runs' sign of life, written at most every BATTEMENT (one UPDATE of both runs)."""

    def __init__(self, runs):
        self.ids = [run.pk for run in runs]
        self.dernier = timezone.now()

    def __call__(self, *, force: bool = False):
        now = timezone.now()
        if force or now - self.dernier >= BATTEMENT:
            DiffusionRun.objects.filter(pk__in=self.ids).update(battement=now)
            self.dernier = now


def _nettoyer_temporaires(partenaire: Partenaire) -> None:
    """Removes the half-written files of interrupted runs (never published, never offered for download)."""
    directory = Path(default_storage.path(f"diffusion/{partenaire.slug}"))
    if directory.is_dir():
        for tmp in directory.glob(".tmp-*.xml"):
            tmp.unlink(missing_ok=True)


def _copies_egales(formation_ids: list[int]) -> set[int]:
    """The formations whose working copy is their publication: validated, nothing of them waiting for validation."""
    en_suspens = (Etat.EN_ATTENTE, Etat.COMPLEMENT)
    return set(
        Formation.objects.filter(pk__in=formation_ids, etat=Etat.VALIDEE)
        .exclude(actions__etat__in=en_suspens)
        .exclude(actions__sessions__etat__in=en_suspens)
        .values_list("pk", flat=True)
    )


def _construire(partenaire: Partenaire, nuit: datetime.date, directory: Path, battre=lambda: None) -> _Resultat:
    etats = {
        formation_id: (publication_id, set(sessions))
        for formation_id, publication_id, sessions in EtatDiffusion.objects.filter(partenaire=partenaire).values_list(
            "formation_id", "publication_id", "sessions"
        )
    }
    # One consistent list of what is diffused now, read once; fragments are immutable.
    courantes = list(Publication.objects.courantes().order_by("formation_id").values_list("pk", "formation_id"))
    resultat = _Resultat(complet=_Fichier(directory, nuit), delta=_Fichier(directory, nuit))
    vues = set()
    tous = partenaire.perimetre == Partenaire.Perimetre.TOUT and not partenaire.exclure_terminees
    for start in range(0, len(courantes), CHUNK):
        battre()
        chunk = courantes[start : start + CHUNK]
        publications = {
            p.pk: p
            for p in Publication.objects.filter(pk__in=[pk for pk, _ in chunk]).only("pk", "formation_id", "data")
        }
        fragments = dict(
            PublicationLheo.objects.filter(publication_id__in=publications).values_list("publication_id", "fragment")
        )
        manquantes = [p for pk, p in publications.items() if pk not in fragments]
        if manquantes:
            validees = _copies_egales([p.formation_id for p in manquantes])
            a_preparer = [p for p in manquantes if p.formation_id in validees]
            for row in preparer_fragments(a_preparer):
                fragments[row.publication_id] = row.fragment
            for p in manquantes:
                if p.formation_id not in validees:
                    resultat.erreurs.append(
                        {
                            "publication": p.pk,
                            "formation": _numero_formation(p.data, p.formation_id),
                            "message": "Fragment LHEO absent et formation modifiée depuis sa validation : "
                            "non transmise cette nuit.",
                        }
                    )
        for pk, formation_id in chunk:
            publication = publications[pk]
            fragment = fragments.get(pk)
            if not fragment:
                continue
            sessions = sessions_transmises(partenaire, publication.data, nuit)
            if not sessions:
                continue
            numeros = {_numero_session(s) for s in sessions}
            data = _filtrer(fragment, numeros, tous)
            vues.add(formation_id)
            resultat.complet.formation(data, len(numeros))
            avant = etats.get(formation_id)
            if avant is not None and avant[0] == pk and avant[1] == numeros:
                continue
            if avant is None:
                resultat.nouvelles += 1
            else:
                resultat.modifiees += 1
                if retirees := sorted(avant[1] - numeros):
                    resultat.retraits.append(
                        {
                            "formation": _numero_formation(publication.data, formation_id),
                            "sessions": retirees,
                            "formation_retiree": False,
                        }
                    )
            resultat.delta.formation(data, len(numeros))
            resultat.envoyes[formation_id] = (pk, sorted(numeros))
    retirees = sorted(set(etats) - vues)
    if retirees:
        numeros = dict(Formation.objects.filter(pk__in=retirees).values_list("pk", "numero"))
        for formation_id in retirees:
            resultat.retraits.append(
                {
                    "formation": numeros.get(formation_id) or f"OFELI-F{formation_id}",
                    "sessions": sorted(etats[formation_id][1]),
                    "formation_retiree": True,
                }
            )
    resultat.retirees = retirees
    return resultat


def diffuser_partenaire(
    *, partenaire: Partenaire, nuit: datetime.date | None = None, user=None
) -> tuple[DiffusionRun, DiffusionRun]:
    """Builds the night's full and delta feeds of one partner; returns (complet, delta).

    Idempotent: a night already successful for the partner returns its runs unchanged. On failure both runs
    are recorded as failed (nothing is marked as sent) and the exception is raised again (Huey retries).
    """
    nuit = nuit or timezone.localdate()
    complet, delta, nouveaux = _runs_ouvrir(partenaire, nuit, user)
    if not nouveaux:
        return complet, delta
    directory = Path(default_storage.path(f"diffusion/{partenaire.slug}"))
    resultat = None
    battre = _Battement([complet, delta])
    try:
        resultat = _construire(partenaire, nuit, directory, battre)
        fichiers = {}
        for run, fichier in ((complet, resultat.complet), (delta, resultat.delta)):
            battre(force=True)  # before the file's XSD validation, the longest single step
            fichier.fermer(resultat.retraits if run is delta else [])
            if fichier.formations:
                nom = chemin_fichier(partenaire, nuit, run.kind)
                _publier_fichier(fichier, nom)
                fichiers[run.kind] = nom
            else:
                fichier.abandonner()
        _runs_reussir(partenaire, complet, delta, resultat, fichiers)
    except Exception as exc:
        if resultat is not None:
            resultat.complet.abandonner()
            resultat.delta.abandonner()
        _runs_echouer([complet, delta], exc)
        logger.exception("diffusion partenaire=%s nuit=%s echec", partenaire.slug, nuit)
        raise
    complet.refresh_from_db()
    delta.refresh_from_db()
    logger.info(
        "diffusion partenaire=%s nuit=%s formations=%s delta=%s",
        partenaire.slug,
        nuit,
        complet.nb_formations,
        delta.nb_formations,
    )
    return complet, delta


@transaction.atomic
def _runs_reussir(partenaire, complet, delta, resultat: _Resultat, fichiers: dict):
    now = timezone.now()
    for run, fichier in ((complet, resultat.complet), (delta, resultat.delta)):
        run.statut = DiffusionRun.Statut.REUSSI
        run.finished_at = now
        run.nb_formations = fichier.formations
        run.nb_sessions = fichier.sessions
        run.erreurs = resultat.erreurs
        run.fichier = fichiers.get(run.kind, "")
        run.sha256 = fichier.hash.hexdigest() if run.fichier else ""
        run.taille = fichier.taille if run.fichier else 0
        if run is delta:
            run.nb_nouvelles = resultat.nouvelles
            run.nb_modifiees = resultat.modifiees
            run.nb_retirees = len(resultat.retirees)
            run.retraits = resultat.retraits
        run.save()
    EtatDiffusion.objects.filter(partenaire=partenaire, formation_id__in=resultat.retirees).delete()
    existants = set(
        EtatDiffusion.objects.filter(partenaire=partenaire, formation_id__in=list(resultat.envoyes)).values_list(
            "formation_id", flat=True
        )
    )
    nouveaux, modifies = [], []
    for formation_id, (publication_id, numeros) in resultat.envoyes.items():
        row = EtatDiffusion(
            partenaire=partenaire, formation_id=formation_id, publication_id=publication_id, sessions=numeros, run=delta
        )
        (modifies if formation_id in existants else nouveaux).append(row)
    EtatDiffusion.objects.bulk_create(nouveaux, batch_size=CHUNK)
    for row in modifies:
        EtatDiffusion.objects.filter(partenaire=partenaire, formation_id=row.formation_id).update(
            publication_id=row.publication_id, sessions=row.sessions, run=delta
        )


def _runs_echouer(runs, exc):
    message = f"{type(exc).__name__} : {exc}"[:5000]
    for run in runs:
        DiffusionRun.objects.filter(pk=run.pk).update(
            statut=DiffusionRun.Statut.ECHEC, finished_at=timezone.now(), erreur=message
        )


def diffuser_nuit(*, nuit: datetime.date | None = None, partenaire: Partenaire | None = None, user=None) -> list:
    """Every active partner's feeds for the night (or one partner's); a failure of one does not stop the others.

    Returns [(partenaire, (complet, delta) or the exception)].
    """
    nuit = nuit or timezone.localdate()
    partenaires = [partenaire] if partenaire is not None else list(Partenaire.objects.filter(actif=True))
    resultats = []
    for p in partenaires:
        try:
            resultats.append((p, diffuser_partenaire(partenaire=p, nuit=nuit, user=user)))
        except Exception as exc:  # recorded on the run; reported to the caller
            resultats.append((p, exc))
    return resultats


def fichier_run(run: DiffusionRun):
    """The run's file opened for reading (binary), or None."""
    if not run.fichier or not default_storage.exists(run.fichier):
        return None
    return default_storage.open(run.fichier, "rb")


# --- where a session stands, partner by partner ------------------------------------------------------------

RAISONS_ETAT = {
    Etat.BROUILLON: "Elle n'a pas encore été soumise à la validation de l'équipe offre (brouillon).",
    Etat.EN_ATTENTE: "Elle attend la validation de l'équipe offre (sous 48 heures ouvrées).",
    Etat.COMPLEMENT: "L'équipe offre attend un complément d'information : corrigez puis cochez "
    "« J'ai effectué les corrections ».",
    Etat.NON_DIFFUSEE: "L'équipe offre ne la diffuse pas (non diffusée).",
    Etat.ARCHIVE_OF: "Elle est archivée.",
}


@dataclass
class StatutPartenaire:
    partenaire: Partenaire
    statut: str  # "transmise" | "prochaine_nuit" | "non_transmise"
    message: str
    validee_le: datetime.datetime | None = None
    nuit: datetime.date | None = None
    recuperee_le: datetime.datetime | None = None

    @property
    def transmise(self) -> bool:
        return self.statut == "transmise"


def statut_diffusion(session, *, aujourd_hui: datetime.date | None = None) -> list[StatutPartenaire]:
    """Where `session` stands for each active partner: sent in which night's feed and fetched when, or why not."""
    aujourd_hui = aujourd_hui or timezone.localdate()
    formation = session.action.formation
    partenaires = list(Partenaire.objects.filter(actif=True))
    publication = Publication.objects.courantes().filter(formation=formation).first()
    publiee, dispositif = None, ""
    if publication is not None:
        for action in publication.data.get("actions", []):
            for s in action.get("sessions", []):
                if s["id"] == session.pk:
                    publiee, dispositif = s, action.get("dispositif", "")
    if publiee is None:
        if formation.etat in (Etat.ARCHIVE_OF, Etat.NON_DIFFUSEE):
            message = "Sa formation est " + ("archivée." if formation.etat == Etat.ARCHIVE_OF else "non diffusée.")
        elif session.etat != Etat.VALIDEE:
            message = RAISONS_ETAT.get(session.etat, "Elle n'est pas encore validée.")
        elif formation.etat != Etat.VALIDEE:
            message = "Sa formation : " + RAISONS_ETAT.get(formation.etat, "elle n'est pas encore validée.")
        else:
            message = "Elle n'est pas encore dans l'offre diffusée."
        return [StatutPartenaire(p, "non_transmise", message) for p in partenaires]

    numero = _numero_session(publiee)
    etats = {
        e.partenaire_id: e
        for e in EtatDiffusion.objects.filter(formation=formation, partenaire__in=partenaires).select_related("run")
    }
    resultat = []
    for p in partenaires:
        refus = refus_session_partenaire(p, publiee, dispositif, aujourd_hui)
        if refus is not None:
            resultat.append(StatutPartenaire(p, "non_transmise", refus.message, validee_le=publication.validated_at))
            continue
        etat = etats.get(p.pk)
        if etat is None or numero not in etat.sessions:
            resultat.append(
                StatutPartenaire(
                    p,
                    "prochaine_nuit",
                    "Validée, elle sera transmise dans le flux de la nuit prochaine.",
                    validee_le=publication.validated_at,
                )
            )
            continue
        recuperation = (
            Telechargement.objects.filter(run__partenaire=p, run__nuit__gte=etat.run.nuit).order_by("at").first()
        )
        if etat.publication_id == publication.pk:
            message = f"Transmise dans le flux de la nuit du {etat.run.nuit:%d/%m/%Y}."
            statut = "transmise"
        else:
            message = (
                f"Sa version précédente a été transmise la nuit du {etat.run.nuit:%d/%m/%Y} ; "
                "la version validée depuis le sera la nuit prochaine."
            )
            statut = "prochaine_nuit"
        if recuperation is None:
            message += f" {p.nom} ne l'a pas encore récupérée."
        resultat.append(
            StatutPartenaire(
                p,
                statut,
                message,
                validee_le=publication.validated_at,
                nuit=etat.run.nuit,
                recuperee_le=recuperation.at if recuperation else None,
            )
        )
    return resultat
