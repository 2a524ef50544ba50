"""The earning rules page and the member page's award breakdown, in a real browser, no CDN.

Same fixtures as test_panel.py: pages opened with a session token, data seeded through the
API and signed webhooks, the merchant's steps taken by clicking and typing. The preview's
numbers are the server's (POST /api/earning-rules/preview), so each step waits for the
sentence the page shows. Each test leaves a screenshot in test-artifacts/screenshots/.
"""
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from tests.helpers import auth, customer, member, order, signed_webhook

pytestmark = pytest.mark.browser

MARKUP_NAME = "<b>Double</b> tea <img src=x onerror=window.pwned=1>"
SAMPLE = "An order of 2 × Tea at 10.00 and 1 × Mug at 15.00"
DOUBLE_TEA = {"name": "Double tea", "kind": "multiplier", "match": {"field": "sku", "value": "TEA-1"},
              "multiplier": "2"}


def earning_rules(client) -> list[dict]:
    return client.get("/api/earning-rules", headers=auth()).get_json()["earning_rules"]


def add_rule(client, **rule) -> dict:
    response = client.post("/api/earning-rules", json=rule, headers=auth())
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def sample_input(page, line: int, key: str):
    return page.locator(f'#sample-form [data-line="{line}"] [data-key="{key}"]')


def give_the_tea_its_sku(page) -> None:
    page.locator("details.sample > summary").click()
    sample_input(page, 1, "sku").fill("TEA-1")


def test_creating_a_multiplier_rule_lists_it_and_the_preview_counts_it_before_and_after_saving(panel, client):
    page = panel.page
    asked = []
    page.on("request", lambda request: asked.append(request) if "/api/earning-rules/preview" in request.url else None)
    panel.open("/earning-rules", loaded="rules:0")
    expect(page.locator('.nav-link[aria-current="page"]')).to_have_text("Earning rules")
    expect(page.locator("#rules-empty")).to_be_visible()
    preview = page.locator("#preview")
    expect(preview).to_have_text(f"{SAMPLE} earns 35 points.")
    give_the_tea_its_sku(page)
    page.locator("#new-rule").click()
    page.locator("#name").fill("Double tea")
    page.locator("#match_field").select_option("sku")
    page.locator("#match_value").fill("TEA-1")
    asked.clear()
    page.locator("#multiplier").press_sequentially("2")
    # The unsaved rule is priced by the server, with the sample's SKU: tea 20 × 2, mug 15.
    expect(preview).to_have_text(f"{SAMPLE} earns 55 points.")
    expect(page.locator("#preview-label")).to_contain_text("not saved yet")
    expect(page.locator("#preview-breakdown li")).to_have_text(["Base rate35", "Double tea+20"])
    body = asked[-1].post_data_json
    assert body["rule"]["multiplier"] == "2" and body["rule"]["match"] == {"field": "sku", "value": "TEA-1"}
    assert body["lines"][0] == {"title": "Tea", "quantity": 2, "price": "10.00", "sku": "TEA-1"}
    assert "rule_id" not in body and earning_rules(client) == []
    panel.screenshot("earning-rules-editing")
    page.locator("#save-rule").click()
    panel.wait_loaded("rules:1")
    expect(page.locator("#editor")).to_be_hidden()
    row = page.locator("#rules tr", has_text="Double tea")
    expect(row.locator("td").nth(1)).to_have_text("SKU TEA-1")
    expect(row.locator("td").nth(2)).to_have_text("2 × points")
    expect(row.locator("td").nth(3)).to_have_text("Always")
    expect(row.locator(".badge")).to_have_text("Active")
    expect(page.locator("#preview-label")).to_have_text("With the active rules")
    expect(preview).to_have_text(f"{SAMPLE} earns 55 points.")
    assert [(r["name"], r["multiplier"], r["active"]) for r in earning_rules(client)] == [("Double tea", "2", True)]
    panel.screenshot("earning-rules")


def test_editing_a_rule_previews_the_edit_in_place_of_the_saved_rule_and_saves_it(panel, client):
    panel.open("/earning-rules", loaded="rules:0")
    rule = add_rule(client, **DOUBLE_TEA, min_subtotal="30", starts_at="2026-01-01T00:00:00Z")
    page = panel.page
    page.reload()
    panel.wait_loaded("rules:1")
    give_the_tea_its_sku(page)
    preview = page.locator("#preview")
    expect(preview).to_have_text(f"{SAMPLE} earns 55 points.")
    row = page.locator(f'#rules tr[data-rule-id="{rule["id"]}"]')
    expect(row.locator("td").nth(2)).to_contain_text("orders from 30.00")
    expect(row.locator("td").nth(3)).to_have_text("From Jan 1, 2026, 12:00 AM")
    row.get_by_role("button", name="Edit").click()
    expect(page.locator("#multiplier")).to_have_value("2")
    expect(page.locator("#min_subtotal")).to_have_value("30.00")
    expect(page.locator("#starts_at")).to_have_value("2026-01-01T00:00")
    with page.expect_request("**/api/earning-rules/preview") as asked:
        page.locator("#multiplier").fill("3")
    expect(preview).to_have_text(f"{SAMPLE} earns 75 points.")  # 3 instead of 2, not both
    assert asked.value.post_data_json["rule_id"] == rule["id"]
    page.locator("#cancel").click()
    expect(preview).to_have_text(f"{SAMPLE} earns 55 points.")
    assert earning_rules(client)[0]["multiplier"] == "2"
    row.get_by_role("button", name="Edit").click()
    page.locator("#multiplier").fill("3")
    page.locator("#save-rule").click()
    expect(row.locator("td").nth(2)).to_contain_text("3 × points")
    expect(preview).to_have_text(f"{SAMPLE} earns 75 points.")
    assert earning_rules(client)[0]["multiplier"] == "3"


def test_a_bad_multiplier_shows_the_apis_message_next_to_the_field_and_saves_nothing(panel, client):
    page = panel.page
    panel.open("/earning-rules", loaded="rules:0")
    page.locator("#new-rule").click()
    page.locator("#name").fill("Nothing at all")
    page.locator("#multiplier").fill("0")
    expect(page.locator("#preview")).to_have_text(
        "Complete the rule to see what it earns: Multiplier must be more than 0 and at most 100.")
    page.locator("#save-rule").click()
    error = page.locator('[data-error-for="multiplier"]')
    expect(error).to_have_text("Multiplier must be more than 0 and at most 100")
    expect(page.locator("[data-field=multiplier]")).to_have_class(re.compile("field-invalid"))
    expect(page.locator('[data-error-for="name"]')).to_be_hidden()
    expect(page.locator("#editor")).to_be_visible()
    panel.screenshot("earning-rules-invalid")
    assert earning_rules(client) == []
    page.locator("#match_field").select_option("sku")
    page.locator("#multiplier").fill("2")
    page.locator("#save-rule").click()  # a SKU rule needs its SKU
    expect(page.locator('[data-error-for="match"]')).to_have_text(
        "Applies to value is required for sku: up to 255 characters")
    expect(error).to_be_hidden()
    assert earning_rules(client) == []
    expect(page.locator("body")).to_have_attribute("data-loaded", "rules:0")


def test_deactivating_a_rule_marks_it_inactive_and_the_preview_drops_it(panel, client):
    panel.open("/earning-rules", loaded="rules:0")
    add_rule(client, name=MARKUP_NAME, kind="multiplier", match={"field": "any"}, multiplier="2")
    page = panel.page
    page.reload()
    panel.wait_loaded("rules:1")
    preview = page.locator("#preview")
    expect(preview).to_have_text(f"{SAMPLE} earns 70 points.")
    row = page.locator("#rules tr").first
    expect(row.locator("td").first).to_have_text(MARKUP_NAME)  # a name is text, never markup
    expect(page.locator("#preview-breakdown li").nth(1)).to_have_text(f"{MARKUP_NAME}+35")
    expect(row.locator("td").nth(1)).to_have_text("Every line")
    row.get_by_role("button", name="Deactivate").click()
    expect(row.locator(".badge")).to_have_text("Inactive")
    expect(preview).to_have_text(f"{SAMPLE} earns 35 points.")
    assert [r["active"] for r in earning_rules(client)] == [False]
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("main b, main img").count() == 0
    panel.screenshot("earning-rules-deactivated")
    row.get_by_role("button", name="Activate").click()
    expect(row.locator(".badge")).to_have_text("Active")
    expect(preview).to_have_text(f"{SAMPLE} earns 70 points.")


def test_the_preview_sentence_is_the_servers_answer_and_follows_the_sample_order(panel):
    page = panel.page
    panel.open("/earning-rules", loaded="rules:0")
    preview = page.locator("#preview")
    expect(preview).to_have_text(f"{SAMPLE} earns 35 points.")
    page.locator("details.sample > summary").click()
    sample_input(page, 3, "title").fill("Honey")
    sample_input(page, 3, "price").fill("4.5")
    expect(preview).to_have_text(
        "An order of 2 × Tea at 10.00, 1 × Mug at 15.00 and 1 × Honey at 4.50 earns 39 points.")
    sample_input(page, 2, "price").fill("cheap")
    expect(preview).to_contain_text("The sample order cannot be priced: line 2 price must be")
    sample_input(page, 2, "title").fill("")  # a line without a product is left out
    expect(preview).to_have_text("An order of 2 × Tea at 10.00 and 1 × Honey at 4.50 earns 24 points.")
    page.route("**/api/earning-rules/preview", lambda route: route.fulfill(
        json={"points": 1, "breakdown": [{"rule_id": None, "label": "Base rate", "points": 1}]}))
    sample_input(page, 1, "quantity").fill("3")
    expect(preview).to_have_text("An order of 3 × Tea at 10.00 and 1 × Honey at 4.50 earns 1 point.")


def test_the_member_page_shows_each_awards_breakdown_under_its_row_as_text(panel, client, settle):
    panel.open("/earning-rules", loaded="rules:0")  # the first open installs the shop
    add_rule(client, **{**DOUBLE_TEA, "name": MARKUP_NAME})
    signed_webhook(client, "customers/create", customer(7001))
    lines = [{"id": 1, "product_id": 11, "sku": "TEA-1", "vendor": "Rosebud", "quantity": 2, "price": "10.00",
              "gift_card": False, "discount_allocations": []},
             {"id": 2, "product_id": 22, "sku": "MUG-1", "vendor": "Potter", "quantity": 1, "price": "15.00",
              "gift_card": False, "discount_allocations": []}]
    signed_webhook(client, "orders/paid", order(subtotal="35.00", line_items=lines))
    settle()
    award = next(entry for entry in member(client)["ledger"] if entry["kind"] == "order_award")
    assert award["delta"] == 55
    page = panel.page
    panel.open("/members/7001", loaded="member")
    row = page.locator(f'#ledger tr[data-entry-id="{award["id"]}"]')
    expect(row.locator("td").nth(1)).to_have_text("+55")
    items = row.locator(".breakdown li")
    expect(items).to_have_count(2)
    expect(items.nth(0).locator(".breakdown-label")).to_have_text("Base rate")
    expect(items.nth(0).locator(".breakdown-points")).to_have_text("+35")
    expect(items.nth(1).locator(".breakdown-label")).to_have_text(MARKUP_NAME)
    expect(items.nth(1).locator(".breakdown-points")).to_have_text("+20")
    expect(page.locator("#ledger tr")).to_have_count(1)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.locator("main b, main img").count() == 0
    panel.screenshot("member-award-breakdown")


def test_the_editor_offers_the_stores_product_types_and_a_twin_rule_opens_the_existing_one(panel, client, settle):
    from tests.plugin.loyalty.rules.test_product_cache import product_payload

    panel.open("/earning-rules", loaded="rules:0")  # installs the shop
    for product_id, product_type in ((1, "Loose leaf"), (2, "Teaware")):
        signed_webhook(client, "products/create", product_payload(product_id, product_type, "2026-11-20T10:00:00Z"))
    settle()
    add_rule(client, name="Leaf twice", kind="multiplier", match={"field": "product_type", "value": "Loose leaf"},
             multiplier="2")
    page = panel.page
    panel.open("/earning-rules", loaded="rules:1")
    page.locator("#new-rule").click()
    page.locator("#name").fill("Tea double")
    page.locator("#match_field").select_option("product_type")
    expect(page.locator("#match-values")).to_have_attribute("data-field", "product_type")
    expect(page.locator("#match-values option")).to_have_count(2)
    assert page.locator("#match-values option").evaluate_all("options => options.map(o => o.value)") == [
        "Loose leaf", "Teaware"]
    page.locator("#match_value").fill("loose leaf")
    page.locator("#multiplier").fill("2")
    page.locator("#save-rule").click()
    banner = page.locator("#duplicate-rule")
    expect(banner).to_contain_text('"Leaf twice" already does exactly this')
    assert len(earning_rules(client)) == 1
    panel.screenshot("earning-rules-duplicate")
    page.locator("#edit-duplicate").click()
    expect(page.locator("#editor-title")).to_have_text("Edit Leaf twice")
    expect(page.locator("#match_value")).to_have_value("Loose leaf")


def test_a_collection_is_picked_by_its_title_and_the_rule_listed_by_it(panel, client, db):
    from plugin.db import utcnow
    from plugin.models import CachedCollection, Shop

    panel.open("/earning-rules", loaded="rules:0")  # installs the shop
    shop_id = db.query(Shop.id).filter(Shop.domain == "rosebud-tea.myshopify.com").scalar()
    # The store's collections as a refresh from the Admin API leaves them (read today: no refresh due).
    db.add_all([CachedCollection(shop_id=shop_id, collection_id=841564295, title="Summer teas", fetched_at=utcnow()),
                CachedCollection(shop_id=shop_id, collection_id=841564297, title="Gift ideas", fetched_at=utcnow())])
    db.commit()
    page = panel.page
    page.locator("#new-rule").click()
    page.locator("#name").fill("Summer double")
    page.locator("#match_field").select_option("collection_id")
    page.locator("#match_value").fill("summer")
    expect(page.locator("#match-values")).to_have_attribute("data-field", "collection_id")
    expect(page.locator("#match-values option")).to_have_count(1)
    option = page.locator("#match-values option")
    assert (option.get_attribute("value"), option.get_attribute("label")) == ("841564295", "Summer teas")
    page.locator("#match_value").fill("841564295")  # what choosing the offered title puts in the field
    page.locator("#multiplier").fill("2")
    page.locator("#save-rule").click()
    panel.wait_loaded("rules:1")
    expect(page.locator("#rules tr", has_text="Summer double")).to_contain_text("Collection Summer teas")
    assert earning_rules(client)[0]["match"]["value"] == "841564295"
