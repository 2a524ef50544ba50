"""The theme app extension in a real browser, on the development store's theme page
(/dev/theme): the launcher's real scripts against the real app proxy (/apps/loyalty/...,
signed and checked like a store's). Ada has 477 points after ten sample orders.
Screenshots go to test-artifacts/ (docs/ with LOYALTY_UPDATE_DOCS=1)."""
import html
import os
import re
from pathlib import Path

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from tests.browser.conftest import SCREENSHOTS
from tests.dev_store import DEV_SHOP, dev_store_fixture  # noqa: F401 (the `dev_store` fixture)
from tests.helpers import auth

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs"
ADA = 7100000001


@pytest.fixture
def store(dev_store):
    """The development store installed, with ten sample orders sent from /dev."""
    client = dev_store.client()
    admin = client.get("/dev/admin").get_data(as_text=True)
    frame = re.search(r"<iframe id=app-frame title='Loyalty' src='([^']+)'", admin)
    assert client.get(html.unescape(frame.group(1))).status_code == 200  # the panel's first open installs the app
    sent = client.post("/dev/orders", data={"count": "10"})
    assert sent.status_code in (200, 303), sent.get_data(as_text=True)
    return dev_store


def new_tab(browser, width: int = 1100, height: int = 800):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-US", timezone_id="UTC")
    context.route("https://cdn.shopify.com/**", lambda route: route.abort())
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return context, page


@pytest.fixture
def tab(browser, store):
    context, page = new_tab(browser)
    yield page
    context.close()
    assert not page.errors, f"script errors in the page: {page.errors}"


def sign_in(page, store, customer_id: int | None, where: str = "home"):
    page.goto(f"{store.url}/dev/theme/sign-in?customer_id={customer_id or ''}&page={where}")


def shot(page, name: str) -> None:
    path = (DOCS if os.environ.get("LOYALTY_UPDATE_DOCS") else SCREENSHOTS) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


def test_a_member_opens_the_launcher_redeems_in_place_and_copies_the_code(tab, store):
    page = tab
    loaded = []
    page.on("request", lambda request: loaded.append(request.url))
    sign_in(page, store, ADA, "product")  # the one page whose blocks do not read panel.json
    launcher = page.get_by_role("button", name="Rewards")
    expect(page.locator(".loyalty-earn__text")).to_have_text(re.compile(r"^Earn "))
    assert not any("loyalty-panel.js" in url or "panel.json" in url for url in loaded)  # nothing before opening
    launcher.click()
    dialog = page.get_by_role("dialog", name="Rewards")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".loyalty-panel__figure")).to_have_text("477 points")
    expect(dialog).to_contain_text("23 points more for 5 off your order")
    expect(dialog).to_contain_text("Order #")  # the history, with the ledger's reasons
    shot(page, "theme-launcher")

    dialog.locator("li", has_text="Free shipping").get_by_role("button", name="Redeem").click()
    expect(dialog.get_by_role("status")).to_have_text("Your code is ready: apply it to your cart.")
    expect(dialog.locator(".loyalty-panel__figure")).to_have_text("77 points")
    code = dialog.locator(".loyalty-panel__code code").first
    expect(code).to_have_text(re.compile(r"^DEVSTORE-[2-9A-Z]{12}$"))
    expect(dialog.get_by_role("link", name="Apply to cart")).to_have_attribute(
        "href", f"/discount/{code.text_content()}?redirect=/cart")
    dialog.locator(".loyalty-panel__code").first.get_by_role("button", name="Copy").click()
    expect(dialog.locator(".loyalty-panel__code").first.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == code.text_content()


def test_a_logged_out_shopper_sees_how_to_earn_and_a_sign_in_link(tab, store):
    page = tab
    sign_in(page, store, None)
    page.get_by_role("button", name="Rewards").click()
    dialog = page.get_by_role("dialog", name="Rewards")
    expect(dialog).to_contain_text("1 point for every 1.00 you spend")  # no currency: the shop sent no shop/update
    expect(dialog.get_by_role("link", name="Sign in")).to_have_attribute("href", re.compile(r"^/account/login"))
    expect(dialog.get_by_role("button", name="Redeem")).to_have_count(0)
    # The landing page's block fills in the same program.
    expect(page.locator("[data-loyalty-ways]")).to_contain_text("Free shipping · 400 points")


def test_the_launcher_works_from_the_keyboard_and_escape_closes_it(tab, store):
    page = tab
    sign_in(page, store, ADA)
    launcher = page.get_by_role("button", name="Rewards")
    launcher.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Rewards")
    expect(dialog.locator(".loyalty-panel__figure")).to_have_text("477 points")
    expect(dialog.get_by_role("heading", name="Rewards")).to_be_focused()
    page.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_on_a_480px_screen_the_panel_fills_the_width(browser, store):
    context, page = new_tab(browser, width=480, height=800)
    sign_in(page, store, ADA)
    page.get_by_role("button", name="Rewards").click()
    dialog = page.get_by_role("dialog", name="Rewards")
    expect(dialog.locator(".loyalty-panel__figure")).to_have_text("477 points")
    box = dialog.bounding_box()
    assert box["x"] == 0 and box["width"] == 480 and box["y"] + box["height"] <= 800
    shot(page, "theme-launcher-480")
    context.close()
    assert not page.errors


def test_the_product_and_account_blocks_show_the_members_figures(tab, store):
    page = tab
    sign_in(page, store, ADA, "product")
    expect(page.locator(".loyalty-earn__text")).to_have_text("Earn 42 points with this purchase")
    sign_in(page, store, ADA, "account")
    expect(page.locator(".loyalty-balance__figure")).to_have_text("477 points")
    expect(page.locator("[data-loyalty-live]")).to_contain_text("23 points more for 5 off your order")
    shot(page, "theme-account-block")


LAYOUT_SHIFT = """() => new Promise(done => {
  let total = 0;
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) total += entry.value;
  }).observe({type: "layout-shift", buffered: true});
  setTimeout(() => done(total), 500);
})"""


@pytest.mark.parametrize("where, filled", [("product", ".loyalty-earn__text"), ("account", "[data-loyalty-live] p"),
                                           ("home", "[data-loyalty-ways] li")])
def test_the_blocks_fill_in_without_moving_the_page(tab, store, where, filled):
    """Cumulative layout shift once each block's figures arrive: none (each reserves its box)."""
    page = tab
    sign_in(page, store, ADA, where)
    expect(page.locator(filled).first).not_to_have_text(re.compile(r"^(Points for this purchase)?$"))
    assert page.evaluate(LAYOUT_SHIFT) == 0


def test_the_measure_does_see_a_shift_when_content_pushes_the_page(tab, store):
    """The control for the test above: content inserted above the fold is counted."""
    page = tab
    sign_in(page, store, ADA, "product")
    page.evaluate("""() => { const box = document.createElement("div"); box.style.height = "200px";
                            document.querySelector("main").prepend(box); }""")
    assert page.evaluate(LAYOUT_SHIFT) > 0


def test_a_member_saves_their_birthday_from_two_selects_and_copies_their_referral_link(tab, store):
    client = store.client()
    changed = client.patch("/api/program", json={"birthday_bonus": 100, "referral_points": 250},
                           headers=auth(DEV_SHOP))
    assert changed.status_code == 200, changed.get_json()
    page = tab
    sign_in(page, store, ADA, "product")
    page.get_by_role("button", name="Rewards").click()
    dialog = page.get_by_role("dialog", name="Rewards")
    expect(dialog).to_contain_text("Tell us your birthday and get 100 points on the day.")
    link = dialog.get_by_role("textbox", name="Your invitation link")
    expect(link).to_have_value(re.compile(r"^http://127\.0\.0\.1:\d+/apps/loyalty/r/\w+$"))  # resolves on /dev
    dialog.get_by_role("button", name="Copy link").click()
    assert page.evaluate("navigator.clipboard.readText()") == link.input_value()
    dialog.get_by_role("combobox", name="Month").select_option(label="May")
    dialog.get_by_role("combobox", name="Day").select_option("21")
    dialog.get_by_role("button", name="Save my birthday").click()
    expect(dialog).to_contain_text("Your birthday: May 21. We will celebrate it with you.")
    assert client.get(f"/api/members/{ADA}", headers=auth(DEV_SHOP)).get_json()["birthday"] == "05-21"
