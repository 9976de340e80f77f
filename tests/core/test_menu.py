import pytest
from django.urls import reverse

from ofeli.messagerie.services import fil_creer
from tests.factories import ContactFactory, UserFactory


@pytest.mark.django_db
def test_of_menu_shows_the_guide_entries_and_the_unread_badge(client):
    contact = ContactFactory()
    staff = UserFactory(staff=True)
    fil_creer(
        organisme=contact.organisme, auteur=staff, sujet="Votre formation", texte="Pouvez-vous préciser le prix ?"
    )
    client.force_login(contact.user)
    html = client.get(reverse("core:tableau_de_bord")).content.decode()
    for label in ["Tableau de bord", "Organisme", "Contacts", "Formations", "Messagerie", "Aide"]:
        assert f">{label}" in html
    assert '1<span class="visually-hidden"> non lu</span>' in html


@pytest.mark.django_db
def test_staff_menu_is_the_equipe_offre_one(client):
    client.force_login(UserFactory(staff=True))
    html = client.get(reverse("core:staff_home")).content.decode()
    for label in ["Demandes de compte", "Validation", "Organismes", "Formations", "Messagerie"]:
        assert f">{label}" in html
    assert ">Tableau de bord<" not in html


@pytest.mark.django_db
def test_the_active_entry_is_the_most_specific_one(client):
    from tests.factories import FormationFactory

    contact = ContactFactory()
    client.force_login(contact.user)
    html = client.get(reverse("organismes:contacts")).content.decode()
    assert f'href="{reverse("organismes:contacts")}" aria-current="page"' in html
    assert f'href="{reverse("organismes:fiche")}" aria-current="page"' not in html

    formation = FormationFactory(organisme=contact.organisme)
    html = client.get(reverse("offre:formation_detail", args=[formation.pk])).content.decode()
    assert f'href="{reverse("recherche:formations")}" aria-current="page"' in html


@pytest.mark.django_db
def test_entries_for_entering_the_offer_are_shown_only_to_contacts_who_may_enter_it(client):
    saisie = ContactFactory(peut_saisir=True)
    lecture = ContactFactory(organisme=saisie.organisme, peut_saisir=False, peut_gerer=False)
    entree = f'href="{reverse("tableur:accueil")}"'
    client.force_login(saisie.user)
    assert entree in client.get(reverse("core:tableau_de_bord")).content.decode()
    client.force_login(lecture.user)
    assert entree not in client.get(reverse("core:tableau_de_bord")).content.decode()
    client.force_login(UserFactory(staff=True))
    assert entree not in client.get(reverse("core:staff_home")).content.decode()
