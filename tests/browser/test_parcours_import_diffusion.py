"""The équipe offre's back office in Chromium: import a partner's LHEO file (upload, progress, report), validate
the imported formation from the queue, add a partner and launch the night's diffusion from the Diffusion screen;
the partner's LHEO feed is listed, downloads and validates against the XSD."""

import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from ofeli.diffusion.models import DiffusionRun, Partenaire
from ofeli.diffusion.models_imports import ImportRun
from ofeli.lheo.validate import valider_lheo
from tests.browser.conftest import champ, menu
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

# A Région (EOS) file of one formation: a copy of tests/diffusion/data/eos-2.3.xml, kept apart so that this
# journey does not change when the import's own tests change their data.
FICHIER_EOS = Path(__file__).resolve().parent / "data" / "eos-2.3.xml"


@pytest.fixture(autouse=True)
def stockage_prive(settings, tmp_path):
    """Imported files and feeds go to a temporary private storage."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


def test_import_a_file_validate_it_and_run_the_diffusion(connecter, axe_check, screenshot):
    # The partners a migration may have set up stop receiving the feed: this journey adds its own.
    Partenaire.objects.update(actif=False)
    equipe = connecter(UserFactory(staff=True))

    # 1. Import: a file that is not LHEO is refused with a message tied to the field.
    equipe.goto("/")
    menu(equipe, "Imports").click()
    expect(equipe.get_by_role("heading", name="Imports de l'offre")).to_be_visible()
    axe_check(equipe, context_label="imports")
    champ(equipe, "Fichier LHEO (XML) ou Excel (.xlsx)").set_input_files(
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"pas du XML"}
    )
    champ(equipe, "Source").select_option(label=ImportRun.Source.EOS.label)
    equipe.get_by_role("button", name="Lancer l'import").click()
    expect(equipe.get_by_text("Ce fichier n'est ni un fichier XML ni un classeur Excel")).to_be_visible()
    axe_check(equipe, context_label="import refusé")

    champ(equipe, "Fichier LHEO (XML) ou Excel (.xlsx)").set_input_files(str(FICHIER_EOS))
    champ(equipe, "Source").select_option(label=ImportRun.Source.EOS.label)
    screenshot(equipe, "import-formulaire", tour="equipe-04-import")
    equipe.get_by_role("button", name="Lancer l'import").click()
    expect(equipe.get_by_text("L'import est lancé : suivez sa progression ci-dessous.")).to_be_visible()
    # The report: its state and its figures (the background job ran as soon as the upload was saved).
    progression = equipe.locator("#import-progression")
    expect(progression).to_contain_text("Terminé")
    expect(progression.get_by_role("definition").nth(1)).to_have_text("1")  # Créées
    expect(equipe.get_by_text("Aucun enregistrement rejeté.")).to_be_visible()
    axe_check(equipe, context_label="rapport d'import")
    screenshot(equipe, "import-rapport", tour="equipe-05-rapport-import")
    run = ImportRun.objects.get()
    assert (run.statut, run.crees, run.rejetees) == (ImportRun.Statut.TERMINE, 1, 0)

    # 2. The imported formation waits in the validation queue; the équipe offre validates it.
    menu(equipe, "Validation").click()
    equipe.get_by_role("link", name="Soudeur TIG").click()
    equipe.get_by_role("button", name="Valider", exact=True).click()
    expect(equipe.get_by_text("validée : numéro Carif")).to_be_visible()

    # 3. A partner receives the offer each night.
    menu(equipe, "Partenaires").click()
    expect(equipe.get_by_role("heading", name="Partenaires de la diffusion")).to_be_visible()
    axe_check(equipe, context_label="partenaires")
    champ(equipe, "Nom").fill("Portail emploi du Cher")
    champ(equipe, "Identifiant").fill("portail-emploi-cher")
    champ(equipe, "Type").select_option(label="Site internet régional")
    champ(equipe, "Offre transmise").select_option(label="Toute l'offre validée")
    equipe.get_by_role("button", name="Ajouter").click()
    expect(equipe.get_by_text("Partenaire « Portail emploi du Cher » créé.")).to_be_visible()

    # 4. The night's diffusion, launched now from the Diffusion screen.
    menu(equipe, "Diffusion").click()
    expect(equipe.get_by_role("heading", name="Flux de diffusion vers les partenaires")).to_be_visible()
    expect(equipe.get_by_text("Aucun flux pour le moment.")).to_be_visible()
    axe_check(equipe, context_label="diffusion (vide)")
    equipe.get_by_role("button", name="Lancer la diffusion de la nuit maintenant").click()
    expect(equipe.get_by_text("Diffusion de la nuit lancée en arrière-plan pour 1 partenaire :")).to_be_visible()
    ligne = equipe.get_by_role("row", name="Portail emploi du Cher").first
    expect(ligne).to_be_visible()
    axe_check(equipe, context_label="diffusion lancée")
    screenshot(equipe, "diffusion", tour="equipe-06-diffusion")
    run = DiffusionRun.objects.filter(statut=DiffusionRun.Statut.REUSSI).first()
    assert run is not None and run.nb_formations == 1
    with equipe.expect_download() as download:
        ligne.get_by_role("link", name="Télécharger").click()
    contenu = Path(download.value.path()).read_bytes()
    assert valider_lheo(io.BytesIO(contenu)) == []
    assert b"Soudeur TIG" in contenu
