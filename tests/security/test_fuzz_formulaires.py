"""The main forms fuzzed through the test client: arbitrary Unicode (NUL, lone surrogates sent as invalid UTF-8),
huge strings, numbers where text is expected and the reverse, repeated fields, unknown fields. Never a server
error (the test client re-raises any exception), and a rejected form writes nothing.

Field names are read from the page itself, so a field added later is fuzzed too. The search pages of the
recherche app are also fuzzed in tests/recherche/test_views.py with printable text; here with the rest.
"""

import re
from urllib.parse import urlencode

import pytest
from django.forms.models import model_to_dict
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ofeli.accounts.models import DemandeCompte, User
from ofeli.messagerie.models import Fil, Message
from ofeli.offre.models import Action, Formation, Session
from ofeli.organismes.models import Contact, Organisme
from tests.factories import CommuneFactory, ContactFactory, FormationFactory, OrganismeFactory

pytestmark = pytest.mark.django_db

# No shrinking: a failure is reported at once with its example (shrinking through HTTP requests takes minutes).
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)

# Every code point, lone surrogates included (category Cs): they reach the server as invalid UTF-8.
CARACTERE = st.characters(exclude_categories=())
PIEGES = [
    "",
    "\x00",
    "a\x00b",
    "\ud800",
    "\udfff\ud800",
    "A" * 100_000,
    "é" * 30_000,
    "-1",
    "0",
    "99999999999999999999999999999",
    "1e309",
    "NaN",
    "true",
    "31/02/2026",
    "2026-13-45",
    "00/00/0000",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../../etc/passwd",
    "%00",
    "[]",
    "{}",
    "   ",
    "\u202e\u200b\ufeff",
]
VALEUR = st.one_of(
    st.text(CARACTERE, max_size=60),
    st.sampled_from(PIEGES),
    st.integers().map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


def champs_de(html: str) -> list[str]:
    """The names of the inputs, selects and textareas of a page (but the CSRF token)."""
    noms = set(re.findall(r"<(?:input|select|textarea)\b[^>]*\bname=\"([^\"]+)\"", html))
    noms.discard("csrfmiddlewaretoken")
    assert noms, "aucun champ trouvé sur la page"
    return sorted(noms)


def donnees(noms):
    cles = st.one_of(st.sampled_from(noms), st.sampled_from(noms), st.text(max_size=12))
    return st.dictionaries(cles, st.lists(VALEUR, min_size=1, max_size=3), max_size=len(noms) + 3)


def encoder(data: dict) -> str:
    pairs = [(k, v) for k, valeurs in data.items() for v in valeurs]
    return urlencode(pairs, encoding="utf-8", errors="surrogatepass")


def poster(client, url, data):
    return client.post(url, encoder(data), content_type="application/x-www-form-urlencoded")


def compter(*models):
    return {m.__name__: m.objects.count() for m in models}


def verifier(response, avant, apres, *, ecrit_si_redirige=True):
    assert response.status_code < 500
    if response.status_code != 302 or not ecrit_si_redirige:
        assert apres == avant, "formulaire refusé, mais quelque chose a été écrit"


# --- public forms ------------------------------------------------------------------------------
@pytest.fixture
def champs_demande(client):
    return champs_de(client.get(reverse("accounts:demande_creer")).content.decode())


@FUZZ
@given(data=st.data())
def test_account_request_form(client, champs_demande, data):
    valeurs = data.draw(donnees(champs_demande))
    avant = compter(DemandeCompte, Organisme, User, Contact)
    response = poster(client, reverse("accounts:demande_creer"), valeurs)
    verifier(response, avant, compter(DemandeCompte, Organisme, User, Contact))


@FUZZ
@given(data=st.data())
def test_login_form(client, db, data):
    champs = champs_de(client.get(reverse("accounts:login")).content.decode())
    valeurs = data.draw(donnees(champs))
    avant = compter(User)
    response = poster(client, reverse("accounts:login"), valeurs)
    assert response.status_code in {200, 302, 400, 403, 429}
    assert compter(User) == avant
    assert "_auth_user_id" not in client.session


@FUZZ
@given(params=st.data())
def test_public_search_parameters(client, db, params):
    champs = [*champs_de(client.get(reverse("public:recherche")).content.decode()), "page", "tri"]
    query = encoder(params.draw(donnees(champs)))
    assert client.get(f"{reverse('public:recherche')}?{query}").status_code < 500


# --- OF forms ------------------------------------------------------------------------------------
@pytest.fixture
def gestionnaire_connecte(client, db):
    contact = ContactFactory(gestionnaire=True, organisme=OrganismeFactory())
    CommuneFactory(code_insee="45234", nom="Orléans", departement="45", region="24")
    client.force_login(contact.user)
    return contact


@FUZZ
@given(data=st.data())
def test_organisme_form(client, gestionnaire_connecte, data):
    url = reverse("organismes:fiche_modifier")
    champs = champs_de(client.get(url).content.decode())
    organisme = gestionnaire_connecte.organisme
    avant = model_to_dict(Organisme.objects.get(pk=organisme.pk))
    response = poster(client, url, data.draw(donnees(champs)))
    assert response.status_code < 500
    if response.status_code != 302:
        assert model_to_dict(Organisme.objects.get(pk=organisme.pk)) == avant


@FUZZ
@given(data=st.data())
def test_formation_form(client, gestionnaire_connecte, data):
    url = reverse("offre:formation_creer")
    champs = champs_de(client.get(url).content.decode())
    avant = compter(Formation, Action, Session)
    response = poster(client, url, data.draw(donnees(champs)))
    verifier(response, avant, compter(Formation, Action, Session))


@FUZZ
@given(data=st.data())
def test_session_form(client, gestionnaire_connecte, data):
    formation = Formation.objects.filter(organisme=gestionnaire_connecte.organisme).first() or FormationFactory(
        organisme=gestionnaire_connecte.organisme
    )
    url = reverse("offre:session_creer", args=[formation.pk])
    champs = champs_de(client.get(url).content.decode())
    avant = compter(Action, Session)
    response = poster(client, url, data.draw(donnees(champs)))
    verifier(response, avant, compter(Action, Session))


@FUZZ
@given(data=st.data())
def test_message_form(client, gestionnaire_connecte, data):
    url = reverse("messagerie:nouveau")
    champs = champs_de(client.get(url).content.decode())
    avant = compter(Fil, Message)
    response = poster(client, url, data.draw(donnees(champs)))
    verifier(response, avant, compter(Fil, Message))


@FUZZ
@given(data=st.data())
def test_offer_search_parameters(client, gestionnaire_connecte, data):
    url = reverse("recherche:formations")
    champs = [*champs_de(client.get(url).content.decode()), "page", "tri", "format"]
    query = encoder(data.draw(donnees(champs)))
    assert client.get(f"{url}?{query}").status_code < 500


@FUZZ
@given(data=st.data())
def test_staff_offer_search_parameters(client, staff_user, data):
    client.force_login(staff_user)
    url = reverse("recherche:formations")
    champs = [*champs_de(client.get(url).content.decode()), "page"]
    query = encoder(data.draw(donnees(champs)))
    assert client.get(f"{url}?{query}").status_code < 500
