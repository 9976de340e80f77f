"""The partner API fuzzed from its OpenAPI description (schemathesis, in-process through Django's WSGI app):
with a valid partner token, every generated request (valid and invalid data) gets no server error and an
answer that conforms to the description (status codes, content types, JSON schemas, headers)."""

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from ofeli.diffusion.api import OPENAPI
from ofeli.diffusion.feeds import diffuser_partenaire
from ofeli.diffusion.models import Partenaire
from ofeli.diffusion.partenaires import jeton_creer
from ofeli.wsgi import application
from tests.diffusion.test_feeds import NUIT, formation_validee

schema = schemathesis.openapi.from_path(OPENAPI)
schema.app = application
schema.config.generation.update(modes=["positive", "negative"], max_examples=30)


@pytest.fixture
def connexion_gardee():
    """Calling the WSGI app directly sends request_started/finished, whose close_old_connections would close the
    test's database connection (and its transaction) on PostgreSQL: detach it, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def jeton(organisme, staff_user, settings, connexion_gardee):
    settings.OFELI_DIFFUSION_API_RATE = 1_000_000  # the fuzzer must not meet the rate limit
    cache.clear()
    formation_validee(organisme, staff_user)
    site = Partenaire.objects.get(slug="site-regional")
    diffuser_partenaire(partenaire=site, nuit=NUIT)
    return jeton_creer(partenaire=site, user=staff_user, libelle="fuzz")[1]


@pytest.mark.django_db
@schema.parametrize()
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_partner_api_conforms_to_its_openapi_description(case, jeton):
    case.call_and_validate(headers={"Authorization": f"Bearer {jeton}"})
