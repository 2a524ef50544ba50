"""Money in the panel as the shop shows it: one helper (panel.js `formatMoney`) on every page,
exact, grouped, with the shop's currency symbol once `shop/update` has told us the currency."""
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from tests.helpers import auth, signed_webhook

pytestmark = pytest.mark.browser


def test_rewards_show_amounts_in_the_shops_currency_once_it_is_known(panel, client, settle):
    panel.open("/rewards", loaded="rewards:3")  # installs the shop: no currency known yet
    row = panel.page.locator("#rewards tr", has_text="5 off your order")
    expect(row.locator("td").nth(1)).to_have_text("5.00 off")
    response = client.post("/api/rewards", headers=auth(), json={
        "name": "Big spender", "kind": "amount_off", "value": "1250.5", "points_cost": 99000, "min_subtotal": "2000"})
    assert response.status_code == 201
    signed_webhook(client, "shop/update", {"id": 1, "currency": "EUR", "iana_timezone": "Europe/Paris"})
    settle()
    panel.open("/rewards", loaded="rewards:4")
    expect(panel.page.locator("#rewards tr", has_text="5 off your order").locator("td").nth(1)).to_have_text("€5.00 off")
    big = panel.page.locator("#rewards tr", has_text="Big spender")
    expect(big.locator("td").nth(1)).to_have_text("€1,250.50 off")
    expect(big.locator("td").first).to_contain_text("orders from €2,000.00")
    panel.screenshot("rewards-money")
