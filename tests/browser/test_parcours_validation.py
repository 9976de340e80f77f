"""The validation journey in Chromium: an OF submits, the équipe offre asks for a complement, the OF answers in
the messagerie and sends its entry back ("J'ai effectué les corrections"), the équipe offre validates; the OF's
dashboard counter "Formations diffusées" goes up by one and the session's Carif number shows in its session list.
"""

import re

import pytest
from playwright.sync_api import expect

from ofeli.offre.models import Etat
from ofeli.validation.models import Publication
from tests.factories import ContactFactory, FormationFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _compteur(page, libelle):
    ligne = page.locator("#compteurs tr", has=page.get_by_role("rowheader", name=libelle, exact=True))
    return int(ligne.locator("td").inner_text().strip())


def test_submit_complement_answer_validate(connecter, axe_check, screenshot):
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
    expect(equipe.get_by_text("validée : numéro Carif")).to_be_visible()
    of.goto("/tableau-de-bord/")
    avant = _compteur(of, "Formations diffusées")
    assert avant == 1

    # 1. The OF submits its formation.
    of.goto(f"/offre/formations/{formation.pk}/")
    of.get_by_role("button", name="Soumettre à validation").click()
    expect(of.get_by_text("En attente de validation").first).to_be_visible()
    axe_check(of, context_label="formation soumise")

    # 2. The équipe offre finds it in the queue and asks for a complement.
    equipe.goto("/validation/")
    axe_check(equipe, context_label="file de validation")
    screenshot(equipe, "file", tour="equipe-02-file-de-validation")
    equipe.get_by_role("link", name=formation.intitule).click()
    axe_check(equipe, context_label="page de validation")
    equipe.get_by_label("Message à l'organisme").fill("Précisez les prérequis d'entrée, s'il vous plaît.")
    screenshot(equipe, "validation", tour="equipe-03-validation")
    equipe.get_by_role("button", name="Demander un complément").click()
    expect(equipe.get_by_text("Demande de complément d'information envoyée")).to_be_visible()
    axe_check(equipe, context_label="complément demandé")
    screenshot(equipe, "complement-demande")

    # 3. The OF reads the message in its messagerie, answers, and sends its entry back.
    of.goto("/messagerie/")
    of.get_by_role("link", name=re.compile(re.escape(formation.intitule))).first.click()
    expect(of.get_by_text("Précisez les prérequis d'entrée")).to_be_visible()
    expect(of.get_by_role("link", name="Aller à l'élément à corriger")).to_be_visible()
    axe_check(of, context_label="demande de complément dans la messagerie")
    of.get_by_label("Votre message").fill("C'est fait : les prérequis sont indiqués.")
    of.get_by_role("button", name="Envoyer").click()
    expect(of.get_by_text("C'est fait : les prérequis sont indiqués.")).to_be_visible()
    of.goto(f"/validation/suivi/{formation.pk}/")
    axe_check(of, context_label="suivi de la validation")
    of.get_by_label("J'ai effectué les corrections").check()
    screenshot(of, "corrections", tour="of-13-corrections")
    of.get_by_role("button", name="Renvoyer à la validation").click()
    expect(of.get_by_text("votre saisie est renvoyée à l'équipe offre")).to_be_visible()
    formation.refresh_from_db()
    assert formation.etat == Etat.EN_ATTENTE

    # 4. The équipe offre validates.
    equipe.goto(f"/validation/formations/{formation.pk}/")
    equipe.get_by_role("button", name="Valider", exact=True).click()
    expect(equipe.get_by_text("validée : numéro Carif")).to_be_visible()
    axe_check(equipe, context_label="formation validée")
    screenshot(equipe, "validee")

    # 5. The OF's counter goes up by one; the session's Carif number shows in its list.
    of.goto("/tableau-de-bord/")
    assert _compteur(of, "Formations diffusées") == avant + 1
    axe_check(of, context_label="tableau de bord")
    numero = formation.actions.get().sessions.get().numero
    assert re.fullmatch(r"\d+S", numero)
    of.goto(f"/offre/formations/{formation.pk}/")
    expect(of.get_by_role("link", name=numero)).to_be_visible()
    axe_check(of, context_label="formation validée, numéros Carif")
    screenshot(of, "numero-session")
    assert Publication.objects.courantes().filter(formation=formation).count() == 1
