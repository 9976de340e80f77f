"""Journey of an OF entering its offer: a formation, two sessions, a duplicate, a recurring session (entrée sortie
permanente, whole year), a session entirely à distance, then submission; axe on each page."""

import re

import pytest
from playwright.sync_api import expect

from ofeli.offre.models import Etat, Formation, ModalitesEnseignement, Session
from tests.factories import ContactFactory, LieuFactory

pytestmark = pytest.mark.django_db(transaction=True)


def saisir_session(page, *, debut, fin, rythme, lieu="Bourges"):
    page.get_by_role("tab", name="Dispositif et public").click()
    page.get_by_label("Tout public").check()
    page.get_by_role("tab", name="Organisation").click()
    page.get_by_label("Rythme de la formation").fill(rythme)
    if lieu:
        page.get_by_role("tab", name="Lieux et contacts").click()
        page.get_by_label(re.compile(lieu)).check()
    page.get_by_role("tab", name="Dates de la session").click()
    page.get_by_label("Date de début").fill(debut)
    page.get_by_label("Date de fin").fill(fin)


def nouvelle_session(page, axe_check):
    page.get_by_role("link", name="Ajouter une session").click()
    expect(page.get_by_role("heading", name="Nouvelle session")).to_be_visible()
    axe_check(page, context_label="formulaire de session")


def enregistrer_session(page):
    page.get_by_role("button", name="Enregistrer la session").click()
    expect(page.get_by_text("La session est enregistrée.")).to_be_visible()


def test_creer_une_formation_sessions_dupliquee_recurrente_a_distance_soumettre(connecter, axe_check, screenshot):
    contact = ContactFactory(peut_saisir=True)
    LieuFactory(organisme=contact.organisme, ville="Bourges")
    page = connecter(contact.user)

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
    screenshot(page, "formation", tour="of-04-nouvelle-formation")
    page.get_by_role("tab", name="Niveaux et parcours").click()
    page.get_by_label("Niveau d'entrée").select_option(label="Niveau 3 (CAP, BEP)")
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", name="Soudeur TIG en atelier")).to_be_visible()
    expect(page.get_by_text("Date de dernière mise à jour")).to_be_visible()
    axe_check(page, context_label="fiche formation (brouillon)")

    for debut, fin, rythme in (("2027-03-01", "2027-06-30", "Temps plein"), ("2027-09-06", "2027-12-17", "Soirs")):
        nouvelle_session(page, axe_check)
        saisir_session(page, debut=debut, fin=fin, rythme=rythme)
        if rythme == "Soirs":
            screenshot(page, "session", tour="of-05-nouvelle-session")
        enregistrer_session(page)

    lignes = page.locator("table tbody tr")
    expect(lignes).to_have_count(2)
    expect(lignes.first).to_contain_text("01/03/2027")
    expect(lignes.first).to_contain_text("Bourges")

    # Duplicate the first session: everything but the dates is kept.
    lignes.first.get_by_role("link", name=re.compile("^Dupliquer")).click()
    expect(page.get_by_text("Tous les éléments de la session seront repris sauf les dates")).to_be_visible()
    axe_check(page, context_label="duplication")
    page.get_by_label("Date de début").fill("2028-03-06")
    page.get_by_label("Date de fin").fill("2028-06-30")
    screenshot(page, "duplication", tour="of-06-dupliquer-une-session")
    page.get_by_role("button", name="Dupliquer la session").click()

    expect(page.get_by_role("heading", name="Modifier la session")).to_be_visible()
    expect(page.locator(".alert-warning").first).to_contain_text("vérifier les lieux, les places et les contacts")
    axe_check(page, context_label="session dupliquée")
    screenshot(page, "session-dupliquee")
    page.get_by_role("link", name="Soudeur TIG en atelier").first.click()
    expect(page.locator("table tbody tr")).to_have_count(3)

    # A recurring formation (once a week all year): entrée sortie permanente, from 01/01 to 31/12.
    nouvelle_session(page, axe_check)
    saisir_session(page, debut="2027-02-01", fin="2027-12-31", rythme="Le mardi matin")
    page.get_by_role("group", name="Entrée sortie permanente").get_by_label("Oui").check()
    page.get_by_role("button", name="Enregistrer la session").click()
    erreur = page.get_by_text("La date de début doit être le 01/01/2027.")
    expect(erreur).to_be_visible()
    # The message is tied to its field, and the tab holding it is shown.
    assert "erreurs" in (page.get_by_label("Date de début").get_attribute("aria-describedby") or "")
    axe_check(page, context_label="session récurrente en erreur")
    screenshot(page, "recurrente-erreur", tour="of-07-session-recurrente")
    page.get_by_label("Date de début").fill("2027-01-01")
    enregistrer_session(page)

    # A session entirely à distance: no place of training to choose.
    nouvelle_session(page, axe_check)
    saisir_session(page, debut="2027-04-05", fin="2027-05-28", rythme="À votre rythme", lieu=None)
    page.get_by_role("tab", name="Organisation").click()
    page.get_by_label("Formation entièrement à distance").check()
    enregistrer_session(page)

    expect(page.locator("table tbody tr")).to_have_count(5)
    axe_check(page, context_label="fiche formation avec ses sessions")
    screenshot(page, "sessions", tour="of-08-sessions")
    page.get_by_role("button", name="Soumettre à validation").click()
    expect(page.get_by_text("Votre formation est soumise à la validation")).to_be_visible()
    expect(page.get_by_text("En attente de validation").first).to_be_visible()
    axe_check(page, context_label="fiche formation soumise")
    screenshot(page, "formation-soumise", tour="of-09-formation-soumise")

    formation = Formation.objects.get()
    assert formation.etat == Etat.EN_ATTENTE
    assert set(Session.objects.values_list("etat", flat=True)) == {Etat.EN_ATTENTE}
    rythmes = sorted(Session.objects.values_list("action__rythme", flat=True))
    assert rythmes == ["Le mardi matin", "Soirs", "Temps plein", "Temps plein", "À votre rythme"]
    recurrente = Session.objects.get(action__rythme="Le mardi matin")
    assert recurrente.action.entree_sortie_permanente
    assert (recurrente.debut.isoformat(), recurrente.fin.isoformat()) == ("2027-01-01", "2027-12-31")
    distance = Session.objects.get(action__rythme="À votre rythme")
    assert distance.action.modalites_enseignement == ModalitesEnseignement.A_DISTANCE
    assert not distance.action.lieux.exists()
