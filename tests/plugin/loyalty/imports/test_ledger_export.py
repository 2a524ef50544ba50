"""`GET /api/ledger/export?from=&to=` writes the points history in the generic `history`
format, streamed: imported into a fresh install (here another shop), every member has the
same balance."""
import csv
import io

from tests.admin_ui.test_imports_api import applied, verify_ledger
from tests.helpers import OTHER_SHOP, auth, customer, member, order, refund


def export(client, **query) -> bytes:
    response = client.get("/api/ledger/export", query_string=query, headers=auth())
    assert response.status_code == 200, response.get_data()
    assert response.mimetype == "text/csv"
    return response.get_data()


def history(send, client):
    send("customers/create", customer(7001, "ada@example.com"))
    send("customers/create", customer(7002, "grace@example.com", first_name="Grace"))
    send("orders/paid", order(9001, customer_id=7001, subtotal="150.00"))
    send("orders/paid", order(9002, customer_id=7002, subtotal="30.00"))
    send("refunds/create", refund(9001, "50.00"))
    for customer_id, points, reason in ((7002, 12, "goodwill"), (7001, -20, "=spent at the counter")):
        adjusted = client.post(f"/api/members/{customer_id}/adjustments", json={"points": points, "reason": reason},
                               headers=auth())
        assert adjusted.status_code == 201, adjusted.get_json()


def test_a_history_export_imports_into_a_fresh_install_with_the_same_balances(app, client, send, installed):
    history(send, client)
    source = {c: member(client, c)["balance"] for c in (7001, 7002)}
    assert source == {7001: 150 - 50 - 20, 7002: 42}

    body = export(client)
    result = applied(client, body, kind="history", shop=OTHER_SHOP)

    assert result["errors"] == [] and result["members_new"] == 2
    assert {c: member(client, c, shop=OTHER_SHOP)["balance"] for c in source} == source
    verify_ledger(app)


def test_the_export_is_one_row_per_entry_in_the_generic_history_columns(client, send, installed):
    history(send, client)

    rows = list(csv.DictReader(io.StringIO(export(client).decode())))

    assert list(rows[0]) == ["customer_id", "points", "created_at", "reason", "external_id"]
    assert sorted((r["customer_id"], int(r["points"])) for r in rows) == [
        ("7001", -50), ("7001", -20), ("7001", 150), ("7002", 12), ("7002", 30)]
    assert len({r["external_id"] for r in rows}) == len(rows)
    # A reason a spreadsheet would run is written inert, and the importer takes it as text.
    assert "'=spent at the counter" in [r["reason"] for r in rows]


def test_from_and_to_choose_the_entries_by_their_day(client, send, installed):
    history(send, client)

    assert len(list(csv.DictReader(io.StringIO(export(client, **{"from": "2000-01-01"}).decode())))) == 5
    assert list(csv.DictReader(io.StringIO(export(client, to="2000-01-01").decode()))) == []


def test_a_bad_period_is_refused(client, send, installed):
    for query, field in (({"from": "yesterday"}, "from"), ({"to": "2026-02-30"}, "to"),
                         ({"from": "2026-03-02", "to": "2026-03-01"}, "from")):
        response = client.get("/api/ledger/export", query_string=query, headers=auth())
        assert response.status_code == 422
        assert field in response.get_json()["fields"]
