"""The validation journey in Chromium: an OF submits, the équipe offre asks for a complement, the OF answers in
the messagerie and sends its entry back ("J'ai effectué les corrections"), the équipe offre validates; the OF's
dashboard counter "Formations diffusées" goes up by one and the session's Carif number shows in its session list.
"""

import re

import pytest
from django.test import Client

from ofeli.offre.models import Etat
from ofeli.validation.models import Publication
from tests.browser.conftest import run_axe
from tests.factories import ContactFactory, FormationFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def connecter(browser, live_server):
    """Opens a browser context logged in as a user (session cookie made by the test client); closed after the test."""
    contexts = []

    def connect(user):
        client = Client()
        client.force_login(user)
        # bypass_csp: axe-core is injected as an inline script, which the site's CSP (rightly) forbids.
        context = browser.new_context(
            base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}, bypass_csp=True
        )
        contexts.append(context)
        context.set_default_timeout(15_000)
        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
        return context.new_page()

    yield connect
    for context in contexts:
        context.close()


def _axe_contenu(page, label):
    run_axe(page, label)


def _compteur(page, libelle):
    ligne = page.locator("#compteurs tr", has=page.get_by_role("rowheader", name=libelle, exact=True))
    return int(ligne.locator("td").inner_text().strip())


def test_submit_complement_answer_validate(connecter, settings, screenshot):
    settings.ALLOWED_HOSTS = ["*"]
    contact = ContactFactory(peut_saisir=True)
    organisme = contact.organisme
    deja = SessionFactory(action__formation=FormationFactory(organisme=organisme, soumise=True)).action.formation
    formation = FormationFactory(organisme=organisme, intitule="Soudure à l'arc — parcours complet")
    SessionFactory(action__formation=formation)
    staff = UserFactory(staff=True)

    of = connecter(contact.user)
    equipe = connecter(staff)

    # The équipe offre validates another formation first: the counter starts at 1, not 0.
    equipe.goto(f"/validation/formations/{deja.pk}/")
    equipe.get_by_role("button", name="Valider", exact=True).click()
    of.goto("/tableau-de-bord/")
    avant = _compteur(of, "Formations diffusées")
    assert avant == 1

    # 1. The OF submits its formation.
    of.goto(f"/offre/formations/{formation.pk}/")
    of.get_by_role("button", name="Soumettre à validation").click()
    assert of.get_by_text("En attente de validation").first.is_visible()

    # 2. The équipe offre finds it in the queue and asks for a complement.
    equipe.goto("/validation/")
    _axe_contenu(equipe, "file de validation")
    screenshot(equipe, "file")
    equipe.get_by_role("link", name=formation.intitule).click()
    _axe_contenu(equipe, "page de validation")
    equipe.get_by_label("Message à l'organisme").fill("Précisez les prérequis d'entrée, s'il vous plaît.")
    equipe.get_by_role("button", name="Demander un complément").click()
    assert equipe.get_by_text("Demande de complément d'information envoyée").is_visible()
    screenshot(equipe, "complement-demande")

    # 3. The OF reads the message in its messagerie, answers, and sends its entry back.
    of.goto("/messagerie/")
    of.get_by_role("link", name=re.compile(re.escape(formation.intitule))).first.click()
    assert of.get_by_text("Précisez les prérequis d'entrée").is_visible()
    assert of.get_by_role("link", name="Aller à l'élément à corriger").is_visible()
    of.get_by_label("Votre message").fill("C'est fait : les prérequis sont indiqués.")
    of.get_by_role("button", name="Envoyer").click()
    assert of.get_by_text("C'est fait : les prérequis sont indiqués.").is_visible()
    of.goto(f"/validation/suivi/{formation.pk}/")
    _axe_contenu(of, "suivi de la validation")
    of.get_by_label("J'ai effectué les corrections").check()
    of.get_by_role("button", name="Renvoyer à la validation").click()
    assert of.get_by_text("votre saisie est renvoyée à l'équipe offre").is_visible()
    formation.refresh_from_db()
    assert formation.etat == Etat.EN_ATTENTE

    # 4. The équipe offre validates.
    equipe.goto(f"/validation/formations/{formation.pk}/")
    equipe.get_by_role("button", name="Valider", exact=True).click()
    assert equipe.get_by_text("validée : numéro Carif").is_visible()
    screenshot(equipe, "validee")

    # 5. The OF's counter goes up by one; the session's Carif number shows in its list.
    of.goto("/tableau-de-bord/")
    assert _compteur(of, "Formations diffusées") == avant + 1
    numero = formation.actions.get().sessions.get().numero
    assert re.fullmatch(r"\d+S", numero)
    of.goto(f"/offre/formations/{formation.pk}/")
    assert of.get_by_role("link", name=numero).is_visible()
    screenshot(of, "numero-session")
    assert Publication.objects.courantes().filter(formation=formation).count() == 1
