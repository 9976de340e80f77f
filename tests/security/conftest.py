import pytest
from django.test import override_settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from ofeli.accounts import otp
from tests.factories import UserFactory

MOT_DE_PASSE = "Mot-de-passe-1"  # tests.factories.UserFactory


@pytest.fixture
def deux_facteurs():
    """The second factor required, as in production."""
    with override_settings(OFELI_STAFF_2FA=True):
        yield


@pytest.fixture
def equipe(db):
    return UserFactory(staff=True)


def code_de(device: TOTPDevice, decalage: int = 0) -> str:
    """The code the staff member's application shows now (`decalage` steps later)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token() if not decalage else _token_at(totp, decalage):06d}"


def _token_at(totp, decalage):
    import time

    totp.time = time.time() + decalage * totp.step
    return totp.token()


@pytest.fixture
def equipe_inscrite(equipe):
    """A staff member with a confirmed application and backup codes; `.codes` holds them."""
    device = otp.totp_preparer(user=equipe)
    _, codes = otp.totp_confirmer(user=equipe, device_id=device.pk, code=code_de(device))
    equipe.device = TOTPDevice.objects.get(pk=device.pk)
    equipe.codes = codes
    return equipe


def connecter(client, user, password=MOT_DE_PASSE, next_url=None):
    from django.urls import reverse

    data = {"username": user.email, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("accounts:login"), data)
