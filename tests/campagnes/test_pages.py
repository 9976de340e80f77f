"""Every screen of the campaigns renders whole (no undefined variable) for the user it is meant for."""

import pytest
from django.urls import reverse

from ofeli.campagnes import rappels, services
from ofeli.organismes.models import Contact
from tests.factories import UserFactory

from .conftest import ouvrir

pytestmark = pytest.mark.django_db


def test_every_screen_renders_whole(client, monde, staff, django_capture_on_commit_callbacks):
    campagne = ouvrir(staff, capture=django_capture_on_commit_callbacks, message="Bonne campagne")
    cfa = monde["cfa_a"]
    contact = Contact.objects.filter(organisme=cfa).first()
    services.relancer(participation=campagne.participations.get(organisme=cfa), user=staff)
    client.force_login(staff)
    pages = [
        reverse("campagnes:liste"),
        reverse("campagnes:nouvelle"),
        reverse("campagnes:suivi", args=[campagne.pk]),
        reverse("campagnes:suivi_organisme", args=[campagne.pk, cfa.pk]),
        reverse("campagnes:relancer_tous", args=[campagne.pk]),
        reverse("campagnes:cloturer", args=[campagne.pk]),
        reverse("core:aide_sujet", args=["campagne-annuelle"]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "INVALID" not in response.content.decode(), url
    # Staff reaching an OF's campaign page go to the follow-up.
    assert client.get(reverse("campagnes:campagne", args=[campagne.pk]))["Location"] == reverse(
        "campagnes:suivi", args=[campagne.pk]
    )

    with django_capture_on_commit_callbacks(execute=True):
        rappels.envoyer_rappels()
    client.force_login(contact.user)
    for url in [reverse("campagnes:campagne", args=[campagne.pk]), reverse("campagnes:rappels")]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "INVALID" not in response.content.decode(), url


def test_the_reminders_page_has_an_empty_state(client, monde):
    contact = Contact.objects.filter(organisme=monde["lycee"]).first()
    client.force_login(contact.user)
    assert "Aucun rappel pour l'instant" in client.get(reverse("campagnes:rappels")).content.decode().replace(
        "&#x27;", "'"
    )


def test_a_user_without_organisme_is_refused(client, db):
    client.force_login(UserFactory(password=None))
    assert client.get(reverse("campagnes:rappels")).status_code == 403
