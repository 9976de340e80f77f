import pytest

from tests.factories import ContactFactory, OrganismeFactory, UserFactory


@pytest.fixture
def staff_user(db):
    return UserFactory(staff=True)


@pytest.fixture
def organisme(db):
    return OrganismeFactory()


@pytest.fixture
def gestionnaire(organisme):
    """A contact of `organisme` who may manage it and enter the offer."""
    return ContactFactory(organisme=organisme, gestionnaire=True)


@pytest.fixture
def saisisseur(organisme):
    return ContactFactory(organisme=organisme, peut_saisir=True)


@pytest.fixture
def lecteur(organisme):
    """A contact with the "consulter" right only."""
    return ContactFactory(organisme=organisme, lecteur=True)
