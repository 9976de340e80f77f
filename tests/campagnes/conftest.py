import datetime

import pytest
from django.utils import timezone

from ofeli.campagnes import services
from ofeli.offre.models import Source
from tests.factories import (
    ActionFactory,
    ContactFactory,
    FormationFactory,
    OrganismeFactory,
    SessionFactory,
    UserFactory,
)

FAST = {"user__password": None}


def of_avec_offre(source, *, nb_formations=1, nom=None, contacts=1):
    """An active organisme with `nb_formations` formations of `source`, each with one session, and its contacts."""
    organisme = OrganismeFactory(**({"raison_sociale": nom} if nom else {}))
    for _ in range(contacts):
        ContactFactory(organisme=organisme, peut_saisir=True, **FAST)
    for _ in range(nb_formations):
        formation = FormationFactory(organisme=organisme, source=source, validee=True)
        SessionFactory(action=ActionFactory(formation=formation))
    return organisme


@pytest.fixture
def staff(db):
    return UserFactory(staff=True, password=None)


@pytest.fixture
def monde(db):
    """Two OFs with apprentissage formations, one with scolaire ones only, one with its own offer only."""
    return {
        "cfa_a": of_avec_offre(Source.APPRENTISSAGE, nb_formations=2, nom="CFA Alpha", contacts=2),
        "cfa_b": of_avec_offre(Source.APPRENTISSAGE, nom="CFA Bêta"),
        "lycee": of_avec_offre(Source.SCOLAIRE, nom="Lycée Gamma"),
        "of_libre": of_avec_offre(Source.OF, nom="Organisme Delta"),
    }


def ouvrir(staff, *, type_offre=Source.APPRENTISSAGE, jours=60, capture=None, message=""):
    debut = timezone.localdate()
    kwargs = dict(type_offre=type_offre, debut=debut, fin=debut + datetime.timedelta(days=jours), user=staff)
    if capture is None:
        return services.ouvrir_campagne(message=message, **kwargs)
    with capture(execute=True):
        return services.ouvrir_campagne(message=message, **kwargs)
