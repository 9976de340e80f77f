"""Réinitialiser mon mot de passe (also how a preloaded contact activates their account), and the
password change of a logged-in user."""

import re
import time

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from ofeli.accounts.models import CleActivation
from ofeli.accounts.services import cle_activation_envoyer
from tests.factories import ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

RESET = reverse("accounts:password_reset")
NOUVEAU = "Nouveau-mot-de-passe-2026"


def demander(client, email, capture):
    with capture(execute=True):
        return client.post(RESET, {"email": email})


def lien(message):
    match = re.search(r"https?://[^/\s]+(/compte/mot-de-passe/reinitialiser/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def choisir(client, url, password=NOUVEAU, password2=None):
    """Follows the e-mailed link as a browser does (Django swaps the token for a session marker)."""
    response = client.get(url)
    if response.status_code != 302:
        return response
    return client.post(response["Location"], {"new_password1": password, "new_password2": password2 or password})


def test_reset_page_is_french(client):
    html = client.get(RESET).content.decode()
    assert "Réinitialiser mon mot de passe" in html
    assert "activez" in html or "activez votre compte" in html or "activer" in html


def test_known_and_unknown_addresses_get_the_same_answer(client, gestionnaire, django_capture_on_commit_callbacks):
    known = demander(client, gestionnaire.user.email, django_capture_on_commit_callbacks)
    unknown = demander(client, "personne@nulle-part.fr", django_capture_on_commit_callbacks)
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    done = client.get(reverse("accounts:password_reset_done")).content.decode()
    assert "Si un compte OFeli correspond à cette adresse" in done


def test_full_reset_flow_single_use(client, gestionnaire, django_capture_on_commit_callbacks):
    user = gestionnaire.user
    demander(client, user.email.upper(), django_capture_on_commit_callbacks)
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "Réinitialisation de votre mot de passe" in message.subject
    assert "valable 24 heures" in message.body
    url = lien(message)
    form_page = client.get(client.get(url)["Location"])
    html = form_page.content.decode()
    assert "Choisir un nouveau mot de passe" in html
    assert 'data-password-rules="regles-mdp"' in html
    response = choisir(client, url)
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_complete")
    user.refresh_from_db()
    assert user.check_password(NOUVEAU)
    # Single use.
    again = client.get(url)
    assert again.status_code == 200
    assert "Ce lien ne fonctionne plus" in again.content.decode()


def test_reset_link_expires_after_24_hours(client, gestionnaire, django_capture_on_commit_callbacks):
    demander(client, gestionnaire.user.email, django_capture_on_commit_callbacks)
    url = lien(mail.outbox[0])
    # Travel by timestamp: Django's reset tokens use the naive local time, which an aware
    # destination would shift by the time zone offset.
    with time_machine.travel(time.time() + 24 * 3600 + 60):
        response = choisir(client, url)
    assert "Ce lien ne fonctionne plus" in response.content.decode()
    gestionnaire.user.refresh_from_db()
    assert not gestionnaire.user.check_password(NOUVEAU)
    with time_machine.travel(time.time() + 23 * 3600):
        response = choisir(client, url)
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Court-1", "au moins 8 caractères"),
        ("minuscules-seulement-1", "une lettre majuscule"),
        ("SansCaractereSpecial1", "un caractère spécial"),
        ("MAJUSCULES-SEULEMENT", "une lettre minuscule ou un chiffre"),
        ("P@ssw0rd", "trop courant"),
    ],
)
def test_reset_enforces_the_policy(client, gestionnaire, django_capture_on_commit_callbacks, password, message):
    demander(client, gestionnaire.user.email, django_capture_on_commit_callbacks)
    response = choisir(client, lien(mail.outbox[0]), password)
    assert response.status_code == 200
    assert message in response.content.decode()
    gestionnaire.user.refresh_from_db()
    assert gestionnaire.user.check_password("Mot-de-passe-1")


def test_preloaded_contact_without_password_activates_through_reset(client, django_capture_on_commit_callbacks):
    """The guide: "activez votre compte en cliquant sur Réinitialiser mon mot de passe"."""
    contact = ContactFactory(gestionnaire=True)
    user = contact.user
    user.set_unusable_password()
    user.save()
    cle = cle_activation_envoyer(user=user, organisme=contact.organisme)
    mail.outbox.clear()
    demander(client, user.email, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "Activez votre compte" in message.subject
    response = choisir(client, lien(message))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NOUVEAU)
    # The activation key sent earlier no longer works: the account is activated.
    cle.refresh_from_db()
    assert cle.revoked_at is not None
    login = client.post(reverse("accounts:login"), {"username": user.email, "password": NOUVEAU})
    assert login["Location"] == reverse("core:tableau_de_bord")


@pytest.mark.parametrize("kind", ["inactive", "anonymised"])
def test_deactivated_users_get_no_mail(client, django_capture_on_commit_callbacks, kind):
    user = UserFactory(is_active=False) if kind == "inactive" else UserFactory(anonymised_at=timezone.now())
    response = demander(client, user.email, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert mail.outbox == []


def test_bad_email_is_explained(client, django_capture_on_commit_callbacks):
    response = demander(client, "pas-une-adresse", django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "Saisissez une adresse e-mail valide" in response.content.decode()


# --- Modifier mon mot de passe -----------------------------------------------------------------------

CHANGE = reverse("accounts:password_change")


def test_change_requires_login(client):
    response = client.get(CHANGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_change_password(client, gestionnaire):
    client.force_login(gestionnaire.user)
    html = client.get(CHANGE).content.decode()
    assert "Mot de passe actuel" in html
    assert 'data-password-rules="regles-mdp"' in html
    response = client.post(
        CHANGE, {"old_password": "Mot-de-passe-1", "new_password1": NOUVEAU, "new_password2": NOUVEAU}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    gestionnaire.user.refresh_from_db()
    assert gestionnaire.user.check_password(NOUVEAU)
    # The session survives the change.
    assert client.get(reverse("accounts:password_change_done")).status_code == 200


@pytest.mark.parametrize(
    ("old", "new1", "new2", "message"),
    [
        ("Mauvais-1", NOUVEAU, NOUVEAU, "Votre mot de passe actuel est incorrect"),
        ("Mot-de-passe-1", NOUVEAU, NOUVEAU + "x", "Les deux mots de passe ne sont pas identiques."),
        ("Mot-de-passe-1", "court", "court", "au moins 8 caractères"),
        ("Mot-de-passe-1", "pas-de-majuscule-1", "pas-de-majuscule-1", "une lettre majuscule"),
    ],
)
def test_change_password_errors(client, gestionnaire, old, new1, new2, message):
    client.force_login(gestionnaire.user)
    response = client.post(CHANGE, {"old_password": old, "new_password1": new1, "new_password2": new2})
    assert response.status_code == 200
    assert message in response.content.decode()
    gestionnaire.user.refresh_from_db()
    assert gestionnaire.user.check_password("Mot-de-passe-1")


def test_no_activation_key_survives_a_password_change(client, gestionnaire):
    cle_activation_envoyer(user=gestionnaire.user)
    client.force_login(gestionnaire.user)
    client.post(CHANGE, {"old_password": "Mot-de-passe-1", "new_password1": NOUVEAU, "new_password2": NOUVEAU})
    assert not CleActivation.objects.filter(revoked_at__isnull=True, used_at__isnull=True).exists()
