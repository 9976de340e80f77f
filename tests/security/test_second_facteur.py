"""Second factor for the équipe offre: enrolment, code at each login, backup codes, throttling, and the one
gate (otp.StaffSecondFactorMiddleware) that refuses a non-verified staff session everywhere."""

import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.converters import IntConverter, PathConverter, SlugConverter, StringConverter, UUIDConverter
from django.urls.resolvers import RoutePattern
from django.utils import timezone
from django.utils.html import escape
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from ofeli.accounts import otp
from ofeli.accounts.models import DemandeCompte
from tests.factories import ContactFactory, DemandeCompteFactory, UserFactory

from .conftest import code_de, connecter

BASE_DIR = Path(__file__).resolve().parents[2]


def _chemin(response):
    return urlparse(response["Location"]).path


def _next(response):
    return parse_qs(urlparse(response["Location"]).query).get("next", [None])[0]


# --- the setting ---------------------------------------------------------------------------------
def _setting_dans(env):
    code = "import ofeli.settings as s; print(s.OFELI_STAFF_2FA)"
    base = {k: v for k, v in os.environ.items() if k not in {"OFELI_TESTING", "DJANGO_ENV", "OFELI_STAFF_2FA"}}
    result = subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, cwd=BASE_DIR, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_the_second_factor_cannot_be_turned_off_in_production(tmp_path):
    env = {
        "DJANGO_ENV": "production",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "ofeli.example.org",
        "OFELI_STAFF_2FA": "0",
        "OFELI_VAR_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    assert _setting_dans(env) == "True"


def test_in_development_it_is_off_by_default_and_the_environment_turns_it_on(tmp_path):
    env = {"OFELI_VAR_DIR": str(tmp_path), "STATIC_ROOT": str(tmp_path / "static")}
    assert _setting_dans(env) == "False"
    assert _setting_dans({**env, "OFELI_STAFF_2FA": "1"}) == "True"


def test_it_is_off_in_the_test_run_so_tests_can_force_login_staff():
    assert settings.OFELI_STAFF_2FA is False


# --- enrolment and login -------------------------------------------------------------------------
@pytest.mark.django_db
def test_first_login_of_a_staff_member_enrols_an_application_then_shows_backup_codes_once(client, deux_facteurs):
    staff = UserFactory(staff=True)
    response = connecter(client, staff, next_url=reverse("accounts:demandes"))
    assert _chemin(response) == reverse("accounts:demandes")
    response = client.get(reverse("accounts:demandes"))
    assert _chemin(response) == reverse("accounts:otp_inscrire")
    assert _next(response) == reverse("accounts:demandes")

    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html  # the QR code, an image: no script, allowed by the CSP
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert otp.secret_base32(device) in html
    # Reloading shows the same secret (one enrolment at a time), not a second device.
    client.get(reverse("accounts:otp_inscrire"))
    assert TOTPDevice.objects.filter(user=staff).count() == 1

    refuse = client.post(reverse("accounts:otp_inscrire"), {"code": "000000", "next": "/compte/demandes/"})
    assert "Code incorrect" in refuse.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    device.refresh_from_db()
    with time_machine.travel(device.throttling_failure_timestamp + timedelta(seconds=5), tick=True):
        ok = client.post(
            reverse("accounts:otp_inscrire"),
            {"code": code_de(device), "nom": "Téléphone pro", "next": reverse("accounts:demandes")},
        )
        assert _chemin(ok) == reverse("accounts:otp_codes_secours")
        device.refresh_from_db()
        assert device.confirmed and device.name == "Téléphone pro"
        codes_page = client.get(ok["Location"])
        codes = list(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))
        assert len(codes) == 10
        assert all(code in codes_page.content.decode() for code in codes)
        # Shown once: the page does not show them again.
        again = client.get(reverse("accounts:otp_codes_secours"))
        assert again.status_code == 302
        assert client.get(reverse("accounts:demandes")).status_code == 200


@pytest.mark.django_db
def test_each_login_asks_for_a_code_then_brings_back_to_the_page_asked(client, deux_facteurs, equipe_inscrite):
    connecter(client, equipe_inscrite)
    response = client.get(reverse("accounts:activations"))
    assert _chemin(response) == reverse("accounts:otp_verifier")
    assert _next(response) == reverse("accounts:activations")
    session_avant = client.session.session_key

    refuse = client.post(reverse("accounts:otp_verifier"), {"code": "12345", "next": _next(response)})
    assert refuse.status_code == 200
    assert "6 chiffres" in refuse.content.decode()
    # the code page shows no menu: every entry would lead back to it
    assert reverse("validation:file") not in refuse.content.decode()
    ok = client.post(reverse("accounts:otp_verifier"), {"code": code_de(equipe_inscrite.device, 1), "next": "/x/"})
    assert _chemin(ok) == "/x/"
    assert client.session.session_key != session_avant  # new session key at the privilege change
    page = client.get(reverse("accounts:activations"))
    assert page.status_code == 200
    assert reverse("validation:file") in page.content.decode()  # the menu is back once verified


@pytest.mark.django_db
def test_a_backup_code_works_once(client, deux_facteurs, equipe_inscrite):
    code = equipe_inscrite.codes[0]
    connecter(client, equipe_inscrite)
    ok = client.post(reverse("accounts:otp_verifier"), {"code": code.upper()[:4] + " " + code.upper()[4:]})
    assert _chemin(ok) == reverse("core:staff_home")
    assert StaticToken.objects.filter(device__user=equipe_inscrite).count() == 9
    client.post(reverse("accounts:logout"))

    connecter(client, equipe_inscrite)
    again = client.post(reverse("accounts:otp_verifier"), {"code": code})
    assert "Code incorrect" in again.content.decode()
    assert _chemin(client.get(reverse("core:staff_home"))) == reverse("accounts:otp_verifier")


@pytest.mark.django_db
def test_wrong_codes_are_throttled_by_django_otp_even_for_the_right_code(client, deux_facteurs, equipe_inscrite):
    connecter(client, equipe_inscrite)
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False) as traveller:
        device = equipe_inscrite.device
        assert "Code incorrect" in client.post(reverse("accounts:otp_verifier"), {"code": "000000"}).content.decode()
        traveller.shift(1.5)
        client.post(reverse("accounts:otp_verifier"), {"code": "000001"})  # 2 failures: wait 2 seconds
        blocked = client.post(reverse("accounts:otp_verifier"), {"code": code_de(device)})
        assert blocked.status_code == 429
        assert "Trop de codes erronés" in blocked.content.decode()
        assert client.get(reverse("core:staff_home")).status_code != 200
        traveller.shift(3)
        ok = client.post(reverse("accounts:otp_verifier"), {"code": code_de(device)})
        assert _chemin(ok) == reverse("core:staff_home")
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


@pytest.mark.django_db
def test_next_after_the_code_never_leaves_the_site(client, deux_facteurs, equipe_inscrite):
    connecter(client, equipe_inscrite)
    ok = client.post(
        reverse("accounts:otp_verifier"),
        {"code": code_de(equipe_inscrite.device, 1), "next": "https://evil.example/"},
    )
    assert ok["Location"] == reverse("core:staff_home")


@pytest.mark.django_db
def test_an_of_contact_never_meets_the_second_factor(client, deux_facteurs):
    contact = ContactFactory()
    connecter(client, contact.user)
    assert client.get(reverse("core:tableau_de_bord")).status_code == 200
    assert client.get(reverse("accounts:otp_verifier")).status_code == 403


@pytest.mark.django_db
def test_htmx_requests_of_a_non_verified_staff_session_are_sent_to_the_code_page(
    client, deux_facteurs, equipe_inscrite
):
    client.force_login(equipe_inscrite)
    response = client.get(reverse("accounts:demandes"), headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert urlparse(response["HX-Redirect"]).path == reverse("accounts:otp_verifier")


# --- every route refuses a non-verified staff session ----------------------------------------------
DUMMY = {IntConverter: 1, StringConverter: "x", SlugConverter: "x", PathConverter: "x", UUIDConverter: uuid.UUID(int=1)}


def _valeur(converter):
    if type(converter) in DUMMY:
        return DUMMY[type(converter)]
    # A project converter: the first usual value its regex accepts.
    return next(v for v in ["1", "x", "AB-1"] if re.fullmatch(converter.regex, v))


def _routes(resolver=None, namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                continue
            ns = ":".join(p for p in [namespace, entry.namespace] if p)
            yield from _routes(entry, ns)
        elif isinstance(entry, URLPattern) and entry.name:
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            converters = entry.pattern.converters if isinstance(entry.pattern, RoutePattern) else {}
            kwargs = {k: _valeur(c) for k, c in converters.items()}
            yield name, reverse(name, kwargs=kwargs), getattr(entry.callback, "ofeli_gate", None)


ROUTES = sorted(set(_routes()))
GARDEES = [(n, url) for n, url, gate in ROUTES if n not in otp.ROUTES_LIBRES and gate not in otp.GATES_LIBRES]


def test_the_routes_left_open_to_a_non_verified_staff_session_are_few_and_harmless():
    libres = {n for n, _, gate in ROUTES if n in otp.ROUTES_LIBRES or gate in otp.GATES_LIBRES}
    assert libres == otp.ROUTES_LIBRES | {n for n, _, gate in ROUTES if gate == "partner"}
    assert len(GARDEES) > 100


@pytest.mark.django_db
@pytest.mark.parametrize("methode", ["get", "post"])
def test_every_page_refuses_a_staff_session_without_its_second_factor(client, deux_facteurs, equipe_inscrite, methode):
    client.force_login(equipe_inscrite)
    laisses = []
    for name, url in GARDEES:
        response = getattr(client, methode)(url)
        if response.status_code != 302 or _chemin(response) != reverse("accounts:otp_verifier"):
            laisses.append(f"{name} {url} -> {response.status_code}")
    assert not laisses, "ces pages ne demandent pas le second facteur :\n" + "\n".join(laisses)


@pytest.mark.django_db
def test_a_staff_write_is_not_done_without_the_second_factor(client, deux_facteurs, equipe_inscrite):
    demande = DemandeCompteFactory()
    client.force_login(equipe_inscrite)
    response = client.post(reverse("accounts:demande_accepter", args=[demande.pk]))
    assert _chemin(response) == reverse("accounts:otp_verifier")
    demande.refresh_from_db()
    assert demande.statut == DemandeCompte.Statut.EN_ATTENTE


@pytest.mark.django_db
def test_the_django_admin_refuses_a_staff_session_without_its_second_factor(client, deux_facteurs):
    superuser = UserFactory(staff=True, is_superuser=True)
    client.force_login(superuser)
    for url in [
        "/technique/admin/",
        "/technique/admin/accounts/user/",
        f"/technique/admin/accounts/user/{superuser.pk}/change/",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and _chemin(response) == reverse("accounts:otp_inscrire"), url
    # The admin's login goes through OFeli's login page, then the second factor.
    client.logout()
    response = client.post("/technique/admin/login/", {"username": superuser.email, "password": "Mot-de-passe-1"})
    assert _chemin(response) == reverse("accounts:login")
    connecter(client, superuser, next_url="/technique/admin/")
    assert _chemin(client.get("/technique/admin/")) == reverse("accounts:otp_inscrire")


@pytest.mark.django_db
def test_a_verified_staff_session_reaches_staff_pages_and_the_admin(client, deux_facteurs):
    superuser = UserFactory(staff=True, is_superuser=True)
    device = otp.totp_preparer(user=superuser)
    otp.totp_confirmer(user=superuser, device_id=device.pk, code=code_de(device))
    connecter(client, superuser)
    client.post(reverse("accounts:otp_verifier"), {"code": code_de(device, 1)})
    assert client.get(reverse("accounts:demandes")).status_code == 200
    assert client.get("/technique/admin/").status_code == 200


# --- devices page and the lost phone -------------------------------------------------------------
def _verifie(client, user):
    connecter(client, user)
    client.post(reverse("accounts:otp_verifier"), {"code": user.codes[-1]})
    assert client.get(reverse("core:staff_home")).status_code == 200


@pytest.mark.django_db
def test_staff_see_and_remove_their_applications(client, deux_facteurs, equipe_inscrite):
    _verifie(client, equipe_inscrite)
    page = client.get(reverse("accounts:otp_appareils"))
    assert escape(equipe_inscrite.device.name) in page.content.decode()
    assert "9</strong> codes de secours" in page.content.decode()

    url = reverse("accounts:otp_appareil_supprimer", args=[equipe_inscrite.device.pk])
    confirmation = client.get(url)
    assert "seule application" in confirmation.content.decode()
    assert TOTPDevice.objects.filter(pk=equipe_inscrite.device.pk).exists()  # GET only asks
    client.post(url)
    assert not TOTPDevice.objects.filter(user=equipe_inscrite).exists()
    assert not StaticDevice.objects.filter(user=equipe_inscrite).exists()
    # The session was verified by a backup code that no longer exists: enrol again.
    assert _chemin(client.get(reverse("core:staff_home"))) == reverse("accounts:otp_inscrire")


@pytest.mark.django_db
def test_a_staff_member_cannot_remove_the_application_of_another(client, deux_facteurs, equipe_inscrite):
    autre = UserFactory(staff=True)
    device = otp.totp_preparer(user=autre)
    otp.totp_confirmer(user=autre, device_id=device.pk, code=code_de(device))
    _verifie(client, equipe_inscrite)
    assert client.post(reverse("accounts:otp_appareil_supprimer", args=[device.pk])).status_code == 404
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


@pytest.mark.django_db
def test_new_backup_codes_replace_the_old_ones(client, deux_facteurs, equipe_inscrite):
    _verifie(client, equipe_inscrite)
    anciens = set(equipe_inscrite.codes)
    assert client.get(reverse("accounts:otp_codes_generer")).status_code == 200  # confirmation first
    response = client.post(reverse("accounts:otp_codes_generer"))
    page = client.get(response["Location"])
    nouveaux = set(StaticToken.objects.filter(device__user=equipe_inscrite).values_list("token", flat=True))
    assert len(nouveaux) == 10 and not nouveaux & anciens
    assert all(code in page.content.decode() for code in nouveaux)


@pytest.mark.django_db
def test_adding_a_second_application_needs_a_verified_session(client, deux_facteurs, equipe_inscrite):
    connecter(client, equipe_inscrite)
    response = client.get(reverse("accounts:otp_inscrire"))
    assert _chemin(response) == reverse("accounts:otp_verifier")
    assert not TOTPDevice.objects.filter(user=equipe_inscrite, confirmed=False).exists()


@pytest.mark.django_db
def test_a_superuser_resets_the_devices_of_a_staff_member_who_lost_their_phone(deux_facteurs, equipe_inscrite, client):
    admin = UserFactory(staff=True, is_superuser=True)
    with pytest.raises(CommandError, match="superutilisateur"):
        call_command("otp_reinitialiser", equipe_inscrite.email, par=UserFactory(staff=True).email)
    assert TOTPDevice.objects.filter(user=equipe_inscrite).exists()
    with pytest.raises(CommandError, match="équipe offre"):
        call_command("otp_reinitialiser", ContactFactory().user.email, par=admin.email)

    call_command("otp_reinitialiser", equipe_inscrite.email.upper(), par=admin.email)
    assert not TOTPDevice.objects.filter(user=equipe_inscrite).exists()
    assert not StaticDevice.objects.filter(user=equipe_inscrite).exists()
    connecter(client, equipe_inscrite)
    assert _chemin(client.get(reverse("core:staff_home"))) == reverse("accounts:otp_inscrire")
