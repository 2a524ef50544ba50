"""Orders whose subtotal disagrees with their lines: recorded on the order, listed for the
merchant (`GET /api/orders/subtotal-mismatches`), points following `subtotal_price`."""
import pytest

from tests.helpers import OTHER_SHOP, SHOP, auth, balance, order, table_counts


def mismatches(client, shop: str = SHOP) -> list[dict]:
    response = client.get("/api/orders/subtotal-mismatches", headers=auth(shop))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["orders"]


def test_a_subtotal_that_disagrees_with_its_lines_is_listed_and_earns_on_the_subtotal(client, send, installed):
    odd = order(subtotal="90.00", total_line_items_price="100.00", total_discounts="5.00", processed_at=None)
    send("orders/paid", odd)
    send("orders/paid", order(subtotal="95.00", total_line_items_price="100.00", total_discounts="5.00"))
    send("orders/paid", order(subtotal="40.00"))                 # no line figures: nothing to compare
    assert balance(client) == 90 + 95 + 40                        # SPEC: points follow subtotal_price
    [listed] = mismatches(client)
    assert listed["order_id"] == str(odd["id"]) and listed["name"] == odd["name"]
    assert (listed["subtotal_price"], listed["lines_subtotal"], listed["difference"]) == ("90", "95", "5")
    assert listed["earned_points"] == 90 and listed["paid_at"]
    assert mismatches(client, OTHER_SHOP) == []                   # another shop sees none of it


def test_shop_money_figures_are_compared_not_the_presented_ones(client, send, installed):
    def money(shop: str, shown: str) -> dict:
        return {"shop_money": {"amount": shop, "currency_code": "USD"},
                "presentment_money": {"amount": shown, "currency_code": "EUR"}}

    send("orders/paid", order(subtotal="50.00", subtotal_price_set=money("50.00", "46.00"),
                              total_line_items_price="99.00", total_line_items_price_set=money("60.00", "55.00"),
                              total_discounts="1.00", total_discounts_set=money("10.00", "9.00")))
    assert mismatches(client) == [] and balance(client) == 50


@pytest.mark.parametrize("figures", [
    {"total_line_items_price": "lots", "total_discounts": "5.00"},
    {"total_line_items_price": "100.00", "total_discounts": {"amount": "5"}},
    {"total_line_items_price": "1e999", "total_discounts": "0"},
])
def test_line_figures_that_cannot_be_read_neither_list_nor_fail_the_order(client, send, installed, db, figures):
    before = table_counts(db)
    send("orders/paid", order(subtotal="20.00", **figures))
    assert balance(client) == 20 and mismatches(client) == []
    after = table_counts(db)
    assert after["orders"] == before["orders"] + 1 and after["ledger_entries"] == before["ledger_entries"] + 1


def test_the_list_needs_a_session_token(client, installed):
    assert client.get("/api/orders/subtotal-mismatches").status_code == 401
