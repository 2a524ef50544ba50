"""The development store in a real browser, as a newcomer uses it after `make run`: everything
starts from /dev (the storefront page has no link back, so the test goes to /dev again as a
person would type it). The dashboard screenshot in docs/ is made here: set
LOYALTY_UPDATE_DOCS=1 to write docs/dashboard.png; otherwise it goes to test-artifacts/.
"""
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
def tab(browser, dev_store):
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale="en-US", timezone_id="UTC")
    # The CDN is unreachable here; the development store's panel does not ask for it anyway.
    context.route("https://cdn.shopify.com/**", lambda route: route.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"script errors in the page: {errors}"


def open_admin(page):
    page.locator("#open-admin").click()
    return page.frame_locator("#app-frame")


def test_a_newcomer_tries_the_whole_app_from_dev(tab, dev_store):
    page = tab
    page.goto(f"{dev_store.url}/dev")
    expect(page.locator("#installed")).to_have_text("Not installed yet.")

    panel = open_admin(page)  # the first open installs the app, by token exchange with the dev platform
    expect(panel.locator("h1")).to_have_text("Dashboard")
    expect(panel.locator("body")).to_have_attribute("data-loaded", "figures")
    expect(panel.locator('[data-stat="members"] [data-value]')).to_have_text("0")

    page.get_by_role("link", name="Back to the development store").click()
    expect(page.locator("#installed")).to_have_text("Installed.")
    page.locator("#count").fill("10")
    page.locator("#send-orders").click()
    expect(page.locator("#notice")).to_have_text("Sent 17 webhooks through the intake (17 accepted).")

    panel = open_admin(page)
    expect(panel.locator("body")).to_have_attribute("data-loaded", "figures")
    expect(panel.locator('[data-stat="members"] [data-value]')).to_have_text("5")
    # 10 orders: oolongs 84 (the first, two of them) and 3 × 42, whisks 3 × 57, teapots 3 × 435.
    expect(panel.locator('[data-stat="points_issued"] [data-value]')).to_have_text(re.compile(r"^1,?686$"))
    expect(panel.locator("#chart-points svg")).to_have_count(1)
    shot = (DOCS if os.environ.get("LOYALTY_UPDATE_DOCS") else SCREENSHOTS) / "dashboard.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.locator("#app-frame").screenshot(path=str(shot))

    page.get_by_role("link", name="Back to the development store").click()
    page.locator("#customer_id").select_option(str(ADA))
    page.locator("#open-storefront").click()
    expect(page.locator(".balance")).to_have_text("477")
    assert "signature=" in page.url  # the real proxy guard checked the signed URL
    page.locator("tr", has_text="Free shipping").get_by_role("button", name="Redeem").click()
    expect(page.locator(".notice")).to_have_text("Your code is ready: apply it to your cart below.")
    expect(page.locator(".balance")).to_have_text("77")
    code = page.locator("code").first.text_content()

    page.goto(f"{dev_store.url}/dev")
    row = page.locator(f'tr[data-code="{code}"]')
    expect(row).to_contain_text("not used")
    expect(row).to_contain_text("free shipping")
    row.get_by_role("button", name="Use it in an order").click()
    expect(page.locator("#notice")).to_have_text("Sent an order that uses the code (1 of 1 accepted).")
    expect(page.locator(f'tr[data-code="{code}"]')).to_contain_text("used by order")

    panel = open_admin(page)
    expect(panel.locator("h1")).to_have_text("Dashboard")
    panel.locator(".nav-link", has_text="Members").click()
    member_row = panel.locator("#members tr", has_text="Ada Lovelace")
    member_row.locator("a").click()
    expect(panel.locator("body")).to_have_attribute("data-loaded", "member")
    code_row = panel.locator("#codes tr", has_text=code)
    expect(code_row).to_contain_text("used")
    expect(panel.locator("#balance")).to_have_text("222")  # 77 left, and 145 for the teapot bought with the code
    page.locator("#app-frame").screenshot(path=str(SCREENSHOTS / "dev-store-member.png"))
    assert dev_store.client().get(f"/api/members/{ADA}", headers=auth(DEV_SHOP)).get_json()["redemptions"][0][
        "status"] == "used"


def test_a_friend_invited_by_a_members_link_uses_the_welcome_code_from_dev(tab, dev_store):
    """A welcome code belongs to no customer yet: "Use it in an order" places the friend's first
    order as a new customer, and the referral completes (it answered "No such discount code")."""
    page = tab
    page.goto(f"{dev_store.url}/dev")
    open_admin(page)
    page.get_by_role("link", name="Back to the development store").click()
    page.locator("#count").fill("5")
    page.locator("#send-orders").click()
    client = dev_store.client()
    rewards = client.get("/api/rewards", headers=auth(DEV_SHOP)).get_json()["rewards"]
    five_off = next(reward["id"] for reward in rewards if reward["kind"] == "amount_off")
    client.patch("/api/program", json={"referral_points": 50, "referral_reward_id": five_off}, headers=auth(DEV_SHOP))

    page.locator("#customer_id").select_option(str(ADA))
    page.locator("#open-storefront").click()
    link = page.locator("#referral-link").input_value()
    # The development shop's storefront is this app: the link resolves here, as it is.
    assert link.startswith(f"{dev_store.url}/apps/loyalty/r/")
    page.goto(link)
    page.locator("#email").fill("new.friend@example.org")
    page.get_by_role("button", name="Get my code").click()
    code = page.locator("code").first.text_content()

    page.goto(f"{dev_store.url}/dev")
    row = page.locator(f'tr[data-code="{code}"]')
    expect(row).to_contain_text("a new customer (welcome code)")
    row.get_by_role("button", name="Use it in an order").click()
    expect(page.locator("#notice")).to_have_text("Sent an order that uses the code (1 of 1 accepted).")
    expect(page.locator(f'tr[data-code="{code}"]')).to_contain_text("used by order")
    referrals = client.get("/api/referrals", headers=auth(DEV_SHOP)).get_json()["referrals"]
    assert [(r["friend_email"], r["status"]) for r in referrals] == [("new.friend@example.org", "completed")]
    page.screenshot(path=str(SCREENSHOTS / "dev-store-welcome-code-used.png"), full_page=True)
