"""Builds .xlsx files in OFeli's Excel layout (or any other), for the import tests."""

import io

import openpyxl

from ofeli.exports.excel import COLONNES_FORMATIONS, COLONNES_SESSIONS, FEUILLE_FORMATIONS, FEUILLE_SESSIONS

ENTETES_FORMATIONS = [c.entete for c in COLONNES_FORMATIONS]
ENTETES_SESSIONS = [c.entete for c in COLONNES_SESSIONS]


def classeur(formations: list[dict], sessions: list[dict], *, feuilles=None) -> bytes:
    """A workbook with the export's two sheets; rows are {header: value} (missing headers stay empty)."""
    feuilles = feuilles or {
        FEUILLE_FORMATIONS: (ENTETES_FORMATIONS, formations),
        FEUILLE_SESSIONS: (ENTETES_SESSIONS, sessions),
    }
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for nom, (entetes, lignes) in feuilles.items():
        sheet = workbook.create_sheet(nom)
        sheet.append(entetes)
        for ligne in lignes:
            sheet.append([ligne.get(entete) for entete in entetes])
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def feuille_unique(entetes: list[str], lignes: list[list]) -> bytes:
    """A workbook of one sheet with any headers (a file from another tool)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Export"
    sheet.append(entetes)
    for ligne in lignes:
        sheet.append(ligne)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()
