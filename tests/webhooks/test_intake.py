"""`POST /webhooks`: what is accepted, what is refused, and that refusals change nothing."""
import json

import pytest
from sqlalchemy import select

from plugin import create_app
from plugin.db import transaction
from plugin.models import EventStatus, WebhookEvent
from plugin.schedule import sweep_once
from tests.conftest import app_config
from tests.helpers import API_SECRET, SHOP, balance, order, signed_webhook, table_counts
from webhooks.verification import signature


def events(app) -> list[WebhookEvent]:
    with app.app_context(), transaction() as session:
        return list(session.scalars(select(WebhookEvent).order_by(WebhookEvent.id)))


def test_the_documented_signature_vector_matches():
    assert signature("my_secret", b'{"id":1}') == "7lfEJPAkmGWE2RSGuBl0KjRRHRxNDaZNfLzh3ZOFnzU="


def test_an_accepted_webhook_is_stored_with_its_headers(app, client, settle):
    response = signed_webhook(client, "orders/paid", order(), webhook_id="w-1",
                              headers={"X-Shopify-Event-Id": "e-1", "X-Shopify-Triggered-At": "2026-11-22T10:00:00Z"})
    settle()
    assert response.status_code == 200 and response.get_json() == {"status": "accepted"}
    [event] = events(app)
    assert (event.shop_domain, event.topic, event.webhook_id, event.event_id, event.api_version) == (
        SHOP, "orders/paid", "w-1", "e-1", "2026-10")
    assert event.status is EventStatus.PROCESSED and event.received_at.tzinfo is not None


@pytest.mark.parametrize("hmac_header", [None, "", "bm90IHRoZSBzaWduYXR1cmU=", "garbage"])
def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_stored(app, client, db, hmac_header):
    before = table_counts(db)
    body = json.dumps(order()).encode()
    headers = {"X-Shopify-Topic": "orders/paid", "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": "w-2"}
    if hmac_header is not None:
        headers["X-Shopify-Hmac-Sha256"] = hmac_header
    response = client.post("/webhooks", data=body, headers=headers)
    assert response.status_code == 401 and "signature" in response.get_json()["error"]
    assert table_counts(db) == before


def test_a_body_signed_with_another_secret_is_refused(client, db):
    before = table_counts(db)
    assert signed_webhook(client, "orders/paid", order(), secret="someone-else").status_code == 401
    assert table_counts(db) == before


def test_the_previous_secret_is_accepted_during_a_rotation(database, settle):
    rotated = create_app({**app_config(database, None), "SHOPIFY_API_SECRET": "brand-new-secret",
                          "SHOPIFY_API_SECRET_PREVIOUS": API_SECRET})
    client = rotated.test_client()
    assert signed_webhook(client, "orders/paid", order(subtotal="12.00")).status_code == 200
    assert signed_webhook(client, "orders/paid", order(subtotal="3.00"), secret="brand-new-secret").status_code == 200
    assert signed_webhook(client, "orders/paid", order(), secret="retired-long-ago").status_code == 401


def test_a_body_over_one_mebibyte_gets_413_and_nothing_is_stored(client, db):
    before = table_counts(db)
    huge = json.dumps({**order(), "note": "x" * (1024 * 1024)}).encode()
    response = signed_webhook(client, "orders/paid", huge)
    assert response.status_code == 413 and "1 MiB" in response.get_json()["error"]
    assert table_counts(db) == before


def test_the_same_webhook_id_twice_is_answered_200_and_stored_once(app, client, settle):
    paid = order(subtotal="25.00")
    first = signed_webhook(client, "orders/paid", paid, webhook_id="same")
    second = signed_webhook(client, "orders/paid", paid, webhook_id="same")
    settle()
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.get_json() == {"status": "duplicate"}
    assert len(events(app)) == 1 and balance(client) == 25


def test_an_unknown_topic_is_answered_200_and_ignored(client, db):
    before = table_counts(db)
    response = signed_webhook(client, "collections/update", {"id": 1})
    assert response.status_code == 200 and response.get_json()["status"] == "ignored"
    assert table_counts(db) == before


@pytest.mark.parametrize("shop", ["", "evil.com", "shop.myshopify.com.evil.com", "UPPER_case.myshopify.com"])
def test_a_shop_header_that_is_not_a_store_domain_is_refused(client, db, shop):
    before = table_counts(db)
    response = signed_webhook(client, "orders/paid", order(), shop=shop)
    assert response.status_code == 400 and "Shop-Domain" in response.get_json()["error"]
    assert table_counts(db) == before


def test_a_webhook_without_an_id_is_refused(client, db):
    before = table_counts(db)
    response = signed_webhook(client, "orders/paid", order(), headers={"X-Shopify-Webhook-Id": ""})
    assert response.status_code == 400
    assert table_counts(db) == before


@pytest.mark.parametrize("body, message", [
    (b"{not json", "payload is not valid JSON"),
    (b"[1, 2]", "payload must be a JSON object"),
    (json.dumps({"customer": {"id": 1}, "subtotal_price": "5.00"}).encode(), "lacks the required field 'id'"),
    (json.dumps({"id": 1, "customer": {"id": 1}}).encode(), "lacks the required field 'subtotal_price'"),
    (json.dumps({"id": 1, "customer": {"id": 1}, "subtotal_price": "five"}).encode(), "'subtotal_price' must be an amount"),
    (json.dumps({"id": "abc", "subtotal_price": "5.00"}).encode(), "'id' must be a numeric id"),
])
def test_a_payload_that_cannot_be_read_is_stored_as_failed_once(app, client, db, settle, body, message):
    before = table_counts(db)
    response = signed_webhook(client, "orders/paid", body)
    settle()
    assert response.status_code == 200
    [event] = events(app)
    assert event.status is EventStatus.FAILED and message in event.last_error
    assert event.attempts == 1  # failed for good at once: no retry loop
    after = table_counts(db)
    assert after.pop("webhook_events") == before.pop("webhook_events") + 1
    assert after == before


def test_a_refund_lacking_its_order_id_fails_with_a_clear_error(app, client, settle):
    signed_webhook(client, "refunds/create", {"id": 5, "refund_line_items": []})
    settle()
    [event] = events(app)
    assert (event.status, event.last_error) == (EventStatus.FAILED, "payload lacks the required field 'order_id'")


def test_a_webhook_is_kept_and_processed_later_when_the_queue_is_down(app, database, client, settle):
    queue_down = create_app(app_config(database, "redis://127.0.0.1:1/0"))
    response = signed_webhook(queue_down.test_client(), "orders/paid", order(subtotal="19.00"))
    assert response.status_code == 200
    [event] = events(app)
    assert event.status is EventStatus.PENDING
    assert balance(client) is None
    with app.app_context(), transaction() as session:
        # The sweeper only picks events that have waited a while; this one has.
        session.execute(WebhookEvent.__table__.update().values(received_at=event.received_at.replace(year=2025)))
    with app.app_context():
        assert sweep_once() is True
    settle()
    assert balance(client) == 19
