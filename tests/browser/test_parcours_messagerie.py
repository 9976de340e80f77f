"""The messagerie in Chromium: an OF contact writes to the équipe offre with a PDF attached, the équipe offre
sees the thread as unread, opens the attachment link and answers; the contact's dashboard badge shows the answer,
which the contact reads. axe-core checks each screen's content."""

import pytest
from playwright.sync_api import expect

from tests.factories import ContactFactory, FormationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def test_of_writes_with_attachment_staff_answers_badge_shows_it(connecter, settings, tmp_path, axe_check, screenshot):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    contact = ContactFactory(lecteur=True)
    FormationFactory(organisme=contact.organisme, intitule="Cariste CACES R489")
    staff = UserFactory(staff=True)
    of = connecter(contact.user)
    equipe = connecter(staff)

    of.goto("/messagerie/nouveau/")
    axe_check(of, context_label="nouveau message")
    of.get_by_label("À propos de la formation").select_option(label="Cariste CACES R489")
    of.get_by_label("Sujet").fill("Dates de la prochaine session")
    of.get_by_label("Votre message").fill("Voici le planning de la session.")
    of.get_by_label("Pièces jointes").set_input_files(
        {"name": "planning.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    screenshot(of, "nouveau-message", tour="of-12-messagerie")
    of.get_by_role("button", name="Envoyer").click()
    expect(of.get_by_text("Votre message a été envoyé.")).to_be_visible()

    # The équipe offre's menu counts the unread thread; the list filters the unread ones.
    equipe.goto("/")
    expect(equipe.get_by_role("link", name="Messagerie 1 non lu")).to_be_visible()
    equipe.goto("/messagerie/?non_lus=on")
    axe_check(equipe, context_label="liste des fils (équipe)")
    equipe.get_by_role("link", name="Dates de la prochaine session").click()
    assert equipe.get_by_role("link", name="planning.pdf").is_visible()
    with equipe.expect_download() as download:
        equipe.get_by_role("link", name="planning.pdf").click()
    assert download.value.suggested_filename == "planning.pdf"
    equipe.get_by_label("Votre message").fill("Merci, c'est noté.")
    screenshot(equipe, "fil-equipe", tour="equipe-07-messagerie")
    equipe.get_by_role("button", name="Envoyer").click()
    axe_check(equipe, context_label="fil (équipe)")

    of.goto("/tableau-de-bord/")
    assert of.locator("#badge-notifications").inner_text().startswith("1")
    screenshot(of, "tableau-de-bord-badge")
    axe_check(of, context_label="tableau de bord")
    of.goto("/messagerie/")
    of.get_by_role("link", name="Dates de la prochaine session").click()
    expect(of.get_by_text("Merci, c'est noté.")).to_be_visible()
    axe_check(of, context_label="fil (organisme)")
    of.goto("/tableau-de-bord/")
    assert of.locator("#badge-notifications").inner_text().startswith("0")
