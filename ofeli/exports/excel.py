"""Excel export (.xlsx) of formations, declared as data and streamed (XlsxWriter constant_memory).

Two sheets: "Formations" (one row per formation) and "Actions et sessions" (one row per session, with its
action's fields). Columns are declared once, as ``Colonne(entête, accesseur, format)``: French headers, dates
written as real Excel dates shown JJ/MM/AAAA, numbers as numbers. The formations are fetched in chunks with
the LHEO writer's loader (ofeli.lheo.writer.iter_formations), so memory stays bounded.
"""

import dataclasses
import datetime
from collections.abc import Callable, Iterator

import xlsxwriter
from django.utils import timezone, translation

from ofeli.lheo.text import clean_text
from ofeli.lheo.writer import (
    DEFAULT_CHUNK_SIZE,
    ExportStats,
    iter_formations,
    related,
)

TEXT, DATE, INTEGER, DECIMAL = "texte", "date", "entier", "decimal"
MAX_CELL = 32767  # Excel's limit for a cell's text


@dataclasses.dataclass(frozen=True)
class Colonne:
    entete: str
    accesseur: Callable
    format: str = TEXT
    largeur: int = 18
    champ: str = ""  # the key a file read back gives this column's value; "" = shown only, not read back


def _oui_non(value) -> str:
    return "Oui" if value else "Non"


def _codes(obj, name: str) -> str:
    return ", ".join(item.code for item in related(obj, name))


def _jour(value):
    if isinstance(value, datetime.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


_LIBELLES: dict[tuple, dict] = {}


def _libelle(obj, name: str):
    """``obj.get_<name>_display()``, from a dict built once per field and language: Django's version hashes the
    field's whole list of choices at each call, which is most of an export's time spent on these columns."""
    key = (obj.__class__, name, translation.get_language())
    libelles = _LIBELLES.get(key)
    if libelles is None:
        field = obj._meta.get_field(name)
        libelles = _LIBELLES[key] = {value: str(label) for value, label in field.flatchoices}
    value = getattr(obj, name)
    try:
        return libelles.get(value, value)
    except TypeError:  # an unhashable value: Django's own method
        return getattr(obj, f"get_{name}_display")()


def _sessions_count(formation) -> int:
    return sum(len(related(action, "sessions")) for action in related(formation, "actions"))


COLONNES_FORMATIONS = [
    Colonne("Identifiant OFeli", lambda f: f.pk, INTEGER, 11, "id"),
    Colonne("Numéro Carif", lambda f: f.numero or "", largeur=14, champ="numero"),
    Colonne("Identifiant dans la source", lambda f: f.source_ref, largeur=16, champ="source_ref"),
    Colonne("Intitulé", lambda f: f.intitule, largeur=45, champ="intitule"),
    Colonne("Organisme", lambda f: f.organisme.raison_sociale, largeur=30, champ="organisme"),
    Colonne("SIRET", lambda f: f.organisme.siret, largeur=16, champ="siret"),
    Colonne("NDA", lambda f: f.organisme.nda or "", largeur=13, champ="nda"),
    Colonne("État", lambda f: _libelle(f, "etat"), largeur=22),
    Colonne("Source", lambda f: _libelle(f, "source"), largeur=22),
    Colonne("Certifiante", lambda f: _oui_non(f.certifiante), largeur=11, champ="certifiante"),
    Colonne("Certifications (RNCP / RS)", lambda f: _codes(f, "certifications"), champ="certifications"),
    Colonne("Formacodes", lambda f: _codes(f, "formacodes"), champ="formacodes"),
    Colonne("NSF", lambda f: _codes(f, "nsf"), largeur=10, champ="nsf"),
    Colonne("ROME", lambda f: _codes(f, "romes"), largeur=12, champ="romes"),
    Colonne("Niveau d'entrée", lambda f: _libelle(f, "niveau_entree"), largeur=22, champ="niveau_entree"),
    Colonne(
        "Niveau de sortie",
        lambda f: _libelle(f, "niveau_sortie") if f.niveau_sortie is not None else "",
        champ="niveau_sortie",
    ),
    Colonne(
        "Objectif général",
        lambda f: _libelle(f, "objectif_general") if f.objectif_general else "",
        champ="objectif_general",
    ),
    Colonne("Parcours de formation", lambda f: _libelle(f, "parcours"), champ="parcours"),
    Colonne("Objectif", lambda f: f.objectif, largeur=40, champ="objectif"),
    Colonne("Résultats attendus", lambda f: f.resultats_attendus, largeur=40, champ="resultats_attendus"),
    Colonne("Contenu", lambda f: f.contenu, largeur=40, champ="contenu"),
    Colonne("Site internet", lambda f: f.url, largeur=30, champ="url"),
    Colonne("Nombre d'actions", lambda f: len(related(f, "actions")), INTEGER, 10),
    Colonne("Nombre de sessions", _sessions_count, INTEGER, 10),
    Colonne("Créée le", lambda f: _jour(f.created_at), DATE, 12),
    Colonne("Mise à jour le", lambda f: _jour(f.updated_at), DATE, 12),
]


def _lieu(session):
    """The session's place: its action's first lieu de formation, else its inscription address."""
    lieux = related(session.action, "lieux")
    return lieux[0] if lieux else session.adresse_inscription


def adresse_lieu(lieu) -> str:
    """A lieu as one line (dénomination, street, postcode and town): how the spreadsheet names a place."""
    if lieu is None:
        return ""
    return ", ".join(p for p in [lieu.denomination, lieu.ligne1, f"{lieu.code_postal} {lieu.ville}".strip()] if p)


SEPARATEUR_LIEUX = " ; "

# One row per session; `s` is the session, its action and formation are s.action and s.action.formation.
# The first columns identify the row for a file read back (the OF's spreadsheet import, the sources' imports):
# OFeli's own ids, the Carif numbers, and the ids the offer has in its source.
COLONNES_SESSIONS = [
    Colonne("Identifiant OFeli de la formation", lambda s: s.action.formation_id, INTEGER, 11, "formation_id"),
    Colonne(
        "Numéro Carif de la formation", lambda s: s.action.formation.numero or "", largeur=14, champ="formation_numero"
    ),
    Colonne(
        "Identifiant source de la formation",
        lambda s: s.action.formation.source_ref,
        largeur=16,
        champ="formation_source_ref",
    ),
    Colonne("Intitulé de la formation", lambda s: s.action.formation.intitule, largeur=40),
    Colonne("Identifiant OFeli de l'action", lambda s: s.action_id, INTEGER, 11, "action_id"),
    Colonne("Numéro Carif de l'action", lambda s: s.action.numero or "", largeur=14, champ="action_numero"),
    Colonne("Identifiant source de l'action", lambda s: s.action.source_ref, largeur=16, champ="action_source_ref"),
    Colonne("Identifiant OFeli de la session", lambda s: s.pk, INTEGER, 11, "session_id"),
    Colonne("Numéro Carif de la session", lambda s: s.numero or "", largeur=14, champ="session_numero"),
    Colonne("Identifiant source de la session", lambda s: s.source_ref, largeur=16, champ="session_source_ref"),
    Colonne("Date de début", lambda s: s.debut, DATE, 12, "debut"),
    Colonne("Date de fin", lambda s: s.fin, DATE, 12, "fin"),
    Colonne("Dpt", lambda s: getattr(_lieu(s), "departement", ""), largeur=6),
    Colonne("Ville", lambda s: getattr(_lieu(s), "ville", "")),
    Colonne("Dispositif", lambda s: _libelle(s.action, "dispositif"), largeur=24, champ="dispositif"),
    Colonne("Numéro de marché", lambda s: s.action.numero_marche or "-", largeur=14, champ="numero_marche"),
    Colonne("État", lambda s: _libelle(s, "etat"), largeur=22),
    Colonne("OF Formateur", lambda s: getattr(s.action.organisme_formateur, "raison_sociale", ""), largeur=28),
    Colonne("Début des inscriptions", lambda s: s.inscription_debut, DATE, 12, "inscription_debut"),
    Colonne("Fin des inscriptions", lambda s: s.inscription_fin, DATE, 12, "inscription_fin"),
    Colonne("État du recrutement", lambda s: _libelle(s, "etat_recrutement"), largeur=12, champ="etat_recrutement"),
    Colonne("Places restantes", lambda s: s.places_restantes, INTEGER, 10, "places_restantes"),
    Colonne("Places restantes indiquées le", lambda s: s.places_date, DATE, 12, "places_date"),
    Colonne(
        "Entrée sortie permanente",
        lambda s: _oui_non(s.action.entree_sortie_permanente),
        largeur=10,
        champ="entree_sortie_permanente",
    ),
    Colonne(
        "Modalités d'enseignement",
        lambda s: _libelle(s.action, "modalites_enseignement"),
        largeur=24,
        champ="modalites_enseignement",
    ),
    Colonne("Rythme", lambda s: s.action.rythme, largeur=30, champ="rythme"),
    Colonne(
        "Publics visés (Formacode)", lambda s: ", ".join(map(str, s.action.public_vise or [])), champ="public_vise"
    ),
    Colonne("Durée totale (heures)", lambda s: s.action.nombre_heures_total, INTEGER, 10, "nombre_heures_total"),
    Colonne("Heures en centre", lambda s: s.action.nombre_heures_centre, INTEGER, 10, "nombre_heures_centre"),
    Colonne(
        "Heures en entreprise", lambda s: s.action.nombre_heures_entreprise, INTEGER, 10, "nombre_heures_entreprise"
    ),
    Colonne("Prix total TTC (€)", lambda s: s.action.prix_total_ttc, DECIMAL, 12, "prix_total_ttc"),
    Colonne("Prix horaire TTC (€)", lambda s: s.action.prix_horaire_ttc, DECIMAL, 12, "prix_horaire_ttc"),
    Colonne(
        "Lieux de formation",
        lambda s: SEPARATEUR_LIEUX.join(adresse_lieu(lieu) for lieu in related(s.action, "lieux")),
        largeur=40,
        champ="lieux",
    ),
    Colonne("Adresse d'inscription", lambda s: adresse_lieu(s.adresse_inscription), largeur=40),
    Colonne("Site internet de la session", lambda s: s.url, largeur=30, champ="url"),
]


class _Feuille:
    def __init__(self, workbook, nom: str, colonnes: list[Colonne], formats: dict):
        self.sheet = workbook.add_worksheet(nom)
        self.colonnes = colonnes
        self.formats = formats
        self.row = 0
        for index, colonne in enumerate(colonnes):
            self.sheet.set_column(index, index, colonne.largeur)
            self.sheet.write_string(0, index, colonne.entete, formats["entete"])
        self.sheet.freeze_panes(1, 0)

        # One writer per column, chosen once (the row loop runs hundreds of thousands of times).
        sheet = self.sheet
        ecrivains = {
            DATE: lambda row, col, value: sheet.write_datetime(row, col, _jour(value), formats["date"]),
            INTEGER: lambda row, col, value: sheet.write_number(row, col, int(value)),
            DECIMAL: lambda row, col, value: sheet.write_number(row, col, float(value), formats["decimal"]),
            TEXT: lambda row, col, value: sheet.write_string(row, col, clean_text(value)[:MAX_CELL]),
        }
        self.cellules = [(index, c.accesseur, ecrivains[c.format]) for index, c in enumerate(colonnes)]

    def ecrire(self, obj) -> None:
        self.row += 1
        row = self.row
        for index, accesseur, ecrire in self.cellules:
            value = accesseur(obj)
            if value is None or value == "":
                continue
            ecrire(row, index, value)

    def terminer(self) -> None:
        if self.row:
            self.sheet.autofilter(0, 0, self.row, len(self.colonnes) - 1)


def write_excel(
    output,
    source,
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[ExportStats], None] | None = None,
    progress_every: int = 200,
) -> ExportStats:
    """Writes the formations of `source` (queryset or ids) as an .xlsx to `output` (path or binary file).

    Every formation is written, with or without sessions. Constant-memory mode: rows go to temporary files as
    they are written, whatever the number of formations.
    """
    workbook = xlsxwriter.Workbook(
        output,
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    formats = {
        "entete": workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True}),
        "date": workbook.add_format({"num_format": "dd/mm/yyyy"}),
        "decimal": workbook.add_format({"num_format": "#,##0.00"}),
    }
    formations_sheet = _Feuille(workbook, "Formations", COLONNES_FORMATIONS, formats)
    sessions_sheet = _Feuille(workbook, "Actions et sessions", COLONNES_SESSIONS, formats)
    stats = ExportStats()
    for formation in iter_formations(source, chunk_size=chunk_size):
        formations_sheet.ecrire(formation)
        stats.formations += 1
        for action in related(formation, "actions"):
            stats.actions += 1
            for session in related(action, "sessions"):
                sessions_sheet.ecrire(session)
                stats.sessions += 1
        if progress and stats.formations % progress_every == 0:
            progress(stats)
    formations_sheet.terminer()
    sessions_sheet.terminer()
    workbook.close()
    if progress:
        progress(stats)
    return stats


# --- reading the layout back ----------------------------------------------------------------------------------
#
# The OF's spreadsheet import (ofeli.tableur) and the sources' imports (ofeli.diffusion.imports) read this
# layout: the same headers, in any order, extra columns ignored. Cells are read with openpyxl in read-only mode
# (rows streamed, XML parsed through defusedxml: no entity expansion, nothing fetched), formulas as their last
# computed value. The converters below turn a cell into a value or raise ValueError with a French reason.

FEUILLE_FORMATIONS = "Formations"
FEUILLE_SESSIONS = "Actions et sessions"
TAILLE_DECOMPRESSEE_MAX = 400 * 1024 * 1024  # a zip bomb is refused before openpyxl opens it
ZIP_MAGIC = b"PK\x03\x04"


class ClasseurIllisible(Exception):
    """The file is not an .xlsx workbook OFeli can read; the message is French."""


def est_un_classeur(handle) -> bool:
    """Whether the file's first bytes are a zip archive (an .xlsx is one)."""
    handle.seek(0)
    debut = handle.read(4)
    handle.seek(0)
    return debut == ZIP_MAGIC


def ouvrir_classeur(handle):
    """The workbook of `handle` (binary file, seekable), in read-only mode; ClasseurIllisible otherwise."""
    import zipfile

    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
        raise ClasseurIllisible("La lecture des classeurs Excel est indisponible (defusedxml manquant).")
    if not est_un_classeur(handle):
        raise ClasseurIllisible("Ce fichier n'est pas un classeur Excel (.xlsx).")
    try:
        with zipfile.ZipFile(handle) as archive:
            noms = archive.namelist()
            if sum(info.file_size for info in archive.infolist()) > TAILLE_DECOMPRESSEE_MAX:
                raise ClasseurIllisible("Ce classeur est trop volumineux une fois décompressé.")
        if "xl/workbook.xml" not in noms:
            raise ClasseurIllisible("Ce fichier n'est pas un classeur Excel (.xlsx) : enregistrez-le au format .xlsx.")
        handle.seek(0)
        return openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except ClasseurIllisible:
        raise
    except Exception as exc:  # zipfile.BadZipFile, KeyError, XML errors of a damaged file
        raise ClasseurIllisible(f"Ce classeur Excel est illisible ou endommagé ({exc.__class__.__name__}).") from None


def normaliser_entete(texte) -> str:
    import unicodedata

    texte = unicodedata.normalize("NFKD", str(texte or "")).encode("ascii", "ignore").decode()
    return " ".join(texte.casefold().replace("’", "'").split())


# Headers of the earlier layout, still read.
ANCIENNES_ENTETES = {"reference": "session_numero"}


def champs_par_entete(colonnes: list[Colonne]) -> dict[str, str]:
    """Normalised header -> champ, for the columns a file read back carries."""
    resultat = {normaliser_entete(c.entete): c.champ for c in colonnes if c.champ}
    for entete, champ in ANCIENNES_ENTETES.items():
        if champ in resultat.values():
            resultat.setdefault(entete, champ)
    return resultat


def entetes(feuille) -> list[str]:
    """The sheet's first row, as texts ("" for an empty cell)."""
    for row in feuille.iter_rows(min_row=1, max_row=1, values_only=True):
        return ["" if v is None else str(v).strip() for v in row]
    return []


def lignes(feuille, correspondance: dict[int, str]) -> Iterator[tuple[int, dict]]:
    """(row number, {champ: raw value}) of each non-empty row after the headers.

    `correspondance`: column index -> champ (built from the headers, or from a saved mapping).
    """
    for numero, row in enumerate(feuille.iter_rows(min_row=2, values_only=True), start=2):
        valeurs = {}
        for index, champ in correspondance.items():
            valeur = row[index] if index < len(row) else None
            if isinstance(valeur, str):
                valeur = valeur.strip()
            valeurs[champ] = valeur
        if any(v not in (None, "") for v in valeurs.values()):
            yield numero, valeurs


def correspondance_par_entetes(noms: list[str], colonnes: list[Colonne]) -> dict[int, str]:
    connus = champs_par_entete(colonnes)
    resultat = {}
    for index, nom in enumerate(noms):
        champ = connus.get(normaliser_entete(nom))
        if champ and champ not in resultat.values():
            resultat[index] = champ
    return resultat


# --- converters: a cell's raw value -> a Python value, or ValueError with a French reason ----------------------


def vide(valeur) -> bool:
    return valeur is None or (isinstance(valeur, str) and not valeur.strip())


def lire_texte(valeur) -> str:
    if vide(valeur):
        return ""
    if isinstance(valeur, float) and valeur.is_integer():
        valeur = int(valeur)
    if isinstance(valeur, datetime.datetime | datetime.date):
        raise ValueError("un texte est attendu, pas une date")
    return str(valeur).strip()


def lire_date(valeur) -> datetime.date | None:
    """A real Excel date, or a text JJ/MM/AAAA."""
    if vide(valeur):
        return None
    if isinstance(valeur, datetime.datetime):
        return valeur.date()
    if isinstance(valeur, datetime.date):
        return valeur
    texte = str(valeur).strip()
    for forme in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.datetime.strptime(texte, forme).date()  # noqa: DTZ007 (a calendar day)
        except ValueError:
            continue
    raise ValueError(f"« {texte} » n'est pas une date : saisissez une date au format JJ/MM/AAAA")


def lire_entier(valeur) -> int | None:
    if vide(valeur):
        return None
    if isinstance(valeur, bool):
        raise ValueError("un nombre entier est attendu")
    if isinstance(valeur, int):
        nombre = valeur
    elif isinstance(valeur, float) and valeur.is_integer():
        nombre = int(valeur)
    else:
        texte = str(valeur).strip().replace(" ", "").replace("\u202f", "").replace("\xa0", "")
        if not texte.isdigit():
            raise ValueError(f"« {valeur} » n'est pas un nombre entier")
        nombre = int(texte)
    if nombre < 0:
        raise ValueError(f"« {valeur} » : un nombre positif est attendu")
    return nombre


def lire_decimal(valeur):
    from decimal import Decimal, InvalidOperation

    if vide(valeur):
        return None
    if isinstance(valeur, bool):
        raise ValueError("un montant est attendu")
    if isinstance(valeur, int | float):
        nombre = Decimal(str(round(valeur, 2)))
    else:
        texte = str(valeur).replace("€", "").replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        try:
            nombre = Decimal(texte.replace(",", "."))
        except InvalidOperation:
            raise ValueError(f"« {valeur} » n'est pas un montant (exemple : 1500,50)") from None
    if not nombre.is_finite() or nombre < 0:
        raise ValueError(f"« {valeur} » n'est pas un montant positif")
    return nombre.quantize(Decimal("0.01"))


OUI, NON = {"oui", "o", "yes", "vrai", "true", "1", "x"}, {"non", "n", "no", "faux", "false", "0"}


def lire_oui_non(valeur) -> bool | None:
    if vide(valeur):
        return None
    if isinstance(valeur, bool):
        return valeur
    texte = normaliser_entete(lire_texte(valeur))
    if texte in OUI:
        return True
    if texte in NON:
        return False
    raise ValueError(f"« {valeur} » : répondez Oui ou Non")


def lire_choix(valeur, choices):
    """A choice by its label (as the export writes it) or its code; ValueError listing what is allowed."""
    if vide(valeur):
        return None
    texte = normaliser_entete(lire_texte(valeur))
    for code, libelle in choices.choices:
        if texte in (normaliser_entete(libelle), normaliser_entete(code)):
            return code
    raise ValueError(
        f"« {valeur} » n'est pas une valeur autorisée (voir la feuille « Valeurs autorisées ») : "
        + ", ".join(choices.labels)
    )


def lire_codes(valeur) -> list[str]:
    """Codes separated by commas, semicolons or spaces, upper-cased; duplicates dropped, order kept."""
    import re

    if vide(valeur):
        return []
    codes = []
    for code in re.split(r"[,;\s]+", lire_texte(valeur).upper()):
        if code and code not in codes:
            codes.append(code)
    return codes
