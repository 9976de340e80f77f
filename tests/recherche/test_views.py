import datetime
from urllib.parse import quote

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ofeli.offre.models import Etat
from ofeli.recherche.forms import RechercheForm
from tests.factories import ContactFactory, OrganismeFactory

pytestmark = pytest.mark.django_db
URL = "/recherche/formations/"


def test_route_and_gate():
    assert reverse("recherche:formations") == URL
    from ofeli.recherche.views import formations

    assert formations.ofeli_gate == "of:read"


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(URL + "?q=soudure")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_formation_in_the_left_menu_opens_the_search(client, lecteur):
    client.force_login(lecteur.user)
    html = client.get(reverse("core:tableau_de_bord")).content.decode()
    assert f'href="{URL}">Formations</a>' in html


def test_an_of_contact_finds_its_offer_and_never_another_ofs_drafts(client, lecteur, creer_formation):
    mienne = creer_formation(organisme=lecteur.organisme, intitule="Soudure MIG", etat=Etat.BROUILLON)
    autre = creer_formation(organisme=OrganismeFactory(), intitule="Soudure TIG secrète", etat=Etat.BROUILLON)
    client.force_login(lecteur.user)
    response = client.get(URL, {"q": "soudures"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 formation" in html
    assert f'href="{reverse("offre:formation_detail", args=[mienne.pk])}">Soudure MIG</a>' in html
    assert "secrète" not in html
    # Nor by its Carif number, nor by naming its organisme (a staff-only criterion).
    for params in ({"numero": autre.numero or "X"}, {"organisme": autre.organisme.siret, "q": "TIG"}):
        assert "secrète" not in client.get(URL, params).content.decode()
    assert 'name="organisme"' not in html


def test_staff_search_everything_and_see_the_organisme(client, staff_user, creer_formation):
    a = creer_formation(organisme=OrganismeFactory(raison_sociale="Alpha Formation"), intitule="Comptabilité")
    creer_formation(organisme=OrganismeFactory(raison_sociale="Beta Conseil"), intitule="Comptabilités analytiques")
    client.force_login(staff_user)
    html = client.get(URL, {"q": "comptabilite", "tri": "intitule"}).content.decode()
    assert "2 formations" in html and "Alpha Formation" in html and "Beta Conseil" in html
    html = client.get(URL, {"organisme": a.organisme.siret}).content.decode()
    assert "1 formation" in html and "Comptabilité" in html


def test_results_show_next_session_and_update_date(client, staff_user, creer_formation):
    creer_formation(intitule="Peinture", sessions=[datetime.date(2001, 1, 5), datetime.date(2040, 6, 15)])
    client.force_login(staff_user)
    html = client.get(URL).content.decode()
    assert "15/06/2040" in html
    assert datetime.date.today().strftime("%d/%m/%Y") in html


def test_pagination_keeps_the_criteria_in_the_url(client, staff_user, creer_formation):
    for i in range(23):
        creer_formation(intitule=f"Cuisine {i:02d}", lieu=False)
    client.force_login(staff_user)
    html = client.get(URL, {"q": "cuisine", "tri": "intitule"}).content.decode()
    assert "23 formations" in html and "Page 1 sur 2" in html
    assert 'href="?q=cuisine&amp;tri=intitule&amp;page=2"' in html
    page2 = client.get(URL, {"q": "cuisine", "tri": "intitule", "page": "2"}).content.decode()
    assert "Cuisine 22" in page2 and "Cuisine 00" not in page2
    # A page that does not exist shows the last one or the first one, never an error.
    assert "Page 2 sur 2" in client.get(URL, {"q": "cuisine", "page": "999"}).content.decode()
    assert "Page 1 sur 2" in client.get(URL, {"q": "cuisine", "page": "abc"}).content.decode()


def test_bad_criteria_show_a_message_next_to_the_field(client, staff_user):
    client.force_login(staff_user)
    response = client.get(URL, {"formacode": "99999", "debut_apres": "32/01/2031"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="id_formacode-erreurs"' in html and "Formacode inconnu : 99999." in html
    assert 'aria-describedby="id_debut_apres-aide id_debut_apres-erreurs"' in html
    assert "Aucun résultat : corrigez les critères" in html
    assert '<details class="border rounded p-3 mb-3" open>' in html


def test_query_count_does_not_grow_with_the_results(client, staff_user, creer_formation):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(staff_user)

    def requetes():
        with CaptureQueriesContext(connection) as contexte:
            assert client.get(URL, {"q": "menuiserie"}).status_code == 200
        return len(contexte.captured_queries)

    creer_formation(intitule="Menuiserie 0", sessions=[datetime.date(2040, 1, 1)])
    avec_un = requetes()
    for i in range(1, 15):
        creer_formation(intitule=f"Menuiserie {i}", sessions=[datetime.date(2040, 1, 1)])
    assert requetes() == avec_un <= 16


CHAMPS = [*RechercheForm(staff=True).fields, "page", "inconnu"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=st.dictionaries(st.sampled_from(CHAMPS), st.text(max_size=40), max_size=6))
def test_arbitrary_criteria_never_give_a_server_error(client, staff_user, params):
    client.force_login(staff_user)
    assert client.get(URL, params).status_code == 200


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query_string=st.text(max_size=120))
def test_arbitrary_query_strings_never_give_a_server_error(client, lecteur, query_string):
    client.force_login(lecteur.user)
    assert client.get(URL + "?" + quote(query_string, safe="=&")).status_code == 200


def test_of_contact_without_membership_is_refused(client):
    contact = ContactFactory(actif=False)
    client.force_login(contact.user)
    assert client.get(URL).status_code == 403


def test_count_stops_at_the_ceiling(client, staff_user, creer_formation, monkeypatch):
    from ofeli.recherche import services

    monkeypatch.setattr(services, "PLAFOND_COMPTE", 3)
    for i in range(5):
        creer_formation(intitule=f"Jardinage {i}", lieu=False)
    client.force_login(staff_user)
    html = client.get(URL, {"q": "jardinage", "tri": "intitule"}).content.decode()
    assert "Plus de 3 formations : précisez la recherche pour les voir toutes" in html
    assert "Jardinage 3" in html  # the page still shows what it found
