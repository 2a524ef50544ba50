"""The member pages in a real browser: a large or below-zero adjustment is shown with its risks
and made only on "Adjust anyway"; any adjustment is undone from its row; the birthday is set
from two selects; the members list sorts and filters; the welcome reward's "Deactivate" is
disabled with the reason beside it."""
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from tests.helpers import auth, balance, customer, member, order, signed_webhook

pytestmark = pytest.mark.browser


def test_a_slip_is_confirmed_first_then_undone_from_its_row(panel, client, settle):
    signed_webhook(client, "customers/create", customer(7001))
    signed_webhook(client, "orders/paid", order(subtotal="1148.00"))
    settle()
    page = panel.page
    panel.open("/members/7001", loaded="member")
    expect(page.locator("#balance")).to_have_text("1,148")
    page.locator("#points").fill("-99999")
    page.locator("#reason").fill("Meant to take 99 points")
    page.locator("#adjust button").click()
    confirm = page.locator("#adjust-confirm")
    expect(confirm).to_be_visible()
    expect(confirm.locator("li")).to_have_text([
        "It would take the balance from 1,148 to -98,851 points, below zero.",
        "It moves 99,999 points, more than 10,000."])
    expect(page.locator("#adjust-anyway")).to_be_focused()
    panel.screenshot("member-adjustment-confirm")
    assert balance(client) == 1148  # asked, not made

    page.keyboard.press("Escape")  # cancel: nothing is sent
    expect(confirm).to_be_hidden()
    assert balance(client) == 1148 and len(member(client)["ledger"]) == 1

    page.locator("#adjust button").click()
    page.locator("#adjust-anyway").click()
    expect(page.locator("#balance")).to_have_text("-98,851")
    expect(confirm).to_be_hidden()

    page.locator("#ledger [data-undo]").click()
    expect(page.locator("#balance")).to_have_text("1,148")
    expect(page.locator("#lifetime")).to_have_text("1,148")
    first = page.locator("#ledger tr").first
    expect(first.locator("td").nth(3)).to_have_text("Adjustment undone")
    expect(page.locator("#ledger [data-undo]")).to_have_count(0)  # the adjustment's row says "Undone"
    expect(page.locator("#ledger .badge", has_text="Undone")).to_have_count(1)
    assert balance(client) == 1148
    panel.screenshot("member-adjustment-undone")


def test_the_welcome_rewards_deactivate_button_is_disabled_with_the_reason(panel, client):
    panel.open("/rewards", loaded="rewards:3")  # installs the shop and its default rewards
    five_off = next(r for r in client.get("/api/rewards", headers=auth()).get_json()["rewards"]
                    if r["name"] == "5 off your order")
    assert client.patch("/api/program", json={"referral_reward_id": five_off["id"]}, headers=auth()).status_code == 200
    page = panel.page
    panel.open("/rewards", loaded="rewards:3")
    row = page.locator(f'tr[data-reward-id="{five_off["id"]}"]')
    expect(row.get_by_role("button", name="Deactivate")).to_be_disabled()
    expect(row).to_contain_text("Friends' welcome reward: choose another one in Settings to deactivate it")
    panel.screenshot("rewards-welcome-in-use")


def test_the_merchant_sets_and_clears_a_birthday_from_two_selects(panel, client, settle):
    signed_webhook(client, "customers/create", customer(7001))
    settle()
    page = panel.page
    panel.open("/members/7001", loaded="member")
    expect(page.locator("#birthday")).to_have_text("—")
    page.locator("#birthday-month").select_option("02")
    page.locator("#birthday-form button").click()  # a month without a day: said, nothing sent
    expect(page.locator('[data-error-for="birthday"]')).to_have_text(
        "Birthday must have both a month and a day, or neither to clear it")
    assert member(client)["birthday"] is None
    page.locator("#birthday-day").select_option("30")  # no 30 February: the API says so
    page.locator("#birthday-form button").click()
    expect(page.locator('[data-error-for="birthday"]')).to_be_visible()
    assert member(client)["birthday"] is None
    page.locator("#birthday-day").select_option("29")
    page.locator("#birthday-form button").click()
    expect(page.locator("#birthday")).to_have_text("29 February")
    assert member(client)["birthday"] == "02-29"
    page.locator("#birthday-month").select_option("")
    page.locator("#birthday-day").select_option("")
    page.locator("#birthday-form button").click()
    expect(page.locator("#birthday")).to_have_text("—")
    assert member(client)["birthday"] is None
    panel.screenshot("member-birthday")


def test_the_members_list_sorts_by_balance_and_shows_only_members_with_pending_points(panel, client, settle):
    panel.open("/members", loaded="members::1")  # installs the shop
    assert client.patch("/api/program", json={"pending_days": 14}, headers=auth()).status_code == 200
    for customer_id in (7001, 7002, 7003):
        signed_webhook(client, "customers/create", customer(customer_id, f"c{customer_id}@example.com"))
    settle()
    signed_webhook(client, "orders/paid", order(customer_id=7002, subtotal="30.00"))  # pending for 14 days
    settle()  # priced under 14 pending days before the setting changes back
    assert client.patch("/api/program", json={"pending_days": 0}, headers=auth()).status_code == 200
    signed_webhook(client, "orders/paid", order(customer_id=7003, subtotal="20.00"))
    signed_webhook(client, "orders/paid", order(customer_id=7001, subtotal="10.00"))
    settle()
    page = panel.page
    panel.open("/members", loaded="members::1")
    ids = page.locator("#members tr")
    expect(ids).to_have_count(3)
    page.locator("#sort").select_option("balance")
    expect(page.locator("body")).to_have_attribute("data-listed", "balance")
    expect(ids.first).to_have_attribute("data-customer-id", "7003")  # 20 spendable; 7002's 30 are pending
    expect(ids.nth(1)).to_have_attribute("data-customer-id", "7001")
    page.locator("#pending").check()
    expect(page.locator("body")).to_have_attribute("data-listed", "balance:pending")
    expect(ids).to_have_count(1)
    expect(ids.first).to_have_attribute("data-customer-id", "7002")


def test_the_merchant_gives_a_tier_from_the_member_page_and_takes_it_back(panel, client, settle):
    signed_webhook(client, "customers/create", customer(7001))
    settle()
    gold = client.post("/api/tiers", json={"name": "Gold", "threshold": 300, "multiplier": "3"}, headers=auth())
    assert gold.status_code == 201
    page = panel.page
    panel.open("/members/7001", loaded="member")
    expect(page.locator("#tier")).to_have_text("No tier")
    expect(page.locator("#grant-tier")).to_have_value("")
    page.locator("#grant-tier").select_option(label="Gold")
    page.locator("#grant-until").fill("2099-06-30")
    page.locator("#tier-form button").click()
    expect(page.locator("#tier")).to_have_text("Gold")
    expect(page.locator("#tier-note")).to_contain_text("held until")
    given = member(client)["tier_given"]
    assert given["tier_id"] == gold.get_json()["id"] and given["until"].startswith("2099-06-3")
    panel.open("/members/7001", loaded="member")  # shown as given after a reload
    expect(page.locator("#grant-tier")).to_have_value(str(gold.get_json()["id"]))
    expect(page.locator("#grant-until")).to_have_value(given["until"][:10])
    page.locator("#grant-tier").select_option("")
    page.locator("#tier-form button").click()
    expect(page.locator(".toast")).to_contain_text("taken back")
    assert member(client)["tier_given"] is None
    panel.screenshot("member-tier-given")
