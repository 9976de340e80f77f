"""Search and both exports in Chromium: an OF contact searches its formations, exports the result in Excel and in
LHEO (the files are checked: openpyxl opens the workbook, the LHEO file validates against the XSD), then exports
all its formations from the Exports page, prepared in the background above the size of a direct download."""

import datetime
import io

import openpyxl
import pytest
from playwright.sync_api import expect

from ofeli.lheo.validate import valider_lheo
from ofeli.recherche.index import indexer_formation
from tests.browser.conftest import menu
from tests.factories import ContactFactory, FormationFactory, LieuFactory, SessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def stockage_prive(settings, tmp_path):
    """Prepared export files go to a temporary private storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


def telecharger(page, lien):
    with page.expect_download() as download:
        lien.click()
    return download.value.suggested_filename, open(download.value.path(), "rb").read()


def test_search_then_export_the_result_in_excel_and_lheo_and_everything_in_the_background(
    connecter, settings, axe_check, screenshot
):
    contact = ContactFactory(peut_saisir=True)
    lieu = LieuFactory(organisme=contact.organisme, ville="Orléans")
    debut = datetime.date(2027, 3, 1)
    for intitule in ("Soudure à l'arc", "Électricité du bâtiment", "Anglais professionnel"):
        formation = FormationFactory(organisme=contact.organisme, intitule=intitule)
        session = SessionFactory(action__formation=formation, debut=debut, fin=debut + datetime.timedelta(days=60))
        session.action.lieux.add(lieu)
        indexer_formation(formation.pk)
    page = connecter(contact.user)

    # Search by keyword from the menu.
    page.goto("/tableau-de-bord/")
    menu(page, "Formations").click()
    expect(page.get_by_role("heading", name="Rechercher une formation")).to_be_visible()
    page.get_by_label("Mots-clés").fill("soudures")
    page.get_by_role("button", name="Rechercher").first.click()
    page.wait_for_url("**/recherche/formations/?q=soudures*")
    expect(page.get_by_role("heading", name="1 formation")).to_be_visible()
    expect(page.get_by_role("link", name="Soudure à l'arc")).to_be_visible()
    axe_check(page, context_label="résultats")
    screenshot(page, "resultats", tour="of-10-recherche")

    # The result in Excel: a workbook openpyxl opens, with that formation only.
    nom, contenu = telecharger(page, page.get_by_role("link", name="Exporter ce résultat (Excel)"))
    assert nom.endswith(".xlsx")
    classeur = openpyxl.load_workbook(io.BytesIO(contenu), read_only=True)
    lignes = list(classeur["Formations"].iter_rows(min_row=2, values_only=True))
    assert len(lignes) == 1 and "Soudure à l'arc" in lignes[0]

    # The same result in LHEO: valid against the XSD.
    nom, contenu = telecharger(page, page.get_by_role("link", name="Exporter ce résultat (LHEO)"))
    assert nom.endswith(".xml")
    assert valider_lheo(io.BytesIO(contenu)) == []
    assert contenu.count(b"<intitule-formation>") == 1

    # A wrong criterion gets a French message tied to its field.
    page.get_by_text("Plus de critères").click()
    page.get_by_label("Formacode").fill("00000")
    page.get_by_role("button", name="Rechercher").last.click()
    expect(page.get_by_text("Formacode inconnu : 00000.")).to_be_visible()
    axe_check(page, context_label="critères en erreur")

    # Every formation from the Exports page: above the direct-download size, prepared in the background.
    settings.OFELI_EXPORT_SYNC_MAX = 2
    menu(page, "Exports").click()
    expect(page.get_by_role("heading", name="Exporter mes formations")).to_be_visible()
    axe_check(page, context_label="exports")
    page.get_by_label("LHEO").check()
    page.get_by_role("button", name="Exporter").click()
    expect(page.get_by_role("heading", name="Préparer un export LHEO")).to_be_visible()
    expect(page.get_by_text("3 formations")).to_be_visible()
    axe_check(page, context_label="préparer un export")
    page.get_by_role("button", name="Préparer l'export").click()
    expect(page.get_by_text("Votre export est en préparation")).to_be_visible()
    expect(page.get_by_text("3 formations, 3 actions, 3 sessions exportées")).to_be_visible()
    axe_check(page, context_label="export préparé")
    screenshot(page, "export-pret", tour="of-11-export")
    nom, contenu = telecharger(page, page.get_by_role("link", name="Télécharger le fichier"))
    assert valider_lheo(io.BytesIO(contenu)) == []
    assert contenu.count(b"<intitule-formation>") == 3
