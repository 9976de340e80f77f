"""Reading an OF's spreadsheet: the rows of the file, each checked as the entry forms check it.

Two kinds of file:

- OFeli's layout (the Excel export, or the model to download): sheets "Formations" and "Actions et sessions",
  matched by their French headers (any order, extra columns ignored). A session row names its formation by
  "Identifiant OFeli de la formation" (a formation already in OFeli) or by "Identifiant source de la formation"
  (the reference the OF gave a new formation in the "Identifiant dans la source" column of the Formations sheet).
- A file from another tool: its first sheet, one row per session with the formation's columns repeated; its
  headers are mapped once to OFeli's columns (``Correspondance``), then rows sharing a formation (same OFeli id,
  same reference, else same intitulé) make one formation.

``Analyse`` walks the rows twice in the same order (formations, then sessions) for the preview and for the
import: ``verifier_formation`` / ``verifier_session`` return a ``Plan`` (what the row would do: create, update,
nothing) or the row's errors, each tied to its cell with the reason in French. Nothing is written here.
"""

import dataclasses
import hashlib
import json
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from ofeli.exports import excel
from ofeli.offre import rules, services
from ofeli.offre.forms import PUBLICS_VISES
from ofeli.offre.models import (
    Action,
    Dispositif,
    EtatRecrutement,
    Formation,
    ModalitesEnseignement,
    Niveau,
    ObjectifGeneral,
    Parcours,
    PieceJointe,
    Session,
    Source,
)
from ofeli.organismes.models import Lieu
from ofeli.referentiels.models import NSF, Certification, Formacode, Rome

from .models import Correspondance, LigneImportee

# Columns the OF's import reads (the others, like "Organisme" or "État", are shown by the export only).
CHAMPS_FORMATION = [
    "id",
    "source_ref",
    "intitule",
    "certifiante",
    "certifications",
    "formacodes",
    "nsf",
    "romes",
    "niveau_entree",
    "niveau_sortie",
    "objectif_general",
    "parcours",
    "objectif",
    "resultats_attendus",
    "contenu",
    "url",
]
CHAMPS_SESSION = [
    "formation_id",
    "formation_source_ref",
    "session_id",
    "session_source_ref",
    "debut",
    "fin",
    "dispositif",
    "numero_marche",
    "inscription_debut",
    "inscription_fin",
    "etat_recrutement",
    "places_restantes",
    "places_date",
    "entree_sortie_permanente",
    "modalites_enseignement",
    "rythme",
    "public_vise",
    "nombre_heures_total",
    "nombre_heures_centre",
    "nombre_heures_entreprise",
    "prix_total_ttc",
    "prix_horaire_ttc",
    "lieux",
    "url",
]
OBLIGATOIRES_FORMATION = ["intitule", "objectif", "resultats_attendus", "contenu"]
OBLIGATOIRES_SESSION = ["debut", "fin", "rythme", "public_vise"]
# Fields a file from another tool may not map in the session part: the link to the formation is the row itself.
LIENS_SESSION = {"formation_id", "formation_source_ref"}

ENTETES_FORMATION = {c.champ: c.entete for c in excel.COLONNES_FORMATIONS if c.champ}
ENTETES_SESSION = {c.champ: c.entete for c in excel.COLONNES_SESSIONS if c.champ}
ENTETES_FORMATION["source_ref"] = "Identifiant dans la source"
PUBLICS = {code: libelle for code, libelle in PUBLICS_VISES}
NIVEAUX_MODELE = [Formation, Action, Session]


def cible_libelle(cible: str) -> str:
    """ "f:intitule" -> "Formation : Intitulé" (the mapping screen's choices)."""
    partie, _, champ = cible.partition(":")
    if partie == "f":
        return f"Formation : {ENTETES_FORMATION[champ]}"
    return f"Session : {ENTETES_SESSION[champ]}"


CIBLES = [f"f:{c}" for c in CHAMPS_FORMATION] + [f"s:{c}" for c in CHAMPS_SESSION if c not in LIENS_SESSION]


@dataclasses.dataclass
class Ligne:
    feuille: str
    numero: int
    valeurs: dict  # champ -> raw cell value (only the champs the file has)
    entetes: dict  # champ -> the file's header, for the messages
    lien: str = ""  # file from another tool: the row's formation (set for both parts of the row)


@dataclasses.dataclass
class Erreur:
    feuille: str
    ligne: int
    colonne: str
    valeur: str
    motif: str


@dataclasses.dataclass
class Plan:
    """What a valid row does: `action` is "creer", "modifier" or "rien"."""

    action: str
    donnees: dict
    cle: str = ""  # the LigneImportee key recorded when created
    lien: str = ""  # how sessions name this formation ("id:12", "ref:ABC", "int:...")
    formation: Formation | None = None
    session: Session | None = None


class FichierRefuse(Exception):
    """The file as a whole cannot be read (not a workbook, no known sheet...); French message."""


class CorrespondanceRequise(Exception):
    """A file from another tool whose headers have no saved mapping yet."""

    def __init__(self, entetes: list[str], signature: str):
        super().__init__("colonnes à faire correspondre")
        self.entetes = entetes
        self.signature = signature


def signature_entetes(entetes: list[str]) -> str:
    normalises = [excel.normaliser_entete(e) for e in entetes]
    return hashlib.sha256("\n".join(normalises).encode()).hexdigest()


def suggestion(entete: str) -> str:
    """The OFeli column a header of another tool most likely means ("" when none): same words as ours."""
    nom = excel.normaliser_entete(entete)
    for champ in CHAMPS_FORMATION:
        if excel.normaliser_entete(ENTETES_FORMATION[champ]) == nom:
            return f"f:{champ}"
    for champ in CHAMPS_SESSION:
        if champ not in LIENS_SESSION and excel.normaliser_entete(ENTETES_SESSION[champ]) == nom:
            return f"s:{champ}"
    return ""


def _texte_valeur(valeur) -> str:
    if valeur is None:
        return ""
    if hasattr(valeur, "strftime"):
        return valeur.strftime("%d/%m/%Y")
    return str(valeur)[:200]


# --- the file ------------------------------------------------------------------------------------------------


class Classeur:
    """The rows of an uploaded workbook, formations first then sessions, whatever the kind of file."""

    def __init__(self, handle, *, organisme, correspondance: Correspondance | None = None):
        try:
            self.workbook = excel.ouvrir_classeur(handle)
        except excel.ClasseurIllisible as exc:
            raise FichierRefuse(str(exc)) from None
        self.organisme = organisme
        feuilles = {excel.normaliser_entete(f.title): f for f in self.workbook.worksheets}
        self.feuille_formations = feuilles.get(excel.normaliser_entete(excel.FEUILLE_FORMATIONS))
        self.feuille_sessions = feuilles.get(excel.normaliser_entete(excel.FEUILLE_SESSIONS))
        self.ofeli = False
        if self.feuille_formations is not None:
            self.entetes_f = excel.entetes(self.feuille_formations)
            self.corr_f = self._garder(
                excel.correspondance_par_entetes(self.entetes_f, excel.COLONNES_FORMATIONS), CHAMPS_FORMATION
            )
            self.ofeli = "intitule" in self.corr_f.values() or "id" in self.corr_f.values()
        if self.ofeli:
            self.entetes_s, self.corr_s = [], {}
            if self.feuille_sessions is not None:
                self.entetes_s = excel.entetes(self.feuille_sessions)
                self.corr_s = self._garder(
                    excel.correspondance_par_entetes(self.entetes_s, excel.COLONNES_SESSIONS), CHAMPS_SESSION
                )
            return
        if not self.workbook.worksheets:
            raise FichierRefuse("Ce classeur ne contient aucune feuille.")
        self.feuille = self.workbook.worksheets[0]
        self.entetes = excel.entetes(self.feuille)
        while self.entetes and not self.entetes[-1]:
            self.entetes.pop()
        if not any(self.entetes):
            raise FichierRefuse(
                "La première ligne de la première feuille doit contenir les noms des colonnes : elle est vide."
            )
        self.signature = signature_entetes(self.entetes)
        if correspondance is None or correspondance.signature != self.signature:
            correspondance = Correspondance.objects.filter(organisme=organisme, signature=self.signature).first()
        if correspondance is None:
            self.close()
            raise CorrespondanceRequise(self.entetes, self.signature)
        self.correspondance = correspondance
        self.corr_f, self.corr_s = {}, {}
        for index, cible in correspondance.colonnes.items():
            partie, _, champ = cible.partition(":")
            if partie == "f" and champ in CHAMPS_FORMATION:
                self.corr_f[int(index)] = champ
            elif partie == "s" and champ in CHAMPS_SESSION and champ not in LIENS_SESSION:
                self.corr_s[int(index)] = champ

    @staticmethod
    def _garder(correspondance: dict[int, str], champs: list[str]) -> dict[int, str]:
        return {index: champ for index, champ in correspondance.items() if champ in champs}

    def close(self):
        self.workbook.close()

    def estimation(self) -> int:
        """About how many rows the passes will read (the sheets' dimensions), for the progress bar."""

        def lignes(feuille):
            return max((feuille.max_row or 1) - 1, 0) if feuille is not None else 0

        if self.ofeli:
            return lignes(self.feuille_formations) + lignes(self.feuille_sessions)
        return lignes(self.feuille) * (2 if self.corr_s else 1)

    def lignes_formations(self) -> Iterator[Ligne]:
        if self.ofeli:
            noms = {champ: self.entetes_f[i] for i, champ in self.corr_f.items()}
            for numero, valeurs in excel.lignes(self.feuille_formations, self.corr_f):
                yield Ligne(self.feuille_formations.title, numero, valeurs, noms)
            return
        noms = {champ: self.entetes[i] for i, champ in self.corr_f.items()}
        vues = set()
        for numero, valeurs in excel.lignes(self.feuille, self.corr_f):
            lien = lien_etranger(valeurs)
            if lien in vues:
                continue  # the formation's columns repeated on each of its sessions' rows
            vues.add(lien)
            yield Ligne(self.feuille.title, numero, valeurs, noms, lien=lien)

    def lignes_sessions(self) -> Iterator[Ligne]:
        if self.ofeli:
            if self.feuille_sessions is None:
                return
            noms = {champ: self.entetes_s[i] for i, champ in self.corr_s.items()}
            for numero, valeurs in excel.lignes(self.feuille_sessions, self.corr_s):
                yield Ligne(self.feuille_sessions.title, numero, valeurs, noms)
            return
        if not self.corr_s:
            return
        noms = {champ: self.entetes[i] for i, champ in self.corr_s.items()}
        tout = {**self.corr_f, **self.corr_s}
        for numero, valeurs in excel.lignes(self.feuille, tout):
            session = {champ: valeurs.get(champ) for champ in self.corr_s.values()}
            if all(excel.vide(v) for v in session.values()):
                continue  # a row that only describes its formation
            yield Ligne(self.feuille.title, numero, session, noms, lien=lien_etranger(valeurs))


def lien_etranger(valeurs: dict) -> str:
    """How the rows of a file from another tool name their formation: OFeli id, reference, else intitulé."""
    for champ, prefixe in (("id", "id"), ("source_ref", "ref")):
        try:
            texte = excel.lire_texte(valeurs.get(champ))
        except ValueError:
            texte = ""
        if texte:
            return f"{prefixe}:{texte}"
    try:
        return "int:" + excel.normaliser_entete(excel.lire_texte(valeurs.get("intitule")))
    except ValueError:
        return "int:"


# --- the checks ----------------------------------------------------------------------------------------------


def _empreinte(donnees: dict) -> str:
    def simple(valeur):
        if isinstance(valeur, list | tuple | set):
            return sorted(simple(v) for v in valeur)
        if hasattr(valeur, "pk"):
            return valeur.pk
        return str(valeur) if valeur is not None else None

    texte = json.dumps({k: simple(v) for k, v in sorted(donnees.items())}, sort_keys=True)
    return hashlib.sha256(texte.encode()).hexdigest()[:32]


class Analyse:
    """Checks the rows of one organisme's file; remembers what the formations rows became for their sessions."""

    def __init__(self, organisme):
        self.organisme = organisme
        self.formations: dict[str, tuple[bool, str, int, Formation | None]] = {}  # lien -> (ok, feuille, ligne, f)
        self.codes: dict[type, dict[str, object]] = {}
        self.lieux = None

    # -- helpers

    def _codes(self, model, codes: list[str]) -> tuple[list, list[str]]:
        connus = self.codes.setdefault(model, {})
        manquants = [c for c in codes if c not in connus]
        if manquants:
            champ = "code"
            trouves = {o.code: o for o in model.objects.filter(**{f"{champ}__in": manquants})}
            for code in manquants:
                connus[code] = trouves.get(code)
        return [connus[c] for c in codes if connus[c] is not None], [c for c in codes if connus[c] is None]

    def _lieux(self) -> dict[str, Lieu]:
        if self.lieux is None:
            self.lieux = {}
            for lieu in Lieu.objects.filter(organisme=self.organisme, actif=True):
                for nom in (excel.adresse_lieu(lieu), lieu.denomination):
                    if nom:
                        self.lieux.setdefault(excel.normaliser_entete(nom), lieu)
        return self.lieux

    @staticmethod
    def _erreur(ligne: Ligne, champ: str, motif: str, entetes: dict) -> Erreur:
        colonne = ligne.entetes.get(champ) or entetes.get(champ, "")
        return Erreur(ligne.feuille, ligne.numero, colonne, _texte_valeur(ligne.valeurs.get(champ)), motif)

    def _lire(self, ligne: Ligne, erreurs: list, entetes: dict, champ: str, conversion):
        try:
            return conversion(ligne.valeurs.get(champ))
        except ValueError as exc:
            erreurs.append(self._erreur(ligne, champ, str(exc), entetes))
            return None

    def _texte(self, ligne, erreurs, entetes, champ, model) -> str:
        texte = self._lire(ligne, erreurs, entetes, champ, excel.lire_texte) or ""
        longueur = model._meta.get_field(champ).max_length
        if longueur and len(texte) > longueur:
            erreurs.append(self._erreur(ligne, champ, f"texte trop long : {longueur} caractères au plus", entetes))
        return texte

    def _url(self, ligne, erreurs, entetes, champ="url") -> str:
        texte = self._lire(ligne, erreurs, entetes, champ, excel.lire_texte) or ""
        if texte:
            if "://" not in texte:
                texte = f"https://{texte}"
            try:
                URLValidator(schemes=["http", "https"])(texte)
            except ValidationError:
                erreurs.append(self._erreur(ligne, champ, "adresse de site internet invalide", entetes))
        return texte

    def _regles(self, ligne, erreurs, entetes, resultat: rules.Erreurs, correspondances: dict):
        for cle, messages in resultat.items():
            for message in messages:
                erreurs.append(self._erreur(ligne, correspondances.get(cle, cle), message, entetes))

    # -- formations

    def verifier_formation(self, ligne: Ligne) -> tuple[Plan | None, list[Erreur]]:
        entetes = ENTETES_FORMATION
        erreurs: list[Erreur] = []
        v = ligne.valeurs
        identifiant = self._lire(ligne, erreurs, entetes, "id", excel.lire_entier) if "id" in v else None
        reference = self._lire(ligne, erreurs, entetes, "source_ref", excel.lire_texte) if "source_ref" in v else ""
        if reference and len(reference) > 100:
            erreurs.append(self._erreur(ligne, "source_ref", "référence trop longue : 100 caractères au plus", entetes))
        existante = None
        if identifiant:
            existante = Formation.objects.filter(pk=identifiant, organisme=self.organisme).first()
            if existante is None:
                erreurs.append(
                    self._erreur(
                        ligne,
                        "id",
                        "aucune formation de votre organisme n'a cet identifiant OFeli : laissez la cellule vide "
                        "pour créer une nouvelle formation",
                        entetes,
                    )
                )
        elif reference:
            deja = (
                LigneImportee.objects.filter(organisme=self.organisme, cle=f"F|ref:{reference}")
                .select_related("formation")
                .first()
            )
            existante = deja.formation if deja else None

        donnees: dict = {}
        for champ in ("intitule", "objectif", "resultats_attendus", "contenu"):
            if champ in v:
                donnees[champ] = self._texte(ligne, erreurs, entetes, champ, Formation)
        if "certifiante" in v:
            donnees["certifiante"] = bool(self._lire(ligne, erreurs, entetes, "certifiante", excel.lire_oui_non))
        for champ, model, nom in (
            ("certifications", Certification, "certification (RNCP / RS)"),
            ("formacodes", Formacode, "code Formacode"),
            ("nsf", NSF, "code NSF"),
            ("romes", Rome, "code ROME"),
        ):
            if champ not in v:
                continue
            codes = self._lire(ligne, erreurs, entetes, champ, excel.lire_codes) or []
            objets, inconnus = self._codes(model, codes)
            if inconnus:
                pluriel = "s" if len(inconnus) > 1 else ""
                erreurs.append(
                    self._erreur(ligne, champ, f"{nom}{pluriel} inconnu{pluriel} : {', '.join(inconnus)}", entetes)
                )
            maximum = {"nsf": 3}.get(champ, 5)
            if len(codes) > maximum:
                erreurs.append(self._erreur(ligne, champ, f"{maximum} codes au plus", entetes))
            donnees[champ] = objets
        for champ, choices, defaut in (
            ("niveau_entree", Niveau, Niveau.SANS_NIVEAU),
            ("niveau_sortie", Niveau, None),
            ("objectif_general", ObjectifGeneral, None),
            ("parcours", Parcours, Parcours.GROUPE),
        ):
            if champ in v:
                valeur = self._lire(ligne, erreurs, entetes, champ, lambda x, c=choices: excel.lire_choix(x, c))
                donnees[champ] = defaut if valeur is None else valeur
        if "url" in v:
            donnees["url"] = self._url(ligne, erreurs, entetes)

        self._obligatoires(ligne, erreurs, entetes, donnees, OBLIGATOIRES_FORMATION, existante is None)

        plan = None
        if existante is not None:
            actuelles = _formation_actuelle(existante)
            changes = {k: val for k, val in donnees.items() if _different(actuelles.get(k), val)}
            if changes:
                self._regles(ligne, erreurs, entetes, rules.regle_source_formation(existante.source), {"__all__": "id"})
                a_un_agrement = existante.pieces_jointes.filter(
                    nature=PieceJointe.Nature.AGREMENT_CERTIFICATION
                ).exists()
                self._regles(
                    ligne,
                    erreurs,
                    entetes,
                    services.verifier_formation(donnees={**actuelles, **donnees}, a_un_agrement=a_un_agrement),
                    {"agrement": "certifiante"},
                )
                plan = Plan("modifier", donnees, formation=existante)
            else:
                plan = Plan("rien", donnees, formation=existante)
        else:
            resultat = services.verifier_formation(donnees=donnees, a_un_agrement=False)
            if "agrement" in resultat:
                resultat["agrement"] = [
                    rules.MESSAGE_AGREMENT + " Le fichier ne peut pas être joint depuis un tableur : saisissez "
                    "cette formation certifiante dans OFeli."
                ]
            self._regles(ligne, erreurs, entetes, resultat, {"agrement": "certifiante"})
            cle = f"F|ref:{reference}" if reference else f"F|h:{_empreinte(donnees)}"
            plan = Plan("creer", donnees, cle=cle)
            if not reference:
                deja = LigneImportee.objects.filter(organisme=self.organisme, cle=cle).select_related("formation")
                deja = deja.first()
                if deja is not None and deja.formation is not None:
                    plan = Plan("rien", donnees, cle=cle, formation=deja.formation)
        if identifiant:
            lien = f"id:{identifiant}"
        elif ligne.lien:
            lien = ligne.lien
        elif reference:
            lien = f"ref:{reference}"
        else:
            lien = f"ligne:{ligne.numero}"
        plan.lien = lien
        self.formations[lien] = (not erreurs, ligne.feuille, ligne.numero, plan.formation)
        if plan.formation is not None:
            self.formations.setdefault(f"id:{plan.formation.pk}", self.formations[lien])
        return (None if erreurs else plan), erreurs

    def formation_enregistree(self, plan: Plan, formation: Formation):
        """Write mode: the formation a row created, for the sessions that name it."""
        ok, feuille, numero, _ = self.formations[plan.lien]
        self.formations[plan.lien] = (ok, feuille, numero, formation)
        self.formations[f"id:{formation.pk}"] = self.formations[plan.lien]

    def formation_refusee(self, plan: Plan, feuille: str, numero: int):
        """Write mode: the row's formation could not be written: its sessions are refused."""
        self.formations[plan.lien] = (False, feuille, numero, None)

    def _obligatoires(self, ligne, erreurs, entetes, donnees, champs, creation: bool):
        en_erreur = {e.colonne for e in erreurs}
        for champ in champs:
            colonne = ligne.entetes.get(champ) or entetes[champ]
            if champ not in ligne.valeurs:
                if creation:
                    erreurs.append(
                        Erreur(
                            ligne.feuille,
                            ligne.numero,
                            colonne,
                            "",
                            f"la colonne « {colonne} » manque au fichier : elle est obligatoire pour une création",
                        )
                    )
            elif donnees.get(champ) in (None, "", []) and colonne not in en_erreur:
                erreurs.append(self._erreur(ligne, champ, "cellule obligatoire : elle est vide", entetes))

    # -- sessions

    def _formation_de(self, ligne: Ligne, erreurs, entetes) -> tuple[str, Formation | None, bool]:
        """(lien, formation if it exists already, whether the row may go on)."""
        v = ligne.valeurs
        if ligne.lien:
            lien = ligne.lien
        else:
            identifiant = self._lire(ligne, erreurs, entetes, "formation_id", excel.lire_entier)
            reference = self._lire(ligne, erreurs, entetes, "formation_source_ref", excel.lire_texte)
            if identifiant:
                lien = f"id:{identifiant}"
            elif reference:
                lien = f"ref:{reference}"
            else:
                champ = "formation_id" if "formation_id" in v or "formation_source_ref" not in v else None
                erreurs.append(
                    self._erreur(
                        ligne,
                        champ or "formation_source_ref",
                        "indiquez la formation de cette session : son identifiant OFeli, ou la référence donnée "
                        "dans la colonne « Identifiant dans la source » de la feuille Formations",
                        entetes,
                    )
                )
                return "", None, False
        if lien in self.formations:
            ok, feuille, numero, formation = self.formations[lien]
            if not ok:
                erreurs.append(
                    Erreur(
                        ligne.feuille,
                        ligne.numero,
                        "",
                        "",
                        f"la formation de cette session (feuille « {feuille} », ligne {numero}) est en erreur : "
                        "corrigez-la d'abord",
                    )
                )
                return lien, None, False
            return lien, formation, True
        if lien.startswith("id:"):
            formation = Formation.objects.filter(pk=lien[3:], organisme=self.organisme).first()
            if formation is None:
                erreurs.append(
                    self._erreur(
                        ligne, "formation_id", "aucune formation de votre organisme n'a cet identifiant OFeli", entetes
                    )
                )
                return lien, None, False
            self.formations[lien] = (True, "", 0, formation)
            return lien, formation, True
        if lien.startswith("ref:"):
            deja = LigneImportee.objects.filter(organisme=self.organisme, cle=f"F|{lien}").select_related("formation")
            deja = deja.first()
            if deja is not None and deja.formation is not None:
                self.formations[lien] = (True, "", 0, deja.formation)
                return lien, deja.formation, True
            erreurs.append(
                self._erreur(
                    ligne,
                    "formation_source_ref",
                    f"aucune formation « {lien[4:]} » dans la feuille « {excel.FEUILLE_FORMATIONS} » ni déjà importée",
                    entetes,
                )
            )
            return lien, None, False
        erreurs.append(Erreur(ligne.feuille, ligne.numero, "", "", "formation de cette session introuvable"))
        return lien, None, False

    def verifier_session(self, ligne: Ligne) -> tuple[Plan | None, list[Erreur]]:
        entetes = ENTETES_SESSION
        erreurs: list[Erreur] = []
        v = ligne.valeurs
        lien, formation, suite = self._formation_de(ligne, erreurs, entetes)

        identifiant = (
            self._lire(ligne, erreurs, entetes, "session_id", excel.lire_entier) if "session_id" in v else None
        )
        reference = (
            self._lire(ligne, erreurs, entetes, "session_source_ref", excel.lire_texte)
            if "session_source_ref" in v
            else ""
        )
        existante = None
        if identifiant:
            existante = (
                Session.objects.filter(pk=identifiant, action__formation__organisme=self.organisme)
                .select_related("action__formation__organisme")
                .first()
            )
            if existante is None:
                erreurs.append(
                    self._erreur(
                        ligne,
                        "session_id",
                        "aucune session de votre organisme n'a cet identifiant OFeli : laissez la cellule vide pour "
                        "créer une nouvelle session",
                        entetes,
                    )
                )
            elif formation is not None and existante.action.formation_id != formation.pk:
                erreurs.append(
                    self._erreur(ligne, "session_id", "cette session appartient à une autre formation", entetes)
                )

        donnees: dict = {}
        for champ in ("debut", "fin", "inscription_debut", "inscription_fin", "places_date"):
            if champ in v:
                donnees[champ] = self._lire(ligne, erreurs, entetes, champ, excel.lire_date)
        for champ in ("places_restantes", "nombre_heures_total", "nombre_heures_centre", "nombre_heures_entreprise"):
            if champ in v:
                donnees[champ] = self._lire(ligne, erreurs, entetes, champ, excel.lire_entier)
        for champ, maximum in (("prix_total_ttc", 10_000_000), ("prix_horaire_ttc", 10_000)):
            if champ in v:
                montant = self._lire(ligne, erreurs, entetes, champ, excel.lire_decimal)
                if montant is not None and montant >= maximum:
                    erreurs.append(self._erreur(ligne, champ, f"montant trop élevé (moins de {maximum} €)", entetes))
                donnees[champ] = montant
        for champ, choices, defaut in (
            ("dispositif", Dispositif, Dispositif.ENTREPRISE_PARTICULIER),
            ("etat_recrutement", EtatRecrutement, EtatRecrutement.OUVERT),
            ("modalites_enseignement", ModalitesEnseignement, ModalitesEnseignement.PRESENTIEL),
        ):
            if champ in v:
                valeur = self._lire(ligne, erreurs, entetes, champ, lambda x, c=choices: excel.lire_choix(x, c))
                donnees[champ] = defaut if valeur is None else valeur
        if "entree_sortie_permanente" in v:
            donnees["entree_sortie_permanente"] = bool(
                self._lire(ligne, erreurs, entetes, "entree_sortie_permanente", excel.lire_oui_non)
            )
        if "numero_marche" in v:
            texte = self._texte(ligne, erreurs, entetes, "numero_marche", Action)
            donnees["numero_marche"] = "" if texte == "-" else texte
        if "rythme" in v:
            donnees["rythme"] = self._texte(ligne, erreurs, entetes, "rythme", Action)
        if "public_vise" in v:
            codes = self._lire(ligne, erreurs, entetes, "public_vise", excel.lire_codes) or []
            inconnus = [c for c in codes if c not in PUBLICS]
            if inconnus:
                erreurs.append(
                    self._erreur(
                        ligne,
                        "public_vise",
                        f"public visé inconnu : {', '.join(inconnus)} (voir la feuille « Valeurs autorisées »)",
                        entetes,
                    )
                )
            donnees["public_vise"] = [c for c in codes if c in PUBLICS]
        if "lieux" in v:
            texte = self._lire(ligne, erreurs, entetes, "lieux", excel.lire_texte) or ""
            lieux, inconnus = [], []
            for nom in (p.strip() for p in texte.split(excel.SEPARATEUR_LIEUX.strip())):
                if not nom:
                    continue
                lieu = self._lieux().get(excel.normaliser_entete(nom))
                if lieu is None:
                    inconnus.append(nom)
                elif lieu not in lieux:
                    lieux.append(lieu)
            if inconnus:
                erreurs.append(
                    self._erreur(
                        ligne,
                        "lieux",
                        f"lieu de formation inconnu : {' ; '.join(inconnus)}. Indiquez un lieu de votre fiche "
                        "organisme, tel qu'il figure dans la feuille « Valeurs autorisées » (ou ajoutez-le d'abord "
                        "à votre fiche organisme)",
                        entetes,
                    )
                )
            donnees["lieux"] = lieux
        if "url" in v:
            donnees["url"] = self._url(ligne, erreurs, entetes)

        self._obligatoires(ligne, erreurs, entetes, donnees, OBLIGATOIRES_SESSION, existante is None)
        if not suite:
            return None, erreurs

        correspondances = {"__all__": "formation_id", "agrement": ""}
        if existante is not None:
            actuelles = services.donnees_de_session(existante)
            changes = {k: val for k, val in donnees.items() if _different(actuelles.get(k), val)}
            if changes:
                self._regles(
                    ligne,
                    erreurs,
                    entetes,
                    services.verifier_session(
                        formation=existante.action.formation,
                        donnees={**actuelles, **donnees},
                        conventions=services.conventions_de(existante, existante.action.formation),
                    ),
                    correspondances,
                )
            plan = Plan("modifier" if changes else "rien", donnees, session=existante, formation=formation)
        else:
            source = formation.source if formation is not None else Source.OF
            conventions = services.conventions_de(None, formation) if formation is not None else []
            self._regles(
                ligne,
                erreurs,
                entetes,
                rules.fusionner(
                    rules.regle_source_session(source),
                    rules.regle_dates(donnees.get("debut"), donnees.get("fin")),
                    rules.regle_entree_sortie_permanente(
                        donnees.get("entree_sortie_permanente", False), donnees.get("debut"), donnees.get("fin")
                    ),
                    rules.regle_periode_inscription(donnees.get("inscription_debut"), donnees.get("inscription_fin")),
                    rules.regle_places(donnees.get("places_restantes"), donnees.get("places_date")),
                    rules.regle_a_distance(donnees.get("modalites_enseignement"), self.organisme),
                    rules.regle_hors_region(donnees.get("lieux") or [], conventions),
                ),
                correspondances,
            )
            cle = f"S|{lien}|ref:{reference}" if reference else f"S|{lien}|h:{_empreinte(donnees)}"
            plan = Plan("creer", donnees, cle=cle, formation=formation)
            deja = LigneImportee.objects.filter(organisme=self.organisme, cle=cle).select_related("session").first()
            if deja is not None and deja.session is not None:
                plan = Plan("rien", donnees, cle=cle, formation=formation, session=deja.session)
        plan.lien = lien
        return (None if erreurs else plan), erreurs


def _formation_actuelle(formation: Formation) -> dict:
    donnees = {champ: getattr(formation, champ) for champ in services.FORMATION_CHAMPS}
    for champ in ("certifications", "formacodes", "nsf", "romes"):
        donnees[champ] = list(getattr(formation, champ).all())
    return donnees


def _different(actuelle, nouvelle) -> bool:
    if isinstance(nouvelle, list):

        def cle(x):
            return x.pk if hasattr(x, "pk") else x

        return sorted(map(str, map(cle, actuelle or []))) != sorted(map(str, map(cle, nouvelle)))
    if hasattr(actuelle, "pk") or hasattr(nouvelle, "pk"):
        return getattr(actuelle, "pk", actuelle) != getattr(nouvelle, "pk", nouvelle)
    if actuelle in (None, "") and nouvelle in (None, ""):
        return False
    return actuelle != nouvelle
