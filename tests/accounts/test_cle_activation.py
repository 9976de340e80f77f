import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from ofeli.accounts.models import CleActivation
from ofeli.accounts.services import (
    CleActivationInvalide,
    cle_activation_envoyer,
    cle_activation_trouver,
    cle_activation_utiliser,
    hash_token,
)
from tests.factories import ContactFactory, OrganismeFactory, UserFactory

pytestmark = pytest.mark.django_db

BON_MDP = "Bonjour-Orléans-2026"


@pytest.fixture
def nouveau(db):
    """A user created by the GIP, without a password yet."""
    user = UserFactory(password=None)
    user.set_unusable_password()
    user.save()
    return user


def test_envoyer_stores_only_a_hash_and_mails_the_link(nouveau, staff_user, django_capture_on_commit_callbacks):
    organisme = OrganismeFactory()
    with django_capture_on_commit_callbacks(execute=True):
        cle = cle_activation_envoyer(user=nouveau, organisme=organisme, envoyee_par=staff_user)
    assert cle.token_hash == hash_token(cle.token)
    assert cle.token not in cle.token_hash
    assert cle.kind == CleActivation.Kind.DEMANDE
    assert cle.created_by == staff_user
    assert cle.expires_at - cle.created_at == datetime.timedelta(days=3)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [nouveau.email]
    assert message.subject == "Votre clé d'activation OFeli Centre-Val de Loire"
    assert reverse("accounts:activer", args=[cle.token]) in message.body
    assert str(organisme) in message.body


def test_email_leaves_only_on_commit(nouveau, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cle_activation_envoyer(user=nouveau)
    assert mail.outbox == []
    assert len(callbacks) == 1


def test_invitation_has_its_own_wording(nouveau, django_capture_on_commit_callbacks):
    organisme = OrganismeFactory(raison_sociale="Formapro")
    with django_capture_on_commit_callbacks(execute=True):
        cle = cle_activation_envoyer(user=nouveau, organisme=organisme, invitation=True)
    assert cle.kind == CleActivation.Kind.INVITATION
    assert "ajouté(e) comme contact de l'organisme Formapro" in mail.outbox[0].body
    assert "pour Formapro" in mail.outbox[0].subject


def test_new_key_revokes_previous_unused_keys(nouveau):
    premiere = cle_activation_envoyer(user=nouveau)
    seconde = cle_activation_envoyer(user=nouveau)
    assert seconde.kind == CleActivation.Kind.RENVOI
    premiere.refresh_from_db()
    assert premiere.revoked_at is not None
    with pytest.raises(CleActivationInvalide) as exc:
        cle_activation_trouver(premiere.token)
    assert exc.value.raison == "remplacee"
    assert cle_activation_trouver(seconde.token).pk == seconde.pk


def test_other_users_keys_are_untouched(nouveau):
    autre = UserFactory()
    cle_autre = cle_activation_envoyer(user=autre)
    cle_activation_envoyer(user=nouveau)
    cle_autre.refresh_from_db()
    assert cle_autre.revoked_at is None


def test_utiliser_sets_password_activates_and_is_single_use(nouveau):
    nouveau.is_active = False
    nouveau.save()
    cle = cle_activation_envoyer(user=nouveau)
    user = cle_activation_utiliser(token=cle.token, password=BON_MDP)
    user.refresh_from_db()
    assert user.is_active
    assert user.check_password(BON_MDP)
    cle.refresh_from_db()
    assert cle.used_at is not None
    with pytest.raises(CleActivationInvalide) as exc:
        cle_activation_utiliser(token=cle.token, password="Autre-mot-2026")
    assert exc.value.raison == "utilisee"
    user.refresh_from_db()
    assert user.check_password(BON_MDP)


def test_utiliser_refuses_a_weak_password_and_keeps_the_key(nouveau):
    from django.core.exceptions import ValidationError

    cle = cle_activation_envoyer(user=nouveau)
    with pytest.raises(ValidationError):
        cle_activation_utiliser(token=cle.token, password="faible")
    cle.refresh_from_db()
    assert cle.used_at is None
    nouveau.refresh_from_db()
    assert not nouveau.has_usable_password()


def test_expired_key_is_refused(nouveau):
    cle = cle_activation_envoyer(user=nouveau)
    with (
        time_machine.travel(timezone.now() + datetime.timedelta(days=3, seconds=1)),
        pytest.raises(CleActivationInvalide) as exc,
    ):
        cle_activation_utiliser(token=cle.token, password=BON_MDP)
    assert exc.value.raison == "expiree"
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2, hours=23)):
        assert cle_activation_trouver(cle.token).pk == cle.pk


@pytest.mark.parametrize("token", ["", "inconnu", "x" * 43])
def test_unknown_key_is_refused(token):
    with pytest.raises(CleActivationInvalide) as exc:
        cle_activation_trouver(token)
    assert exc.value.raison == "inconnue"


# --- The public view on the link ---------------------------------------------------------------


def test_link_then_form_then_login(client, nouveau):
    cle = cle_activation_envoyer(user=nouveau)
    response = client.get(reverse("accounts:activer", args=[cle.token]))
    # The token leaves the URL at once (Referer, history).
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:activation_mot_de_passe")
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Activer mon compte" in html
    assert nouveau.email in html
    assert 'data-password-rules="regles-mdp"' in html
    assert 'aria-live="polite"' in html
    assert "ofeli/password.js" in html
    response = client.post(
        reverse("accounts:activation_mot_de_passe"),
        {"new_password1": BON_MDP, "new_password2": BON_MDP},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    nouveau.refresh_from_db()
    assert nouveau.check_password(BON_MDP)
    # The link is single use.
    response = client.get(reverse("accounts:activer", args=[cle.token]))
    assert response.status_code == 410
    assert "Cette clé d'activation a déjà servi" in response.content.decode()
    # And the session no longer holds it.
    response = client.get(reverse("accounts:activation_mot_de_passe"))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("password1", "password2", "message"),
    [
        ("Court-1", "Court-1", "au moins 8 caractères"),
        ("sans-majuscule-1", "sans-majuscule-1", "une lettre majuscule"),
        ("SansSpecial2026", "SansSpecial2026", "un caractère spécial"),
        ("TOUT-EN-MAJUSCULES!", "TOUT-EN-MAJUSCULES!", "une lettre minuscule ou un chiffre"),
        ("Bonjour-Orléans-2026", "Bonjour-Orleans-2026", "Les deux mots de passe ne sont pas identiques"),
        ("P@ssw0rd", "P@ssw0rd", "trop courant"),
    ],
)
def test_activation_form_shows_each_failed_rule(client, nouveau, password1, password2, message):
    cle = cle_activation_envoyer(user=nouveau)
    client.get(reverse("accounts:activer", args=[cle.token]))
    response = client.post(
        reverse("accounts:activation_mot_de_passe"), {"new_password1": password1, "new_password2": password2}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    cle.refresh_from_db()
    assert cle.used_at is None


def test_activation_refuses_password_like_the_email(client):
    user = UserFactory(email="jeanne.dupont@formapro.fr", first_name="Jeanne", last_name="Dupont")
    cle = cle_activation_envoyer(user=user)
    client.get(reverse("accounts:activer", args=[cle.token]))
    response = client.post(
        reverse("accounts:activation_mot_de_passe"),
        {"new_password1": "Jeanne.Dupont@formapro", "new_password2": "Jeanne.Dupont@formapro"},
    )
    assert "trop semblable" in response.content.decode()


def test_expired_link_page_offers_what_to_do(client, nouveau):
    cle = cle_activation_envoyer(user=nouveau)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=4)):
        response = client.get(reverse("accounts:activer", args=[cle.token]))
    assert response.status_code == 410
    html = response.content.decode()
    assert "Cette clé d'activation a expiré" in html
    assert "offre@alfacentre.org" in html
    assert reverse("accounts:password_reset") in html
    assert "Réinitialiser mon mot de passe" in html


def test_key_expiring_between_link_and_form_is_refused(client, nouveau):
    cle = cle_activation_envoyer(user=nouveau)
    with time_machine.travel(cle.expires_at - datetime.timedelta(minutes=1), tick=False) as traveller:
        assert client.get(reverse("accounts:activer", args=[cle.token])).status_code == 302
        traveller.shift(datetime.timedelta(minutes=2))
        response = client.post(
            reverse("accounts:activation_mot_de_passe"), {"new_password1": BON_MDP, "new_password2": BON_MDP}
        )
    assert response.status_code == 410
    nouveau.refresh_from_db()
    assert not nouveau.has_usable_password()


def test_unknown_link_page(client):
    response = client.get(reverse("accounts:activer", args=["nimporte-quoi"]))
    assert response.status_code == 404
    assert "Clé d'activation inconnue" in response.content.decode()


def test_replaced_link_page(client, nouveau):
    ancienne = cle_activation_envoyer(user=nouveau)
    cle_activation_envoyer(user=nouveau)
    response = client.get(reverse("accounts:activer", args=[ancienne.token]))
    assert response.status_code == 410
    assert "a été remplacée" in response.content.decode()


# --- Staff: a new key ----------------------------------------------------------------------------


def test_staff_sends_a_new_key_to_a_user_whose_key_expired(client, staff_user, django_capture_on_commit_callbacks):
    contact = ContactFactory(gestionnaire=True)
    user = contact.user
    user.set_unusable_password()
    user.save()
    ancienne = cle_activation_envoyer(user=user, organisme=contact.organisme)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=5), tick=False):
        client.force_login(staff_user)
        liste = client.get(reverse("accounts:activations"))
        assert liste.status_code == 200
        assert user.email in liste.content.decode()
        assert "expirée" in liste.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("accounts:cle_renvoyer", args=[user.pk]))
        assert response.status_code == 302
        nouvelle = CleActivation.objects.filter(user=user).first()
        assert nouvelle.pk != ancienne.pk
        assert nouvelle.kind == CleActivation.Kind.RENVOI
        assert nouvelle.organisme == contact.organisme
        assert nouvelle.created_by == staff_user
        assert nouvelle.est_valide
    assert mail.outbox[-1].to == [user.email]


def test_new_key_is_staff_only_and_post_only(client, gestionnaire):
    user = UserFactory()
    url = reverse("accounts:cle_renvoyer", args=[user.pk])
    assert client.post(url).status_code == 302  # to the login page
    client.force_login(gestionnaire.user)
    assert client.post(url).status_code == 403
    assert client.get(reverse("accounts:activations")).status_code == 403
    assert not CleActivation.objects.exists()


def test_new_key_get_is_refused(client, staff_user):
    client.force_login(staff_user)
    user = UserFactory()
    assert client.get(reverse("accounts:cle_renvoyer", args=[user.pk])).status_code == 405


def test_no_new_key_for_an_activated_account(client, staff_user, gestionnaire):
    client.force_login(staff_user)
    response = client.post(reverse("accounts:cle_renvoyer", args=[gestionnaire.user.pk]), follow=True)
    assert "est déjà activé" in response.content.decode()
    assert not CleActivation.objects.exists()
