import datetime

import pytest

from tests.factories import LieuFactory, SessionFactory


@pytest.fixture
def session_a_orleans(organisme):
    lieu = LieuFactory(organisme=organisme, ville="Orléans", departement="45", code_postal="45000")
    session = SessionFactory(
        action__formation__organisme=organisme,
        action__formation__intitule="Soudure à l'arc",
        action__formation__numero="900100F",
        action__numero_marche="M-1",
        action__prix_total_ttc="1500.50",
        action__nombre_heures_total=120,
        numero="308695S",
        debut=datetime.date(2026, 1, 5),
        fin=datetime.date(2026, 3, 31),
        places_restantes=3,
    )
    session.action.lieux.add(lieu)
    return session


@pytest.fixture(autouse=True)
def huey_immediate():
    """Run background jobs in-process (Huey's immediate mode, in-memory storage), whatever the settings say."""
    from huey.contrib.djhuey import HUEY

    previous = HUEY.immediate
    HUEY.immediate = True
    yield
    HUEY.immediate = previous


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    """Export files go to a temporary private storage, not to var/private."""
    storages = dict(settings.STORAGES)
    storages["default"] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "private")},
    }
    settings.STORAGES = storages
    return tmp_path / "private"
