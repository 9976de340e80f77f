import datetime

import pytest

from ofeli.referentiels.models import NSF, Formacode, Rome
from tests.factories import LieuFactory
from tests.tableur.classeurs import classeur


@pytest.fixture(autouse=True)
def stockage_prive(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }


@pytest.fixture(autouse=True)
def huey_immediate():
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture
def referentiels(db):
    Formacode.objects.create(code="22454", libelle="Soudage")
    Formacode.objects.create(code="31054", libelle="Informatique")
    NSF.objects.create(code="254", libelle="Structures métalliques")
    Rome.objects.create(code="H2913", libelle="Soudage manuel")


@pytest.fixture
def lieux(organisme):
    return {
        "bourges": LieuFactory(organisme=organisme, denomination="Atelier de Bourges"),
        "paris": LieuFactory(organisme=organisme, hors_region=True, denomination="Antenne de Paris"),
    }


def formation_ligne(ref, **autres):
    return {
        "Identifiant dans la source": ref,
        "Intitulé": f"Soudage {ref}",
        "Certifiante": "Non",
        "Formacodes": "22454",
        "NSF": "254",
        "ROME": "H2913",
        "Niveau d'entrée": "Sans niveau spécifique",
        "Objectif": "Souder à l'arc.",
        "Résultats attendus": "Une soudure conforme.",
        "Contenu": "Sécurité, procédés.",
        **autres,
    }


def session_ligne(ref_formation, debut=datetime.date(2027, 1, 4), fin=datetime.date(2027, 3, 26), **autres):
    return {
        "Identifiant source de la formation": ref_formation,
        "Date de début": debut,
        "Date de fin": fin,
        "Dispositif": "Entreprise ou particulier",
        "Rythme": "Temps plein",
        "Publics visés (Formacode)": "83056",
        "Lieux de formation": "Atelier de Bourges",
        "Durée totale (heures)": 350,
        "Prix total TTC (€)": 4200,
        **autres,
    }


@pytest.fixture
def fichier_mixte():
    """Two good formations with three good sessions, and bad rows of every kind the issue names."""
    return classeur(
        [
            formation_ligne("F1"),
            formation_ligne("F2", Formacodes="22454, 99999"),  # unknown Formacode
            formation_ligne("F3", Objectif=None),  # empty required cell
            formation_ligne("F4", Intitulé="Soudage TIG"),
        ],
        [
            session_ligne("F1"),
            session_ligne("F1", debut=datetime.date(2027, 4, 5), fin=datetime.date(2027, 6, 25)),
            session_ligne("F1", debut="31/02/2027"),  # bad date
            session_ligne("F1", **{"Lieux de formation": "Antenne de Paris"}),  # a place outside the region
            session_ligne("F4", **{"Places restantes": "douze"}),  # wrong type
            session_ligne("F2"),  # its formation is in error
            session_ligne("F4", Rythme=None),  # empty required cell
            session_ligne("F4"),
        ],
    )
