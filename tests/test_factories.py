import pytest
from stdnum.fr import siret

from tests.factories import OrganismeFactory, SessionFactory


@pytest.mark.django_db
def test_factories_build_valid_identifiers_and_the_three_lheo_levels():
    organisme = OrganismeFactory()
    assert siret.is_valid(organisme.siret)
    session = SessionFactory(action__formation__organisme=organisme)
    assert session.action.formation.organisme == organisme
    assert session.debut < session.fin
