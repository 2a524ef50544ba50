"""The mandatory privacy webhooks: data requests, customer redaction, shop erasure.

Each test speaks the platform's language (signed webhooks, session tokens) and reads the
outcome back through the admin API, or, for "nothing of the shop remains", row by row.
"""
import json
import logging
from datetime import timedelta
from decimal import Decimal

import pytest
import responses
from sqlalchemy import select, text

from plugin.db import Base, transaction, utcnow
from plugin.models import EventStatus, Shop, WebhookEvent
from tests.helpers import (
    OTHER_SHOP,
    SHOP,
    auth,
    balance,
    customer,
    member,
    order,
    refund,
    session_token,
    signed_webhook,
    token_answer,
    token_endpoint,
)
from webhooks.processing import drain_due_events

ADA, GRACE = 7001, 7002
REDACTED = '{"redacted": true}'


def data_request(customer_id: int = ADA, request_id: int = 9001, orders=(), shop: str = SHOP) -> dict:
    return {"shop_id": 954889, "shop_domain": shop, "orders_requested": list(orders),
            "customer": {"id": customer_id, "email": "ada@example.com", "phone": "555-625-1199"},
            "data_request": {"id": request_id}}


def customer_redact(customer_id: int = ADA, orders=(), shop: str = SHOP) -> dict:
    return {"shop_id": 954889, "shop_domain": shop, "orders_to_redact": list(orders),
            "customer": {"id": customer_id, "email": "ada@example.com", "phone": "555-625-1199"}}


def shop_redact(shop: str = SHOP) -> dict:
    return {"shop_id": 954889, "shop_domain": shop}


def exports(client, shop: str = SHOP) -> list[dict]:
    response = client.get("/api/data-requests", headers=auth(shop))
    assert response.status_code == 200
    return response.get_json()["data_requests"]


def export(client, data_request_id: int, shop: str = SHOP):
    return client.get(f"/api/data-requests/{data_request_id}", headers=auth(shop))


def stored_events(app, shop: str = SHOP) -> list[WebhookEvent]:
    with app.app_context(), transaction() as session:
        return list(session.scalars(select(WebhookEvent).where(WebhookEvent.shop_domain == shop)
                                    .order_by(WebhookEvent.id)))


def shop_rows(db, domain: str) -> dict:
    """Every row that belongs to the shop, table by table; fails on a table it cannot place."""
    shop_id = db.scalar(select(Shop.id).where(Shop.domain == domain))
    rows = {}
    for table in Base.metadata.sorted_tables:
        if "shop_id" in table.c:
            where = table.c.shop_id == shop_id
        elif "shop_domain" in table.c:
            where = table.c.shop_domain == domain
        elif table.name == "shops":
            where = table.c.domain == domain
        elif table.name == "leases":
            continue  # the app's own (one tick at a time), nobody's data
        else:
            raise AssertionError(f"table {table.name} has no shop: say how shop/redact erases it")
        rows[table.name] = sorted(tuple(map(str, row)) for row in db.execute(select(table).where(where)))
    return rows


def a_customer_with_history(send, shop: str = SHOP, customer_id: int = ADA) -> dict:
    """Ada joins, buys for 50.00 (50 points), gets 20.00 refunded (-20 points): balance 30."""
    send("customers/create", customer(customer_id), shop=shop)
    paid = order(customer_id=customer_id, subtotal="50.00")
    send("orders/paid", paid, shop=shop)
    send("refunds/create", refund(paid["id"], "20.00"), shop=shop)
    return paid


# customers/data_request


def test_a_data_request_exports_profile_points_ledger_orders_and_refunds(client, send):
    paid = a_customer_with_history(send)
    graces = order(customer_id=GRACE, subtotal="99.00", email="grace@example.com",
                   customer={"id": GRACE, "email": "grace@example.com"})
    send("orders/paid", graces)
    send("customers/data_request", data_request(request_id=9001, orders=[paid["id"]]))

    [listed] = exports(client)
    assert (listed["request_id"], listed["customer_id"]) == ("9001", str(ADA))
    response = export(client, listed["id"])
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    data = response.get_json()["export"]
    assert (data["shop"], data["customer_id"]) == (SHOP, str(ADA))
    assert {k: data["member"][k] for k in ("email", "first_name", "last_name", "balance", "lifetime_earned")} == {
        "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", "balance": 30, "lifetime_earned": 50}
    assert [(e["delta"], e["source"]["type"]) for e in data["ledger"]] == [(50, "order"), (-20, "refund")]
    assert [(o["order_id"], o["earned_points"]) for o in data["orders"]] == [(str(paid["id"]), 50)]
    [refunded] = data["refunds"]
    assert refunded["order_id"] == str(paid["id"]) and Decimal(refunded["refunded_subtotal"]) == Decimal("20")
    assert "grace@example.com" not in json.dumps(data) and str(graces["id"]) not in json.dumps(data)


def test_a_data_request_for_a_stranger_exports_an_empty_record(client, send):
    send("customers/data_request", data_request(customer_id=424242))
    data = export(client, exports(client)[0]["id"]).get_json()["export"]
    assert (data["member"], data["ledger"], data["orders"], data["refunds"]) == (None, [], [], [])


def test_the_data_request_log_names_shop_and_request_but_no_customer_data(inprocess_app, caplog):
    caplog.set_level(logging.DEBUG)
    client = inprocess_app.test_client()
    assert signed_webhook(client, "customers/data_request", data_request(request_id=9001)).status_code == 200
    assert any("9001" in r.getMessage() and SHOP in r.getMessage() for r in caplog.records)
    for secret in ("ada@example.com", "555-625-1199", str(ADA)):
        assert secret not in caplog.text


def test_a_redelivered_data_request_makes_no_second_export(client, send):
    payload = data_request(request_id=9001)
    send("customers/data_request", payload)
    send("customers/data_request", payload)  # the same request under a new webhook id
    assert signed_webhook(client, "customers/data_request", payload, webhook_id="w-1").status_code == 200
    assert signed_webhook(client, "customers/data_request", payload, webhook_id="w-1").get_json() == {
        "status": "duplicate"}
    assert len(exports(client)) == 1


def test_another_shop_cannot_read_or_list_the_export(client, installed, send):
    send("customers/data_request", data_request())
    mine = exports(client)[0]["id"]
    assert export(client, mine, shop=OTHER_SHOP).status_code == 404
    assert exports(client, shop=OTHER_SHOP) == []
    assert export(client, mine + 1000).status_code == 404


@pytest.mark.parametrize("path", ["/api/data-requests", "/api/data-requests/1"])
def test_the_exports_need_a_session_token(client, path):
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": f"Bearer {session_token(secret='x' * 40)}"}).status_code == 401


def test_a_data_request_without_its_request_id_fails_and_writes_nothing(app, client, installed, send):
    send("customers/data_request", {"shop_domain": SHOP, "customer": {"id": ADA}})
    [event] = stored_events(app)
    assert event.status is EventStatus.FAILED and "data_request.id" in event.last_error
    assert exports(client) == []


# customers/redact


def test_customers_redact_clears_the_profile_and_keeps_points_and_ledger(client, send):
    a_customer_with_history(send)
    ledger_before = member(client)["ledger"]
    send("customers/redact", customer_redact())
    after = member(client)
    assert (after["email"], after["first_name"], after["last_name"]) == (None, None, None)
    assert (after["balance"], after["lifetime_earned"]) == (30, 50)
    assert after["ledger"] == ledger_before


def test_later_webhooks_do_not_bring_a_redacted_profile_back(client, send):
    a_customer_with_history(send)
    send("customers/redact", customer_redact())
    send("orders/paid", order(customer_id=ADA, subtotal="10.00", email="ada@example.com"))
    send("customers/update", customer(ADA, updated_at="2030-01-01T00:00:00Z"))
    send("customers/create", customer(ADA, updated_at="2030-01-02T00:00:00Z"))
    after = member(client)
    assert (after["email"], after["first_name"], after["last_name"]) == (None, None, None)
    assert after["balance"] == 40  # points still move: only the profile is gone


def test_a_redacted_stranger_cannot_be_given_a_profile_by_a_late_order(client, send):
    send("customers/redact", customer_redact(customer_id=GRACE))
    send("orders/paid", order(customer_id=GRACE, subtotal="10.00", email="grace@example.com"))
    assert (member(client, GRACE)["email"], balance(client, GRACE)) == (None, 10)


def test_customers_redact_deletes_the_customers_exports_only(client, send):
    send("customers/data_request", data_request(customer_id=ADA, request_id=1))
    send("customers/data_request", data_request(customer_id=GRACE, request_id=2))
    send("customers/redact", customer_redact(customer_id=ADA))
    assert [e["customer_id"] for e in exports(client)] == [str(GRACE)]


def test_customers_redact_scrubs_the_stored_payloads_about_the_customer(app, client, send):
    paid = a_customer_with_history(send)
    unlinked = 450700123  # an order we only know of through a refund; the platform lists it
    send("refunds/create", refund(unlinked, "5.00"))
    send("customers/data_request", data_request())
    send("orders/paid", order(customer_id=GRACE, subtotal="9.00"))
    send("orders/paid", order(customer_id=ADA, subtotal="9.00"), shop=OTHER_SHOP)
    send("customers/redact", customer_redact(orders=[paid["id"], unlinked]))

    events = stored_events(app)
    scrubbed = [e.topic for e in events if e.payload == REDACTED]
    assert scrubbed == ["customers/create", "orders/paid", "refunds/create", "refunds/create",
                        "customers/data_request"]
    kept = {e.topic: json.loads(e.payload) for e in events if e.payload != REDACTED}
    assert kept["orders/paid"]["customer"]["id"] == GRACE
    assert kept["customers/redact"]["customer"]["id"] == ADA  # the delivery being processed is left alone
    assert all(e.status is EventStatus.PROCESSED for e in events)
    [elsewhere] = stored_events(app, shop=OTHER_SHOP)
    assert json.loads(elsewhere.payload)["customer"]["id"] == ADA  # another shop's payloads are not ours to touch


def test_the_redact_delivery_keeps_only_the_ids_it_acted_on_once_processed(app, send):
    send("customers/redact", customer_redact(orders=[450700555]))
    [delivery] = stored_events(app)
    kept = json.loads(delivery.payload)
    assert kept == {"redacted": True, "shop_domain": SHOP, "customer": {"id": ADA}, "orders_to_redact": [450700555]}
    assert "ada@example.com" not in delivery.payload and "555-625-1199" not in delivery.payload


def test_deliveries_about_a_redacted_customer_that_arrive_later_are_scrubbed_as_processed(app, client, send):
    a_customer_with_history(send)
    send("customers/redact", customer_redact())
    late = order(customer_id=ADA, subtotal="12.00", email="ada@example.com")
    send("orders/paid", late)
    send("customers/update", customer(ADA, updated_at="2026-11-20T10:00:00-05:00"))
    send("orders/paid", order(customer_id=GRACE, subtotal="3.00"))

    by_topic = [(e.topic, e.payload == REDACTED) for e in stored_events(app)][-3:]
    assert by_topic == [("orders/paid", True), ("customers/update", True), ("orders/paid", False)]
    ada = member(client)
    assert (ada["email"], ada["redacted"]) == (None, True)
    assert 12 in [entry["delta"] for entry in ada["ledger"]]  # the points still count


def test_processed_payloads_are_blanked_after_the_retention_period_and_failed_ones_kept(app, client, send):
    from plugin.schedule import run_periodic

    send("orders/paid", order(subtotal="10.00"))
    send("orders/paid", order(subtotal="20.00"))
    send("orders/paid", b"not json")
    old, recent, failed = stored_events(app)
    with app.app_context(), transaction() as session:
        session.execute(WebhookEvent.__table__.update().where(WebhookEvent.id == old.id)
                        .values(processed_at=utcnow() - timedelta(days=31)))
    with app.app_context():
        assert run_periodic("payload-retention") == 1
        assert run_periodic("payload-retention") == 0  # once
    payloads = {e.id: e.payload for e in stored_events(app)}
    assert payloads[old.id] == '{"retention_expired": true}'
    assert payloads[recent.id] == recent.payload and payloads[failed.id] == failed.payload
    assert balance(client) == 30  # what the payloads did stays done


def test_a_redact_naming_another_shop_in_its_body_changes_nothing(client, send):
    a_customer_with_history(send)
    send("customers/redact", customer_redact(shop=OTHER_SHOP))
    assert member(client)["email"] == "ada@example.com"


# shop/redact


def test_shop_redact_erases_that_shop_and_leaves_the_other_untouched(app, client, db, send):
    for shop in (SHOP, OTHER_SHOP):
        a_customer_with_history(send, shop=shop)
        send("customers/data_request", data_request(shop=shop), shop=shop)
        client.patch("/api/program", json={"signup_bonus": 5}, headers=auth(shop))
    other_before = shop_rows(db, OTHER_SHOP)

    send("shop/redact", shop_redact(), webhook_id="redact-1")

    assert shop_rows(db, OTHER_SHOP) == other_before
    assert db.scalar(select(Shop).where(Shop.domain == SHOP)) is None
    [kept] = stored_events(app)
    assert (kept.topic, kept.webhook_id, kept.status) == ("shop/redact", "redact-1", EventStatus.PROCESSED)
    for table in Base.metadata.sorted_tables:
        if "shop_id" in table.c:  # nothing left pointing at a shop that is gone
            assert db.execute(select(table).where(table.c.shop_id.not_in(select(Shop.id)))).all() == [], table.name
    assert signed_webhook(client, "shop/redact", shop_redact(), webhook_id="redact-1").get_json() == {
        "status": "duplicate"}


def test_shop_redact_of_an_unknown_shop_leaves_only_its_own_event(app, db, send):
    send("shop/redact", shop_redact())
    assert db.scalar(select(Shop).where(Shop.domain == SHOP)) is None
    assert [e.topic for e in stored_events(app)] == ["shop/redact"]


def test_shop_redact_cascades_in_the_database_itself(db):
    """The erasure leans on ON DELETE CASCADE; SQLite enforces it only with foreign keys on."""
    if db.get_bind().dialect.name == "sqlite":
        assert db.execute(text("PRAGMA foreign_keys")).scalar() == 1
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name in ("shops", "members"):
                assert key.ondelete == "CASCADE", f"{table.name}.{key.parent.name}"


def test_events_after_shop_redact_in_the_same_batch_do_not_bring_the_shop_back(inprocess_app, monkeypatch, caplog):
    monkeypatch.setattr("webhooks.intake.signal_drain", lambda trigger: None)  # let them pile up
    client = inprocess_app.test_client()
    for topic, payload, shop in [
        ("orders/paid", order(subtotal="30.00"), SHOP),
        ("orders/paid", order(subtotal="20.00"), OTHER_SHOP),
        ("shop/redact", shop_redact(), SHOP),
        ("orders/paid", order(subtotal="10.00"), SHOP),
        ("customers/data_request", data_request(), SHOP),
    ]:
        assert signed_webhook(client, topic, payload, shop=shop).status_code == 200
    with inprocess_app.app_context():
        assert drain_due_events() == 5
    assert "one by one" not in caplog.text  # one batch, not the failure path
    assert [e.topic for e in stored_events(inprocess_app)] == ["shop/redact"]
    with inprocess_app.app_context(), transaction() as session:
        assert session.scalar(select(Shop).where(Shop.domain == SHOP)) is None
    assert balance(client, shop=OTHER_SHOP) == 20


@responses.activate
def test_a_shop_installed_again_after_the_redact_was_asked_keeps_its_data(client, send):
    send("orders/paid", order(subtotal="42.00"))
    asked = (utcnow() - timedelta(minutes=5)).isoformat()
    responses.post(token_endpoint(), json=token_answer("shpat_again"))
    reopened = client.get("/", query_string={"shop": SHOP, "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvcm9zZWJ1ZC10ZWE",
                                             "id_token": session_token()})
    assert reopened.status_code == 200  # installed again, by token exchange
    send("shop/redact", shop_redact(), headers={"X-Shopify-Triggered-At": asked})
    assert balance(client) == 42


def test_customers_redact_drops_the_parsed_order_facts_and_keeps_what_lines_earned(app, client, send, db):
    from plugin.models import OrderRecord

    send("orders/paid", order(order_id=880, subtotal="30.00", line_items=[
        {"id": 1, "product_id": 11, "sku": "TEA", "vendor": "Rosebud", "quantity": 1, "price": "30.00"}]))
    before = db.scalar(select(OrderRecord).where(OrderRecord.order_id == 880))
    assert before.facts["lines"][0]["sku"] == "TEA" and before.lines[0]["eligible"] == "30.00"
    send("customers/redact", customer_redact(orders=[880]))
    after = db.scalar(select(OrderRecord).where(OrderRecord.order_id == 880).execution_options(populate_existing=True))
    assert after.facts is None and after.lines == before.lines
    assert balance(client) == 30


def test_an_order_that_arrives_after_the_redaction_keeps_no_parsed_facts_either(app, client, send, db):
    from plugin.models import OrderRecord

    send("customers/redact", customer_redact())
    send("orders/paid", order(order_id=881, subtotal="12.00", line_items=[
        {"id": 1, "product_id": 11, "sku": "TEA", "vendor": "Rosebud", "quantity": 1, "price": "12.00"}]))
    late = db.scalar(select(OrderRecord).where(OrderRecord.order_id == 881))
    assert late.facts is None and late.earned_points == 12 and balance(client) == 12
