import pytest
from django.urls import reverse

from ofeli.core.aide import SUJETS


@pytest.mark.django_db
@pytest.mark.parametrize("sujet", SUJETS, ids=lambda s: s.slug)
def test_every_help_topic_renders_with_its_title_and_the_gip_contact(client, sujet):
    response = client.get(reverse("core:aide_sujet", args=[sujet.slug]))
    assert response.status_code == 200
    html = response.content.decode()
    assert sujet.titre.replace("'", "&#x27;") in html
    assert "offre@alfacentre.org" in html


@pytest.mark.django_db
def test_help_index_lists_every_topic_and_unknown_topic_is_404(client):
    html = client.get(reverse("core:aide")).content.decode()
    for sujet in SUJETS:
        assert reverse("core:aide_sujet", args=[sujet.slug]) in html
    assert client.get("/aide/inconnu/").status_code == 404
