"""The embedded panel in a real browser: each page opened with a session token, no CDN.

Data is seeded as the platform sends it (signed webhooks through the app) and the merchant's
steps are taken by clicking and typing. Each test leaves a screenshot in
test-artifacts/screenshots/ for a person to look at.
"""
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from admin_ui.pages import NAV
from tests.helpers import OTHER_SHOP, SHOP, auth, balance, customer, order, signed_webhook, stored_outage_failure

pytestmark = pytest.mark.browser

MARKUP_NAME = "<script>window.pwned=1</script>"
QUOTED_EMAIL = "\"o'hara\"@example.com"


def program(client) -> dict:
    return client.get("/api/program", headers=auth()).get_json()


def field_error(page, name: str):
    return page.locator(f'[data-error-for="{name}"]')


def test_the_dashboard_opens_with_a_session_token_and_no_cdn(panel):
    response = panel.open("/")
    assert response.status == 200
    assert response.headers["content-security-policy"] == f"frame-ancestors https://{SHOP} https://admin.shopify.com;"
    page = panel.page
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.locator('.nav-link[aria-current="page"]')).to_have_text("Dashboard")
    expect(page.locator("[data-stat]")).to_have_count(9)
    expect(page.locator("body")).to_have_attribute("data-loaded", re.compile("figures|unavailable"))
    assert page.evaluate("typeof window.shopify") == "undefined"
    assert any("app-bridge.js" in url for url in panel.blocked)
    panel.screenshot("dashboard")


def test_the_dashboard_fills_its_cards_from_the_stats_api(panel, client, settle):
    signed_webhook(client, "customers/create", customer(7001))
    signed_webhook(client, "orders/paid", order(subtotal="40.00"))
    settle()
    stats = client.get("/api/stats", headers=auth())
    if stats.status_code != 200:
        pytest.skip(f"GET /api/stats answers {stats.status_code}: the stats route has not landed yet")
    panel.open("/", loaded="figures")
    page = panel.page
    expect(page.locator('[data-stat="members"] [data-value]')).to_have_text("1")
    expect(page.locator('[data-stat="points_issued"] [data-value]')).to_have_text("40")
    expect(page.locator("#chart-points svg")).to_have_count(1)
    expect(page.locator('[data-stat="orders"] [data-value]')).to_have_text("1")
    expect(page.locator("#chart-orders svg")).to_have_count(1)
    expect(page.locator("#figures-unavailable")).to_have_count(0)
    panel.screenshot("dashboard-figures")


def test_the_loyalty_revenue_card_says_it_counts_orders_that_used_a_reward_code(panel, client, settle):
    # A member's order without a code is not loyalty revenue (stats.py: orders that used a code
    # this app issued); the card used to say "From orders by members" next to 0.00.
    signed_webhook(client, "customers/create", customer(7001))
    signed_webhook(client, "orders/paid", order(subtotal="40.00"))
    settle()
    panel.open("/", loaded="figures")
    card = panel.page.locator('[data-stat="loyalty_revenue"]')
    expect(card.locator("[data-value]")).to_have_text(re.compile(r"^\D*0\.00\D*$"))
    expect(card.locator("[data-note]")).to_have_text("From orders that used a reward code")


def test_the_dashboard_says_figures_are_unavailable_when_the_stats_api_fails(panel):
    panel.page.route("**/api/stats?**", lambda route: route.fulfill(status=500, json={"error": "boom"}))
    panel.open("/", loaded="unavailable")
    page = panel.page
    expect(page.locator("#figures-unavailable")).to_contain_text("Figures unavailable")
    expect(page.locator('[data-stat="members"] [data-value]')).to_have_text("—")

    expect(page.locator(".nav-link")).to_have_count(len(NAV))  # the rest of the panel is still there
    panel.screenshot("dashboard-unavailable")


def test_changing_the_earn_rate_saves_it_and_a_reload_shows_it(panel, client):
    page = panel.page
    panel.open("/settings", loaded="program")
    rate = page.locator("#points_per_currency_unit")
    expect(rate).to_have_value("1")
    expect(page.locator("#preview")).to_contain_text("A 40.00 order earns 40 points.")
    expect(page.locator("#save-bar")).to_be_hidden()
    rate.fill("1.5")
    expect(page.locator("#preview")).to_contain_text("A 40.00 order earns 60 points.")
    rate.fill("0.333")
    expect(page.locator("#preview")).to_contain_text("A 40.00 order earns 13 points.")  # 13.32, floored
    expect(page.locator("#save-bar")).to_be_visible()
    panel.screenshot("settings-unsaved")
    page.locator("#save-top").click()
    expect(page.locator(".toast")).to_have_text("Settings saved")
    expect(page.locator("#save-bar")).to_be_hidden()
    assert program(client)["points_per_currency_unit"] == "0.333"
    page.reload()
    panel.wait_loaded("program")
    expect(rate).to_have_value("0.333")
    panel.screenshot("settings")


def test_the_preview_sentence_is_the_servers_answer_asked_once_per_pause_and_saves_nothing(panel, client):
    page = panel.page
    asked = []
    page.on("request", lambda request: asked.append(request) if "/api/program/preview" in request.url else None)
    panel.open("/settings", loaded="program")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("A 40.00 order earns 40 points.")
    asked.clear()
    rate = page.locator("#points_per_currency_unit")
    rate.fill("")
    rate.press_sequentially("2.5")
    expect(preview).to_contain_text("A 40.00 order earns 100 points.")
    assert 1 <= len(asked) < 4, [r.post_data_json for r in asked]  # debounced: fewer calls than keystrokes
    assert asked[-1].post_data_json == {"points_per_currency_unit": "2.5", "exclude_gift_cards": True,
                                        "subtotal": "40.00", "gift_card_total": "0"}
    assert asked[-1].headers["authorization"].startswith("Bearer ")
    expect(preview).to_have_text("A 40.00 order earns 100 points. Gift cards in an order earn nothing.")
    with page.expect_request("**/api/program/preview") as gift_cards:
        page.locator("#exclude_gift_cards").uncheck()
    assert gift_cards.value.post_data_json["exclude_gift_cards"] is False
    expect(preview).to_have_text("A 40.00 order earns 100 points.")
    rate.fill("-2")
    expect(preview).to_contain_text("Enter a rate such as 1 or 0.5 to see what an order earns.")
    # Whatever the server says is what the page says: no arithmetic of its own is left.
    page.route("**/api/program/preview", lambda route: route.fulfill(json={"points": 1, "eligible": "40.00"}))
    rate.fill("3")
    expect(preview).to_contain_text("A 40.00 order earns 1 point.")
    panel.screenshot("settings-preview")
    assert program(client)["points_per_currency_unit"] == "1" and program(client)["exclude_gift_cards"] is True


def test_a_bad_earn_rate_shows_the_apis_message_next_to_the_field_and_saves_nothing(panel, client):
    page = panel.page
    panel.open("/settings", loaded="program")
    page.locator("#points_per_currency_unit").fill("-2")
    page.locator("#signup_bonus").fill("50")
    page.locator("#save-top").click()  # the save bar's button
    expect(field_error(page, "points_per_currency_unit")).to_have_text("Points per 1.00 spent must be zero or more")
    expect(page.locator("[data-field=points_per_currency_unit]")).to_have_class(re.compile("field-invalid"))
    expect(field_error(page, "signup_bonus")).to_be_hidden()
    expect(page.locator(".banner-critical")).to_contain_text("The settings were not saved")
    panel.screenshot("settings-invalid")
    saved = program(client)
    assert (saved["points_per_currency_unit"], saved["signup_bonus"]) == ("1", 0)
    page.locator("#discard").click()
    expect(page.locator("#points_per_currency_unit")).to_have_value("1")
    expect(field_error(page, "points_per_currency_unit")).to_be_hidden()


def test_members_with_markup_in_their_name_and_quotes_in_their_email_are_shown_as_text(panel, client, settle):
    signed_webhook(client, "customers/create", customer(7001, email=QUOTED_EMAIL, first_name=MARKUP_NAME))
    signed_webhook(client, "customers/create", customer(7002, email="grace@example.com", first_name="Grace",
                                                        last_name="Hopper"))
    settle()
    page = panel.page
    panel.open("/members", loaded="members::1")
    expect(page.locator("#members tr")).to_have_count(2)
    page.locator("#query").fill("o'hara")
    page.locator("#search button").click()
    panel.wait_loaded("members:o'hara:1")
    row = page.locator("#members tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(0)).to_have_text(f"{MARKUP_NAME} Lovelace")
    expect(row.locator("td").nth(1)).to_have_text(QUOTED_EMAIL)
    panel.screenshot("members")
    row.locator("a").click()
    panel.wait_loaded("member")
    expect(page.locator("h1")).to_have_text(f"{MARKUP_NAME} Lovelace")
    expect(page.locator("#email")).to_have_text(QUOTED_EMAIL)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("main script").count() == 0
    panel.screenshot("member-markup")


def test_adjusting_points_adds_a_ledger_row_and_changes_the_balance(panel, client, settle):
    signed_webhook(client, "customers/create", customer(7001))
    paid = order(subtotal="40.00")
    signed_webhook(client, "orders/paid", paid)
    settle()
    page = panel.page
    panel.open("/members/7001", loaded="member")
    expect(page.locator("#balance")).to_have_text("40")
    order_link = page.locator("#ledger a")
    expect(order_link).to_have_attribute(
        "href", f"https://admin.shopify.com/store/rosebud-tea/orders/{paid['id']}")
    page.locator("#points").fill("25")
    page.locator("#reason").fill("Goodwill for a late parcel")
    page.locator("#adjust button").click()
    expect(page.locator("#balance")).to_have_text("65")
    first = page.locator("#ledger tr").first
    expect(first.locator("td").nth(1)).to_have_text("+25")
    expect(first.locator("td").nth(2)).to_have_text("Goodwill for a late parcel")
    expect(first.locator("td").nth(3)).to_have_text("Manual adjustment")
    expect(page.locator("#ledger tr")).to_have_count(2)
    expect(page.locator("#lifetime")).to_have_text("65")
    assert balance(client) == 65
    panel.screenshot("member")
    page.locator("#points").fill("-5")
    page.locator("#adjust button").click()
    expect(field_error(page, "reason")).to_have_text("Reason is required: say why, in up to 500 characters")
    expect(page.locator("#ledger tr")).to_have_count(2)
    assert balance(client) == 65
    panel.screenshot("member-adjustment-invalid")


def test_the_member_page_shows_the_tier_by_name_and_keeps_it_after_an_adjustment(panel, client, settle):
    # The tier card printed "[object Object]" (SPEC: member `tier` is an object) once a member had a tier.
    panel.open("/", loaded=re.compile(".+"))  # installs the shop
    for name, threshold, multiplier in (("Silver", 100, "1.5"), ("Gold", 500, "2")):
        answer = client.post("/api/tiers", json={"name": name, "threshold": threshold, "multiplier": multiplier},
                             headers=auth())
        assert answer.status_code == 201, answer.get_json()
    signed_webhook(client, "customers/create", customer(7001))
    signed_webhook(client, "orders/paid", order(subtotal="150.00"))  # crosses Silver: promoted at once
    settle()
    assert client.get("/api/members/7001", headers=auth()).get_json()["tier"]["name"] == "Silver"
    page = panel.page
    panel.open("/members/7001", loaded="member")
    expect(page.locator("#tier")).to_have_text("Silver")
    expect(page.locator("#tier-note")).to_have_text(re.compile(r"^× 1\.5 points since .+; 350 points to Gold$"))
    page.locator("#points").fill("25")
    page.locator("#reason").fill("Goodwill")
    page.locator("#adjust button").click()
    expect(page.locator("#balance")).to_have_text("175")
    expect(page.locator("#tier")).to_have_text("Silver")  # the adjustment's answer has no tier figures
    panel.screenshot("member-tier")


def test_creating_a_reward_lists_it_and_deactivating_it_marks_it_inactive(panel, client):
    page = panel.page
    panel.open("/rewards", loaded="rewards:3")
    page.locator("#new-reward").click()
    page.locator("#name").fill("Tote bag discount")
    page.locator("#points_cost").fill("750")
    page.locator("#save-reward").click()
    expect(field_error(page, "value")).to_have_text("Amount off is required for this kind of reward")
    page.locator("#value").fill("7.50")
    page.locator("#save-reward").click()
    panel.wait_loaded("rewards:4")
    row = page.locator("#rewards tr", has_text="Tote bag discount")
    expect(row).to_contain_text("7.50 off")
    expect(row).to_contain_text("750")
    expect(row.locator(".badge")).to_have_text("Active")
    expect(page.locator("#editor")).to_be_hidden()
    expect(page.locator("#rewards tr", has_text="10% off your order")).to_contain_text("10 % off")
    panel.screenshot("rewards")
    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#value")).to_have_value("7.50")
    page.locator("#points_cost").fill("800")
    page.locator("#save-reward").click()
    expect(row).to_contain_text("800")
    row.get_by_role("button", name="Deactivate").click()
    expect(row.locator(".badge")).to_have_text("Inactive")
    rewards = client.get("/api/rewards", headers=auth()).get_json()["rewards"]
    assert [(r["active"], r["points_cost"]) for r in rewards if r["name"] == "Tote bag discount"] == [(False, 800)]
    panel.screenshot("rewards-deactivated")


def test_a_failed_event_is_listed_with_its_error_and_retry_reprocesses_it(panel, app, client, settle):
    panel.open("/operations", loaded="events:0")  # the first open installs the shop
    event_id = stored_outage_failure(app, subtotal="40.00")
    stored_outage_failure(app, shop=OTHER_SHOP)
    page = panel.page
    page.locator("#refresh").click()
    panel.wait_loaded("events:1")
    row = page.locator(f'#events tr[data-event-id="{event_id}"]')
    expect(row).to_contain_text("orders/paid")
    expect(row).to_contain_text("OperationalError: the database went away")
    panel.screenshot("operations")
    row.get_by_role("button", name="Retry").click()
    panel.wait_loaded("events:0")
    expect(page.locator("#events-empty")).to_be_visible()
    settle()
    assert balance(client) == 40
    panel.screenshot("operations-retried")


def test_another_shops_member_id_in_the_url_shows_not_found_and_no_data(panel, client, settle):
    signed_webhook(client, "customers/create", customer(9001, email="secret@other.example", first_name="Secret"),
                   shop=OTHER_SHOP)
    signed_webhook(client, "orders/paid", order(customer_id=9001, subtotal="77.00"), shop=OTHER_SHOP)
    settle()
    page = panel.page
    panel.open("/members/9001", loaded="not-found")
    expect(page.locator("#not-found")).to_contain_text("Member not found")
    expect(page.locator("#member")).to_be_hidden()
    text = page.locator("body").inner_text()
    assert "secret@other.example" not in text and "Secret" not in text and "77" not in text
    panel.screenshot("member-not-found")
    panel.open("/members/not-a-number", loaded="not-found")
    expect(page.locator("h1")).to_have_text("Member not found")
