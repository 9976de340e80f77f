import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from ofeli.offre.models import SessionContact
from ofeli.public.index import publication_indexer
from ofeli.validation import workflow
from tests.factories import CommuneFactory, ContactFactory, FormationFactory, LieuFactory, SessionFactory


@pytest.fixture(autouse=True)
def _cache_vide():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def bourges(db):
    return CommuneFactory(code_insee="18033", nom="Bourges", departement="18", codes_postaux=["18000"])


@pytest.fixture
def orleans(db):
    return CommuneFactory(code_insee="45234", nom="Orléans", departement="45", codes_postaux=["45000"])


def publier(formation, user):
    """Validates a formation as the équipe offre does, then indexes its publication (as _publier will)."""
    publication = workflow.formation_valider(formation=formation, user=user)
    publication_indexer(publication)
    formation.refresh_from_db()
    return publication


@pytest.fixture
def formation_soumise_factory(organisme):
    """A pending formation with one session (in Bourges by default) and a session contact."""

    def creer(*, intitule="Soudeur TIG", debut_jours=30, fin_jours=120, lieu=None, **kwargs):
        formation = FormationFactory(organisme=organisme, soumise=True, intitule=intitule, **kwargs)
        today = timezone.localdate()
        session = SessionFactory(
            action__formation=formation,
            debut=today + datetime.timedelta(days=debut_jours),
            fin=today + datetime.timedelta(days=fin_jours),
            places_restantes=12,
            places_date=today,
        )
        session.action.lieux.add(lieu or LieuFactory(organisme=organisme))
        contact = ContactFactory(organisme=organisme, fonction="Conseillère formation")
        SessionContact.objects.create(session=session, contact=contact, role=SessionContact.Role.INSCRIPTION)
        return formation

    return creer
