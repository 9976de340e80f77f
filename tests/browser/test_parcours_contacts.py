"""Journey of the fiche organisme and its contacts: a manager edits the fiche, invites a contact with the right
to enter the offer and a "consulter" contact, who activates their account and cannot edit."""

import re
from urllib.parse import urlparse

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from ofeli.organismes.models import Contact
from tests.browser.conftest import champ, menu
from tests.factories import CommuneFactory, ContactFactory, OrganismeFactory

pytestmark = pytest.mark.django_db(transaction=True)

MOT_DE_PASSE_GESTIONNAIRE = "Mot-de-passe-1"
MOT_DE_PASSE_NOUVEAU = "Lecture-Seule-2026!"


def se_connecter(page, email, mot_de_passe):
    page.goto(reverse("accounts:login"))
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(mot_de_passe)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def inviter(page, *, prenom, nom, email, fonction, droits=()):
    page.get_by_role("link", name="Ajouter un contact").click()
    expect(page.get_by_role("heading", name="Ajouter un contact")).to_be_visible()
    page.get_by_label("Prénom").fill(prenom)
    champ(page, "Nom").fill(nom)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Fonction").fill(fonction)
    for droit in droits:
        page.get_by_label(droit).check()


def test_manager_edits_the_fiche_invites_contacts_and_a_consulter_cannot_edit(page, axe_check, screenshot):
    CommuneFactory()  # the organisme's commune, Orléans, in the communes referentiel
    organisme = OrganismeFactory(raison_sociale="Atelier des Métiers")
    ContactFactory(organisme=organisme, gestionnaire=True, user__email="gestionnaire@atelier.fr")

    # The manager edits the fiche organisme.
    se_connecter(page, "gestionnaire@atelier.fr", MOT_DE_PASSE_GESTIONNAIRE)
    menu(page, "Organisme").click()
    expect(page.get_by_role("heading", name="Atelier des Métiers")).to_be_visible()
    axe_check(page, context_label="fiche organisme")
    screenshot(page, "fiche", tour="of-02-fiche-organisme")
    page.get_by_role("link", name="Modifier la fiche").click()
    axe_check(page, context_label="modifier la fiche")
    page.get_by_label("Téléphone").fill("02 48 00 11 22")
    page.get_by_label("Site internet").fill("https://atelier-des-metiers.example.fr")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("La fiche de l'organisme est enregistrée.")).to_be_visible()
    expect(page.get_by_text("02 48 00 11 22").first).to_be_visible()
    axe_check(page, context_label="fiche enregistrée")
    organisme.refresh_from_db()
    assert organisme.site_web == "https://atelier-des-metiers.example.fr"

    # A colleague who will enter the offer: the right "Saisir l'offre".
    menu(page, "Contacts").click()
    axe_check(page, context_label="contacts")
    inviter(
        page,
        prenom="Marc",
        nom="Saisie",
        email="marc.saisie@atelier.fr",
        fonction="Assistant",
        droits=["Saisir l'offre"],
    )
    page.get_by_label(re.compile("La personne a été informée")).check()
    page.get_by_role("button", name="Ajouter le contact et envoyer l'invitation").click()
    page.wait_for_url(f"**{reverse('organismes:contacts')}")
    ligne = page.get_by_role("row", name=re.compile("marc.saisie@atelier.fr"))
    assert "Saisir l'offre" in ligne.inner_text()
    assert "Invitation envoyée" in ligne.inner_text()
    contact = Contact.objects.get(user__email="marc.saisie@atelier.fr")
    assert (contact.peut_gerer, contact.peut_saisir) == (False, True)

    # Another one with the "consulter" right only.
    inviter(page, prenom="Léa", nom="Lectrice", email="lea.lectrice@atelier.fr", fonction="Chargée d'accueil")
    axe_check(page, context_label="formulaire d'invitation")
    # Without the consent, the invitation is refused with a message tied to the box.
    page.get_by_role("button", name="Ajouter le contact et envoyer l'invitation").click()
    assert page.get_by_text("Cochez cette case").is_visible()
    axe_check(page, context_label="formulaire d'invitation en erreur")
    page.locator("#id_consentement").check()
    page.get_by_role("button", name="Ajouter le contact et envoyer l'invitation").click()
    page.wait_for_url(f"**{reverse('organismes:contacts')}")
    assert page.get_by_role("cell", name="lea.lectrice@atelier.fr").is_visible()
    screenshot(page, "contacts-apres-invitation", tour="of-03-contacts")
    axe_check(page)
    contact = Contact.objects.get(user__email="lea.lectrice@atelier.fr")
    assert (contact.peut_gerer, contact.peut_saisir) == (False, False)
    page.get_by_role("button", name="Se déconnecter").click()

    # The new contact opens the activation link of the e-mail and chooses a password.
    invitation = next(m for m in mail.outbox if m.to == ["lea.lectrice@atelier.fr"])
    lien = re.search(r"https?://\S+/compte/activation/\S+", invitation.body).group(0)
    page.goto(urlparse(lien).path)
    assert page.get_by_role("heading", name="Activer mon compte").is_visible()
    axe_check(page)
    page.locator("#id_new_password1").fill(MOT_DE_PASSE_NOUVEAU)
    page.locator("#id_new_password2").fill(MOT_DE_PASSE_NOUVEAU)
    page.get_by_role("button", name="Activer mon compte").click()
    page.wait_for_url(f"**{reverse('accounts:login')}")

    # Logged in, the contact reads the fiche and the contacts, with no button to change anything.
    se_connecter(page, "lea.lectrice@atelier.fr", MOT_DE_PASSE_NOUVEAU)
    page.goto(reverse("organismes:fiche"))
    assert page.get_by_role("heading", name="Atelier des Métiers").is_visible()
    assert page.get_by_role("link", name="Modifier la fiche").count() == 0
    screenshot(page, "fiche-en-consultation")
    axe_check(page)
    page.goto(reverse("organismes:contacts"))
    assert page.get_by_role("link", name="Ajouter un contact").count() == 0
    assert page.get_by_role("link", name=re.compile("Modifier les droits")).count() == 0
    axe_check(page)
    page.goto(reverse("organismes:lieux"))
    assert page.get_by_role("link", name="Ajouter un lieu de formation").count() == 0
    axe_check(page)
    # Typing the edit URL does not help: the server refuses.
    response = page.goto(reverse("organismes:fiche_modifier"))
    assert response.status == 403
    response = page.goto(reverse("organismes:contact_inviter"))
    assert response.status == 403


def test_a_contact_of_two_organismes_switches_from_the_header(page, axe_check, screenshot):
    premier = OrganismeFactory(raison_sociale="Alpha Formation")
    second = OrganismeFactory(raison_sociale="Beta Compétences")
    contact = ContactFactory(organisme=premier, gestionnaire=True, user__email="multi@groupe.fr")
    ContactFactory(organisme=second, user=contact.user, lecteur=True)

    se_connecter(page, "multi@groupe.fr", MOT_DE_PASSE_GESTIONNAIRE)
    page.goto(reverse("organismes:fiche"))
    assert page.get_by_role("heading", name="Alpha Formation").is_visible()
    assert page.get_by_role("link", name="Modifier la fiche").is_visible()
    axe_check(page)
    page.get_by_label("Organisme", exact=True).select_option(label="Beta Compétences")
    page.get_by_role("button", name="Changer d'organisme").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Beta Compétences").is_visible()
    # Rights are per organisme: only "consulter" here.
    assert page.get_by_role("link", name="Modifier la fiche").count() == 0
    screenshot(page, "apres-changement-organisme")
    axe_check(page)
