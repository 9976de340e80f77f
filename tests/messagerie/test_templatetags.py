import pytest
from django.template import Context, Template
from django.test import RequestFactory

from ofeli.messagerie import services
from ofeli.messagerie.notifications import notifier

pytestmark = pytest.mark.django_db

TEMPLATE = Template("{% load messagerie %}{% badge_messagerie as n %}[{{ n }}]")


def _render(user):
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    return TEMPLATE.render(Context({"request": request}))


def test_badge_for_a_contact_and_for_staff(gestionnaire, staff_user):
    from django.contrib.auth.models import AnonymousUser

    fil = services.fil_pour_objet(organisme=gestionnaire.organisme)
    services.message_envoyer(fil=fil, auteur=staff_user, texte="Bonjour")
    notifier(organisme=gestionnaire.organisme, type="validation", sujet="Validée", texte="", lien="")
    assert _render(gestionnaire.user) == "[2]"
    services.message_envoyer(fil=fil, auteur=gestionnaire.user, texte="Merci")
    assert _render(gestionnaire.user) == "[1]"  # answering read the thread; the notice remains
    assert _render(staff_user) == "[1]"  # the contact's answer
    assert _render(AnonymousUser()) == "[0]"
