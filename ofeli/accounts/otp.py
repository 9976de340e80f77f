"""Second factor for the équipe offre (staff) and superusers: TOTP with django-otp, backup codes.

When ``settings.OFELI_STAFF_2FA`` is on (always in production), a staff session is "verified" only after a code
from the staff member's authenticator application (or a backup code) has been entered in this session.
`StaffSecondFactorMiddleware` is the one place that enforces it: every route except the code pages, logout,
help, the health check and the partner API (token, no session) sends a non-verified staff session to
enrolment (no confirmed application yet) or to the code page, whatever the view's own gate (staff pages, OF
pages reached by staff, the Django admin, downloads).

Writes (one function each, one transaction): prepare an application (`totp_preparer`), confirm it
(`totp_confirmer`), check a code at login (`code_verifier`), new backup codes (`codes_secours_generer`),
remove an application (`appareil_supprimer`), reset everything after a lost phone (`appareils_reinitialiser`).
Wrong codes are throttled by django-otp (1, 2, 4, 8... seconds per device after each failure,
``OTP_TOTP_THROTTLE_FACTOR``/``OTP_STATIC_THROTTLE_FACTOR``).
"""

from __future__ import annotations

import base64
import re
from datetime import datetime

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

NOM_APPAREIL_DEFAUT = "Application d'authentification"
NOM_CODES_SECOURS = "Codes de secours"
NOMBRE_CODES_SECOURS = 10
TOTP_RE = re.compile(r"^\d{6}$")
SECOURS_RE = re.compile(r"^[a-z2-7]{8}$")


class CodeRefuse(Exception):
    """A code that was not accepted: `attente` (seconds) is set when the device is throttled."""

    def __init__(self, message: str, attente: int = 0):
        super().__init__(message)
        self.message = message
        self.attente = attente


def concerne(user) -> bool:
    """Whether this user must use a second factor when it is required (staff and superusers)."""
    return bool(user.is_authenticated and (user.is_staff or user.is_superuser))


def exige(user) -> bool:
    return bool(getattr(settings, "OFELI_STAFF_2FA", False)) and concerne(user)


def est_verifie(user) -> bool:
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def totp_confirmes(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


def a_un_appareil(user) -> bool:
    return totp_confirmes(user).exists()


def codes_secours_restants(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normaliser(code) -> str:
    """What a person types: spaces and dashes dropped, lowercase (backup codes are base32 lowercase)."""
    return re.sub(r"[\s-]", "", str(code or "")).lower()


def secret_base32(device: TOTPDevice) -> str:
    """The secret, as typed by hand into an application: base32 in groups of 4."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// link as a QR code, an SVG data URI for an <img> (the CSP allows img data:, no script)."""
    return segno.make(device.config_url, error="m").svg_data_uri(scale=5, dark="#000", light="#fff")


# --- writes ---------------------------------------------------------------------------------------
@transaction.atomic
def totp_preparer(*, user, nom: str = NOM_APPAREIL_DEFAUT) -> TOTPDevice:
    """A new, unconfirmed application for `user` (older unconfirmed ones are dropped: one enrolment at a time)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=nom[:64] or NOM_APPAREIL_DEFAUT, confirmed=False)


def _attente(device) -> int:
    allowed, data = device.verify_is_allowed()
    if allowed:
        return 0
    locked_until = (data or {}).get("locked_until")
    if isinstance(locked_until, datetime):
        return max(1, int((locked_until - timezone.now()).total_seconds()) + 1)
    return 1


def _refus_throttle(attente: int) -> CodeRefuse:
    return CodeRefuse(
        f"Trop de codes erronés : attendez {attente} seconde{'s' if attente > 1 else ''} avant de réessayer.",
        attente=attente,
    )


def totp_confirmer(*, user, device_id: int, code, nom: str = "") -> tuple[TOTPDevice, list[str]]:
    """Confirms the application being enrolled with a code it shows. The first application also gets the backup
    codes (returned, shown once). Raises CodeRefuse."""
    code = normaliser(code)
    refus = None
    codes: list[str] = []
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, pk=device_id, confirmed=False).first()
        if device is None:
            refus = CodeRefuse("Cette inscription n'est plus valable : recommencez.")
        elif attente := _attente(device):
            refus = _refus_throttle(attente)
        elif not TOTP_RE.match(code) or not device.verify_token(code):
            # verify_token has counted the failure (throttling): it is committed, then the refusal raised.
            refus = CodeRefuse("Code incorrect : saisissez les 6 chiffres affichés par l'application.")
        else:
            device.confirmed = True
            if nom:
                device.name = nom[:64]
            device.save(update_fields=["confirmed", "name"])
            if not StaticToken.objects.filter(device__user=user, device__confirmed=True).exists():
                codes = _codes_secours_creer(user)
    if refus is not None:
        raise refus
    return device, codes


def _codes_secours_creer(user) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=NOM_CODES_SECOURS, confirmed=True)
    codes = []
    while len(codes) < NOMBRE_CODES_SECOURS:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create(StaticToken(device=device, token=t) for t in codes)
    return codes


@transaction.atomic
def codes_secours_generer(*, user) -> list[str]:
    """New backup codes; the previous ones stop working. Shown once."""
    return _codes_secours_creer(user)


def code_verifier(*, user, code):
    """The code typed at login: 6 digits for an application, 8 characters for a backup code (used once).
    Returns the device that accepted it; raises CodeRefuse (throttled per device by django-otp)."""
    code = normaliser(code)
    if TOTP_RE.match(code):
        devices = list(totp_confirmes(user))
    elif SECOURS_RE.match(code):
        devices = list(StaticDevice.objects.filter(user=user, confirmed=True))
    else:
        raise CodeRefuse("Saisissez les 6 chiffres de votre application, ou un code de secours de 8 caractères.")
    if not devices:
        raise CodeRefuse("Code incorrect.")
    attentes = [_attente(d) for d in devices]
    if all(attentes):
        raise _refus_throttle(min(attentes))
    for device, attente in zip(devices, attentes, strict=True):
        if attente:
            continue
        with transaction.atomic():
            locked = type(device).objects.select_for_update().get(pk=device.pk)
            if locked.verify_token(code):
                return locked
    raise CodeRefuse("Code incorrect.")


@transaction.atomic
def appareil_supprimer(*, user, device_id: int) -> None:
    """Removes one of the user's applications (404-like LookupError when it is not theirs)."""
    deleted, _ = TOTPDevice.objects.filter(user=user, pk=device_id).delete()
    if not deleted:
        raise LookupError(device_id)
    if not totp_confirmes(user).exists():
        # No application left: backup codes alone would be a weaker second factor; enrolment gives new ones.
        StaticDevice.objects.filter(user=user).delete()


@transaction.atomic
def appareils_reinitialiser(*, user) -> int:
    """Lost phone: every application and backup code of the user is removed; they enrol again at their next
    login. Returns the number of devices removed."""
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.filter(user=user).count()
    StaticDevice.objects.filter(user=user).delete()
    return totp + static


def session_verifier(request, device) -> None:
    """Marks this session as verified by `device`, under a new session key (privilege change)."""
    request.session.cycle_key()
    otp_login(request, device)


# --- the one place it is enforced -------------------------------------------------------------------
# Routes a non-verified staff session may still reach (by URL name), and gates that are not a session.
ROUTES_LIBRES = {
    "accounts:otp_verifier",
    "accounts:otp_inscrire",
    "accounts:otp_codes_secours",
    "accounts:logout",
    "core:aide",
    "core:aide_sujet",
    "core:sante",
    "core:politique_donnees",
}
GATES_LIBRES = {"partner"}


def destination(request) -> str:
    """Where a non-verified staff session is sent: enrolment without a confirmed application, else the code
    page; `next` brings them back to the page they asked for (GET only)."""
    name = "accounts:otp_verifier" if a_un_appareil(request.user) else "accounts:otp_inscrire"
    url = reverse(name)
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return url


class StaffSecondFactorMiddleware:
    """Refuses a staff session that has not entered its second factor (install after django-otp's
    OTPMiddleware). Reads the setting at each request, so tests can turn it on with override_settings."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not exige(request.user) or est_verifie(request.user):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ROUTES_LIBRES:
            return None
        if getattr(view_func, "ofeli_gate", None) in GATES_LIBRES:
            return None
        url = destination(request)
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
