import pytest
from django.http import QueryDict

from ofeli.recherche.forms import RechercheForm

pytestmark = pytest.mark.django_db


def _erreurs(params, staff=True):
    data = QueryDict(mutable=True)
    data.update(params)
    form = RechercheForm(data, staff=staff)
    assert not form.is_valid()
    return {champ: [str(m) for m in messages] for champ, messages in form.errors.items()}


def test_empty_form_is_valid_and_means_any():
    form = RechercheForm({}, staff=False)
    assert form.is_valid()
    criteres = form.criteres()
    assert (criteres.texte, criteres.certifiante, criteres.etats, criteres.tri) == ("", None, [], "pertinence")


@pytest.mark.parametrize(
    ("params", "champ", "message"),
    [
        ({"debut_apres": "31/02/2031"}, "debut_apres", "Saisissez une date valide."),
        ({"debut_avant": "demain"}, "debut_avant", "Saisissez une date valide."),
        (
            {"debut_apres": "2031-05-01", "debut_avant": "2031-04-01"},
            "debut_avant",
            "Cette date doit être postérieure ou égale à la date « à partir du ».",
        ),
        ({"formacode": "99999"}, "formacode", "Formacode inconnu : 99999."),
        ({"formacode": "abc"}, "formacode", "Code mal formé : ABC (exemple attendu : 31812)."),
        ({"nsf": "999"}, "nsf", "Code NSF inconnu : 999."),
        ({"rome": "Z9999"}, "rome", "Code ROME inconnu : Z9999."),
        ({"certification": "RNCP99999"}, "certification", "Code RNCP ou RS inconnu : RNCP99999."),
        (
            {"certification": "rncp 12345"},
            "certification",
            "Code mal formé : RNCP, 12345 (exemple attendu : RNCP12345 ou RS1234).",
        ),
        ({"departement": "99"}, "departement", "Département inconnu : 99."),
        ({"commune": "Atlantide"}, "commune", "Commune inconnue : Atlantide."),
        ({"organisme": "Personne"}, "organisme", "Aucun organisme ne correspond à « Personne »."),
        ({"etat": "supprimee"}, "etat", "Sélectionnez un choix valide. supprimee n’en fait pas partie."),
        ({"niveau_sortie": "42"}, "niveau_sortie", "Sélectionnez un choix valide. 42 n’en fait pas partie."),
        ({"q": "x" * 201}, "q", "Assurez-vous que cette valeur comporte au plus 200 caractères (actuellement 201)."),
        ({"q": "soudure\x00"}, "q", "Le caractère nul n’est pas autorisé."),
        ({"commune": "Tours\x00"}, "commune", "Le caractère nul n’est pas autorisé."),
        ({"numero": "1\x00"}, "numero", "Le caractère nul n’est pas autorisé."),
        ({"formacode": " ".join(str(10000 + i) for i in range(31))}, "formacode", "30 valeurs au plus."),
    ],
)
def test_bad_criteria_get_a_french_message_on_their_field(referentiels, params, champ, message):
    assert _erreurs(params) == {champ: [message]}


def test_known_codes_and_names_are_accepted(referentiels):
    form = RechercheForm(
        {
            "formacode": "23054, 24054",
            "rome": "h2913",
            "certification": "RS1234",
            "departement": "18 45",
            "commune": "Orléans; 18033",
            "debut_apres": "01/01/2031",
            "numero": "308695s",
            "marche": "M 2024-17, AB1",
        },
        staff=True,
    )
    assert form.is_valid(), form.errors
    criteres = form.criteres()
    assert criteres.formacodes == ["23054", "24054"]
    assert criteres.romes == ["H2913"]
    assert criteres.communes == ["45234", "18033"]
    assert criteres.numeros == ["308695S"]
    assert criteres.marches == ["M2024-17", "AB1"]
    assert criteres.debut_apres.isoformat() == "2031-01-01"


def test_organisme_criterion_is_for_staff_only(organisme):
    assert "organisme" not in RechercheForm({}, staff=False).fields
    form = RechercheForm({"organisme": organisme.siret}, staff=False)
    assert form.is_valid() and form.criteres().organismes == []
    form = RechercheForm({"organisme": organisme.siret}, staff=True)
    assert form.is_valid() and form.criteres().organismes == [organisme.pk]
    form = RechercheForm({"organisme": organisme.nda}, staff=True)
    assert form.is_valid() and form.criteres().organismes == [organisme.pk]
