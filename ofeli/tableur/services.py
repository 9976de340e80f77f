"""The OF's spreadsheet import: deposit, analysis (the preview), column mapping, import of the valid rows.

One named function per write, keyword-only:

- ``import_deposer``: checks the upload (size, and that its bytes are an .xlsx: ofeli.core.fichiers), stores it
  privately, records an ImportTableur and enqueues its analysis once committed.
- ``import_analyser(import_id)``: the background analysis: every row checked (ofeli.tableur.lecture) and the
  rows and cells in error recorded with the reason; nothing of the offer is written. A file from another tool
  whose headers have no saved mapping stops at "Colonnes à faire correspondre".
- ``correspondance_enregistrer``: saves the mapping of a file's headers for the organisme (reused whenever the
  same headers come back) and analyses the file again.
- ``import_lancer`` then ``import_executer(import_id)``: the background import of the valid rows, each row in
  its own transaction through ofeli.offre.services (the forms' rules), as drafts ("Brouillon") the OF submits.
  Each created row is recorded (``LigneImportee``) by its stable key in the same transaction, so the same file
  uploaded again creates nothing twice; rows naming an OFeli id (an export read back) update that object only
  when something differs.

Both jobs claim their import by a conditional update of its status: a job delivered twice runs once.
"""

import hashlib
import itertools
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ofeli.core.fichiers import type_du_contenu, verifier_taille
from ofeli.offre import services as offre

from . import lecture
from .models import Correspondance, ErreurTableur, ImportTableur, LigneImportee

logger = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAS_PROGRESSION = 100  # rows between two progress updates
LOT_ERREURS = 500


def verifier_fichier(fichier) -> None:
    """ValidationError (French) unless the upload is a non-empty .xlsx within the size limit."""
    nom = getattr(fichier, "name", "") or ""
    verifier_taille(fichier, nom=nom)
    if type_du_contenu(fichier, {XLSX}) is None:
        raise ValidationError(
            f"Le fichier « {nom} » n'est pas un classeur Excel (.xlsx). Enregistrez votre tableur au format "
            "« Classeur Excel (.xlsx) » (les fichiers .xls, .ods ou .csv ne sont pas acceptés), ou partez du "
            "modèle à télécharger.",
            code="type",
        )


def _sha256(fichier) -> str:
    digest = hashlib.sha256()
    fichier.seek(0)
    for bloc in iter(lambda: fichier.read(1 << 20), b""):
        digest.update(bloc)
    fichier.seek(0)
    return digest.hexdigest()


@transaction.atomic
def import_deposer(*, organisme, user, fichier) -> ImportTableur:
    verifier_fichier(fichier)
    nom = (getattr(fichier, "name", "") or "tableur.xlsx")[:255]
    imp = ImportTableur(organisme=organisme, user=user, nom_fichier=nom, taille=fichier.size, sha256=_sha256(fichier))
    imp.fichier.save("tableur.xlsx", fichier, save=False)
    imp.save()
    _plus_tard(_tache_analyse, imp.pk)
    return imp


def _plus_tard(tache, import_id: int):
    transaction.on_commit(lambda: tache()(import_id))


def _tache_analyse():
    from .tasks import analyser_tache

    return analyser_tache


def _tache_import():
    from .tasks import importer_tache

    return importer_tache


@transaction.atomic
def correspondance_enregistrer(*, import_tableur: ImportTableur, user, entetes: list[str], colonnes: dict) -> None:
    """Saves `colonnes` ({header index: "f:champ" / "s:champ"}) for these headers and analyses the file again."""
    imp = ImportTableur.objects.select_for_update().get(pk=import_tableur.pk)
    if imp.statut not in (ImportTableur.Statut.CORRESPONDANCE, ImportTableur.Statut.VERIFIE):
        raise ValidationError("Cet import n'attend pas de correspondance de colonnes.")
    cibles = [c for c in colonnes.values() if c]
    doubles = sorted({lecture.cible_libelle(c) for c in cibles if cibles.count(c) > 1})
    if doubles:
        raise ValidationError(f"Une colonne OFeli ne peut recevoir qu'une colonne du fichier : {', '.join(doubles)}.")
    if "f:intitule" not in cibles and "f:id" not in cibles:
        raise ValidationError(
            "Indiquez au moins la colonne de votre fichier qui contient l'intitulé de la formation "
            "(ou son identifiant OFeli)."
        )
    correspondance, _ = Correspondance.objects.update_or_create(
        organisme=imp.organisme,
        signature=lecture.signature_entetes(entetes),
        defaults={
            "entetes": entetes,
            "colonnes": {str(i): c for i, c in colonnes.items() if c},
            "created_by": user,
        },
    )
    ImportTableur.objects.filter(pk=imp.pk).update(
        correspondance=correspondance, statut=ImportTableur.Statut.ANALYSE_EN_ATTENTE, message=""
    )
    _plus_tard(_tache_analyse, imp.pk)


@transaction.atomic
def import_lancer(*, import_tableur: ImportTableur, user) -> None:
    """The user confirms the preview: the valid rows are imported by a background job."""
    n = ImportTableur.objects.filter(pk=import_tableur.pk, statut=ImportTableur.Statut.VERIFIE).update(
        statut=ImportTableur.Statut.IMPORT_EN_ATTENTE, user=user
    )
    if not n:
        raise ValidationError("Cet import a déjà été lancé, ou son fichier n'a pas encore été analysé.")
    if not import_tableur.lignes_valides:
        raise ValidationError("Aucune ligne valide à importer : corrigez le fichier et déposez-le à nouveau.")
    _plus_tard(_tache_import, import_tableur.pk)


def _reclamer(import_id: int, attendu: str, en_cours: str) -> bool:
    with transaction.atomic():
        return bool(
            ImportTableur.objects.filter(pk=import_id, statut=attendu).update(
                statut=en_cours, started_at=timezone.now(), traitees=0
            )
        )


def import_analyser(import_id: int) -> ImportTableur:
    if _reclamer(import_id, ImportTableur.Statut.ANALYSE_EN_ATTENTE, ImportTableur.Statut.ANALYSE):
        _parcourir(import_id, ecrire=False)
    return ImportTableur.objects.get(pk=import_id)


def import_executer(import_id: int) -> ImportTableur:
    if _reclamer(import_id, ImportTableur.Statut.IMPORT_EN_ATTENTE, ImportTableur.Statut.IMPORT):
        _parcourir(import_id, ecrire=True)
    return ImportTableur.objects.get(pk=import_id)


class _Parcours:
    """One pass over the rows: checks each, writes the valid ones when `ecrire`, counts, records the errors."""

    def __init__(self, imp: ImportTableur, ecrire: bool):
        self.imp = imp
        self.ecrire = ecrire
        self.analyse = lecture.Analyse(imp.organisme)
        self.erreurs: list[ErreurTableur] = []
        self.compteurs = dict.fromkeys(
            [
                "traitees",
                "lignes_valides",
                "lignes_en_erreur",
                "formations_creees",
                "formations_modifiees",
                "sessions_creees",
                "sessions_modifiees",
                "inchangees",
                "refusees",
            ],
            0,
        )

    def noter(self, erreurs: list[lecture.Erreur]):
        for e in erreurs:
            self.erreurs.append(
                ErreurTableur(
                    import_tableur=self.imp,
                    feuille=e.feuille[:100],
                    ligne=e.ligne,
                    colonne=(e.colonne or "")[:200],
                    valeur=(e.valeur or "")[:200],
                    motif=e.motif,
                )
            )
        if len(self.erreurs) >= LOT_ERREURS:
            self.vider()

    def vider(self):
        ErreurTableur.objects.bulk_create(self.erreurs)
        self.erreurs = []

    def avancer(self, total: int | None = None):
        self.compteurs["traitees"] += 1
        if self.compteurs["traitees"] % PAS_PROGRESSION == 0:
            self.vider()
            champs = dict(self.compteurs)
            if total is not None:
                champs["total"] = max(total, self.compteurs["traitees"])
            ImportTableur.objects.filter(pk=self.imp.pk).update(**champs)

    def ligne(self, ligne: lecture.Ligne, verifier, ecrire, total):
        plan, erreurs = verifier(ligne)
        if erreurs:
            self.compteurs["lignes_en_erreur"] += 1
            self.noter(erreurs)
        else:
            self.compteurs["lignes_valides"] += 1
            if self.ecrire:
                ecrire(ligne, plan)
        self.avancer(total)

    def _refus(self, ligne: lecture.Ligne, exc: Exception, entetes: dict):
        self.compteurs["refusees"] += 1
        self.compteurs["lignes_valides"] -= 1
        self.compteurs["lignes_en_erreur"] += 1
        if isinstance(exc, ValidationError):
            messages = exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]
        else:
            messages = [("", ["cette ligne a déjà été importée par un autre import en cours"])]
        erreurs = []
        for champ, textes in messages:
            colonne = ligne.entetes.get(champ) or entetes.get(champ, "")
            for texte in textes:
                erreurs.append(lecture.Erreur(ligne.feuille, ligne.numero, colonne, "", texte))
        self.noter(erreurs)

    def ecrire_formation(self, ligne: lecture.Ligne, plan: lecture.Plan):
        user, organisme = self.imp.user, self.imp.organisme
        try:
            with transaction.atomic():
                if plan.action == "creer":
                    formation = offre.formation_creer(organisme=organisme, user=user, donnees=plan.donnees)
                    LigneImportee.objects.create(
                        organisme=organisme, cle=plan.cle, formation=formation, import_tableur=self.imp
                    )
                    self.compteurs["formations_creees"] += 1
                elif plan.action == "modifier":
                    formation = offre.formation_modifier(
                        formation=plan.formation, user=user, donnees=plan.donnees, version=None
                    )
                    self.compteurs["formations_modifiees"] += 1
                else:
                    formation = plan.formation
                    self.compteurs["inchangees"] += 1
        except (ValidationError, IntegrityError) as exc:
            self.analyse.formation_refusee(plan, ligne.feuille, ligne.numero)
            self._refus(ligne, exc, lecture.ENTETES_FORMATION)
            return
        self.analyse.formation_enregistree(plan, formation)

    def ecrire_session(self, ligne: lecture.Ligne, plan: lecture.Plan):
        user, organisme = self.imp.user, self.imp.organisme
        try:
            with transaction.atomic():
                if plan.action == "creer":
                    session = offre.session_creer(formation=plan.formation, user=user, donnees=plan.donnees)
                    LigneImportee.objects.create(
                        organisme=organisme,
                        cle=plan.cle,
                        formation=plan.formation,
                        session=session,
                        import_tableur=self.imp,
                    )
                    self.compteurs["sessions_creees"] += 1
                elif plan.action == "modifier":
                    offre.session_modifier(session=plan.session, user=user, donnees=plan.donnees, version=None)
                    self.compteurs["sessions_modifiees"] += 1
                else:
                    self.compteurs["inchangees"] += 1
        except (ValidationError, IntegrityError) as exc:
            self._refus(ligne, exc, lecture.ENTETES_SESSION)

    def executer(self, classeur: lecture.Classeur):
        """Formations first, then sessions (which name them); PAS_PROGRESSION rows per transaction, each row in
        its own savepoint: a refused row leaves nothing, a crash loses only the unfinished batch."""
        total = classeur.estimation()
        lignes = itertools.chain(
            ((ligne, self.analyse.verifier_formation, self.ecrire_formation) for ligne in classeur.lignes_formations()),
            ((ligne, self.analyse.verifier_session, self.ecrire_session) for ligne in classeur.lignes_sessions()),
        )
        while lot := list(itertools.islice(lignes, PAS_PROGRESSION)):
            with transaction.atomic():
                for ligne, verifier, ecrire in lot:
                    self.ligne(ligne, verifier, ecrire, total)
        self.vider()


def _parcourir(import_id: int, *, ecrire: bool):
    imp = ImportTableur.objects.select_related("organisme", "user", "correspondance").get(pk=import_id)
    ErreurTableur.objects.filter(import_tableur=imp).delete()
    parcours = _Parcours(imp, ecrire)
    try:
        with imp.fichier.open("rb") as handle:
            classeur = lecture.Classeur(handle, organisme=imp.organisme, correspondance=imp.correspondance)
            if not classeur.ofeli and imp.correspondance_id != classeur.correspondance.pk:
                # The same headers came back: the organisme's saved mapping is reused (and can be changed).
                ImportTableur.objects.filter(pk=imp.pk).update(correspondance=classeur.correspondance)
            try:
                parcours.executer(classeur)
            finally:
                classeur.close()
    except lecture.CorrespondanceRequise:
        ImportTableur.objects.filter(pk=imp.pk).update(
            statut=ImportTableur.Statut.CORRESPONDANCE, finished_at=timezone.now()
        )
        return
    except lecture.FichierRefuse as exc:
        ImportTableur.objects.filter(pk=imp.pk).update(
            statut=ImportTableur.Statut.ERREUR, message=str(exc), finished_at=timezone.now()
        )
        return
    except Exception as exc:
        logger.exception("Import de tableur %s en échec", imp.pk)
        parcours.vider()
        ImportTableur.objects.filter(pk=imp.pk).update(
            statut=ImportTableur.Statut.ERREUR,
            message=f"L'{'import' if ecrire else 'analyse'} a échoué : {exc}. Les lignes déjà importées le restent ; "
            "déposez le fichier à nouveau pour importer les autres (rien ne sera créé deux fois).",
            finished_at=timezone.now(),
            **parcours.compteurs,
        )
        return
    ImportTableur.objects.filter(pk=imp.pk).update(
        statut=ImportTableur.Statut.TERMINE if ecrire else ImportTableur.Statut.VERIFIE,
        total=parcours.compteurs["traitees"],
        finished_at=timezone.now(),
        **parcours.compteurs,
    )
