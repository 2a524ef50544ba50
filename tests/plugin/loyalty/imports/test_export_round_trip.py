"""`GET /api/members/export` writes the generic balances format: a shop's export imports into
a fresh install (here another shop) with the same balances, tiers and birthdays."""
import csv
import io

from tests.admin_ui.test_imports_api import applied, verify_ledger
from tests.helpers import OTHER_SHOP, auth, customer, member, order


def export(client, shop=None) -> bytes:
    response = client.get("/api/members/export", headers=auth(shop) if shop else auth())
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return response.get_data()


def test_an_export_imports_into_a_fresh_install_with_the_same_balances(app, client, send, installed):
    for shop in (None, OTHER_SHOP):
        tier = client.post("/api/tiers", json={"name": "Gold", "threshold": 100},
                           headers=auth(shop) if shop else auth())
        assert tier.status_code == 201
    send("customers/create", customer(7001, "ada@example.com"))
    send("customers/create", customer(7002, "grace@example.com", first_name="Grace"))
    send("orders/paid", order(customer_id=7001, subtotal="150.00"))
    send("orders/paid", order(customer_id=7002, subtotal="30.00"))
    adjusted = client.post("/api/members/7002/adjustments", json={"points": 12, "reason": "goodwill"}, headers=auth())
    assert adjusted.status_code == 201
    assert client.patch("/api/members/7001", json={"birthday": "05-21"}, headers=auth()).status_code == 200
    source = {c: member(client, c) for c in (7001, 7002)}

    body = export(client)
    result = applied(client, body, shop=OTHER_SHOP)

    assert result["errors"] == [] and result["members_new"] == 2
    for customer_id, before in source.items():
        after = member(client, customer_id, shop=OTHER_SHOP)
        assert after["balance"] == before["balance"]
        assert after["birthday"] == before["birthday"]
        assert (after["tier"] or {}).get("name") == (before["tier"] or {}).get("name")
    verify_ledger(app)


def test_the_export_streams_one_row_per_member_in_the_generic_columns(client, send, installed):
    send("orders/paid", order(customer_id=7001, subtotal="40.00"))

    rows = list(csv.DictReader(io.StringIO(export(client).decode())))

    assert rows == [{"customer_id": "7001", "email": "ada@example.com", "points": "40",
                     "earned_at": rows[0]["earned_at"], "tier": "", "birthday": ""}]
    assert rows[0]["earned_at"].startswith("20")


def test_a_formula_in_an_exported_cell_is_written_inert(app, client, send, installed):
    send("customers/create", customer(7001, "ada@example.com"))
    assert client.post("/api/tiers", json={"name": "=HYPERLINK(\"x\")", "threshold": 0},
                       headers=auth()).status_code == 201
    ticked = app.test_cli_runner().invoke(args=["tick"])  # places the member in the entry tier
    assert ticked.exit_code == 0, ticked.output

    rows = list(csv.DictReader(io.StringIO(export(client).decode())))

    assert rows[0]["tier"] == "'=HYPERLINK(\"x\")"
