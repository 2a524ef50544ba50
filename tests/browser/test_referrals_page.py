"""The Referrals page and the referral and birthday settings, in a real browser."""
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from tests.helpers import auth, customer, order, proxy_url, signed_webhook
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created

pytestmark = pytest.mark.browser


def five_off(client) -> int:
    return next(r["id"] for r in client.get("/api/rewards", headers=auth()).get_json()["rewards"]
                if r["name"] == "5 off your order")


def welcome_code(client, referral_code: str, email: str) -> str:
    response = client.post(proxy_url(f"/proxy/r/{referral_code}", customer_id=""), data={"email": email})
    assert response.status_code == 201, response.get_data(as_text=True)
    return re.search(r"<code>([A-Z0-9-]+)</code>", response.get_data(as_text=True)).group(1)


def friend_order(customer_id: int, email: str, code: str) -> dict:
    return order(customer_id=customer_id, subtotal="60.00", email=email, customer={"id": customer_id, "email": email},
                 discount_codes=[{"code": code, "amount": "5.00", "type": "fixed_amount"}])


def test_the_referrals_page_lists_referrals_with_reasons_and_totals(panel, client, settle, platform):
    panel.open("/", loaded=re.compile(".+"))  # installs the shop
    client.patch("/api/program", json={"referral_points": 50, "referral_reward_id": five_off(client)}, headers=auth())
    signed_webhook(client, "customers/create", customer(7001, "ada@example.com"))
    settle()
    platform.post(GRAPHQL, json=created())
    ada = client.get("/api/members/7001", headers=auth()).get_json()["referral_code"]
    grace = welcome_code(client, ada, "grace@example.com")
    own = welcome_code(client, ada, "second-address@example.com")
    welcome_code(client, ada, "lin@example.com")
    signed_webhook(client, "orders/paid", friend_order(8001, "grace@example.com", grace))
    signed_webhook(client, "orders/paid", friend_order(7001, "ada@example.com", own))
    settle()
    panel.open("/referrals", loaded="referrals:3")
    page = panel.page
    expect(page.locator('.nav-link[aria-current="page"]')).to_have_text("Referrals")
    expect(page.locator('[data-total="invited"] [data-value]')).to_have_text("3")
    expect(page.locator('[data-total="completed"] [data-value]')).to_have_text("1")
    expect(page.locator('[data-total="points_paid"] [data-value]')).to_have_text("50")
    expect(page.locator('[data-total="revenue"] [data-value]')).to_have_text(re.compile(r"^60\.00\b"))  # was "60"
    rejected = page.locator("tr", has_text="second-address@example.com")
    expect(rejected).to_contain_text("Rejected")
    expect(rejected).to_contain_text("the order was placed by the referrer (same customer)")
    page.locator("#status").select_option("completed")
    panel.wait_loaded("referrals:1")
    completed = page.locator("#referrals tr")
    expect(completed).to_have_text(re.compile("grace@example.com"))
    # The referrer by name (it showed a bare customer id), the friend's order linked in the admin.
    expect(completed.locator("td").nth(1)).to_have_text("Ada Lovelace")
    expect(completed.locator("td").nth(1).locator("a")).to_have_attribute("href", re.compile(r"^/members/7001\?"))
    order_id = client.get("/api/referrals?status=completed", headers=auth()).get_json()["referrals"][0]["order_id"]
    expect(completed.get_by_role("link", name=f"Order {order_id}")).to_have_attribute(
        "href", f"https://admin.shopify.com/store/rosebud-tea/orders/{order_id}")
    panel.screenshot("referrals")


def test_referral_and_birthday_settings_are_saved_from_their_card(panel, client):
    panel.open("/settings", loaded="program")
    page = panel.page
    form = page.locator("#referral-settings-form")
    expect(form).to_have_attribute("aria-busy", "false")
    page.locator("#referral_points").fill("75")
    page.locator("#referral_reward_id").select_option(label="5 off your order")
    page.locator("#birthday_bonus").fill("200")
    page.locator("#save-top").click()
    expect(page.locator(".toast")).to_have_text("Referrals and birthdays saved")
    program = client.get("/api/program", headers=auth()).get_json()
    assert (program["referral_points"], program["referral_reward_id"], program["birthday_bonus"]) == (
        75, five_off(client), 200)
    page.locator("#birthday_bonus").fill("-3")
    page.locator("#save-top").click()
    expect(page.locator('[data-error-for="birthday_bonus"]')).to_be_visible()
    assert client.get("/api/program", headers=auth()).get_json()["birthday_bonus"] == 200
    panel.screenshot("settings-referrals")


def test_the_member_page_shows_the_referral_code_and_birthday(panel, client, settle):
    panel.open("/", loaded=re.compile(".+"))
    signed_webhook(client, "customers/create", customer(7001, "ada@example.com"))
    settle()
    client.patch("/api/members/7001", json={"birthday": "05-21"}, headers=auth())
    code = client.get("/api/members/7001", headers=auth()).get_json()["referral_code"]
    panel.open("/members/7001")
    expect(panel.page.locator("#referral-code")).to_have_text(code)
    expect(panel.page.locator("#birthday")).to_have_text("21 May")
    expect(panel.page.locator("#birthday-month")).to_have_value("05")
    expect(panel.page.locator("#birthday-day")).to_have_value("21")


def test_the_referrers_history_names_a_referral_and_links_the_friends_order(panel, client, settle, platform):
    # The entry's source showed the bare word "order" with no link (kind `referral` had no name,
    # and its order is the friend's, in `source`, not the member's `order_id`).
    panel.open("/", loaded=re.compile(".+"))  # installs the shop
    client.patch("/api/program", json={"referral_points": 50, "referral_reward_id": five_off(client)}, headers=auth())
    signed_webhook(client, "customers/create", customer(7001, "ada@example.com"))
    settle()
    platform.post(GRAPHQL, json=created())
    ada = client.get("/api/members/7001", headers=auth()).get_json()["referral_code"]
    friends = friend_order(8001, "grace@example.com", welcome_code(client, ada, "grace@example.com"))
    signed_webhook(client, "orders/paid", friends)
    settle()
    panel.open("/members/7001", loaded="member")
    row = panel.page.locator("#ledger tr").first
    expect(row.locator("td").nth(1)).to_have_text("+50")
    expect(row.locator("td").nth(3)).to_have_text(f"Referral · Order {friends['id']}")
    expect(row.locator("td").nth(3).locator("a")).to_have_attribute("href", re.compile(f"/orders/{friends['id']}$"))


def test_the_referrals_page_shows_patterns_worth_a_look(panel, client, settle, platform):
    panel.open("/", loaded=re.compile(".+"))  # installs the shop
    client.patch("/api/program", json={"referral_points": 50, "referral_reward_id": five_off(client)}, headers=auth())
    signed_webhook(client, "customers/create", customer(7001, "ada@example.com"))
    settle()
    platform.post(GRAPHQL, json=created())
    ada = client.get("/api/members/7001", headers=auth()).get_json()["referral_code"]
    for n in range(3):  # three "friends" from one shopper's address
        response = client.post(proxy_url(f"/proxy/r/{ada}", customer_id=""), data={"email": f"f{n}@example.com"},
                               headers={"X-Forwarded-For": "203.0.113.7"})
        assert response.status_code == 201
    panel.open("/referrals", loaded="referrals:3")
    page = panel.page
    expect(page.locator("#patterns")).to_have_attribute("aria-busy", "false")
    expect(page.locator("[data-pattern]")).to_have_text(
        ["3 friends invited from one shopper's address (203.0.113.7) through Ada Lovelace; 0 used their code."])
    expect(page.locator("#patterns-empty")).to_be_hidden()
