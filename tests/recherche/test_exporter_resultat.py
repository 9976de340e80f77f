import pytest
from django.urls import reverse

from tests.factories import FormationFactory


@pytest.mark.django_db
def test_search_results_offer_both_exports_of_the_same_criteria(client, saisisseur):
    FormationFactory(organisme=saisisseur.organisme, intitule="Soudure à l'arc")
    from ofeli.recherche.index import reindexer_tout

    reindexer_tout()
    client.force_login(saisisseur.user)
    html = client.get(reverse("recherche:formations"), {"q": "soudure"}).content.decode()
    assert f"{reverse('exports:exporter')}?q=soudure&amp;format=excel" in html
    assert f"{reverse('exports:exporter')}?q=soudure&amp;format=lheo" in html
    response = client.get(reverse("exports:exporter"), {"q": "soudure", "format": "excel"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
