"""The partner API: tokens (missing, revoked, another partner's), downloads recorded, rate limit, OpenAPI."""

import hashlib
import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from ofeli.diffusion.api import OPENAPI
from ofeli.diffusion.feeds import diffuser_partenaire, statut_diffusion
from ofeli.diffusion.models import DiffusionRun, JetonPartenaire, Partenaire, Telechargement
from ofeli.diffusion.partenaires import jeton_creer, jeton_revoquer
from tests.diffusion.test_feeds import NUIT, formation_validee


@pytest.fixture(autouse=True)
def _cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site(organisme, staff_user):
    formation_validee(organisme, staff_user)
    site = Partenaire.objects.get(slug="site-regional")
    diffuser_partenaire(partenaire=site, nuit=NUIT)
    return site


def _client(jeton=None):
    return Client(HTTP_AUTHORIZATION=f"Bearer {jeton}") if jeton else Client()


@pytest.fixture
def jeton(site, staff_user):
    return jeton_creer(partenaire=site, user=staff_user, libelle="production")[1]


def test_only_the_hash_of_a_token_is_stored(jeton):
    row = JetonPartenaire.objects.get()
    assert row.empreinte == hashlib.sha256(jeton.encode()).hexdigest()
    assert jeton not in json.dumps(list(JetonPartenaire.objects.values()), default=str)


def test_a_partner_lists_its_runs_and_downloads_a_file(site, jeton):
    response = _client(jeton).get(reverse("diffusion:api_flux"))
    assert response.status_code == 200
    flux = response.json()["flux"]
    assert {f["type"] for f in flux} == {"complet", "delta"}
    complet = next(f for f in flux if f["type"] == "complet")

    detail = _client(jeton).get(reverse("diffusion:api_flux_detail", args=[complet["id"]]))
    assert detail.status_code == 200 and detail.json()["sha256"] == complet["sha256"]

    fichier = _client(jeton).get(reverse("diffusion:api_fichier", args=[complet["id"]]))
    assert fichier.status_code == 200
    data = b"".join(fichier.streaming_content)
    assert hashlib.sha256(data).hexdigest() == complet["sha256"]
    assert fichier["ETag"] == f'"{complet["sha256"]}"'
    assert Telechargement.objects.filter(run_id=complet["id"]).count() == 1
    assert JetonPartenaire.objects.get().last_used_at is not None


def test_a_missing_or_unknown_token_is_refused(site):
    url = reverse("diffusion:api_flux")
    assert _client().get(url).status_code == 401
    assert _client("ofeli_inconnu").get(url).status_code == 401
    assert Client(HTTP_AUTHORIZATION="Basic abc").get(url).status_code == 401


def test_a_revoked_token_stops_working(site, jeton, staff_user):
    url = reverse("diffusion:api_flux")
    assert _client(jeton).get(url).status_code == 200
    jeton_revoquer(jeton=JetonPartenaire.objects.get(), user=staff_user)
    response = _client(jeton).get(url)
    assert response.status_code == 401
    assert "révoqué" in response.json()["erreur"]


def test_another_partners_run_is_not_found(site, jeton, staff_user):
    autre = Partenaire.objects.get(slug="base-nationale-carif-oref")
    complet, _ = diffuser_partenaire(partenaire=autre, nuit=NUIT)
    for name in ("diffusion:api_flux_detail", "diffusion:api_fichier"):
        assert _client(jeton).get(reverse(name, args=[complet.pk])).status_code == 404
    ids = {f["id"] for f in _client(jeton).get(reverse("diffusion:api_flux")).json()["flux"]}
    assert complet.pk not in ids
    assert not Telechargement.objects.exists()


def test_a_failed_run_is_not_offered_to_the_partner(site, jeton):
    echec = DiffusionRun.objects.create(
        partenaire=site,
        nuit=NUIT.replace(year=NUIT.year - 1),
        kind="complet",
        statut="echec",
        started_at=site.created_at,
    )
    assert _client(jeton).get(reverse("diffusion:api_flux_detail", args=[echec.pk])).status_code == 404


def test_the_rate_limit_answers_429_with_retry_after(site, jeton, settings):
    settings.OFELI_DIFFUSION_API_RATE = 3
    url = reverse("diffusion:api_flux")
    assert [_client(jeton).get(url).status_code for _ in range(3)] == [200, 200, 200]
    response = _client(jeton).get(url)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 61


def test_the_api_is_read_only(site, jeton):
    assert _client(jeton).post(reverse("diffusion:api_flux")).status_code == 405


def test_statut_diffusion_shows_when_the_partner_fetched_the_feed(site, jeton, organisme):
    complet = DiffusionRun.objects.get(partenaire=site, kind="complet")
    b"".join(_client(jeton).get(reverse("diffusion:api_fichier", args=[complet.pk])).streaming_content)
    session = organisme.formations.get().actions.get().sessions.get()
    statut = next(s for s in statut_diffusion(session) if s.partenaire == site)
    assert statut.transmise and statut.recuperee_le is not None


def test_every_documented_path_answers_as_documented(site, jeton):
    """The OpenAPI description (JSON, which is YAML) matches the API: each path and each documented status."""
    spec = json.loads(OPENAPI.read_text())
    assert spec["openapi"].startswith("3.")
    served = Client().get(reverse("diffusion:api_openapi"))
    assert served.status_code == 200 and json.loads(served.content) == spec

    run = DiffusionRun.objects.filter(partenaire=site, kind="complet").get()
    autre, _ = diffuser_partenaire(partenaire=Partenaire.objects.get(slug="cleor"), nuit=NUIT)
    base = spec["servers"][0]["url"]
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            documented = set(operation["responses"])
            url = base + path.replace("{id}", str(run.pk))
            ok = getattr(_client(jeton), method)(url)
            assert ok.status_code == 200 and "200" in documented, (path, ok.status_code)
            content_type = next(iter(operation["responses"]["200"]["content"]))
            assert ok["Content-Type"].startswith(content_type), (path, ok["Content-Type"])
            if content_type == "application/json":
                required = _schema(spec, operation["responses"]["200"]["content"][content_type]["schema"])["required"]
                assert set(required) <= set(ok.json()), path
            assert getattr(_client(), method)(url).status_code == 401 and "401" in documented
            if "{id}" in path:
                other = base + path.replace("{id}", str(autre.pk))
                assert getattr(_client(jeton), method)(other).status_code == 404 and "404" in documented
            assert "429" in documented and "403" in documented
    Partenaire.objects.filter(pk=site.pk).update(actif=False)
    inactif = _client(jeton).get(base + "/flux/")
    assert inactif.status_code == 403


def _schema(spec, schema):
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return spec["components"]["schemas"][name]
    return schema
