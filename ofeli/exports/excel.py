"""Excel export (.xlsx) of formations, declared as data and streamed (XlsxWriter constant_memory).

Two sheets: "Formations" (one row per formation) and "Actions et sessions" (one row per session, with its
action's fields). Columns are declared once, as ``Colonne(entête, accesseur, format)``: French headers, dates
written as real Excel dates shown JJ/MM/AAAA, numbers as numbers. The formations are fetched in chunks with
the LHEO writer's loader (ofeli.lheo.writer.iter_formations), so memory stays bounded.
"""

import dataclasses
import datetime
from collections.abc import Callable

import xlsxwriter
from django.utils import timezone

from ofeli.lheo.text import clean_text
from ofeli.lheo.writer import (
    DEFAULT_CHUNK_SIZE,
    ExportStats,
    iter_formations,
    numero_action,
    numero_formation,
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


def _oui_non(value) -> str:
    return "Oui" if value else "Non"


def _codes(obj, name: str) -> str:
    return ", ".join(item.code for item in related(obj, name))


def _jour(value):
    if isinstance(value, datetime.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def _sessions_count(formation) -> int:
    return sum(len(related(action, "sessions")) for action in related(formation, "actions"))


COLONNES_FORMATIONS = [
    Colonne("Numéro Carif", lambda f: f.numero or "", largeur=14),
    Colonne("Identifiant LHEO", numero_formation, largeur=16),
    Colonne("Intitulé", lambda f: f.intitule, largeur=45),
    Colonne("Organisme", lambda f: f.organisme.raison_sociale, largeur=30),
    Colonne("SIRET", lambda f: f.organisme.siret, largeur=16),
    Colonne("NDA", lambda f: f.organisme.nda or "", largeur=13),
    Colonne("État", lambda f: f.get_etat_display(), largeur=22),
    Colonne("Source", lambda f: f.get_source_display(), largeur=22),
    Colonne("Certifiante", lambda f: _oui_non(f.certifiante), largeur=11),
    Colonne("Certifications (RNCP / RS)", lambda f: _codes(f, "certifications")),
    Colonne("Formacodes", lambda f: _codes(f, "formacodes")),
    Colonne("NSF", lambda f: _codes(f, "nsf"), largeur=10),
    Colonne("ROME", lambda f: _codes(f, "romes"), largeur=12),
    Colonne("Niveau d'entrée", lambda f: f.get_niveau_entree_display(), largeur=22),
    Colonne("Niveau de sortie", lambda f: f.get_niveau_sortie_display() if f.niveau_sortie is not None else ""),
    Colonne("Objectif général", lambda f: f.get_objectif_general_display() if f.objectif_general else ""),
    Colonne("Parcours de formation", lambda f: f.get_parcours_display()),
    Colonne("Objectif", lambda f: f.objectif, largeur=40),
    Colonne("Résultats attendus", lambda f: f.resultats_attendus, largeur=40),
    Colonne("Contenu", lambda f: f.contenu, largeur=40),
    Colonne("Site internet", lambda f: f.url, largeur=30),
    Colonne("Nombre d'actions", lambda f: len(related(f, "actions")), INTEGER, 10),
    Colonne("Nombre de sessions", _sessions_count, INTEGER, 10),
    Colonne("Créée le", lambda f: _jour(f.created_at), DATE, 12),
    Colonne("Mise à jour le", lambda f: _jour(f.updated_at), DATE, 12),
]


def _lieu(session):
    """The session's place: its action's first lieu de formation, else its inscription address."""
    lieux = related(session.action, "lieux")
    return lieux[0] if lieux else session.adresse_inscription


def _adresse(lieu) -> str:
    if lieu is None:
        return ""
    return ", ".join(p for p in [lieu.denomination, lieu.ligne1, f"{lieu.code_postal} {lieu.ville}".strip()] if p)


# One row per session; `s` is the session, its action and formation are s.action and s.action.formation.
COLONNES_SESSIONS = [
    Colonne("Référence", lambda s: s.numero or "", largeur=12),
    Colonne("Date de début", lambda s: s.debut, DATE, 12),
    Colonne("Date de fin", lambda s: s.fin, DATE, 12),
    Colonne("Dpt", lambda s: getattr(_lieu(s), "departement", ""), largeur=6),
    Colonne("Ville", lambda s: getattr(_lieu(s), "ville", "")),
    Colonne("Dispositif", lambda s: s.action.get_dispositif_display(), largeur=24),
    Colonne("Numéro de marché", lambda s: s.action.numero_marche or "-", largeur=14),
    Colonne("État", lambda s: s.get_etat_display(), largeur=22),
    Colonne("OF Formateur", lambda s: getattr(s.action.organisme_formateur, "raison_sociale", ""), largeur=28),
    Colonne("Numéro Carif de la formation", lambda s: s.action.formation.numero or "", largeur=14),
    Colonne("Intitulé de la formation", lambda s: s.action.formation.intitule, largeur=40),
    Colonne("Identifiant de l'action", lambda s: numero_action(s.action), largeur=16),
    Colonne("Début des inscriptions", lambda s: s.inscription_debut, DATE, 12),
    Colonne("Fin des inscriptions", lambda s: s.inscription_fin, DATE, 12),
    Colonne("État du recrutement", lambda s: s.get_etat_recrutement_display(), largeur=12),
    Colonne("Places restantes", lambda s: s.places_restantes, INTEGER, 10),
    Colonne("Entrée sortie permanente", lambda s: _oui_non(s.action.entree_sortie_permanente), largeur=10),
    Colonne("Modalités d'enseignement", lambda s: s.action.get_modalites_enseignement_display(), largeur=24),
    Colonne("Rythme", lambda s: s.action.rythme, largeur=30),
    Colonne("Publics visés (Formacode)", lambda s: ", ".join(map(str, s.action.public_vise or []))),
    Colonne("Durée totale (heures)", lambda s: s.action.nombre_heures_total, INTEGER, 10),
    Colonne("Heures en centre", lambda s: s.action.nombre_heures_centre, INTEGER, 10),
    Colonne("Heures en entreprise", lambda s: s.action.nombre_heures_entreprise, INTEGER, 10),
    Colonne("Prix total TTC (€)", lambda s: s.action.prix_total_ttc, DECIMAL, 12),
    Colonne("Prix horaire TTC (€)", lambda s: s.action.prix_horaire_ttc, DECIMAL, 12),
    Colonne(
        "Lieux de formation", lambda s: " ; ".join(_adresse(lieu) for lieu in related(s.action, "lieux")), largeur=40
    ),
    Colonne("Adresse d'inscription", lambda s: _adresse(s.adresse_inscription), largeur=40),
    Colonne("Site internet de la session", lambda s: s.url, largeur=30),
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

    def ecrire(self, obj) -> None:
        self.row += 1
        for index, colonne in enumerate(self.colonnes):
            value = colonne.accesseur(obj)
            if value is None or value == "":
                continue
            if colonne.format == DATE:
                self.sheet.write_datetime(self.row, index, _jour(value), self.formats["date"])
            elif colonne.format == INTEGER:
                self.sheet.write_number(self.row, index, int(value))
            elif colonne.format == DECIMAL:
                self.sheet.write_number(self.row, index, float(value), self.formats["decimal"])
            else:
                self.sheet.write_string(self.row, index, clean_text(value)[:MAX_CELL])

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
