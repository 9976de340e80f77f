import pytest

from tests.factories import CommuneFactory


@pytest.fixture(autouse=True)
def stockage_prive(settings, tmp_path):
    """Attachments go to a temporary private storage, never to var/private."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "private")},
        },
    }
    return tmp_path / "private"


@pytest.fixture
def commune_en_region(db):
    return CommuneFactory(code_insee="45234", nom="Orléans", departement="45", region="24")


@pytest.fixture
def commune_hors_region(db):
    return CommuneFactory(code_insee="75101", nom="Paris 1er", departement="75", region="11", codes_postaux=["75001"])


@pytest.fixture
def client_saisisseur(client, saisisseur):
    client.force_login(saisisseur.user)
    return client
