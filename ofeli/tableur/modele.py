"""The spreadsheet model an OF downloads: the Excel export's layout, instructions and the allowed values.

Sheets: "Formations" and "Actions et sessions" (the export's columns, the OF's formations already filled in when
asked, so the file is also the way to update them), "Instructions" and "Valeurs autorisées" (the lists of the
choice columns, the public codes, the OF's places). The choice columns carry a drop-down list (data validation)
over the allowed values, the date columns accept dates only.
"""

import datetime

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from ofeli.exports import excel
from ofeli.lheo.writer import iter_formations, related
from ofeli.offre.models import Dispositif, EtatRecrutement, ModalitesEnseignement, Niveau, ObjectifGeneral, Parcours
from ofeli.organismes.models import Lieu

from .lecture import (
    CHAMPS_FORMATION,
    CHAMPS_SESSION,
    ENTETES_FORMATION,
    ENTETES_SESSION,
    OBLIGATOIRES_FORMATION,
    OBLIGATOIRES_SESSION,
    PUBLICS,
)

FEUILLE_INSTRUCTIONS = "Instructions"
FEUILLE_VALEURS = "Valeurs autorisées"
LIGNES_VALIDEES = 10_000  # rows of the model that carry the drop-down lists

INSTRUCTIONS = [
    "Importer son offre depuis un tableur OFeli",
    "",
    "1. Une ligne par formation dans la feuille « Formations », une ligne par session dans la feuille « Actions "
    "et sessions ». Ne renommez pas les colonnes ; vous pouvez en ajouter, elles seront ignorées.",
    "2. Nouvelle formation : laissez « Identifiant OFeli » vide et donnez-lui une référence de votre choix dans "
    "« Identifiant dans la source » (par exemple SOUD-01). Reprenez cette référence dans la colonne « Identifiant "
    "source de la formation » de chacune de ses sessions.",
    "3. Formation déjà dans OFeli : gardez son « Identifiant OFeli » (l'export Excel de vos formations le donne) ; "
    "ses sessions indiquent le même numéro dans « Identifiant OFeli de la formation ». Une ligne qui garde "
    "l'identifiant OFeli d'une session modifie cette session, rien n'est créé en double.",
    "4. Colonnes obligatoires pour créer une formation : "
    + ", ".join(ENTETES_FORMATION[c] for c in OBLIGATOIRES_FORMATION)
    + ". Pour créer une session : "
    + ", ".join(ENTETES_SESSION[c] for c in OBLIGATOIRES_SESSION)
    + ".",
    "5. Dates au format JJ/MM/AAAA (ou de vraies dates Excel). Montants en euros TTC (1500,50). Codes Formacode, "
    "NSF, ROME, RNCP / RS et publics visés séparés par des virgules.",
    "6. Lieux de formation : un ou plusieurs lieux de votre fiche organisme, séparés par « ; », écrits comme dans "
    "la feuille « Valeurs autorisées ». Un lieu hors région n'est accepté que saisi dans OFeli, avec la "
    "convention de formation.",
    "7. Les colonnes grisées (Organisme, État, Nombre de sessions, Créée le...) sont remplies par l'export et "
    "ne sont pas lues à l'import.",
    "8. Après le dépôt, OFeli affiche uniquement les lignes et les cellules en erreur, avec le motif. Les lignes "
    "valides sont importées en brouillon quand vous le confirmez : vérifiez-les, puis soumettez-les à la "
    "validation de l'équipe offre.",
    "9. Déposer à nouveau le même fichier ne crée rien en double : corrigez les lignes en erreur et redéposez-le.",
    "10. Une formation certifiante demande l'agrément de l'organisme valideur en pièce jointe : saisissez-la "
    "dans OFeli.",
]


def _listes(organisme) -> list[tuple[str, list[str]]]:
    lieux = []
    if organisme is not None:
        lieux = [excel.adresse_lieu(lieu) for lieu in Lieu.objects.filter(organisme=organisme, actif=True)]
    return [
        ("Oui / Non", ["Oui", "Non"]),
        ("Niveau (entrée et sortie)", list(Niveau.labels)),
        ("Objectif général", list(ObjectifGeneral.labels)),
        ("Parcours de formation", list(Parcours.labels)),
        ("Dispositif", list(Dispositif.labels)),
        ("État du recrutement", list(EtatRecrutement.labels)),
        ("Modalités d'enseignement", list(ModalitesEnseignement.labels)),
        ("Publics visés (code)", list(PUBLICS)),
        ("Publics visés (libellé)", list(PUBLICS.values())),
        ("Lieux de formation de votre organisme", lieux),
    ]


# Which list validates which column.
VALIDATIONS = {
    ("f", "certifiante"): "Oui / Non",
    ("f", "niveau_entree"): "Niveau (entrée et sortie)",
    ("f", "niveau_sortie"): "Niveau (entrée et sortie)",
    ("f", "objectif_general"): "Objectif général",
    ("f", "parcours"): "Parcours de formation",
    ("s", "dispositif"): "Dispositif",
    ("s", "etat_recrutement"): "État du recrutement",
    ("s", "entree_sortie_permanente"): "Oui / Non",
    ("s", "modalites_enseignement"): "Modalités d'enseignement",
}


def write_modele(output, *, organisme=None, formations=None) -> None:
    """Writes the model to `output` (path or binary file); `formations`: a queryset to fill in (else empty)."""
    workbook = xlsxwriter.Workbook(
        output,
        {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    formats = {
        "entete": workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "text_wrap": True}),
        "info": workbook.add_format({"bold": True, "bg_color": "#E7E6E6", "font_color": "#595959", "text_wrap": True}),
        "date": workbook.add_format({"num_format": "dd/mm/yyyy"}),
        "decimal": workbook.add_format({"num_format": "#,##0.00"}),
        "titre": workbook.add_format({"bold": True, "font_size": 14}),
        "texte": workbook.add_format({"text_wrap": True, "valign": "top"}),
    }
    listes = _listes(organisme)
    positions = {nom: index for index, (nom, _) in enumerate(listes)}

    formations_sheet = excel._Feuille(workbook, excel.FEUILLE_FORMATIONS, excel.COLONNES_FORMATIONS, formats)
    sessions_sheet = excel._Feuille(workbook, excel.FEUILLE_SESSIONS, excel.COLONNES_SESSIONS, formats)
    for feuille, colonnes, lus in (
        (formations_sheet, excel.COLONNES_FORMATIONS, CHAMPS_FORMATION),
        (sessions_sheet, excel.COLONNES_SESSIONS, CHAMPS_SESSION),
    ):
        partie = "f" if feuille is formations_sheet else "s"
        for index, colonne in enumerate(colonnes):
            if colonne.champ not in lus:
                feuille.sheet.write_string(0, index, colonne.entete, formats["info"])
            nom = VALIDATIONS.get((partie, colonne.champ))
            if nom is not None:
                valeurs = dict(listes)[nom]
                lettre = xl_col_to_name(positions[nom])
                feuille.sheet.data_validation(
                    1,
                    index,
                    LIGNES_VALIDEES,
                    index,
                    {
                        "validate": "list",
                        "source": f"='{FEUILLE_VALEURS}'!${lettre}$2:${lettre}${len(valeurs) + 1}",
                        "error_title": "Valeur non autorisée",
                        "error_message": "Choisissez une valeur de la liste (feuille « Valeurs autorisées »).",
                    },
                )
            elif colonne.format == excel.DATE and colonne.champ in lus:
                feuille.sheet.data_validation(
                    1,
                    index,
                    LIGNES_VALIDEES,
                    index,
                    {
                        "validate": "date",
                        "criteria": "between",
                        "minimum": datetime.date(2000, 1, 1),
                        "maximum": datetime.date(2099, 12, 31),
                        "error_title": "Date attendue",
                        "error_message": "Saisissez une date au format JJ/MM/AAAA.",
                    },
                )
    if formations is not None:
        for formation in iter_formations(formations):
            formations_sheet.ecrire(formation)
            for action in related(formation, "actions"):
                for session in related(action, "sessions"):
                    sessions_sheet.ecrire(session)
    formations_sheet.terminer()
    sessions_sheet.terminer()

    instructions = workbook.add_worksheet(FEUILLE_INSTRUCTIONS)
    instructions.set_column(0, 0, 120)
    instructions.activate()  # the sheet shown when the file is opened
    for ligne, texte in enumerate(INSTRUCTIONS):
        if texte:
            instructions.write_string(ligne, 0, texte, formats["titre"] if ligne == 0 else formats["texte"])

    valeurs_sheet = workbook.add_worksheet(FEUILLE_VALEURS)
    longueur = max(len(v) for _, v in listes)
    for colonne, (nom, _) in enumerate(listes):
        valeurs_sheet.set_column(colonne, colonne, 32)
        valeurs_sheet.write_string(0, colonne, nom, formats["entete"])
    for ligne in range(longueur):  # constant memory: rows in order
        for colonne, (_, valeurs) in enumerate(listes):
            if ligne < len(valeurs):
                valeurs_sheet.write_string(ligne + 1, colonne, valeurs[ligne])
    workbook.close()
