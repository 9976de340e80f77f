"""Imports of offer entered elsewhere: EOS (Région), France Travail (AFC, POEC), the GIP's collections
(apprentissage, scolaire). Domain functions; the command `import_offre`, the staff screens and the Huey task
call them.

How a file goes in:

1. `import_creer` records an ImportRun (file, source, sha256, who).
2. `import_executer` first claims the source: one import at a time per source (a partial unique constraint on
   the runs "En cours" of a source, safe on PostgreSQL and SQLite); a second one is refused with a French message
   and can be run again once the first is over. A run silent for IMPORT_INACTIF is taken as dead and released.
   An Excel file (the export's layout, ofeli.exports.excel: sheets "Formations" and "Actions et sessions",
   matched by the "Identifiant dans la source" columns) is read row by row into the same FormationData as LHEO;
   an unreadable row rejects its formation with the sheet, row and reason. An LHEO file
   is validated against the XSD (ofeli.lheo.validate.valider_lheo) (ofeli.lheo.validate.valider_lheo): a file
   that is not XML, declares a DOCTYPE or is not in an LHEO namespace stops there, nothing is written. Schema
   errors are tied to the formation whose lines they fall in: that formation is rejected with the error and its
   line, the others go in.
3. The formations are read one at a time (ofeli.lheo.reader, both namespaces 2.2 and 2.3, unknown extras kept)
   and written by `formation_importer` in batches: one transaction per batch, each formation in its own
   savepoint (a rejected record leaves nothing behind). The batch's rejects, counts and the checkpoint (how many
   formations of the file are committed) are written in the same transaction, so a crash mid-file leaves the
   database as it was before the unfinished batch, and running the same run again resumes after the checkpoint.
4. With `complet=True` (a full file), formations and sessions of that source absent from the file are
   archived ("Archive OF") through ofeli.validation.workflow, never deleted.

Matching: Formation, Action and Session carry `source_ref` = the feed's @numero (actions and sessions without
one get their position in their parent). A formation is the same when (source, source_ref) match; its actions
and sessions are matched inside it. The organisme is found by SIRET, then by NDA; an organisme OFeli does not
know yet is created from <organisme-formation-responsable>, without contacts (Organisme.source = import):
its people activate it later with "Réinitialiser mon mot de passe".

Re-importing the same file changes nothing: every value is compared before writing, so an unchanged formation
is neither saved (no history row) nor has its version bumped.

State (docs/decisions/diffusion-imports-etat.md): an imported formation, action or session is created
"En attente de validation" and enters the GIP's queue; a change to something validated or not diffused goes back
to the queue through workflow.marquer_modifie (the last publication stays diffused). Nothing is published
without the équipe offre.

Trusted source (design note 4): these rules of ofeli.offre.rules bind only what an OF enters itself and are NOT
applied to imports: the source rules (regle_source_formation / regle_source_session: the importer writes its
own source), regle_a_distance, regle_hors_region (the funder chose the place), regle_certifiante and
regle_certifiante_agrement (feeds carry no agreement attachment), regle_blocs, regle_entree_sortie_permanente
(the OF's convention for recurring sessions) and regle_places. Applied: regle_dates and
regle_periode_inscription (a session whose end is before its start is rejected), plus the import's own checks:
a valid SIRET (or a known NDA), at least one session, known start and end dates.
"""

import dataclasses
import datetime
import hashlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from lxml import etree

from ofeli.core.identifiants import normaliser_nda, normaliser_siret
from ofeli.core.processus import processus_arrete, processus_courant
from ofeli.exports import excel
from ofeli.lheo import NAMESPACES, LheoError
from ofeli.lheo.reader import (
    ActionData,
    AdresseData,
    CodeData,
    CoordonneesData,
    DateLheo,
    FormationData,
    LieuData,
    OrganismeData,
    SessionData,
    formation_from_element,
)
from ofeli.lheo.safe import safe_iterparse
from ofeli.lheo.validate import valider_lheo
from ofeli.offre import rules
from ofeli.offre.models import (
    Action,
    Dispositif,
    Etat,
    EtatRecrutement,
    Formation,
    ModalitesEnseignement,
    Niveau,
    ObjectifGeneral,
    Parcours,
    Session,
    Source,
)
from ofeli.organismes.models import Lieu, Organisme
from ofeli.recherche.index import indexer_formation
from ofeli.referentiels.models import NSF, Certification, Formacode, Rome
from ofeli.validation import workflow

from .models_imports import ImportRejet, ImportRun

logger = logging.getLogger(__name__)

# The command's --source values -> the offer's Source and the dispositif of the imported actions.
SOURCES = {
    ImportRun.Source.EOS: Source.REGION,
    ImportRun.Source.AFC: Source.AFC,
    ImportRun.Source.POEC: Source.POEC,
    ImportRun.Source.APPRENTISSAGE: Source.APPRENTISSAGE,
    ImportRun.Source.SCOLAIRE: Source.SCOLAIRE,
}
DISPOSITIFS = {
    Source.REGION: Dispositif.REGION,
    Source.AFC: Dispositif.AFC,
    Source.POEC: Dispositif.POEC,
    Source.APPRENTISSAGE: Dispositif.APPRENTISSAGE,
    Source.SCOLAIRE: Dispositif.SCOLAIRE,
}

TAILLE_LOT = 50  # formations per transaction
IMPORT_INACTIF = datetime.timedelta(minutes=30)  # a run "En cours" silent this long is dead (killed worker)


class Rejet(Exception):
    """A record that cannot be imported; `motif` is French."""

    def __init__(self, motif: str, *, objet: str = "formation", identifiant: str = "", ligne: int | None = None):
        super().__init__(motif)
        self.motif = motif
        self.objet = objet
        self.identifiant = identifiant
        self.ligne = ligne


# --- the run ------------------------------------------------------------------------------------------------


def ouvrir(run: ImportRun):
    """A fresh binary file object of the run's file (uploaded, or a path given to the command)."""
    if run.fichier:
        return run.fichier.storage.open(run.fichier.name, "rb")
    return open(run.chemin, "rb")  # the caller closes it (with)


def sha256_de(run: ImportRun) -> str:
    digest = hashlib.sha256()
    with ouvrir(run) as handle:
        for bloc in iter(lambda: handle.read(1 << 20), b""):
            digest.update(bloc)
    return digest.hexdigest()


@transaction.atomic
def import_creer(
    *, source: str, user=None, chemin: str = "", fichier=None, nom_fichier: str = "", complet: bool = False
) -> ImportRun:
    """Records an import of a file (a path on the server, or an uploaded file) for `source`; nothing is read yet."""
    if source not in SOURCES:
        raise ValidationError({"source": ["Source inconnue."]})
    if not chemin and fichier is None:
        raise ValidationError({"fichier": ["Choisissez un fichier."]})
    run = ImportRun(source=source, complet=complet, lance_par=user, chemin=str(chemin))
    if fichier is not None:
        run.nom_fichier = (nom_fichier or getattr(fichier, "name", "") or "import.xml")[:255]
        run.fichier.save(Path(run.nom_fichier).name, fichier, save=False)
    else:
        run.nom_fichier = (nom_fichier or Path(chemin).name)[:255]
    run.sha256 = sha256_de(run)
    run.save()
    return run


def import_a_reprendre(*, source: str, sha256: str) -> ImportRun | None:
    """The last run of the same file for the same source that stopped on an error: run it again to resume.

    A run killed without a trace (still "En cours") is not resumed: a new run reads the file again, and the
    formations that run had committed come out unchanged.
    """
    return (
        ImportRun.objects.filter(source=source, sha256=sha256, statut=ImportRun.Statut.ERREUR)
        .order_by("-created_at", "-pk")
        .first()
    )


def _marquer(run: ImportRun, **champs):
    for name, value in champs.items():
        setattr(run, name, value)
    ImportRun.objects.filter(pk=run.pk).update(**champs)


@dataclasses.dataclass
class _Element:
    numero: str
    ligne: int | None
    donnees: FormationData | None
    erreur: LheoError | None


def _elements(handle) -> Iterator[_Element]:
    """The file's formations, one at a time (both namespaces); an unreadable one comes with its error.

    Like ofeli.lheo.reader.lire_formations, but a formation with unreadable values (a bad date) does not stop
    the file: it is rejected and the next one is read.
    """
    tags = tuple(f"{{{ns}}}formation" for ns in NAMESPACES)
    for _event, element in safe_iterparse(handle, events=("end",), tag=tags):
        namespace = etree.QName(element).namespace
        try:
            yield _Element(
                element.get("numero", ""),
                element.sourceline,
                formation_from_element(element, version=NAMESPACES[namespace]),
                None,
            )
        except LheoError as exc:
            yield _Element(element.get("numero", ""), element.sourceline, None, exc)
        element.clear(keep_tail=False)
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]


def _compter(handle) -> int:
    """How many formations the file holds (for the progress bar)."""
    total = 0
    tags = tuple(f"{{{ns}}}formation" for ns in NAMESPACES)
    for _event, element in safe_iterparse(handle, events=("end",), tag=tags):
        total += 1
        element.clear(keep_tail=False)
        parent = element.getparent()
        if parent is not None:
            while element.getprevious() is not None:
                del parent[0]
    return total


def _avec_erreurs_schema(elements: Iterator[_Element], erreurs: list) -> Iterator[tuple[_Element, list]]:
    """Each formation with the schema errors whose line falls between its start and the next formation's."""
    precedent = None
    for element in elements:
        if precedent is not None:
            yield precedent, [e for e in erreurs if precedent.ligne <= (e.ligne or 0) < (element.ligne or 0)]
        precedent = element
    if precedent is not None:
        yield precedent, [e for e in erreurs if (e.ligne or 0) >= (precedent.ligne or 0)]


def import_executer(
    *,
    run: ImportRun,
    taille_lot: int = TAILLE_LOT,
    apres_formation: Callable[[int], None] | None = None,
) -> ImportRun:
    """Runs (or resumes after its checkpoint) an import; returns the run with its counts and status.

    An unexpected error marks the run "Erreur" (the unfinished batch is rolled back) and is raised again.
    `apres_formation(n)` is called after each formation handled (tests use it to simulate a crash).
    """
    source = SOURCES[run.source]
    refus = _reserver_source(run)
    if refus:
        _marquer(run, statut=ImportRun.Statut.ERREUR, message=refus, finished_at=timezone.now())
        return run
    try:
        if sha256_de(run) != run.sha256:
            _marquer(
                run,
                statut=ImportRun.Statut.ERREUR,
                message="Le fichier a changé depuis le lancement de l'import : lancez un nouvel import.",
                finished_at=timezone.now(),
            )
            return run
        with ouvrir(run) as handle:
            classeur = excel.est_un_classeur(handle)
        if classeur:
            return _executer_classeur(run, source, taille_lot, apres_formation)
        with ouvrir(run) as handle:
            erreurs = valider_lheo(handle)
        fatales = [e for e in erreurs if not e.original]
        if fatales:
            _marquer(
                run,
                statut=ImportRun.Statut.ERREUR,
                message="; ".join(str(e) for e in fatales),
                finished_at=timezone.now(),
            )
            return run
        schema = [e for e in erreurs if e.original]
        with ouvrir(run) as handle:
            _marquer(run, total=_compter(handle))

        with ouvrir(run) as handle:
            _importer_elements(
                run, source, _avec_erreurs_schema(_elements(handle), schema), taille_lot, apres_formation
            )
    except Exception as exc:
        logger.exception("Import %s en erreur", run.pk)
        run.refresh_from_db()  # the counts and checkpoint of the committed batches only
        _marquer(
            run,
            statut=ImportRun.Statut.ERREUR,
            message=f"Erreur inattendue : {exc}. Relancez l'import : il reprendra après les formations déjà "
            f"enregistrées ({run.checkpoint}).",
            finished_at=timezone.now(),
        )
        raise
    return run


def _reserver_source(run: ImportRun) -> str:
    """Marks the run "En cours" if no other run of its source is; else returns the French refusal.

    The database decides (partial unique constraint "un_import_en_cours_par_source"): two workers racing for the
    same source cannot both pass, on PostgreSQL or SQLite.
    """
    maintenant = timezone.now()
    en_cours = ImportRun.objects.filter(source=run.source, statut=ImportRun.Statut.EN_COURS).exclude(pk=run.pk)
    arretes = [
        autre.pk
        for autre in en_cours.only("pk", "battement", "hote", "pid")
        if (autre.battement and autre.battement < maintenant - IMPORT_INACTIF)
        or processus_arrete(autre.hote, autre.pid)
    ]
    en_cours.filter(pk__in=arretes).update(
        statut=ImportRun.Statut.ERREUR,
        message="Import interrompu (plus aucune activité) : relancez-le, il reprendra après les formations déjà "
        "enregistrées.",
        finished_at=maintenant,
    )
    hote, pid = processus_courant()
    try:
        with transaction.atomic():
            _marquer(
                run,
                statut=ImportRun.Statut.EN_COURS,
                started_at=run.started_at or maintenant,
                battement=maintenant,
                hote=hote,
                pid=pid,
                message="",
            )
    except IntegrityError:
        autre = ImportRun.objects.filter(source=run.source, statut=ImportRun.Statut.EN_COURS).exclude(pk=run.pk).first()
        quand = f", lancé le {timezone.localtime(autre.created_at):%d/%m/%Y à %H:%M}" if autre else ""
        numero = f" (import n° {autre.pk}{quand})" if autre else ""
        return (
            f"Un import de la source « {run.get_source_display()} » est déjà en cours{numero} : un seul import à la "
            "fois par source. Relancez celui-ci quand l'autre sera terminé."
        )
    return ""


def _executer_classeur(run, source, taille_lot, apres_formation) -> ImportRun:
    """The Excel layout: the same batches, checkpoint and archiving as an LHEO file."""
    try:
        with ouvrir(run) as handle:
            total = sum(1 for _ in _elements_classeur(handle))
    except excel.ClasseurIllisible as exc:
        _marquer(run, statut=ImportRun.Statut.ERREUR, message=str(exc), finished_at=timezone.now())
        return run
    _marquer(run, total=total)
    with ouvrir(run) as handle:
        _importer_elements(
            run, source, ((element, []) for element in _elements_classeur(handle)), taille_lot, apres_formation
        )
    return run


def _importer_elements(run, source, elements, taille_lot, apres_formation) -> None:
    """The batches of one file, whatever its format: `elements` yields (element, its schema errors).

    Positions up to the run's checkpoint were committed by an earlier attempt and are skipped; each batch is one
    transaction with its checkpoint; a full file then archives what the source no longer sends.
    """
    vues_formations: set[str] = set()
    vues_sessions: dict[str, set[str]] = {}
    lot: list[tuple[int, _Element, list]] = []
    position = 0
    for element, erreurs_element in elements:
        position += 1
        if element.numero:
            vues_formations.add(element.numero)
            if element.donnees is not None:
                vues_sessions[element.numero] = _numeros_sessions(element.donnees)
        if position <= run.checkpoint:
            continue  # committed by an earlier attempt of this run
        lot.append((position, element, erreurs_element))
        if len(lot) >= taille_lot:
            _ecrire_lot(run, source, lot, apres_formation)
            lot = []
    if lot:
        _ecrire_lot(run, source, lot, apres_formation)
    _marquer(run, total=position)
    if run.complet:
        _archiver_absents(run, source, vues_formations, vues_sessions)
    _marquer(run, statut=ImportRun.Statut.TERMINE, finished_at=timezone.now())


def _ecrire_lot(run, source, lot, apres_formation):
    with transaction.atomic():
        compteurs = {"crees": 0, "mises_a_jour": 0, "inchangees": 0, "rejetees": 0}
        rejets = []
        for position, element, erreurs_schema in lot:
            try:
                if element.erreur is not None:
                    raise Rejet(element.erreur.message, ligne=element.erreur.line or element.ligne)
                if erreurs_schema:
                    raise Rejet(
                        "non conforme au schéma LHEO : " + " ; ".join(str(e) for e in erreurs_schema),
                        ligne=erreurs_schema[0].ligne,
                    )
                with transaction.atomic():
                    resultat = formation_importer(donnees=element.donnees, source=source)
                compteurs[resultat] += 1
            except Rejet as rejet:
                compteurs["rejetees"] += 1
                rejets.append(
                    ImportRejet(
                        run=run,
                        objet=rejet.objet,
                        identifiant=(element.numero or rejet.identifiant)[:100],
                        ligne=rejet.ligne or element.ligne,
                        motif=rejet.motif,
                    )
                )
            if apres_formation is not None:
                apres_formation(position)
        ImportRejet.objects.bulk_create(rejets)
        derniere = lot[-1][0]
        champs = {name: getattr(run, name) + value for name, value in compteurs.items()}
        _marquer(run, checkpoint=derniere, traitees=derniere, battement=timezone.now(), **champs)


def _numeros_sessions(donnees: FormationData) -> set[str]:
    return {
        _cle(session.numero, f"{_cle(action.numero, i)}#{j}")
        for i, action in enumerate(donnees.actions, 1)
        for j, session in enumerate(action.sessions, 1)
    }


def _cle(numero: str, position) -> str:
    return (numero or "").strip()[:100] or f"#{position}"


def _archiver_absents(run, source, vues_formations, vues_sessions):
    """Full file: what this source sent before and is absent now is archived (never deleted)."""
    user = run.lance_par
    archivees = 0
    absentes = (
        Formation.objects.filter(source=source)
        .exclude(source_ref="")
        .exclude(source_ref__in=vues_formations)
        .exclude(etat=Etat.ARCHIVE_OF)
        .order_by("pk")
    )
    for formation in absentes:
        workflow.formation_archiver(formation=formation, user=user)
        indexer_formation(formation.pk)
        archivees += 1
    sessions = (
        Session.objects.filter(action__formation__source=source, action__formation__source_ref__in=vues_formations)
        .exclude(source_ref="")
        .exclude(etat=Etat.ARCHIVE_OF)
        .select_related("action__formation")
        .order_by("pk")
    )
    for session in sessions:
        if session.source_ref not in vues_sessions.get(session.action.formation.source_ref, set()):
            workflow.session_archiver(session=session, user=user)
            indexer_formation(session.action.formation_id)
            archivees += 1
    _marquer(run, archivees=run.archivees + archivees)


# --- one formation ------------------------------------------------------------------------------------------


def _premier(valeurs: list[str], longueur: int) -> str:
    for valeur in valeurs:
        if valeur and len(valeur) <= longueur:
            return valeur
    return ""


def _choix(valeur, choices, defaut):
    return valeur if valeur in choices.values else defaut


def _dataclass_json(obj) -> dict:
    return dataclasses.asdict(obj) if obj is not None else {}


def organisme_pour_import(donnees: FormationData) -> Organisme:
    """The formation's organisme by SIRET, then NDA; created (source import, without contacts) when unknown.

    A record without a valid SIRET is rejected, even when its NDA is known: the SIRET identifies the OF.
    """
    data = donnees.organisme
    if data is None:
        raise Rejet("formation sans organisme-formation-responsable")
    siret = nda = None
    erreur_siret = ""
    try:
        siret = normaliser_siret(data.siret)
    except ValidationError as exc:
        erreur_siret = exc.messages[0]
    try:
        nda = normaliser_nda(data.nda)
    except ValidationError:
        nda = None
    if not siret:
        raise Rejet(
            f"organisme « {data.raison_sociale or data.nom or data.numero} » sans SIRET valide "
            f"({data.siret or 'absent'} : {erreur_siret})",
            objet="organisme",
            identifiant=data.numero or data.siret,
        )
    organisme = Organisme.objects.filter(siret=siret).first()
    if organisme is None and nda:
        # A SIRET OFeli does not know (the OF moved, say) but a known NDA: the same organisme.
        organisme = Organisme.objects.filter(nda=nda).first()
    if organisme is not None:
        return organisme
    return organisme_importer(donnees=data, siret=siret, nda=nda)


def organisme_importer(*, donnees, siret: str, nda: str | None) -> Organisme:
    """Creates an organisme the GIP preloads from a feed: no contact; it is activated by its people later."""
    coordonnees = donnees.coordonnees
    adresse = (coordonnees.adresse if coordonnees else None) or AdresseData()
    organisme = Organisme(
        raison_sociale=(donnees.raison_sociale or donnees.nom or siret)[:250],
        nom=(donnees.nom or "")[:250],
        siret=siret,
        nda=nda,
        code_uai=(donnees.code_uai or "")[:8],
        source=Organisme.Source.IMPORT,
        numero=(donnees.numero or "")[:30],
        description=donnees.renseignements_specifiques or "",
        email=(coordonnees.courriel if coordonnees else "")[:254],
        telephone=(coordonnees.telfixe[0] if coordonnees and coordonnees.telfixe else "")[:25],
        site_web=_premier(coordonnees.web if coordonnees else [], 400),
        **_adresse_champs(adresse),
    )
    organisme.save()
    return organisme


def _adresse_champs(adresse: AdresseData) -> dict:
    return {
        "ligne1": (adresse.lignes[0] if adresse.lignes else "")[:50],
        "ligne2": (adresse.lignes[1] if len(adresse.lignes) > 1 else "")[:50],
        "code_postal": (adresse.codepostal or "")[:5],
        "ville": (adresse.ville or "")[:50],
        "code_insee": (adresse.code_insee or "")[:5],
        "departement": (adresse.departement or "")[:3],
    }


def _lieu(organisme: Organisme, adresse: AdresseData | None, denomination: str = "") -> Lieu | None:
    """The organisme's lieu at this address, created when new (one per address, reused by later imports)."""
    if adresse is None or not adresse.lignes or not adresse.codepostal or not adresse.ville:
        return None
    champs = _adresse_champs(adresse)
    lieu = Lieu.objects.filter(
        organisme=organisme, ligne1=champs["ligne1"], code_postal=champs["code_postal"], ville=champs["ville"]
    ).first()
    if lieu is None:
        if not champs["departement"] and champs["code_postal"][:2].isdigit():
            champs["departement"] = champs["code_postal"][:2]
        lieu = Lieu.objects.create(organisme=organisme, denomination=(denomination or "")[:255], **champs)
    return lieu


def _certifications(donnees: FormationData) -> list[Certification]:
    codes = []
    for certification in donnees.certifications:
        for kind, value in certification.items():
            value = (value or "").strip()
            if kind in ("RNCP", "RS") and value:
                codes.append(value if value.upper().startswith(kind) else f"{kind}{value}")
    return list(Certification.objects.filter(code__in=codes))


def _valeur(obj, name, value):
    if isinstance(value, Model) or (value is None and name in _CLES_ETRANGERES):
        return getattr(obj, f"{name}_id")
    return getattr(obj, name)


def _comparable(value):
    return value.pk if isinstance(value, Model) else value


_CLES_ETRANGERES = {"organisme", "formation", "action", "adresse_inscription"}


def _enregistrer(obj, valeurs: dict, m2m: dict) -> bool:
    """Writes only what differs; returns whether anything changed. A change bumps the version."""
    creation = obj.pk is None
    changes = [name for name, value in valeurs.items() if _valeur(obj, name, value) != _comparable(value)]
    if not creation:
        m2m_changes = [name for name, ids in m2m.items() if set(getattr(obj, name).values_list("pk", flat=True)) != ids]
    else:
        m2m_changes = [name for name, ids in m2m.items() if ids]
    if not creation and not changes and not m2m_changes:
        return False
    for name in changes:
        setattr(obj, name, valeurs[name])
    if creation:
        obj.etat = Etat.EN_ATTENTE
        obj.soumise_at = timezone.now()
        obj.save()
    else:
        obj.version = (obj.version or 0) + 1
        if changes:
            obj.save(update_fields=[*changes, "version", "updated_at"])
        else:
            obj.save(update_fields=["version", "updated_at"])
    for name in m2m_changes:
        getattr(obj, name).set(m2m[name])
    if not creation:
        workflow.marquer_modifie(obj=obj, user=None)
    return True


def formation_importer(*, donnees: FormationData, source: str) -> str:
    """Creates or updates one formation of `source` with its actions and sessions, from the feed.

    Returns "crees", "mises_a_jour" or "inchangees"; raises Rejet (nothing written) when it cannot be imported.
    Call inside a transaction (the batch's savepoint).
    """
    numero = (donnees.numero or "").strip()
    if not numero:
        raise Rejet("formation sans identifiant (attribut numero)")
    if len(numero) > 100:
        raise Rejet("identifiant de formation trop long (100 caractères au plus)")
    if not any(action.sessions for action in donnees.actions):
        raise Rejet("formation sans session : une formation importée doit avoir au moins une session")
    organisme = organisme_pour_import(donnees)

    formation = Formation.objects.filter(source=source, source_ref=numero).first()
    creation = formation is None
    if creation:
        formation = Formation(source=source, source_ref=numero)
    valeurs = {
        "organisme": organisme,
        "intitule": (donnees.intitule or numero)[:255],
        "objectif": donnees.objectif,
        "resultats_attendus": donnees.resultats_attendus,
        "contenu": donnees.contenu,
        "certifiante": donnees.certifiante,
        "parcours": _choix(donnees.parcours, Parcours, Parcours.GROUPE),
        "niveau_entree": _choix(donnees.niveau_entree, Niveau, Niveau.SANS_NIVEAU),
        "niveau_sortie": _choix(donnees.niveau_sortie, Niveau, None),
        "objectif_general": _choix(donnees.objectif_general, ObjectifGeneral, None),
        "url": _premier(donnees.url, 400),
        "extras": {
            "lheo": donnees.extras,
            "autres": donnees.autres,
            "contacts": [_dataclass_json(c) for c in donnees.contacts],
            "domaine": {
                "formacodes": [c.code for c in donnees.formacodes],
                "nsf": donnees.nsf,
                "romes": [c.code for c in donnees.romes],
            },
            "certifications": donnees.certifications,
            "identifiant_module": donnees.identifiant_module,
            "version_lheo": donnees.version,
        },
    }
    m2m = {
        "formacodes": set(
            Formacode.objects.filter(code__in=[c.code for c in donnees.formacodes]).values_list("pk", flat=True)
        ),
        "nsf": set(NSF.objects.filter(code__in=donnees.nsf).values_list("pk", flat=True)),
        "romes": set(Rome.objects.filter(code__in=[c.code for c in donnees.romes]).values_list("pk", flat=True)),
        "certifications": {c.pk for c in _certifications(donnees)},
    }
    change = _enregistrer(formation, valeurs, m2m)

    for i, action_data in enumerate(donnees.actions, 1):
        if not action_data.sessions:
            continue  # LHEO requires sessions; an empty action carries nothing to show
        action_ref = _cle(action_data.numero, i)
        action = None if creation else Action.objects.filter(formation=formation, source_ref=action_ref).first()
        if action is None:
            action = Action(formation=formation, source_ref=action_ref)
        change |= _action_importer(action, action_data, organisme, source)
        for j, session_data in enumerate(action_data.sessions, 1):
            session_ref = _cle(session_data.numero, f"{action_ref}#{j}")
            session = None
            if action.pk and not creation:
                session = Session.objects.filter(action__formation=formation, source_ref=session_ref).first()
            if session is None:
                session = Session(action=action, source_ref=session_ref)
            change |= _session_importer(session, session_data, action, organisme)

    if creation:
        indexer_formation(formation.pk)
        return "crees"
    if change:
        indexer_formation(formation.pk)
        return "mises_a_jour"
    return "inchangees"


def _action_importer(action: Action, data, organisme, source) -> bool:
    langue = (data.langues[0] if data.langues else "FR").strip().upper()[:2] or "FR"
    financeurs = [
        {"code": f.code, "nb_places": f.nb_places} if f.nb_places is not None else f.code for f in data.financeurs
    ]
    valeurs = {
        "formation": action.formation,
        "dispositif": DISPOSITIFS[source],
        "rythme": data.rythme,
        "public_vise": [c.code for c in data.publics_vises],
        "info_public_vise": data.info_public_vise[:250],
        "niveau_entree_obligatoire": data.niveau_entree_obligatoire,
        "modalites_alternance": data.modalites_alternance,
        "modalites_enseignement": _choix(
            data.modalites_enseignement, ModalitesEnseignement, ModalitesEnseignement.PRESENTIEL
        ),
        "conditions_specifiques": data.conditions_specifiques,
        "prise_en_charge_frais_possible": data.prise_en_charge_frais_possible,
        "entree_sortie_permanente": data.entree_sortie_permanente,
        "prix_total_ttc": data.prix_total_ttc,
        "prix_horaire_ttc": data.prix_horaire_ttc,
        "detail_conditions_prise_en_charge": data.detail_conditions_prise_en_charge[:600],
        "duree_indicative": data.duree_indicative[:150],
        "nombre_heures_centre": data.nombre_heures_centre,
        "nombre_heures_entreprise": data.nombre_heures_entreprise,
        "nombre_heures_total": data.nombre_heures_total,
        "financeurs": financeurs,
        "langue": langue,
        "modalites_recrutement": data.modalites_recrutement,
        "modalites_pedagogiques": data.modalites_pedagogiques[:200],
        "url": _premier(data.url, 400),
        "acces_handicapes": data.acces_handicapes[:250],
        "extras": {
            "lheo": data.extras,
            "autres": data.autres,
            "organismes_formateurs": [_dataclass_json(f) for f in data.organismes_formateurs],
            "adresse_information": _dataclass_json(data.adresse_information),
            "restauration": data.restauration,
            "hebergement": data.hebergement,
            "transport": data.transport,
            "frais_restants": data.frais_restants,
            "code_perimetre_recrutement": data.code_perimetre_recrutement,
            "infos_perimetre_recrutement": data.infos_perimetre_recrutement,
            "conventionnement": data.conventionnement,
            "duree_conventionnee": data.duree_conventionnee,
            "duree_cycle": data.duree_cycle,
        },
    }
    lieux = [_lieu(organisme, lieu.coordonnees.adresse if lieu.coordonnees else None) for lieu in data.lieux]
    m2m = {"lieux": {lieu.pk for lieu in lieux if lieu is not None}}
    return _enregistrer(action, valeurs, m2m)


def _session_importer(session: Session, data, action: Action, organisme) -> bool:
    reference = data.numero or session.source_ref
    if data.debut is None or data.fin is None or data.debut.valeur is None or data.fin.valeur is None:
        raise Rejet(
            f"session {reference} : dates de début et de fin obligatoires et connues "
            f"(reçu « {data.debut.brut if data.debut else ''} » – « {data.fin.brut if data.fin else ''} »)",
            ligne=data.ligne,
        )
    debut, fin = data.debut.valeur, data.fin.valeur
    inscription_debut = data.inscription_debut.valeur if data.inscription_debut else None
    inscription_fin = data.inscription_fin.valeur if data.inscription_fin else None
    erreurs = rules.fusionner(
        rules.regle_dates(debut, fin), rules.regle_periode_inscription(inscription_debut, inscription_fin)
    )
    if erreurs:
        messages = " ".join(m for liste in erreurs.values() for m in liste)
        raise Rejet(f"session {reference} : {messages}", ligne=data.ligne)
    valeurs = {
        "action": action,
        "debut": debut,
        "fin": fin,
        "inscription_debut": inscription_debut,
        "inscription_fin": inscription_fin,
        "etat_recrutement": _choix(data.etat_recrutement, EtatRecrutement, EtatRecrutement.OUVERT),
        "adresse_inscription": _lieu(organisme, data.adresse_inscription),
        "modalites_inscription": data.modalites_inscription[:255],
        "url": _premier(data.url, 400),
        "extras": {
            "lheo": data.extras,
            "autres": data.autres,
            "contacts": [_dataclass_json(c) for c in data.contacts],
            "references_certification": data.references_certification,
            "blocs_competences": [_dataclass_json(b) for b in data.blocs_competences],
            "dates": {
                "debut": data.debut.brut,
                "fin": data.fin.brut,
            },
        },
    }
    return _enregistrer(session, valeurs, {})


# --- the Excel layout (ofeli.exports.excel) ------------------------------------------------------------------


def _feuille(classeur, nom):
    for feuille in classeur.worksheets:
        if excel.normaliser_entete(feuille.title) == excel.normaliser_entete(nom):
            return feuille
    raise excel.ClasseurIllisible(
        f"Le classeur n'a pas de feuille « {nom} » : utilisez le modèle de l'export Excel d'OFeli "
        f"(feuilles « {excel.FEUILLE_FORMATIONS} » et « {excel.FEUILLE_SESSIONS} »)."
    )


def _date_lheo(valeur, fin=False) -> DateLheo | None:
    jour = excel.lire_date(valeur)
    return DateLheo(f"{jour:%Y%m%d}", jour, "jour") if jour else None


def _adresse_texte(texte: str) -> AdresseData | None:
    """ "Dénomination, 10 rue X, 45000 Orléans" (how the export writes a place) -> an address."""
    parties = [p.strip() for p in texte.split(",") if p.strip()]
    if len(parties) < 2:
        return None
    codepostal, _, ville = parties[-1].partition(" ")
    if not (len(codepostal) == 5 and codepostal.isdigit() and ville.strip()):
        return None
    denomination = parties[0] if len(parties) > 2 else ""
    return AdresseData(denomination=denomination, lignes=[parties[-2]], codepostal=codepostal, ville=ville.strip())


def _certifications_codes(codes: list[str]) -> list[dict[str, str]]:
    return [{"RS" if code.startswith("RS") else "RNCP": code} for code in codes]


_ERREUR_CELLULE = "feuille « {feuille} », ligne {ligne}, colonne « {colonne} » : {motif}"


def _convertir(feuille, ligne, valeurs, champ, conversion, entetes):
    try:
        return conversion(valeurs.get(champ))
    except ValueError as exc:
        raise LheoError(
            _ERREUR_CELLULE.format(feuille=feuille, ligne=ligne, colonne=entetes.get(champ, champ), motif=exc),
            line=ligne,
        ) from None


def _formation_de_ligne(ligne: int, v: dict, entetes: dict) -> FormationData:
    def lire(champ, conversion=excel.lire_texte):
        return _convertir(excel.FEUILLE_FORMATIONS, ligne, v, champ, conversion, entetes)

    certifiante = lire("certifiante", excel.lire_oui_non)
    return FormationData(
        numero=lire("source_ref"),
        version="xlsx",
        intitule=lire("intitule"),
        objectif=lire("objectif"),
        resultats_attendus=lire("resultats_attendus"),
        contenu=lire("contenu"),
        certifiante=bool(certifiante),
        certifications=_certifications_codes(lire("certifications", excel.lire_codes)),
        formacodes=[CodeData(code) for code in lire("formacodes", excel.lire_codes)],
        nsf=lire("nsf", excel.lire_codes),
        romes=[CodeData(code) for code in lire("romes", excel.lire_codes)],
        parcours=lire("parcours", lambda x: excel.lire_choix(x, Parcours)),
        niveau_entree=lire("niveau_entree", lambda x: excel.lire_choix(x, Niveau)),
        niveau_sortie=lire("niveau_sortie", lambda x: excel.lire_choix(x, Niveau)),
        objectif_general=lire("objectif_general", lambda x: excel.lire_choix(x, ObjectifGeneral)),
        url=[u for u in [lire("url")] if u],
        organisme=OrganismeData(siret=lire("siret"), nda=lire("nda"), raison_sociale=lire("organisme")),
        ligne=ligne,
    )


def _session_de_ligne(ligne: int, v: dict, entetes: dict) -> tuple[ActionData, SessionData]:
    def lire(champ, conversion=excel.lire_texte):
        return _convertir(excel.FEUILLE_SESSIONS, ligne, v, champ, conversion, entetes)

    lieux = []
    for texte in lire("lieux").split(excel.SEPARATEUR_LIEUX.strip()):
        adresse = _adresse_texte(texte)
        if adresse is not None:
            lieux.append(LieuData(coordonnees=CoordonneesData(adresse=adresse)))
    action = ActionData(
        numero=lire("action_source_ref"),
        rythme=lire("rythme"),
        publics_vises=[CodeData(code) for code in lire("public_vise", excel.lire_codes)],
        modalites_enseignement=lire("modalites_enseignement", lambda x: excel.lire_choix(x, ModalitesEnseignement)),
        entree_sortie_permanente=bool(lire("entree_sortie_permanente", excel.lire_oui_non)),
        lieux=lieux,
        prix_total_ttc=lire("prix_total_ttc", excel.lire_decimal),
        prix_horaire_ttc=lire("prix_horaire_ttc", excel.lire_decimal),
        nombre_heures_total=lire("nombre_heures_total", excel.lire_entier),
        nombre_heures_centre=lire("nombre_heures_centre", excel.lire_entier),
        nombre_heures_entreprise=lire("nombre_heures_entreprise", excel.lire_entier),
        ligne=ligne,
    )
    session = SessionData(
        numero=lire("session_source_ref"),
        debut=lire("debut", _date_lheo),
        fin=lire("fin", _date_lheo),
        inscription_debut=lire("inscription_debut", _date_lheo),
        inscription_fin=lire("inscription_fin", _date_lheo),
        etat_recrutement=lire("etat_recrutement", lambda x: excel.lire_choix(x, EtatRecrutement)),
        url=[u for u in [lire("url")] if u],
        ligne=ligne,
    )
    return action, session


def _elements_classeur(handle) -> Iterator[_Element]:
    """The formations of a workbook in the export's layout, each with its actions and sessions.

    Formations are matched to their sessions by "Identifiant source de la formation"; sessions that share an
    "Identifiant source de l'action" belong to one action. Rows are streamed (read-only mode); the sessions
    are grouped by formation in memory (ids and row numbers, then rows of one formation at a time would need
    a second pass: the rows are small).
    """
    classeur = excel.ouvrir_classeur(handle)
    try:
        formations_feuille = _feuille(classeur, excel.FEUILLE_FORMATIONS)
        sessions_feuille = _feuille(classeur, excel.FEUILLE_SESSIONS)
        entetes_f = excel.entetes(formations_feuille)
        entetes_s = excel.entetes(sessions_feuille)
        correspondance_f = excel.correspondance_par_entetes(entetes_f, excel.COLONNES_FORMATIONS)
        correspondance_s = excel.correspondance_par_entetes(entetes_s, excel.COLONNES_SESSIONS)
        noms_f = {champ: entetes_f[i] for i, champ in correspondance_f.items()}
        noms_s = {champ: entetes_s[i] for i, champ in correspondance_s.items()}
        if "source_ref" not in correspondance_f.values() or "formation_source_ref" not in correspondance_s.values():
            raise excel.ClasseurIllisible(
                "Colonnes « Identifiant dans la source » (feuille Formations) et « Identifiant source de la "
                "formation » (feuille Actions et sessions) obligatoires : elles relient les lignes entre elles."
            )
        sessions: dict[str, list] = {}
        for ligne, valeurs in excel.lignes(sessions_feuille, correspondance_s):
            cle = excel.lire_texte(valeurs.get("formation_source_ref"))
            sessions.setdefault(cle, []).append((ligne, valeurs))
        vues = set()
        for ligne, valeurs in excel.lignes(formations_feuille, correspondance_f):
            numero = excel.lire_texte(valeurs.get("source_ref"))
            if numero and numero in vues:
                yield _Element(numero, ligne, None, LheoError(f"identifiant « {numero} » en double", line=ligne))
                continue
            vues.add(numero)
            try:
                donnees = _formation_de_ligne(ligne, valeurs, noms_f)
                actions: dict[str, ActionData] = {}
                for ligne_s, valeurs_s in sessions.pop(numero, []) if numero else []:
                    action, session = _session_de_ligne(ligne_s, valeurs_s, noms_s)
                    cle = action.numero or f"#ligne{ligne_s}"
                    if cle not in actions:
                        actions[cle] = action
                        donnees.actions.append(action)
                    actions[cle].sessions.append(session)
            except LheoError as exc:
                yield _Element(numero, ligne, None, exc)
                continue
            yield _Element(numero, ligne, donnees, None)
        for numero, orphelines in sessions.items():
            premiere = orphelines[0][0]
            yield _Element(
                numero,
                premiere,
                None,
                LheoError(
                    f"feuille « {excel.FEUILLE_SESSIONS} », ligne {premiere} : la formation « {numero or '(vide)'} » "
                    f"n'est pas dans la feuille « {excel.FEUILLE_FORMATIONS} »",
                    line=premiere,
                ),
            )
    finally:
        classeur.close()
