"""The panel's pending points and expiry settings, and the member page's pending points and
next expiry, in Debian's Chromium against the live server."""
from playwright.sync_api import expect

from tests.helpers import auth, order, signed_webhook


def program(client) -> dict:
    return client.get("/api/program", headers=auth()).get_json()


def test_choosing_fifo_expiry_shows_the_preview_saves_and_reloads(panel, client):
    page = panel.page
    panel.open("/settings", loaded="program")
    expect(page.locator("#lifecycle-preview")).to_have_text("An order's points can be spent at once. Points never expire.")
    expect(page.locator("#expiry_months")).to_be_hidden()
    page.locator("#pending_days").fill("14")
    page.locator("#expiry_policy").select_option("fifo")
    expect(page.locator("#expiry_months")).to_be_visible()
    expect(page.locator("#lifecycle-preview")).to_contain_text("Enter the months after which points expire.")
    page.locator("#expiry_months").fill("12")
    page.locator("#expiry_reminder_days").fill("7")
    expect(page.locator("#lifecycle-preview")).to_have_text(
        "An order's points can be spent 14 days after the order. Each order's points expire 12 months after the "
        "order; spending uses the oldest first. Shoppers are reminded 7 days before.")
    panel.screenshot("settings-lifecycle")
    page.locator("#save-top").click()
    expect(page.locator(".toast")).to_have_text("Settings saved")
    saved = program(client)
    assert (saved["pending_days"], saved["expiry_policy"], saved["expiry_months"], saved["expiry_reminder_days"]) == (
        14, "fifo", 12, 7)
    page.reload()
    panel.wait_loaded("program")
    expect(page.locator("#expiry_policy")).to_have_value("fifo")
    expect(page.locator("#expiry_months")).to_have_value("12")


def test_expiry_without_months_shows_the_apis_message_and_saves_nothing(panel, client):
    page = panel.page
    panel.open("/settings", loaded="program")
    page.locator("#expiry_policy").select_option("inactivity")
    page.locator("#save-top").click()
    expect(page.locator("#expiry_months-error")).to_contain_text("is required when expiry_policy is inactivity")
    expect(page.locator(".banner-critical")).to_contain_text("The settings were not saved")
    assert program(client)["expiry_policy"] == "never"


def test_the_member_page_shows_pending_points_and_the_next_expiry(panel, client, settle):
    panel.open("/settings", loaded="program")  # the first open installs the app
    changed = client.patch("/api/program", json={"pending_days": 30, "expiry_policy": "fifo", "expiry_months": 120},
                           headers=auth())
    assert changed.status_code == 200, changed.get_json()
    signed_webhook(client, "orders/paid", order(subtotal="300.00", processed_at="2026-03-01T10:00:00Z"))
    signed_webhook(client, "orders/paid", order(subtotal="25.00", processed_at="2099-01-01T10:00:00Z"))
    settle()
    page = panel.page
    panel.open("/members/7001", loaded="member")
    expect(page.locator("#member-pending")).to_have_text("25")
    expect(page.locator("#member-expiry")).to_have_text("300 points expire on 2036-03-01")
    panel.screenshot("member-lifecycle")
