import pytest
from django.urls import reverse

from ofeli.validation import workflow
from tests.factories import FormationFactory, SessionFactory, UserFactory


@pytest.mark.django_db
def test_the_formation_page_shows_the_request_for_complement_with_the_corrections_box(client, saisisseur):
    formation = FormationFactory(organisme=saisisseur.organisme)
    SessionFactory(action__formation=formation)
    workflow.formation_soumettre(formation=formation, user=saisisseur.user)
    workflow.formation_demander_complement(
        formation=formation, user=UserFactory(staff=True), message="Précisez le prix de la session."
    )
    client.force_login(saisisseur.user)
    html = client.get(reverse("offre:formation_detail", args=[formation.pk])).content.decode()
    assert "Précisez le prix de la session." in html
    assert "J&#x27;ai effectué les corrections" in html or "J'ai effectué les corrections" in html
