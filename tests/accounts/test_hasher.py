"""Passwords are hashed with Argon2id at OWASP's parameters; a password hashed before the change still logs in."""

import pytest
from argon2 import extract_parameters
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password, identify_hasher, make_password
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MDP = "Mot-de-passe-1"


def _parametres(encoded: str):
    return extract_parameters("$" + encoded.split("$", 1)[1])


def test_new_passwords_are_argon2id_19_mib_2_passes_1_lane():
    encoded = make_password(MDP)
    assert identify_hasher(encoded).algorithm == "argon2"
    params = _parametres(encoded)
    assert (params.type.name, params.memory_cost, params.time_cost, params.parallelism) == ("ID", 19 * 1024, 2, 1)
    assert check_password(MDP, encoded)
    assert not check_password("Autre-mot-de-passe-2", encoded)


def test_a_password_hashed_with_djangos_defaults_logs_in_and_is_rehashed(client):
    ancien = Argon2PasswordHasher().encode(MDP, Argon2PasswordHasher().salt())
    assert _parametres(ancien).memory_cost == 102400
    user = UserFactory(email="ancien@exemple.test")
    user.password = ancien
    user.save(update_fields=["password"])

    response = client.post(reverse("accounts:login"), {"username": user.email, "password": MDP})

    assert response.status_code == 302
    user.refresh_from_db()
    assert _parametres(user.password).memory_cost == 19 * 1024
    assert user.check_password(MDP)
