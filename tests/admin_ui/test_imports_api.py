"""`/api/imports`: a file previewed, applied and reverted through the JSON API with a real
session token; only the platform (the Admin API's customer search) is mocked."""
import io
import json

import pytest
from sqlalchemy import func, select

from plugin.models import EntryKind, LedgerEntry, MemberEvent, PointLot, StoreSync
from tests.helpers import OTHER_SHOP, SHOP, auth, balance, customer, member, order, table_counts

GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"


def upload(client, body: bytes, kind: str = "balances", fmt: str = "generic", shop: str = SHOP):
    return client.post("/api/imports", data={"file": (io.BytesIO(body), "points.csv"), "kind": kind, "format": fmt},
                       headers=auth(shop), content_type="multipart/form-data")


def previewed(client, body: bytes, **kwargs) -> dict:
    response = upload(client, body, **kwargs)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def act(client, import_id: int, verb: str, shop: str = SHOP):
    return client.post(f"/api/imports/{import_id}/{verb}", headers=auth(shop))


def applied(client, body: bytes, **kwargs) -> dict:
    found = previewed(client, body, **kwargs)
    response = act(client, found["id"], "apply", shop=kwargs.get("shop", SHOP))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def verify_ledger(app) -> None:
    result = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert result.exit_code == 0, result.output


def points_of(db) -> dict:
    """What must not move while an import is only previewed or refused."""
    counts = table_counts(db)
    return {name: counts[name] for name in ("members", "ledger_entries", "point_lots", "member_events")}


@pytest.fixture
def ada(client, send, installed):
    """Ada (7001) with 40 points from one order, known by email."""
    send("customers/create", customer(7001, "ada@example.com"))
    send("orders/paid", order(customer_id=7001, subtotal="40.00"))
    assert balance(client) == 40


BALANCES = b"customer_id,email,points,earned_at\r\n7001,,300,2026-01-15\r\n7002,,120,\r\n"


def test_a_preview_counts_the_file_and_applies_nothing(client, db, ada):
    before = points_of(db)

    found = previewed(client, BALANCES)

    assert {k: found[k] for k in ("status", "kind", "format", "rows", "members_matched", "members_new",
                                  "points_total", "errors", "already_imported")} == {
        "status": "previewed", "kind": "balances", "format": "generic", "rows": 2, "members_matched": 1,
        "members_new": 1, "points_total": 420, "errors": [], "already_imported": False}
    assert [(s["customer_id"], s["before"], s["after"]) for s in found["sample"]] == [("7001", 40, 340),
                                                                                     ("7002", 0, 120)]
    assert points_of(db) == before
    assert balance(client) == 40 and member(client, 7002) is None


def test_applying_gives_each_member_one_dated_import_entry_and_no_event(app, client, db, ada):
    events_before = db.scalar(select(func.count()).select_from(MemberEvent))

    result = applied(client, BALANCES)

    assert result["status"] == "applied"
    assert balance(client) == 340 and balance(client, 7002) == 120
    ada_ledger = member(client)["ledger"]
    assert ada_ledger[0]["delta"] == 300 and ada_ledger[0]["reason"] == "Imported from generic"
    assert ada_ledger[0]["source"]["type"] == "import"
    lot = db.execute(select(PointLot.earned_at).join(LedgerEntry, LedgerEntry.id == PointLot.entry_id).where(
        LedgerEntry.kind == EntryKind.IMPORT, LedgerEntry.delta == 300)).scalar_one()
    assert lot.isoformat().startswith("2026-01-15")
    assert db.scalar(select(func.count()).select_from(MemberEvent)) == events_before
    assert db.scalar(select(func.count()).select_from(StoreSync).where(StoreSync.pending.is_(True))) == 2
    verify_ledger(app)


def test_applying_one_import_twice_changes_nothing_the_second_time(app, client, db, ada):
    result = applied(client, BALANCES)
    before = table_counts(db)

    again = act(client, result["id"], "apply")

    assert again.status_code == 200 and again.get_json()["status"] == "applied"
    assert table_counts(db) == before and balance(client) == 340


def test_the_same_bytes_uploaded_again_are_already_imported_and_cannot_be_applied(client, db, ada):
    applied(client, BALANCES)
    second = previewed(client, BALANCES)
    assert second["already_imported"] is True
    before = table_counts(db)

    refused = act(client, second["id"], "apply")

    assert refused.status_code == 409 and refused.get_json()["code"] == "already_imported"
    assert table_counts(db) == before and balance(client) == 340


def test_the_same_bytes_in_another_shop_are_a_new_import(client, ada):
    applied(client, BALANCES)
    assert previewed(client, BALANCES, shop=OTHER_SHOP)["already_imported"] is False


def test_a_revert_takes_back_what_is_left_and_reports_what_was_spent(app, client, ada):
    result = applied(client, BALANCES)
    spent = client.post("/api/members/7001/adjustments", json={"points": -100, "reason": "spent"}, headers=auth())
    assert spent.status_code == 201  # the oldest lot goes first: the imported one, from January

    reverted = act(client, result["id"], "revert")

    assert reverted.status_code == 200
    assert reverted.get_json()["status"] == "reverted" and reverted.get_json()["not_reverted"] == 100
    assert balance(client) == 40 - 100 + 100  # the order's 40 stay; 200 of the 300 came back out
    assert balance(client, 7002) == 0
    kinds = [e["source"]["type"] for e in member(client)["ledger"]]
    assert kinds.count("import") == 2  # the import and its reversal (one source vocabulary)
    verify_ledger(app)


def test_a_second_revert_changes_nothing(client, db, ada):
    result = applied(client, BALANCES)
    assert act(client, result["id"], "revert").status_code == 200
    before = table_counts(db)

    again = act(client, result["id"], "revert")

    assert again.status_code == 200 and again.get_json()["status"] == "reverted"
    assert table_counts(db) == before


def test_a_reverted_file_can_be_imported_again(client, ada):
    result = applied(client, BALANCES)
    act(client, result["id"], "revert")
    assert previewed(client, BALANCES)["already_imported"] is False


def test_a_previewed_import_cannot_be_reverted(client, db, ada):
    found = previewed(client, BALANCES)
    before = table_counts(db)
    assert act(client, found["id"], "revert").status_code == 422
    assert table_counts(db) == before


def test_rows_match_a_member_by_normalised_email(app, client, ada):
    result = applied(client, b"email,points\n  Ada+old@EXAMPLE.com ,25\n")
    assert result["members_matched"] == 1 and result["members_new"] == 0
    assert balance(client) == 65
    verify_ledger(app)


def test_an_email_no_member_has_is_looked_up_in_the_store(app, client, platform):
    platform.post(GRAPHQL, json={"data": {"customers": {"nodes": [
        {"id": "gid://shopify/Customer/9001", "email": "Grace@Example.com"}]}},
        "extensions": {"cost": {"requestedQueryCost": 10, "throttleStatus": {
            "maximumAvailable": 2000, "currentlyAvailable": 1990, "restoreRate": 100}}}})

    found = previewed(client, b"email,points\ngrace@example.com,75\nnobody@example.com,5\n")

    searches = [json.loads(c.request.body) for c in platform.calls if c.request.url == GRAPHQL]
    assert len(searches) == 1  # one call for the batch
    assert searches[0]["variables"]["query"] == 'email:"grace@example.com" OR email:"nobody@example.com"'
    assert found["members_new"] == 1
    assert found["errors"] == [{"row": 3, "field": "email",
                                "message": "no member and no customer of the store has this email"}]


def test_a_customer_found_in_the_store_becomes_a_member_on_apply(app, client, platform):
    platform.post(GRAPHQL, json={"data": {"customers": {"nodes": [
        {"id": "gid://shopify/Customer/9001", "email": "grace@example.com"}]}}})

    applied(client, b"email,points\ngrace@example.com,75\n")

    assert balance(client, 9001) == 75
    verify_ledger(app)


def test_a_throttled_search_waits_and_tries_again(client, platform):
    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                 "extensions": {"cost": {"requestedQueryCost": 10, "throttleStatus": {
                     "maximumAvailable": 2000, "currentlyAvailable": 0, "restoreRate": 100}}}}
    platform.post(GRAPHQL, json=throttled)
    platform.post(GRAPHQL, json={"data": {"customers": {"nodes": [
        {"id": "gid://shopify/Customer/9001", "email": "grace@example.com"}]}}})

    found = previewed(client, b"email,points\ngrace@example.com,75\n")

    assert found["errors"] == [] and found["members_new"] == 1


def test_a_tier_from_the_file_is_set_without_an_event_and_birthdays_are_saved(app, client, db, ada):
    gold = client.post("/api/tiers", json={"name": "Gold", "threshold": 1000}, headers=auth()).get_json()
    events_before = db.scalar(select(func.count()).select_from(MemberEvent))

    applied(client, b"customer_id,points,tier,birthday\n7001,10,gold,05-21\n")

    ada = member(client)
    assert ada["tier"]["id"] == gold["id"] and ada["tier"]["paid_until"] is not None
    assert db.scalar(select(func.count()).select_from(MemberEvent)) == events_before
    assert ada["birthday"] == "05-21"
    verify_ledger(app)


def test_an_unknown_tier_is_a_row_error(client, ada):
    found = previewed(client, b"customer_id,points,tier\n7001,10,Platinum\n")
    assert found["errors"] == [{"row": 2, "field": "tier", "message": "no tier of this shop has this name"}]


HISTORY = (b"customer_id,points,created_at,reason,external_id\n"
           b"7001,100,2025-12-01T10:00:00Z,Order #1,h-1\n"
           b"7001,-30,2026-01-05T10:00:00Z,Redeemed,h-2\n"
           b"7002,50,2026-02-01,Signup,h-3\n")


def test_a_history_writes_one_entry_per_row_dated_by_created_at(app, client, db, ada):
    result = applied(client, HISTORY, kind="history")

    assert result["rows"] == 3 and result["points_total"] == 120
    assert balance(client) == 40 + 70 and balance(client, 7002) == 50
    dates = db.scalars(select(PointLot.earned_at).join(LedgerEntry, LedgerEntry.id == PointLot.entry_id).where(
        LedgerEntry.kind == EntryKind.IMPORT).order_by(PointLot.earned_at)).all()
    assert [d.date().isoformat() for d in dates] == ["2025-12-01", "2026-02-01"]
    verify_ledger(app)


def test_a_history_revert_gives_back_what_its_debits_took(app, client, ada):
    result = applied(client, HISTORY, kind="history")
    reverted = act(client, result["id"], "revert").get_json()
    assert reverted["not_reverted"] == 0
    assert balance(client) == 40 and balance(client, 7002) == 0
    verify_ledger(app)


def test_imports_are_listed_and_read_per_shop(client, ada):
    found = previewed(client, BALANCES)
    listed = client.get("/api/imports", headers=auth()).get_json()["imports"]
    assert [i["id"] for i in listed] == [found["id"]]
    assert client.get(f"/api/imports/{found['id']}", headers=auth()).get_json()["points_total"] == 420
    assert client.get(f"/api/imports/{found['id']}", headers=auth(OTHER_SHOP)).status_code == 404
    assert act(client, found["id"], "apply", shop=OTHER_SHOP).status_code == 404
    assert client.get("/api/imports", headers=auth(OTHER_SHOP)).get_json()["imports"] == []


def test_an_applied_import_keeps_no_copy_of_the_files_rows(client, db, ada):
    from plugin.models import ImportRow

    found = previewed(client, b"email,points,birthday\nada@example.com,10,05-21\n")
    assert db.scalar(select(func.count()).select_from(ImportRow)) == 1
    act(client, found["id"], "apply")
    assert db.scalar(select(func.count()).select_from(ImportRow)) == 0


def test_customers_redact_deletes_that_customers_previewed_rows(client, db, ada, send):
    from plugin.models import ImportRow

    previewed(client, b"customer_id,email,points\n7001,ada@example.com,10\n7002,grace@example.com,5\n")
    send("customers/redact", {"shop_id": 1, "shop_domain": SHOP, "customer": {"id": 7001, "email": "ada@example.com"},
                              "orders_to_redact": []})

    assert db.scalars(select(ImportRow.customer_id)).all() == [7002]
