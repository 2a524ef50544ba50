"""The product cache behind rules on product type, tags and collections: worked examples.

Fed by products/* webhooks and by look-ups through the Admin API that run before a batch's
transaction; an order whose products cannot be known yet waits and is retried, and never
earns at a guessed rate. The shop earns 1 point per 1.00; the balance is stated after
every step.

Tests that need the Admin API run their jobs in this process (`inprocess_app`): the mock
lives here, and the RQ workers of the services pass could not reach it. Tests that need no
look-up go through `send`, so they run on those workers too.
"""
import json
import sqlite3
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import responses
from sqlalchemy import create_engine, select, text, update
from sqlalchemy import event as sa_event
from sqlalchemy.engine import make_url

from plugin.db import transaction, utcnow
from plugin.models import CachedProduct, EventStatus, WebhookEvent
from tests.helpers import SHOP, auth, balance, order, session_token, signed_webhook, token_answer, token_endpoint
from webhooks.processing import MAX_ATTEMPTS, drain_due_events
from webhooks.products import LOOK_UP_ATTEMPTS

GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
TEA, MUG, GONE = 11, 22, 33
DOUBLE_TEA = {"name": "Double tea", "kind": "multiplier", "match": {"field": "product_type", "value": "Tea"},
              "multiplier": "2"}


def line(line_id: int, product_id: int, price: str, quantity: int = 1) -> dict:
    return {"id": line_id, "product_id": product_id, "sku": f"SKU-{product_id}", "vendor": "Rosebud",
            "quantity": quantity, "price": price,
            "price_set": {"shop_money": {"amount": price, "currency_code": "USD"}},
            "gift_card": False, "total_discount": "0.00", "discount_allocations": []}


def paid(order_id: int, *lines: dict, customer_id: int = 7001) -> dict:
    subtotal = sum(Decimal(item["price"]) * item["quantity"] for item in lines)
    return order(order_id=order_id, customer_id=customer_id, subtotal=str(subtotal), line_items=list(lines),
                 processed_at="2026-11-20T12:00:00Z")


def product_payload(product_id: int, product_type: str, updated_at: str, tags: str = "", vendor: str = "Rosebud"):
    """A REST product as products/create and products/update carry it: no collections."""
    return {"id": product_id, "title": f"Product {product_id}", "product_type": product_type, "vendor": vendor,
            "tags": tags, "created_at": "2026-11-01T09:00:00-05:00", "updated_at": updated_at, "variants": []}


def node(product_id: int, product_type: str, collections: tuple[int, ...] = (), next_page: str | None = None,
         tags: tuple[str, ...] = ()) -> dict:
    """A product as the Admin API's `nodes` answers it."""
    return {"id": f"gid://shopify/Product/{product_id}", "productType": product_type, "vendor": "Rosebud",
            "tags": list(tags), "updatedAt": "2026-11-20T10:00:00Z",
            "collections": {"nodes": [{"id": f"gid://shopify/Collection/{c}"} for c in collections],
                            "pageInfo": {"hasNextPage": next_page is not None, "endCursor": next_page}}}


def nodes(*answered) -> dict:
    return {"data": {"nodes": list(answered)}, "extensions": {"cost": {"requestedQueryCost": 14, "throttleStatus": {
        "maximumAvailable": 2000, "currentlyAvailable": 1986, "restoreRate": 100}}}}


def add_rule(client, rule: dict) -> int:
    response = client.post("/api/earning-rules", json=rule, headers=auth())
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def cached(app, product_id: int) -> CachedProduct | None:
    with app.app_context(), transaction() as session:
        return session.scalar(select(CachedProduct).where(CachedProduct.product_id == product_id))


def the_order_event(app) -> WebhookEvent:
    with app.app_context(), transaction() as session:
        return session.scalars(select(WebhookEvent).where(WebhookEvent.topic == "orders/paid")).one()


@pytest.fixture
def store(inprocess_app, monkeypatch):
    """SHOP installed, its jobs run in this process, the Admin API mocked. `deliver` processes
    at once, as intake does in-process; `queue` only stores, so `drain` takes many in one batch."""
    client = inprocess_app.test_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(token_endpoint(), json=token_answer("shpat_live"))
        assert client.get("/", query_string={"shop": SHOP, "id_token": session_token()}).status_code == 200

        def deliver(topic: str, payload: dict) -> None:
            assert signed_webhook(client, topic, payload).status_code == 200

        def queue(topic: str, payload: dict) -> None:
            with monkeypatch.context() as paused:
                paused.setattr("webhooks.intake.signal_drain", lambda trigger: None)
                deliver(topic, payload)

        def drain() -> None:
            with inprocess_app.app_context():
                drain_due_events()

        def calls() -> list[dict]:
            return [json.loads(call.request.body) for call in mock.calls if call.request.url == GRAPHQL]

        yield SimpleNamespace(app=inprocess_app, client=client, mock=mock, deliver=deliver, queue=queue,
                              drain=drain, calls=calls)


def no_transaction_is_open(app) -> bool:
    """True when no other connection is inside a transaction: SQLite's write lock can be taken
    at once, or PostgreSQL shows no other client session in a transaction."""
    url = make_url(app.config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, timeout=0.2, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            return True
        except sqlite3.OperationalError:
            return False
        finally:
            connection.close()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            return not connection.scalar(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                "pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'"))
    finally:
        engine.dispose()


# Fed by webhooks (these run on the real workers in the services pass: no look-up is needed)


def test_a_product_update_feeds_a_product_type_rule_and_its_tags_a_tag_rule(client, installed, send):
    add_rule(client, DOUBLE_TEA)
    add_rule(client, {"name": "Organic bonus", "kind": "bonus_points",
                      "match": {"field": "product_tag", "value": "organic"}, "points": 5, "per": "order"})
    send("products/create", product_payload(TEA, "Tea", "2026-11-01T09:00:00-05:00"))
    send("products/create", product_payload(MUG, "Mug", "2026-11-01T09:00:00-05:00"))
    send("products/update", product_payload(TEA, "Tea", "2026-11-02T09:00:00-05:00", tags="Green, Organic "))
    assert balance(client) is None  # no member yet

    send("orders/paid", paid(5001, line(1, TEA, "40.00"), line(2, MUG, "10.00")))
    assert balance(client) == 40 * 2 + 10 + 5  # 95: tea doubled, mug at the base rate, the tag's bonus

    send("products/update", product_payload(TEA, "Herbal", "2026-11-03T09:00:00-05:00"))
    send("orders/paid", paid(5002, line(3, TEA, "40.00")))
    assert balance(client) == 95 + 40  # 135: no longer tea, no longer organic


def test_an_older_product_update_does_not_overwrite_newer_facts(client, installed, send):
    add_rule(client, DOUBLE_TEA)
    send("products/update", product_payload(TEA, "Tea", "2026-11-02T10:00:00Z"))
    send("products/update", product_payload(TEA, "Mug", "2026-11-02T09:00:00Z"))  # delivered late
    send("orders/paid", paid(5003, line(1, TEA, "40.00")))
    assert balance(client) == 80  # still tea

    send("products/update", product_payload(TEA, "Mug", "2026-11-02T11:00:00Z"))  # really newer
    send("orders/paid", paid(5004, line(2, TEA, "40.00")))
    assert balance(client) == 80 + 40  # 120


def test_a_deleted_product_keeps_its_facts_for_a_later_order(app, client, installed, send):
    add_rule(client, DOUBLE_TEA)
    send("products/create", product_payload(TEA, "Tea", "2026-11-02T10:00:00Z"))
    send("products/delete", {"id": TEA})
    assert cached(app, TEA).deleted_at is not None and cached(app, TEA).product_type == "Tea"

    send("orders/paid", paid(5005, line(1, TEA, "40.00")))  # paid after the product was deleted
    assert balance(client) == 80


# Filled by look-ups through the Admin API


def test_missing_products_are_looked_up_once_for_a_batch_of_orders_outside_any_transaction(store):
    add_rule(store.client, DOUBLE_TEA)
    lock_free_during_call = []

    def answer(request):
        lock_free_during_call.append(no_transaction_is_open(store.app))
        return 200, {}, json.dumps(nodes(node(TEA, "Tea"), node(MUG, "Mug"), None))  # GONE: deleted since

    store.mock.add_callback(responses.POST, GRAPHQL, callback=answer, content_type="application/json")
    store.queue("orders/paid", paid(5101, line(1, TEA, "40.00")))
    store.queue("orders/paid", paid(5102, line(2, TEA, "20.00"), line(3, MUG, "10.00")))
    store.queue("orders/paid", paid(5103, line(4, GONE, "30.00"), customer_id=7002))
    assert balance(store.client) is None  # stored, not yet processed

    store.drain()
    [call] = store.calls()  # one query for the three orders' three products
    assert sorted(call["variables"]["ids"]) == [f"gid://shopify/Product/{p}" for p in (TEA, MUG, GONE)]
    assert "nodes(ids: $ids)" in call["query"] and lock_free_during_call == [True]
    assert balance(store.client) == 40 * 2 + 20 * 2 + 10  # 130
    # The platform no longer knows GONE: it has no type to match, so the base rate, not a wait.
    assert balance(store.client, 7002) == 30
    assert cached(store.app, MUG).product_type == "Mug" and cached(store.app, GONE).deleted_at is not None

    store.deliver("orders/paid", paid(5104, line(5, TEA, "10.00")))  # cached and fresh now
    assert len(store.calls()) == 1 and balance(store.client) == 130 + 20


def test_a_stale_product_is_refreshed_before_it_decides_points(store):
    add_rule(store.client, DOUBLE_TEA)
    store.deliver("products/update", product_payload(TEA, "Tea", "2026-11-02T10:00:00Z"))
    with store.app.app_context(), transaction() as session:  # two days pass without a webhook
        session.execute(update(CachedProduct).values(fetched_at=utcnow() - timedelta(days=2)))
    store.mock.post(GRAPHQL, json=nodes(node(TEA, "Herbal")))  # changed meanwhile, webhook lost

    store.deliver("orders/paid", paid(5201, line(1, TEA, "40.00")))
    assert len(store.calls()) == 1
    assert balance(store.client) == 40  # the refreshed facts decide: no longer tea
    assert cached(store.app, TEA).product_type == "Herbal"


def test_while_the_platform_is_down_the_order_waits_then_earns_at_the_right_rate(store):
    add_rule(store.client, DOUBLE_TEA)
    store.mock.post(GRAPHQL, status=503)

    store.deliver("orders/paid", paid(5301, line(1, TEA, "40.00")))
    event = the_order_event(store.app)
    assert event.status is EventStatus.PENDING and event.attempts == 0  # waiting is not failing
    assert event.last_error == "waiting for product facts from the platform" and event.next_attempt_at > utcnow()
    assert len(store.calls()) == LOOK_UP_ATTEMPTS  # a few tries, then the batch goes on without it
    assert balance(store.client) is None  # earned nothing, not even the base rate

    store.drain()  # not due yet: nothing is tried
    assert len(store.calls()) == LOOK_UP_ATTEMPTS
    for _ in range(MAX_ATTEMPTS + 2):  # a long outage: more waits than a failing event has tries
        with store.app.app_context(), transaction() as session:
            session.execute(update(WebhookEvent).values(next_attempt_at=utcnow()))
        store.drain()
    event = the_order_event(store.app)
    assert (event.status, event.attempts) == (EventStatus.PENDING, 0) and balance(store.client) is None
    calls_while_down = len(store.calls())

    store.mock.replace(responses.POST, GRAPHQL, json=nodes(node(TEA, "Tea")))
    with store.app.app_context(), transaction() as session:  # its backoff is over
        session.execute(update(WebhookEvent).values(next_attempt_at=utcnow()))
    store.drain()
    assert len(store.calls()) == calls_while_down + 1
    assert the_order_event(store.app).status is EventStatus.PROCESSED
    assert balance(store.client) == 80


def test_a_collection_rule_looks_up_the_collections_that_webhooks_do_not_carry(store):
    add_rule(store.client, {"name": "Winter box", "kind": "multiplier",
                            "match": {"field": "collection_id", "value": "905"}, "multiplier": "3"})
    store.deliver("products/update", product_payload(TEA, "Tea", "2026-11-02T10:00:00Z"))  # fresh, collections unknown
    store.mock.post(GRAPHQL, json=nodes(node(TEA, "Tea", collections=tuple(range(901, 904)), next_page="c1")))
    store.mock.post(GRAPHQL, json={"data": {"node": {"collections": {
        "nodes": [{"id": "gid://shopify/Collection/905"}], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}})

    store.deliver("orders/paid", paid(5401, line(1, TEA, "40.00")))
    first, more = store.calls()  # the product, then its further collections
    assert more["variables"] == {"id": f"gid://shopify/Product/{TEA}", "after": "c1"}
    assert balance(store.client) == 120
    assert cached(store.app, TEA).collection_ids == [901, 902, 903, 905]


def test_without_a_rule_on_product_facts_nothing_is_looked_up_or_read(store):
    add_rule(store.client, {"name": "Double SKU", "kind": "multiplier",
                            "match": {"field": "sku", "value": f"SKU-{TEA}"}, "multiplier": "2"})
    retired = add_rule(store.client, DOUBLE_TEA)
    assert store.client.delete(f"/api/earning-rules/{retired}", headers=auth()).status_code == 200
    statements = []
    engine = store.app.extensions["engine"]

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(engine, "before_cursor_execute", record)
    try:
        store.deliver("orders/paid", paid(5501, line(1, TEA, "40.00"), line(2, MUG, "10.00")))
    finally:
        sa_event.remove(engine, "before_cursor_execute", record)
    assert balance(store.client) == 80 + 10  # the SKU rule needs no product facts
    assert store.calls() == []
    assert not [s for s in statements if "FROM products" in s or "INTO products" in s or "UPDATE products" in s]


def test_a_waiting_order_does_not_hold_back_the_others_of_its_batch(store):
    add_rule(store.client, DOUBLE_TEA)
    store.deliver("products/update", product_payload(TEA, "Tea", "2026-11-02T10:00:00Z"))  # known and fresh
    store.mock.post(GRAPHQL, status=503)
    store.queue("orders/paid", paid(5601, line(1, TEA, "40.00"), customer_id=7001))
    store.queue("orders/paid", paid(5602, line(2, MUG, "10.00"), customer_id=7002))  # MUG unknown: waits
    store.drain()
    with store.app.app_context(), transaction() as session:
        events = {e.payload.count('"id": 5601') > 0: e for e in session.scalars(select(WebhookEvent).where(
            WebhookEvent.topic == "orders/paid"))}
    assert (events[True].status, events[True].attempts) == (EventStatus.PROCESSED, 1)  # in the batch, at once
    assert (events[False].status, events[False].attempts) == (EventStatus.PENDING, 0)
    assert balance(store.client) == 80 and balance(store.client, 7002) is None


def test_stale_facts_with_the_platform_down_make_the_order_wait_not_earn_at_the_old_rate(store):
    add_rule(store.client, DOUBLE_TEA)
    store.deliver("products/update", product_payload(TEA, "Tea", "2026-11-02T10:00:00Z"))
    with store.app.app_context(), transaction() as session:
        session.execute(update(CachedProduct).values(fetched_at=utcnow() - timedelta(days=2)))
    store.mock.post(GRAPHQL, status=503)
    store.deliver("orders/paid", paid(5701, line(1, TEA, "40.00")))
    assert the_order_event(store.app).status is EventStatus.PENDING and balance(store.client) is None


def test_an_order_that_waited_three_days_fails_for_a_person_to_retry(store):
    add_rule(store.client, DOUBLE_TEA)
    store.mock.post(GRAPHQL, status=503)
    store.queue("orders/paid", paid(5801, line(1, TEA, "40.00")))
    with store.app.app_context(), transaction() as session:
        session.execute(update(WebhookEvent).values(received_at=utcnow() - timedelta(days=3, minutes=1)))
    store.drain()
    event = the_order_event(store.app)
    assert event.status is EventStatus.FAILED and "could not be looked up for 3 days" in event.last_error
    assert balance(store.client) is None


def test_one_shops_refused_token_does_not_stop_the_other_shops_look_ups(app, monkeypatch):
    from plugin.shopify.grants import PlatformAuthError
    from webhooks import products

    asked = []

    def fetch(client, product_ids):
        asked.append(client.shop_id)
        if client.shop_id == 1:
            raise PlatformAuthError("the store refused to renew our access", status=400)
        return {}

    monkeypatch.setattr(products, "fetch_products", fetch)
    monkeypatch.setattr(products, "_read_wanted", lambda limit: [
        products.Wanted(1, "first.myshopify.com", frozenset({11})),
        products.Wanted(2, "second.myshopify.com", frozenset({22}))])
    monkeypatch.setattr(products, "record_look_up", lambda *args: None)
    with app.app_context():
        products.look_up_products(250)
    assert asked == [1, 2]  # the second shop was still asked
