import datetime

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from ofeli.accounts import throttling
from ofeli.core.middleware import SESSION_START_KEY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MDP = "Mot-de-passe-1"
LOGIN = reverse("accounts:login")


def login(client, email, password=MDP, **extra):
    return client.post(LOGIN, {"username": email, "password": password, **extra})


def test_login_page_links_reset_and_account_request(client):
    html = client.get(LOGIN).content.decode()
    assert "Mot de passe oublié / Réinitialiser mon mot de passe" in html
    assert reverse("accounts:password_reset") in html
    assert reverse("accounts:demande_creer") in html


def test_of_contact_lands_on_tableau_de_bord(client, gestionnaire):
    response = login(client, gestionnaire.user.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:tableau_de_bord")
    assert client.get(response["Location"]).status_code == 200


def test_staff_lands_on_staff_home(client, staff_user):
    response = login(client, staff_user.email)
    assert response["Location"] == reverse("core:staff_home")


def test_next_is_followed_when_safe(client, gestionnaire):
    response = login(client, gestionnaire.user.email, next="/compte/mot-de-passe/modifier/")
    assert response["Location"] == "/compte/mot-de-passe/modifier/"
    client.logout()
    response = login(client, gestionnaire.user.email, next="https://ailleurs.example/")
    assert response["Location"] == reverse("core:tableau_de_bord")


def test_email_is_case_insensitive(client, gestionnaire):
    response = login(client, gestionnaire.user.email.upper())
    assert response.status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_answer(client, gestionnaire):
    wrong = login(client, gestionnaire.user.email, "Mauvais-mdp-1")
    unknown = login(client, "personne@nulle-part.fr", "Mauvais-mdp-1")
    assert wrong.status_code == unknown.status_code == 200
    for response in (wrong, unknown):
        assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()


def test_inactive_user_cannot_log_in(client):
    user = UserFactory(is_active=False)
    response = login(client, user.email)
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()


def test_preloaded_contact_without_password_cannot_log_in(client):
    user = UserFactory()
    user.set_unusable_password()
    user.save()
    response = login(client, user.email, "")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_session_id_changes_at_login(client, gestionnaire):
    client.get(LOGIN)
    session = client.session
    session["avant"] = 1
    session.save()
    before = session.session_key
    login(client, gestionnaire.user.email)
    assert client.session.session_key != before
    assert client.session["_auth_user_id"] == str(gestionnaire.user.pk)


def test_logout_is_post_only(client, gestionnaire):
    client.force_login(gestionnaire.user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert "_auth_user_id" not in client.session


def test_base_template_has_logout_form(client, gestionnaire):
    client.force_login(gestionnaire.user)
    html = client.get(reverse("core:tableau_de_bord")).content.decode()
    assert f'action="{reverse("accounts:logout")}"' in html


# --- CSRF ------------------------------------------------------------------------------------


def test_login_without_csrf_token_is_refused(gestionnaire):
    client = Client(enforce_csrf_checks=True)
    response = login(client, gestionnaire.user.email)
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_login_with_csrf_token_works(gestionnaire):
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN)
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = login(client, gestionnaire.user.email, csrfmiddlewaretoken=token)
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("accounts:password_reset", {"email": "x@exemple.fr"}),
        ("accounts:demande_creer", {"raison_sociale": "X"}),
        ("accounts:logout", {}),
    ],
)
def test_other_public_forms_enforce_csrf(url_name, data):
    client = Client(enforce_csrf_checks=True)
    assert client.post(reverse(url_name), data).status_code == 403


# --- Throttling (django-axes + accounts.throttling) ------------------------------------------


def fail(client, email, n):
    for _ in range(n):
        login(client, email, "Mauvais-mdp-1")


def test_sixth_try_is_delayed_even_with_the_right_password(client, gestionnaire):
    email = gestionnaire.user.email
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        fail(client, email, 4)
        fifth = login(client, email, "Mauvais-mdp-1")
        # The 5th failure already says that the next try must wait.
        assert fifth.status_code == 429
        assert "Réessayez dans 1 minute" in fifth.content.decode()
        sixth = login(client, email)
        assert sixth.status_code == 429
        assert "Trop de tentatives de connexion" in sixth.content.decode()
        assert sixth["Retry-After"] == "60"
        assert "_auth_user_id" not in client.session
        # A refused try does not count as a failure (the password was not even checked).
        assert AccessFailureLog.objects.filter(username=email).count() == 5
        traveller.shift(datetime.timedelta(seconds=61))
        response = login(client, email)
        assert response.status_code == 302


def test_delay_grows_with_each_failure(client, gestionnaire):
    email = gestionnaire.user.email
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        fail(client, email, 5)
        traveller.shift(datetime.timedelta(seconds=61))
        # 6th failure: now 2 minutes.
        assert login(client, email, "Mauvais-mdp-1").status_code == 429
        traveller.shift(datetime.timedelta(seconds=90))
        assert login(client, email).status_code == 429
        traveller.shift(datetime.timedelta(seconds=31))
        # 7th failure: 4 minutes.
        assert login(client, email, "Mauvais-mdp-1").status_code == 429
        traveller.shift(datetime.timedelta(minutes=3))
        assert login(client, email).status_code == 429
        traveller.shift(datetime.timedelta(minutes=1, seconds=1))
        assert login(client, email).status_code == 302


def test_unknown_email_is_throttled_the_same_way(client):
    email = "inconnu@exemple.fr"
    with time_machine.travel(timezone.now(), tick=False):
        fail(client, email, 5)
        response = login(client, email, "Mauvais-mdp-1")
    assert response.status_code == 429
    assert "Trop de tentatives de connexion" in response.content.decode()


def test_case_variants_of_the_email_share_one_counter(client, gestionnaire):
    email = gestionnaire.user.email
    with time_machine.travel(timezone.now(), tick=False):
        for variant in [email, email.upper(), email.title(), email, email.upper()]:
            login(client, variant, "Mauvais-mdp-1")
        assert login(client, email).status_code == 429


def test_throttling_is_per_account(client, gestionnaire, staff_user):
    with time_machine.travel(timezone.now(), tick=False):
        fail(client, gestionnaire.user.email, 5)
        assert login(client, staff_user.email).status_code == 302


def test_success_resets_the_count(client, gestionnaire):
    email = gestionnaire.user.email
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        fail(client, email, 4)
        assert login(client, email).status_code == 302
        client.post(reverse("accounts:logout"))
        traveller.shift(datetime.timedelta(seconds=1))
        fail(client, email, 4)
        assert throttling.etat(email).failures == 4
        assert login(client, email).status_code == 302
    assert not AccessAttempt.objects.filter(username=email).exists()


def test_no_permanent_lock_and_at_most_25_failures_a_day(gestionnaire):
    email = gestionnaire.user.email
    start = timezone.now()
    # 25 failures recorded in the last 24 hours: locked until the oldest leaves the window.
    for i in range(25):
        log = AccessFailureLog.objects.create(username=email, ip_address="127.0.0.1", user_agent="")
        AccessFailureLog.objects.filter(pk=log.pk).update(attempt_time=start + datetime.timedelta(minutes=i))
    now = start + datetime.timedelta(hours=2)
    state = throttling.etat(email, now=now)
    assert state.failures == 25
    assert state.retry_at == start + datetime.timedelta(hours=24)
    # Never a permanent lock: 24 hours after the last failure, the account is free.
    with time_machine.travel(start + datetime.timedelta(hours=24, minutes=24, seconds=1), tick=False):
        assert not throttling.etat(email).bloque


def test_delay_schedule():
    assert [throttling.delay_for_failures(n).total_seconds() / 60 for n in range(4, 9)] == [0, 1, 2, 4, 8]
    assert throttling.delay_for_failures(16) == datetime.timedelta(hours=24)
    assert throttling.delay_for_failures(40) == datetime.timedelta(hours=24)


def test_failures_older_than_a_day_are_forgotten(gestionnaire):
    email = gestionnaire.user.email
    old = timezone.now() - datetime.timedelta(hours=25)
    for _ in range(10):
        AccessFailureLog.objects.create(username=email, ip_address="127.0.0.1", user_agent="")
    AccessFailureLog.objects.filter(username=email).update(attempt_time=old)
    assert throttling.etat(email).failures == 0


# --- Session lifetimes -------------------------------------------------------------------------


def test_session_expires_after_idle_period(client, gestionnaire):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        login(client, gestionnaire.user.email)
        assert client.get(reverse("core:tableau_de_bord")).status_code == 200
        traveller.shift(datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60))
        assert client.get(reverse("core:tableau_de_bord")).status_code == 200
        # Activity pushed the expiry forward; then idleness ends the session.
        traveller.shift(datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE + 1))
        response = client.get(reverse("core:tableau_de_bord"))
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_session_ends_after_absolute_lifetime_even_when_active(client, gestionnaire):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        login(client, gestionnaire.user.email)
        assert SESSION_START_KEY in client.session
        elapsed = 0
        step = settings.SESSION_COOKIE_AGE - 60
        while elapsed + step < settings.OFELI_SESSION_ABSOLUTE_LIFETIME:
            traveller.shift(datetime.timedelta(seconds=step))
            elapsed += step
            assert client.get(reverse("core:tableau_de_bord")).status_code == 200
        traveller.shift(datetime.timedelta(seconds=settings.OFELI_SESSION_ABSOLUTE_LIFETIME - elapsed + 1))
        response = client.get(reverse("core:tableau_de_bord"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_lifetimes_are_the_documented_ones():
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    assert settings.OFELI_SESSION_ABSOLUTE_LIFETIME == 12 * 3600
    assert settings.PASSWORD_RESET_TIMEOUT == 24 * 3600
    assert datetime.timedelta(days=3) == settings.OFELI_ACTIVATION_KEY_VALIDITY


def test_logout_invalidates_the_session_server_side(client, gestionnaire):
    login(client, gestionnaire.user.email)
    old_key = client.session.session_key
    client.post(reverse("accounts:logout"))
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = old_key
    response = thief.get(reverse("core:tableau_de_bord"))
    assert response.status_code == 302


def test_password_change_ends_other_sessions_but_keeps_this_one(gestionnaire):
    here, elsewhere = Client(), Client()
    login(here, gestionnaire.user.email)
    login(elsewhere, gestionnaire.user.email)
    here.post(
        reverse("accounts:password_change"),
        {"old_password": MDP, "new_password1": "Nouvelle-phrase-2026", "new_password2": "Nouvelle-phrase-2026"},
    )
    assert here.get(reverse("core:tableau_de_bord")).status_code == 200
    assert elsewhere.get(reverse("core:tableau_de_bord")).status_code == 302


def test_deactivated_user_loses_their_session(client, gestionnaire):
    login(client, gestionnaire.user.email)
    gestionnaire.user.is_active = False
    gestionnaire.user.save()
    assert client.get(reverse("core:tableau_de_bord")).status_code == 302


def test_lockout_page_speaks_in_hours_for_long_delays():
    assert throttling.attente_en_clair(datetime.timedelta(seconds=30)) == "1 minute"
    assert throttling.attente_en_clair(datetime.timedelta(minutes=7, seconds=1)) == "8 minutes"
    assert throttling.attente_en_clair(datetime.timedelta(hours=2, minutes=1)) == "3 heures"
    assert throttling.attente_en_clair(datetime.timedelta(minutes=60)) == "1 heure"


def test_admin_login_goes_through_ofeli_login(client):
    response = client.get("/technique/admin/login/?next=/technique/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
