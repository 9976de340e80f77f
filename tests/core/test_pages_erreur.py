"""Error pages are in French and say that nothing was saved; they never show Django's English defaults."""

import pytest
from django.test import Client, RequestFactory, override_settings
from django.urls import path
from django.views import defaults

from tests.factories import ContactFactory


def _boum(request):
    raise RuntimeError("database connection lost")


urlpatterns = [path("boum/", _boum)]


@pytest.mark.django_db
def test_an_unknown_page_answers_in_french(client):
    response = client.get("/cette-page-n-existe-pas/")
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()


@pytest.mark.django_db
def test_a_refused_page_answers_in_french(client):
    contact = ContactFactory(peut_saisir=False, peut_gerer=False)
    client.force_login(contact.user)
    response = client.get("/organisme/contacts/inviter/")
    assert response.status_code == 403
    assert "Accès refusé" in response.content.decode()


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_a_server_error_says_nothing_was_saved():
    response = Client(raise_request_exception=False).get("/boum/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "rien n'a été enregistré" in html and "Server Error" not in html


def test_an_expired_form_says_nothing_was_saved():
    from django.views.csrf import csrf_failure

    response = csrf_failure(RequestFactory().post("/"), reason="CSRF token missing.")
    assert response.status_code == 403
    assert "Ce formulaire a expiré" in response.content.decode()


def test_a_bad_request_answers_in_french():
    response = defaults.bad_request(RequestFactory().get("/"), exception=None)
    assert "Requête incorrecte" in response.content.decode()
