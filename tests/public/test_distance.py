"""« À moins de N km de <commune> » on the public search (communes' centres, ofeli.referentiels.geo)."""

import re

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from ofeli.referentiels.geo import boite, communes_a_moins_de, haversine_km
from tests.factories import CommuneFactory, LieuFactory

from .conftest import publier

pytestmark = pytest.mark.django_db

# Centres as shipped in ofeli/referentiels/data/communes-centre-val-de-loire-coordonnees.csv.
ORLEANS = dict(code_insee="45234", nom="Orléans", departement="45", latitude=47.88255, longitude=1.91634)
OLIVET = dict(code_insee="45232", nom="Olivet", departement="45", latitude=47.84321, longitude=1.89911)
BLOIS = dict(code_insee="41018", nom="Blois", departement="41", latitude=47.58112, longitude=1.30492)
BOURGES = dict(code_insee="18033", nom="Bourges", departement="18", latitude=47.07491, longitude=2.40471)


def intitules(response) -> list[str]:
    assert response.status_code == 200
    return sorted(re.findall(r'<h3 class="h5 mb-1"><a href="[^"]+">([^<]+)</a>', response.content.decode()))


def test_haversine_matches_known_distances():
    # Orléans – Bourges: about 97 km as the crow flies; Orléans – Blois about 55 km.
    assert haversine_km(ORLEANS["latitude"], ORLEANS["longitude"], BOURGES["latitude"], BOURGES["longitude"]) == (
        pytest.approx(97, abs=3)
    )
    assert haversine_km(ORLEANS["latitude"], ORLEANS["longitude"], BLOIS["latitude"], BLOIS["longitude"]) == (
        pytest.approx(55, abs=3)
    )
    assert haversine_km(47.0, 2.0, 47.0, 2.0) == 0


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-80, 80),
    lon=st.floats(-179, 179),
    km=st.floats(0.5, 300),
    cap=st.floats(0, 360),
    part=st.floats(0, 1),
)
def test_every_point_within_reach_is_inside_the_box(lat, lon, km, cap, part):
    """The bounding box never leaves out a point that the exact distance would keep."""
    import math

    d = km * part / 6371.0088
    phi1, lambda1, theta = math.radians(lat), math.radians(lon), math.radians(cap)
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(theta))
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(d) * math.cos(phi1), math.cos(d) - math.sin(phi1) * math.sin(phi2)
    )
    lat2, lon2 = math.degrees(phi2), math.degrees(lambda2)
    lat_min, lat_max, lon_min, lon_max = boite(lat, lon, km)
    assert lat_min - 1e-9 <= lat2 <= lat_max + 1e-9
    assert lon_min - 1e-9 <= lon2 <= lon_max + 1e-9


def test_communes_within_a_radius():
    for commune in (ORLEANS, OLIVET, BLOIS, BOURGES):
        CommuneFactory(**commune)
    CommuneFactory(code_insee="45999", nom="Sans position", departement="45")
    assert communes_a_moins_de(["45234"], 10) == ["45232", "45234"]
    assert communes_a_moins_de(["45234"], 60) == ["41018", "45232", "45234"]
    assert communes_a_moins_de(["45234"], 100) == ["18033", "41018", "45232", "45234"]
    assert communes_a_moins_de(["45999"], 100) == []


def test_loaded_communes_have_their_centre():
    from ofeli.referentiels.loaders import communes_charger, regions_charger
    from ofeli.referentiels.models import Commune

    regions_charger()
    communes_charger()
    orleans = Commune.objects.get(code_insee="45234")
    assert (orleans.latitude, orleans.longitude) == (ORLEANS["latitude"], ORLEANS["longitude"])
    assert Commune.objects.filter(latitude__isnull=True).count() <= 2
    assert "45232" in communes_a_moins_de(["45234"], 5)


@pytest.fixture
def trois_villes(staff_user, organisme, formation_soumise_factory):
    for commune in (ORLEANS, OLIVET, BLOIS, BOURGES):
        CommuneFactory(**commune)
    for ville in (OLIVET, BLOIS, BOURGES):
        lieu = LieuFactory(
            organisme=organisme, ville=ville["nom"], code_insee=ville["code_insee"], departement=ville["departement"]
        )
        publier(formation_soumise_factory(intitule=f"Soudeur à {ville['nom']}", lieu=lieu), staff_user)


def test_public_search_by_distance_from_a_commune(client, trois_villes):
    def chercher(**params):
        return intitules(client.get(reverse("public:recherche"), params))

    assert chercher(commune="Orléans") == []
    assert chercher(commune="Orléans", distance="10") == ["Soudeur à Olivet"]
    assert chercher(commune="Orléans", distance="100") == ["Soudeur à Blois", "Soudeur à Bourges", "Soudeur à Olivet"]
    assert chercher(commune="45234", distance="50", q="soudeur") == ["Soudeur à Olivet"]
    assert chercher(commune="Blois", distance="5") == ["Soudeur à Blois"]


def test_distance_errors_are_shown_in_french(client, trois_villes):
    CommuneFactory(code_insee="45999", nom="Sans position", departement="45")
    html = client.get(reverse("public:recherche"), {"distance": "20"}).content.decode()
    assert "Indiquez la commune autour de laquelle chercher." in html
    html = client.get(reverse("public:recherche"), {"commune": "Sans position", "distance": "20"}).content.decode()
    assert "La position de cette commune n&#x27;est pas connue" in html
    html = client.get(reverse("public:recherche"), {"commune": "Orléans", "distance": "7"}).content.decode()
    assert "Sélectionnez un choix valide" in html
