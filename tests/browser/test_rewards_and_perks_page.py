"""Rewards beyond codes in the panel, in a real browser: a free product is made with its product,
store credit with its amount, and a tier's perk is chosen from the perk rewards; the rewards
page then says the perk reward is in use before the merchant tries to deactivate it."""
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from tests.helpers import SHOP, auth
from tests.plugin.loyalty.tiers.test_tier_perks import GRAPHQL, Admin

pytestmark = pytest.mark.browser


def test_a_merchant_makes_a_free_product_and_store_credit_and_gives_gold_free_shipping(panel, client, platform):
    page = panel.page
    admin = Admin(platform)
    assert GRAPHQL.startswith(f"https://{SHOP}")
    panel.open("/rewards", loaded="rewards:3")

    page.locator("#new-reward").click()
    page.locator("#reward-form [name=name]").fill("A free mug")
    page.locator("#reward-form [name=kind]").select_option("free_product")
    expect(page.locator('#reward-form [data-field="value"]')).to_be_hidden()
    page.locator("#reward-form [name=product_id]").fill("632910392")
    page.locator("#reward-form [name=points_cost]").fill("900")
    page.locator("#reward-form button[type=submit]").click()
    panel.wait_loaded("rewards:4")
    expect(page.locator("#rewards tr", has_text="A free mug")).to_contain_text("Free product 632910392")

    page.locator("#new-reward").click()
    page.locator("#reward-form [name=name]").fill("Store credit")
    page.locator("#reward-form [name=kind]").select_option("store_credit")
    expect(page.locator("#value-label")).to_have_text("Store credit amount")
    expect(page.locator('#reward-form [data-field="product_id"]')).to_be_hidden()
    page.locator("#reward-form [name=value]").fill("5")
    page.locator("#reward-form [name=points_cost]").fill("450")
    page.locator("#reward-form button[type=submit]").click()
    panel.wait_loaded("rewards:5")
    expect(page.locator("#rewards tr", has_text="Store credit")).to_contain_text("in store credit")

    panel.open("/settings", loaded="program")
    expect(page.locator("#tiers-section")).to_have_attribute("data-loaded", "tiers:0")
    page.locator("#add-tier").click()
    page.locator("#tier-form [name=name]").fill("Gold")
    page.locator("#tier-form [name=threshold]").fill("1000")
    # Only what an automatic discount can give every order is offered as a perk.
    expect(page.locator("#tier-form [name=perk_reward_id] option")).to_have_text(
        ["None", "Free shipping", "10% off your order"])
    page.locator("#tier-form [name=perk_reward_id]").select_option(label="Free shipping")
    page.locator("#save-tier").click()
    expect(page.locator("#tiers-section")).to_have_attribute("data-loaded", "tiers:1")
    expect(page.locator("#tiers tr", has_text="Gold")).to_contain_text("Free shipping: applied at checkout")
    assert admin.names() == ["segmentCreate", "discountAutomaticFreeShippingCreate"]
    [tier] = client.get("/api/tiers", headers=auth()).get_json()["tiers"]
    assert tier["perk_state"] == "synced"

    panel.open("/rewards", loaded="rewards:5")
    row = page.locator("#rewards tr", has_text="Free shipping")
    expect(row.get_by_role("button", name="Deactivate")).to_be_disabled()
    expect(row).to_contain_text("A tier's perk")
