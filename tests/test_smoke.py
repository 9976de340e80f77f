import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_home_sends_anonymous_visitor_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")


@pytest.mark.django_db
def test_login_page_is_french_and_names_the_region(client):
    response = client.get(reverse("accounts:login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert "Centre-Val de Loire" in html
    assert "offre@alfacentre.org" in html
