"""The messagerie in Chromium: an OF contact writes to the équipe offre with a PDF attached, the équipe offre
sees the thread as unread, opens the attachment link and answers; the contact's dashboard badge shows the answer,
which the contact reads. axe-core checks each screen's content."""

import pytest
from django.test import Client

from tests.browser.conftest import run_axe
from tests.factories import ContactFactory, FormationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def _connecter(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return context.new_page()


def _axe(page, label):
    run_axe(page, label)


def test_of_writes_with_attachment_staff_answers_badge_shows_it(browser, live_server, settings, tmp_path, screenshot):
    settings.ALLOWED_HOSTS = ["*"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    contact = ContactFactory(lecteur=True)
    FormationFactory(organisme=contact.organisme, intitule="Cariste CACES R489")
    staff = UserFactory(staff=True)
    of = _connecter(browser, live_server, contact.user)
    equipe = _connecter(browser, live_server, staff)

    of.goto("/messagerie/nouveau/")
    _axe(of, "nouveau message")
    of.get_by_label("À propos de la formation").select_option(label="Cariste CACES R489")
    of.get_by_label("Sujet").fill("Dates de la prochaine session")
    of.get_by_label("Votre message").fill("Voici le planning de la session.")
    of.get_by_label("Pièces jointes").set_input_files(
        {"name": "planning.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    of.get_by_role("button", name="Envoyer").click()
    assert of.get_by_text("Votre message a été envoyé.").is_visible()

    equipe.goto("/messagerie/?non_lus=on")
    _axe(equipe, "liste des fils (équipe)")
    equipe.get_by_role("link", name="Dates de la prochaine session").click()
    assert equipe.get_by_role("link", name="planning.pdf").is_visible()
    with equipe.expect_download() as download:
        equipe.get_by_role("link", name="planning.pdf").click()
    assert download.value.suggested_filename == "planning.pdf"
    equipe.get_by_label("Votre message").fill("Merci, c'est noté.")
    equipe.get_by_role("button", name="Envoyer").click()
    _axe(equipe, "fil (équipe)")

    of.goto("/tableau-de-bord/")
    assert of.locator("#badge-notifications").inner_text().startswith("1")
    screenshot(of, "tableau-de-bord-badge")
    _axe(of, "tableau de bord")
    of.goto("/messagerie/")
    of.get_by_role("link", name="Dates de la prochaine session").click()
    assert of.get_by_text("Merci, c'est noté.").is_visible()
    of.goto("/tableau-de-bord/")
    assert of.locator("#badge-notifications").inner_text().startswith("0")
