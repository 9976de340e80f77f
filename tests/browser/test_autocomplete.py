"""autocomplete.js in a real browser, under the app's CSP: suggestions from the server fill the field's <datalist>."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from ofeli.referentiels import loaders
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def page(browser, live_server, settings):
    """A page WITHOUT bypass_csp: this test checks that autocomplete.js works under the app's CSP."""
    settings.ALLOWED_HOSTS = ["*"]
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def suggestions(page, field_id):
    return page.eval_on_selector_all(f"#{field_id}-suggestions option", "options => options.map(o => o.value)")


def test_typing_a_word_suggests_codes_and_keeps_the_codes_already_typed(page, live_server):
    loaders.formacode_charger(path=loaders.FORMACODE_SAMPLE)
    contact = ContactFactory(peut_saisir=True)
    client = Client()
    client.force_login(contact.user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto("/offre/formations/nouvelle/")
    page.get_by_role("tab", name="Domaines et métiers").click()
    field = page.locator("input[name=formacodes]")
    field_id = field.get_attribute("id")
    assert field.get_attribute("data-autocomplete") == "/referentiels/formacodes/"

    field.press_sequentially("soudage")
    expect(page.locator(f"#{field_id}-suggestions option")).to_have_count(1)
    assert suggestions(page, field_id) == ["22454"]

    field.fill("")
    field.press_sequentially("22454, anglais")
    expect(page.locator(f"#{field_id}-suggestions option[value='22454, 15234']")).to_have_count(1)
    assert suggestions(page, field_id) == ["22454, 15234"]
    label = page.eval_on_selector(f"#{field_id}-suggestions option", "o => o.textContent")
    assert label == "15234 – Anglais"
