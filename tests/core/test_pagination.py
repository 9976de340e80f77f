"""Every list over a screen paginates: an OF's formations, contacts, lieux and organismes formateurs."""

import pytest
from django.urls import reverse

from tests.factories import ContactFactory, FormationFactory, LieuFactory, OrganismeFormateurFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("route", "fabrique"),
    [
        ("offre:formations_liste", lambda org: FormationFactory(organisme=org)),
        ("organismes:contacts", lambda org: ContactFactory(organisme=org)),
        ("organismes:lieux", lambda org: LieuFactory(organisme=org)),
        ("organismes:formateurs", lambda org: OrganismeFormateurFactory(organisme=org)),
    ],
)
def test_an_of_list_shows_fifty_items_a_page_and_the_rest_on_the_next(client, route, fabrique):
    moi = ContactFactory(gestionnaire=True)
    for _ in range(55):
        fabrique(moi.organisme)
    client.force_login(moi.user)
    premiere = client.get(reverse(route)).content.decode()
    assert "Page 1 sur 2" in premiere and "page=2" in premiere
    seconde = client.get(reverse(route), {"page": 2}).content.decode()
    assert "Page 2 sur 2" in seconde
    # a page number that is not one gives the first or last page, not an error
    assert client.get(reverse(route), {"page": "abc"}).status_code == 200
    assert "Page 2 sur 2" in client.get(reverse(route), {"page": 99}).content.decode()
