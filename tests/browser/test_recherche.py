import pytest
from django.conf import settings
from django.test import Client

from ofeli.recherche.index import indexer_formation
from tests.factories import ActionFactory, FormationFactory, OrganismeFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _connecter(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )


def test_search_page_in_chromium_without_accessibility_violation(page, live_server, axe_check, screenshot):
    organisme = OrganismeFactory(raison_sociale="Atelier du Berry")
    for intitule in ("Soudure à l'arc", "Électricité du bâtiment", "Anglais professionnel"):
        formation = FormationFactory(organisme=organisme, intitule=intitule)
        ActionFactory(formation=formation)
        indexer_formation(formation.pk)
    _connecter(page, live_server, UserFactory(staff=True))

    page.goto("/")
    page.get_by_role("link", name="Formations").click()
    assert page.get_by_role("heading", name="Rechercher une formation").is_visible()
    page.get_by_label("Mots-clés").fill("soudures")
    page.get_by_role("button", name="Rechercher").first.click()
    page.wait_for_url("**/recherche/formations/?q=soudures*")
    assert page.get_by_role("heading", name="1 formation").is_visible()
    assert page.get_by_role("link", name="Soudure à l'arc").is_visible()
    axe_check(page, context_label="résultats")

    page.get_by_text("Plus de critères").click()
    page.get_by_label("Formacode").fill("00000")
    page.get_by_role("button", name="Rechercher").last.click()
    assert page.get_by_text("Formacode inconnu : 00000.").is_visible()
    screenshot(page, "recherche-erreur")
    axe_check(page, context_label="critères en erreur")
