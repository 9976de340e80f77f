import pytest

from tests.factories import FormationFactory, SessionFactory


@pytest.fixture
def formation_soumise(organisme):
    """A formation sent to validation, with one pending session (and its action)."""
    session = SessionFactory(action__formation=FormationFactory(organisme=organisme, soumise=True))
    return session.action.formation


@pytest.fixture
def session_soumise(formation_soumise):
    return formation_soumise.actions.get().sessions.get()
