import datetime
import io

import openpyxl
import pytest

from ofeli.exports.excel import COLONNES_FORMATIONS, COLONNES_SESSIONS, write_excel
from ofeli.offre.models import Formation
from tests.factories import FormationFactory, SessionFactory

pytestmark = pytest.mark.django_db


def _lire(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def _ecrire(queryset=None) -> tuple[bytes, object]:
    output = io.BytesIO()
    stats = write_excel(output, Formation.objects.all() if queryset is None else queryset)
    return output.getvalue(), stats


def test_two_sheets_with_french_headers_and_one_row_per_formation_and_per_session(session_a_orleans):
    SessionFactory(action=session_a_orleans.action, numero="308696S", debut=datetime.date(2026, 5, 4))
    FormationFactory(organisme=session_a_orleans.action.formation.organisme, intitule="Sans session")
    data, stats = _ecrire()
    assert (stats.formations, stats.sessions) == (2, 2)
    workbook = _lire(data)
    assert workbook.sheetnames == ["Formations", "Actions et sessions"]
    formations, sessions = workbook["Formations"], workbook["Actions et sessions"]
    assert [c.value for c in formations[1]] == [c.entete for c in COLONNES_FORMATIONS]
    assert [c.value for c in sessions[1]] == [c.entete for c in COLONNES_SESSIONS]
    assert formations.max_row == 3 and sessions.max_row == 3
    intitules = {row[3] for row in formations.iter_rows(min_row=2, values_only=True)}
    assert intitules == {"Soudure à l'arc", "Sans session"}


def test_cells_have_the_right_types_and_dates_are_real_dates(session_a_orleans):
    data, _ = _ecrire()
    sessions = _lire(data)["Actions et sessions"]
    headers = [c.value for c in sessions[1]]
    row = {h: c for h, c in zip(headers, sessions[2], strict=True)}
    assert row["Numéro Carif de la session"].value == "308695S"
    # Stable identifiers: a file read back finds each formation, action and session again.
    assert row["Identifiant OFeli de la session"].value == session_a_orleans.pk
    assert row["Identifiant OFeli de l'action"].value == session_a_orleans.action_id
    assert row["Identifiant OFeli de la formation"].value == session_a_orleans.action.formation_id
    assert row["Numéro Carif de la formation"].value == "900100F"
    assert row["Date de début"].value == datetime.datetime(2026, 1, 5)
    assert row["Date de début"].is_date and row["Date de début"].number_format == "dd/mm/yyyy"
    assert row["Date de fin"].value == datetime.datetime(2026, 3, 31)
    assert row["Dpt"].value == "45" and row["Ville"].value == "Orléans"
    assert row["Dispositif"].value == "Entreprise ou particulier"
    assert row["Numéro de marché"].value == "M-1"
    assert row["Places restantes"].value == 3 and isinstance(row["Places restantes"].value, int)
    assert row["Prix total TTC (€)"].value == pytest.approx(1500.5)
    assert row["Durée totale (heures)"].value == 120
    assert row["Début des inscriptions"].value is None  # empty cells stay empty
    formations = _lire(data)["Formations"]
    fheaders = [c.value for c in formations[1]]
    frow = {h: c.value for h, c in zip(fheaders, formations[2], strict=True)}
    assert frow["Numéro Carif"] == "900100F"
    assert frow["Identifiant OFeli"] == session_a_orleans.action.formation_id
    assert frow["Certifiante"] == "Non"
    assert frow["Nombre de sessions"] == 1
    assert isinstance(frow["Créée le"], datetime.datetime)


def test_texts_that_look_like_formulas_or_numbers_stay_texts(organisme):
    SessionFactory(action__formation__organisme=organisme, action__formation__intitule="=SOMME(A1:A2)", numero="0012")
    data, _ = _ecrire()
    workbook = _lire(data)
    assert workbook["Formations"]["D2"].value == "=SOMME(A1:A2)"
    assert workbook["Formations"]["D2"].data_type == "s"
    assert workbook["Actions et sessions"]["I2"].value == "0012"


def test_an_empty_export_has_the_headers_only():
    data, stats = _ecrire(Formation.objects.none())
    assert stats.formations == 0
    workbook = _lire(data)
    assert workbook["Formations"].max_row == 1


def test_choice_columns_show_the_labels_of_the_screens(session_a_orleans):
    session = session_a_orleans
    action, formation = session.action, session.action.formation
    data, _ = _ecrire()
    workbook = _lire(data)

    def ligne(feuille):
        return dict(zip([c.value for c in feuille[1]], [c.value for c in feuille[2]], strict=True))

    formations, sessions = ligne(workbook["Formations"]), ligne(workbook["Actions et sessions"])
    assert formations["État"] == formation.get_etat_display()
    assert formations["Source"] == formation.get_source_display()
    assert formations["Niveau d'entrée"] == formation.get_niveau_entree_display()
    assert formations["Parcours de formation"] == formation.get_parcours_display()
    assert sessions["État"] == session.get_etat_display()
    assert sessions["Modalités d'enseignement"] == action.get_modalites_enseignement_display()
    assert sessions["État du recrutement"] == (session.get_etat_recrutement_display() or None)
