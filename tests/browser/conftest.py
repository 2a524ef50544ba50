"""Playwright on Debian's headless Chromium, against the app served on loopback.

Playwright's Python package brings its driver; the browser is the system's (`apt-get install
chromium`), because browser downloads are not possible here. Without it the tests skip on a
developer's machine and fail in CI (the CI environment variable is set), where .ci/run
installs it. The platform's CDN is blocked in every page, so what passes here passes
without App Bridge: the pages fall back to the id token they were opened with.
"""
import os
import shutil
from pathlib import Path

import pytest
import responses

from tests.helpers import SHOP, session_token, token_answer, token_endpoint

CHROMIUM = os.environ.get("LOYALTY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
HOST = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvcm9zZWJ1ZC10ZWE"


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs chromium)", pytrace=False)
    pytest.skip(f"{reason}: `apt-get install chromium` and `pip install -r requirements.txt` to run them")


@pytest.fixture(scope="session")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def platform():
    """The platform's token endpoint, for the token exchange of the shop's first open."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(token_endpoint(), json=token_answer())
        yield mock


class Panel:
    """One browser tab on the panel, as the store admin opens it."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.blocked: list[str] = []
        self.errors: list[str] = []

    def url(self, path: str, shop: str = SHOP) -> str:
        from urllib.parse import urlencode

        query = urlencode({"shop": shop, "host": HOST, "embedded": "1", "id_token": session_token(shop)})
        return f"{self.base_url}{path}?{query}"

    def open(self, path: str, loaded: str | None = None, shop: str = SHOP):
        """Load a page with a fresh session token; wait until its script says what it loaded."""
        response = self.page.goto(self.url(path, shop))
        if loaded is not None:
            self.wait_loaded(loaded)
        return response

    def wait_loaded(self, value: str) -> None:
        from playwright.sync_api import expect

        expect(self.page.locator("body")).to_have_attribute("data-loaded", value)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def panel(browser, live_server, platform):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC")
    page = context.new_page()
    tab = Panel(page, live_server)

    def block(route):
        tab.blocked.append(route.request.url)
        route.abort()

    # The CDN is unreachable here anyway; blocking it makes that certain and fast.
    context.route("https://cdn.shopify.com/**", block)
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    yield tab
    context.close()
    assert not tab.errors, f"script errors in the page: {tab.errors}"
