import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def test_login_page_renders_in_chromium_without_accessibility_violation(page, axe_check, screenshot):
    page.goto("/compte/connexion/")
    assert page.get_by_role("heading", name="Se connecter à OFeli").is_visible()
    screenshot(page, "connexion")
    axe_check(page)
