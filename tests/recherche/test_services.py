"""The search: full text on both databases, every criterion alone and combined, the sorts, the scope."""

import datetime

import pytest
from django.test import RequestFactory

from ofeli.offre.models import Dispositif, Etat, ModalitesEnseignement, Source
from ofeli.recherche.services import formations_pour, page_pour
from tests.factories import LieuFactory, OrganismeFactory, UserFactory

pytestmark = pytest.mark.django_db
JOUR = datetime.date(2031, 3, 2)


@pytest.fixture
def chercher(staff_user):
    def chercher(params=None, *, user=None):
        request = RequestFactory().get("/recherche/formations/", params or {})
        request.user = user or staff_user
        request.session = {}
        formations, erreurs = formations_pour(request, request.GET)
        assert erreurs == {}
        return [f.intitule for f in formations]

    return chercher


@pytest.fixture
def offre(referentiels, creer_formation):
    """Three formations that differ on every criterion."""
    fc_soudage, fc_elec = referentiels["formacodes"]
    nsf_metal, nsf_elec = referentiels["nsf"]
    rome_soud, rome_elec = referentiels["romes"]
    rncp, rs = referentiels["certifications"]
    autre_of = OrganismeFactory(raison_sociale="Centre Électrique du Cher")
    atelier = OrganismeFactory(raison_sociale="Atelier Dupont")
    soudure = creer_formation(
        organisme=atelier,
        intitule="Soudure à l'arc",
        objectif="Souder en toute sécurité.",
        contenu="Procédés MIG et TIG.",
        certifiante=True,
        niveau_sortie=13,
        niveau_entree=1,
        numero="100001F",
        etat=Etat.VALIDEE,
        lieu=LieuFactory(departement="18", code_insee="18033", ville="Bourges"),
        sessions=[JOUR],
        formacodes=[fc_soudage],
        nsf=[nsf_metal],
        romes=[rome_soud],
        certifications=[rncp],
        action={"dispositif": Dispositif.AIF, "numero_marche": "M-2031-01"},
    )
    electricite = creer_formation(
        organisme=autre_of,
        intitule="Électricité du bâtiment",
        objectif="Installer des tableaux électriques.",
        contenu="Normes, habilitation.",
        certifiante=True,
        niveau_sortie=14,
        niveau_entree=13,
        etat=Etat.EN_ATTENTE,
        source=Source.REGION,
        lieu=LieuFactory(organisme=autre_of, departement="45", code_insee="45234", ville="Orléans"),
        sessions=[JOUR + datetime.timedelta(days=90)],
        formacodes=[fc_elec],
        nsf=[nsf_elec],
        romes=[rome_elec],
        certifications=[rs],
        action={"dispositif": Dispositif.REGION, "entree_sortie_permanente": True},
    )
    anglais = creer_formation(
        organisme=atelier,
        intitule="Anglais professionnel",
        objectif="Communiquer en anglais : une formation pour tous.",
        contenu="Oral et écrit.",
        etat=Etat.BROUILLON,
        source=Source.APPRENTISSAGE,
        lieu=False,
        sessions=[JOUR + datetime.timedelta(days=200)],
        action={
            "dispositif": Dispositif.ENTREPRISE_PARTICULIER,
            "modalites_enseignement": ModalitesEnseignement.A_DISTANCE,
        },
    )
    return {"soudure": soudure, "electricite": electricite, "anglais": anglais, "autre_of": autre_of}


SOUDURE, ELEC, ANGLAIS = "Soudure à l'arc", "Électricité du bâtiment", "Anglais professionnel"


@pytest.mark.parametrize(
    ("q", "attendu"),
    [
        ("soudures", [SOUDURE]),  # plural → singular
        ("electricite", [ELEC]),  # no accents → accents
        ("ÉLECTRICITÉ", [ELEC]),
        ("FORMATION", [ANGLAIS]),  # case; the word is in the objectif
        ("sécurité tig", [SOUDURE]),  # every word, across fields
        ("soudure or anglais", [ANGLAIS, SOUDURE]),
        ('"tableaux électriques"', [ELEC]),
        ("soudure -tig", []),
        ("Orléans", [ELEC]),  # the lieu's town, among the other words
        ("de la", [ANGLAIS, ELEC, SOUDURE]),  # only stop words: no full-text criterion
        ("maçonnerie", []),
    ],
)
def test_full_text_ignores_accents_case_and_plurals(offre, chercher, q, attendu):
    assert sorted(chercher({"q": q})) == sorted(attendu)


def test_intitule_weighs_more_than_objectif_and_contenu(creer_formation, chercher):
    creer_formation(intitule="Gestion de paie", objectif="Logiciel de comptabilité.", contenu="")
    creer_formation(intitule="Comptabilité", objectif="Tenir des comptes.", contenu="")
    creer_formation(intitule="Bureautique", objectif="Tableur.", contenu="Un peu de comptabilité.")
    assert chercher({"q": "comptabilite"}) == ["Comptabilité", "Gestion de paie", "Bureautique"]


@pytest.mark.parametrize(
    ("params", "attendu"),
    [
        ({"formacode": "23054"}, [SOUDURE]),
        ({"formacode": "23054 24054"}, [ELEC, SOUDURE]),
        ({"nsf": "255"}, [ELEC]),
        ({"rome": "h2913"}, [SOUDURE]),
        ({"certification": "RS1234"}, [ELEC]),
        ({"certifiante": "oui"}, [ELEC, SOUDURE]),
        ({"certifiante": "non"}, [ANGLAIS]),
        ({"niveau_sortie": "14"}, [ELEC]),
        ({"niveau_entree": "13"}, [ELEC]),
        ({"departement": "18"}, [SOUDURE]),
        ({"departement": "18,45"}, [ELEC, SOUDURE]),
        ({"commune": "45234"}, [ELEC]),
        ({"commune": "bourges"}, [SOUDURE]),
        ({"debut_apres": "2031-05-01"}, [ANGLAIS, ELEC]),
        ({"debut_avant": "02/03/2031"}, [SOUDURE]),
        ({"debut_apres": "2031-05-01", "debut_avant": "2031-06-30"}, [ELEC]),
        ({"debut_apres": "2031-03-03", "debut_avant": "2031-05-30"}, []),
        ({"etat": ["validee", "brouillon"]}, [ANGLAIS, SOUDURE]),
        ({"dispositif": "region"}, [ELEC]),
        ({"fonds_publics": "oui"}, [ELEC, SOUDURE]),
        ({"fonds_publics": "non"}, [ANGLAIS]),
        ({"a_distance": "oui"}, [ANGLAIS]),
        ({"esp": "oui"}, [ELEC]),
        ({"esp": "non"}, [ANGLAIS, SOUDURE]),
        ({"source": "region"}, [ELEC]),
        ({"source": ["of", "apprentissage"]}, [ANGLAIS, SOUDURE]),
        ({"source": "france_travail"}, []),
        ({"numero": "100001f"}, [SOUDURE]),
        ({"marche": "m-2031-01"}, [SOUDURE]),
        ({"organisme": "électrique du cher"}, [ELEC]),
    ],
)
def test_each_criterion_alone(offre, chercher, params, attendu):
    assert sorted(chercher(params)) == sorted(attendu)


@pytest.mark.parametrize(
    ("params", "attendu"),
    [
        ({"q": "électricité", "departement": "45", "certifiante": "oui"}, [ELEC]),
        ({"q": "électricité", "departement": "18"}, []),
        ({"certifiante": "oui", "fonds_publics": "oui", "source": "of"}, [SOUDURE]),
        ({"dispositif": ["aif", "region"], "debut_avant": "2031-04-01"}, [SOUDURE]),
        ({"formacode": "23054 24054", "etat": "en_attente", "esp": "oui", "commune": "Orléans"}, [ELEC]),
        ({"q": "formation", "a_distance": "oui", "debut_apres": "2031-01-01", "source": "apprentissage"}, [ANGLAIS]),
        (
            {"q": "soudure", "rome": "H2913", "nsf": "254", "certification": "RNCP12345", "niveau_sortie": "13"},
            [SOUDURE],
        ),
        ({"numero": "100001F", "marche": "M-2031-01", "departement": "45"}, []),
    ],
)
def test_criteria_combined(offre, chercher, params, attendu):
    assert sorted(chercher(params)) == sorted(attendu)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": "formation"},
        {"q": "électricité or soudure or anglais", "tri": "mise_a_jour"},
        {"certifiante": "oui", "tri": "prochaine_session"},
        {"departement": "18 45", "q": "normes or tig"},
    ],
)
def test_the_search_page_shows_what_formations_pour_returns(offre, chercher, staff_user, params):
    request = RequestFactory().get("/recherche/formations/", params)
    request.user, request.session = staff_user, {}
    page = page_pour(request, request.GET, 1)
    assert [r.formation.intitule for r in page.resultats] == chercher(params)
    assert page.total == len(chercher(params))


def test_sorts(offre, chercher, creer_formation):
    assert chercher({"tri": "intitule"}) == [ANGLAIS, ELEC, SOUDURE]  # É sorts as E
    assert chercher({}) == [ANGLAIS, ELEC, SOUDURE]  # no words: pertinence falls back to intitulé
    assert chercher({"tri": "prochaine_session"}) == [SOUDURE, ELEC, ANGLAIS]
    offre["electricite"].save()  # updated_at moves
    from ofeli.recherche.index import indexer_formation

    indexer_formation(offre["electricite"].pk)
    assert chercher({"tri": "mise_a_jour"})[0] == ELEC


def test_next_session_sort_puts_formations_without_a_future_session_last(creer_formation, chercher):
    creer_formation(intitule="Passée", sessions=[datetime.date(2001, 1, 1)])
    creer_formation(intitule="Bientôt", sessions=[datetime.date(2001, 1, 1), JOUR])
    creer_formation(intitule="Plus tard", sessions=[JOUR + datetime.timedelta(days=1)])
    assert chercher({"tri": "prochaine_session"}) == ["Bientôt", "Plus tard", "Passée"]


def test_an_of_contact_searches_only_its_own_offer_in_every_state(offre, chercher, creer_formation):
    contact_user = UserFactory()
    from tests.factories import ContactFactory

    ContactFactory(user=contact_user, organisme=offre["autre_of"], lecteur=True)
    creer_formation(organisme=offre["autre_of"], intitule="Électricité brouillon", etat=Etat.BROUILLON)
    assert sorted(chercher({"q": "électricité"}, user=contact_user)) == ["Électricité brouillon", ELEC]
    # Another OF's drafts are never found, whatever the criteria; the organisme criterion is staff only.
    assert chercher({"q": "anglais"}, user=contact_user) == []
    assert chercher({"organisme": offre["soudure"].organisme.siret}, user=contact_user) == sorted(
        ["Électricité brouillon", ELEC]
    )


def test_invalid_criteria_give_errors_and_no_result(offre, staff_user):
    request = RequestFactory().get("/", {"debut_apres": "31/02/2031", "formacode": "99999"})
    request.user, request.session = staff_user, {}
    formations, erreurs = formations_pour(request, request.GET)
    assert list(formations) == []
    assert set(erreurs) == {"debut_apres", "formacode"}
    assert erreurs["formacode"] == ["Formacode inconnu : 99999."]


def test_the_planner_setting_does_not_outlive_the_search(offre, staff_user):
    from django.db import connection, transaction

    request = RequestFactory().get("/", {"q": "soudure"})
    request.user, request.session = staff_user, {}
    with transaction.atomic(), connection.cursor() as cursor:
        assert [r.formation.intitule for r in page_pour(request, request.GET, 1).resultats] == [SOUDURE]
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_setting('enable_seqscan')")
            assert cursor.fetchone()[0] == "on"
