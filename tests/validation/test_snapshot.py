import datetime

import pytest

from ofeli.offre.models import Action, Formation, Session
from ofeli.validation import snapshot
from tests.factories import SessionFactory

pytestmark = pytest.mark.django_db


def test_serialised_formation_has_labels_and_json_values():
    session = SessionFactory(places_restantes=4)
    data = snapshot.serialiser(session.action.formation)
    assert data["parcours_libelle"] == "En groupe (non personnalisable)"
    assert data["organisme"]["raison_sociale"] == session.action.formation.organisme.raison_sociale
    assert "etat" not in data and "version" not in data
    s = snapshot.serialiser(session)
    assert s["debut"] == session.debut.isoformat() and s["places_restantes"] == 4


def test_diff_lines_use_french_labels_choices_and_dates():
    avant = {"intitule": "A", "parcours": 1, "parcours_libelle": "En groupe", "url": ""}
    apres = {"intitule": "B", "parcours": 2, "parcours_libelle": "Individualisé", "url": None}
    lignes = snapshot.diff_objet(Formation, avant, apres)
    assert [(ligne["libelle"], ligne["avant"], ligne["apres"]) for ligne in lignes] == [
        ("Intitulé", "A", "B"),
        ("Parcours de formation", "En groupe", "Individualisé"),
    ]
    dates = snapshot.diff_objet(Session, {"debut": "2025-09-01"}, {"debut": "2025-09-08"})
    assert dates[0]["avant"] == "01/09/2025" and dates[0]["apres"] == "08/09/2025"
    booleens = snapshot.diff_objet(Action, {"entree_sortie_permanente": False}, {"entree_sortie_permanente": True})
    assert (booleens[0]["avant"], booleens[0]["apres"]) == ("Non", "Oui")


def test_new_formation_diff_shows_everything_as_new():
    session = SessionFactory(debut=datetime.date(2030, 1, 7))
    d = snapshot.diff(formation=session.action.formation, publication_data=None)
    assert d["nouvelle"]
    assert {ligne["champ"] for ligne in d["formation"]} >= {"intitule", "objectif", "contenu"}
    assert d["actions"][0]["statut"] == "nouvelle"
    assert d["actions"][0]["sessions"][0]["statut_libelle"] == "Nouvelle"
