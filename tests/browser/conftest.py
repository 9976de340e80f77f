"""Browser tests: Playwright for Python driving Debian's chromium, headless.

`make test` installs chromium when it is missing (scripts/ensure-chromium); if it still is not
there the tests fail with a message saying what to install: never a silent skip.
Each test gets a `page` on the live server, an `axe_check(page)` helper (axe-core from
node_modules) and `screenshot(page, name)` that saves under test-artifacts/.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("OFELI_CHROMIUM", "/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
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
            args=[
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


@pytest.fixture
def page(browser, live_server, settings):
    settings.ALLOWED_HOSTS = ["*"]
    # bypass_csp lets axe-core be injected; the pages themselves keep their CSP.
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
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
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page, name):
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
