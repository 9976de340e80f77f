import pytest
from django.urls import reverse

from tests.factories import ContactFactory


@pytest.mark.django_db
def test_every_page_carries_a_csp_without_inline_script_and_no_framing(client):
    response = client.get(reverse("accounts:login"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_pages_of_a_logged_in_user_are_never_stored_by_caches(client):
    contact = ContactFactory()
    client.force_login(contact.user)
    response = client.get(reverse("core:tableau_de_bord"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_no_template_of_the_project_holds_an_inline_script_or_event_handler():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "ofeli"
    offenders = []
    for path in root.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=\s*\"|\sstyle\s*=\s*\"", text):
            offenders.append(f"{path.relative_to(root)}: {match.group(0).strip()}")
    assert not offenders, "inline script, handler or style attribute (blocked by the CSP):\n" + "\n".join(offenders)
