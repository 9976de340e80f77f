"""Browser tests: Playwright for Python driving Debian's chromium, headless.

`make test` installs chromium when it is missing (scripts/ensure-chromium); if it still is not
there the tests fail with a message saying what to install: never a silent skip.
Each test gets a `page` on the live server, an `axe_check(page)` helper (axe-core from
node_modules) and `screenshot(page, name)` that saves under test-artifacts/; `connecter(user)` opens
another page already logged in as that user (a session made by Django's test client, no password typed).

The user tour (docs/tour/tour.md) shows screenshots taken by these journeys: with OFELI_TOUR=1
(scripts/tour, `make tour`), `screenshot(page, name, tour="of-01-...")` also writes
docs/tour/img/<tour>.png, the visible part of the page at the fixed viewport, under 200 Ko.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("OFELI_CHROMIUM", "/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
TOUR_IMG = ROOT / "docs" / "tour" / "img"
TOUR = os.environ.get("OFELI_TOUR", "") not in ("", "0")
TOUR_MAX_BYTES = 200 * 1024
VIEWPORT = {"width": 1280, "height": 900}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium est introuvable ({CHROMIUM}) : installez le paquet Debian « chromium » "
            "(make browser) ou indiquez son chemin dans OFELI_CHROMIUM.",
            pytrace=False,
        )
    if not AXE_JS.exists():
        pytest.fail("axe-core est introuvable : lancez `npm ci` (make install).", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            # A French browser, as the users': date fields read JJ/MM/AAAA (with Debian's chromium-l10n; the
            # context's locale alone does not reach them).
            env={**os.environ, "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr"},
            args=[
                "--lang=fr-FR",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _navigateur(settings):
    """The live server answers on 127.0.0.1 under any port; passwords are hashed quickly.

    Argon2 (the production hasher) costs a tenth of a second and 100 Mo per password: the journeys create
    and log in many users, and what they check (policy, activation, login) does not depend on the hasher.
    """
    settings.ALLOWED_HOSTS = ["*"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def new_context(browser, live_server):
    # bypass_csp lets axe-core be injected; the pages themselves keep their CSP.
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", timezone_id="Europe/Paris", viewport=VIEWPORT, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def page(browser, live_server):
    context = new_context(browser, live_server)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def connecter(browser, live_server):
    """`connecter(user)`: a new page in its own browser context, logged in as `user`; closed after the test.

    The session is opened by Django's test client (force_login) and handed to the browser as its cookie:
    logging in through the form is the account journey's business, not every journey's.
    """
    from django.conf import settings
    from django.test import Client

    contexts = []

    def connect(user):
        client = Client()
        client.force_login(user)
        context = new_context(browser, live_server)
        contexts.append(context)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
        return context.new_page()

    yield connect
    for context in contexts:
        context.close()


def run_axe(page, label=""):
    """axe-core (WCAG 2.1 A and AA) on the whole page; fails the test with every violation found.

    Waits for the page to be loaded first: after a click that navigates, injecting the script
    while the old document is torn down fails.
    """
    script = AXE_JS.read_text()
    for attempt in range(3):
        page.wait_for_load_state("load")
        try:
            page.add_script_tag(content=script)
            break
        except Exception:
            if attempt == 2:
                raise
            page.wait_for_timeout(200)
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(n["target"][0] for n in v["nodes"][:3])
        for v in result["violations"]
    ]
    assert not violations, f"axe sur {label or page.url} :\n" + "\n".join(violations)


@pytest.fixture
def axe_check():
    def check(page, *, context_label=""):
        run_axe(page, context_label)

    return check


@pytest.fixture
def screenshot(request):
    """`screenshot(page, name, tour=None)`: the whole page under test-artifacts/; with OFELI_TOUR=1 and a
    `tour` name, also the visible part (the context's fixed viewport) in docs/tour/img/<tour>.png."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name, *, tour=None):
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if TOUR and tour:
            TOUR_IMG.mkdir(parents=True, exist_ok=True)
            image = TOUR_IMG / f"{tour}.png"
            page.screenshot(path=str(image), animations="disabled", caret="hide")
            taille = image.stat().st_size
            assert taille < TOUR_MAX_BYTES, f"{image.name} : {taille} octets, 200 Ko au plus pour la visite guidée"
        return path

    return take


def champ(page, libelle):
    """The form field labelled exactly `libelle`, required ("*", "(obligatoire)" for screen readers) or not."""
    import re

    texte = re.escape(libelle).replace("\\ ", " ")
    return page.get_by_label(re.compile(rf"^{texte}( ?\*)?( ?\(obligatoire\))?$"))


def menu(page, entree):
    """An entry of the left menu (the guide's menu), by its label."""
    return page.get_by_role("navigation", name="Menu principal").get_by_role("link", name=entree, exact=True)
