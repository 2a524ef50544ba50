"""Layout checks across the panel's pages: what a person sees, measured in the browser."""
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

pytestmark = pytest.mark.browser


def inset(page, selector: str) -> float:
    """How far the element's content (its text) starts from its card's left edge, in CSS pixels."""
    return page.locator(selector).evaluate(
        "node => node.getBoundingClientRect().left + parseFloat(getComputedStyle(node).paddingLeft)"
        " - node.closest('.card').getBoundingClientRect().left")


@pytest.mark.parametrize(("path", "loaded", "inside"), [
    ("/referrals", "referrals", "label[for=status]"),  # the status filter
    ("/operations", "events", ".card-note"),  # the line under "Failed event deliveries"
])
def test_a_flush_cards_filter_and_note_line_up_with_its_title(panel, path, loaded, inside):
    panel.open("/", loaded=re.compile(".+"))  # installs the shop
    panel.open(path, loaded=re.compile(f"^{loaded}:"))
    page = panel.page
    title = page.locator(inside).locator("xpath=ancestor::section[1]/h2[contains(@class, 'card-title')]")
    # The title's text starts 16px in (its padding); the filter and note sat on the card's very edge.
    assert inset(page, inside) == pytest.approx(16, abs=1)
    assert title.evaluate("node => parseFloat(getComputedStyle(node).paddingLeft)") == pytest.approx(16, abs=1)
    panel.screenshot(f"flush-card{path.replace('/', '-')}")


def test_the_referrals_table_keeps_status_badges_and_ids_on_one_line(panel, client, settle, platform):
    # Seven columns and `overflow-wrap: anywhere` squeezed "Completed" into "Complete / d" and
    # the referrer's id and the order id over two lines each.
    from tests.browser.test_referrals_page import five_off, friend_order, welcome_code
    from tests.helpers import auth, customer, signed_webhook
    from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created

    panel.open("/", loaded=re.compile(".+"))  # installs the shop
    client.patch("/api/program", json={"referral_points": 50, "referral_reward_id": five_off(client)}, headers=auth())
    signed_webhook(client, "customers/create", customer(7100000001, "ada@example.com"))
    settle()
    platform.post(GRAPHQL, json=created())
    ada = client.get("/api/members/7100000001", headers=auth()).get_json()["referral_code"]
    code = welcome_code(client, ada, "a.rather.long.friend.address@example.org")
    signed_webhook(client, "orders/paid", friend_order(1795956628526002, "a.rather.long.friend.address@example.org",
                                                       code))
    settle()
    panel.open("/referrals", loaded="referrals:1")
    page = panel.page
    row = page.locator("#referrals tr").first
    expect(row.locator(".badge")).to_have_text("Completed")
    line = row.locator(".badge").evaluate("node => parseFloat(getComputedStyle(node).lineHeight) || 20")
    assert row.locator(".badge").evaluate("node => node.getBoundingClientRect().height") < 2 * line
    for cell in row.locator("td.id").all():
        assert cell.evaluate("node => { const r = document.createRange(); r.selectNodeContents(node);"
                             " return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; }") == 1
    panel.screenshot("referrals-one-line")
