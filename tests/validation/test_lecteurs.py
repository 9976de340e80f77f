"""What readers of the offer need is written in the same transaction as each workflow move."""

import pytest

from ofeli.diffusion.models import PublicationLheo
from ofeli.offre.models import Etat
from ofeli.recherche.models import DocumentRecherche, Kind
from ofeli.validation import workflow
from tests.factories import FormationFactory, SessionFactory, UserFactory


@pytest.mark.django_db
def test_search_document_follows_each_transition_and_validation_prepares_the_lheo_fragment(saisisseur):
    formation = FormationFactory(organisme=saisisseur.organisme)
    SessionFactory(action__formation=formation)

    workflow.formation_soumettre(formation=formation, user=saisisseur.user)
    assert DocumentRecherche.objects.get(formation=formation, kind=Kind.OFFRE).etat == Etat.EN_ATTENTE

    publication = workflow.formation_valider(formation=formation, user=UserFactory(staff=True))

    assert DocumentRecherche.objects.get(formation=formation, kind=Kind.OFFRE).etat == Etat.VALIDEE
    fragment = PublicationLheo.objects.get(publication=publication).fragment
    fragment = fragment.decode() if isinstance(fragment, bytes) else fragment
    assert formation.intitule in fragment


@pytest.mark.django_db
def test_public_search_document_opens_with_the_publication_and_closes_with_it(saisisseur, client):
    formation = FormationFactory(organisme=saisisseur.organisme)
    SessionFactory(action__formation=formation)
    workflow.formation_soumettre(formation=formation, user=saisisseur.user)
    workflow.formation_valider(formation=formation, user=UserFactory(staff=True))
    assert DocumentRecherche.objects.filter(formation=formation, kind=Kind.PUBLICATION).exists()
    assert client.get("/sitemap.xml").status_code == 200

    formation.refresh_from_db()
    workflow.formation_archiver(formation=formation, user=saisisseur.user)
    assert not DocumentRecherche.objects.filter(formation=formation, kind=Kind.PUBLICATION).exists()
