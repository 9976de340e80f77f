import datetime

import pytest

from ofeli.offre.models import Formation
from ofeli.recherche.index import indexer_formation
from ofeli.referentiels.models import NSF, Certification, Commune, Departement, Formacode, Region, Rome
from tests.factories import ActionFactory, FormationFactory, LieuFactory, SessionFactory


@pytest.fixture
def referentiels(db):
    region = Region.objects.create(code="24", nom="Centre-Val de Loire")
    for code, nom in [("18", "Cher"), ("45", "Loiret"), ("37", "Indre-et-Loire")]:
        Departement.objects.create(code=code, nom=nom, region=region)
    Commune.objects.create(code_insee="18033", nom="Bourges", departement="18", region="24")
    Commune.objects.create(code_insee="45234", nom="Orléans", departement="45", region="24")
    Commune.objects.create(code_insee="37261", nom="Tours", departement="37", region="24")
    return {
        "formacodes": [
            Formacode.objects.create(code="23054", libelle="soudage"),
            Formacode.objects.create(code="24054", libelle="électricité bâtiment"),
        ],
        "nsf": [
            NSF.objects.create(code="254", libelle="Structures métalliques"),
            NSF.objects.create(code="255", libelle="Électricité, électronique"),
        ],
        "romes": [
            Rome.objects.create(code="H2913", libelle="Soudage manuel"),
            Rome.objects.create(code="F1602", libelle="Électricité bâtiment"),
        ],
        "certifications": [
            Certification.objects.create(type="RNCP", code="RNCP12345", intitule="Titre professionnel soudeur"),
            Certification.objects.create(type="RS", code="RS1234", intitule="Habilitation électrique"),
        ],
    }


@pytest.fixture
def creer_formation(db):
    """Builds a formation with one action (its lieu, dispositif...) and sessions, then indexes it."""

    def creer(
        *,
        organisme=None,
        sessions=(),
        lieu=None,
        formacodes=(),
        nsf=(),
        romes=(),
        certifications=(),
        action=None,
        **champs,
    ) -> Formation:
        if organisme is not None:
            champs["organisme"] = organisme
        formation = FormationFactory(**champs)
        formation.formacodes.set(formacodes)
        formation.nsf.set(nsf)
        formation.romes.set(romes)
        formation.certifications.set(certifications)
        act = ActionFactory(formation=formation, **(action or {}))
        if lieu is not False:
            act.lieux.add(lieu or LieuFactory(organisme=formation.organisme))
        for debut in sessions:
            SessionFactory(action=act, debut=debut, fin=debut + datetime.timedelta(days=30))
        indexer_formation(formation.pk)
        return formation

    return creer
