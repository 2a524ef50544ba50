"""The operations API behind the panel's operations view: failed webhook events and their retry."""
import pytest
from sqlalchemy import select

from plugin.db import transaction
from plugin.models import EventStatus, WebhookEvent
from tests.helpers import OTHER_SHOP, SHOP, auth, balance, order, signed_webhook, stored_outage_failure, table_counts
from webhooks.processing import MAX_ATTEMPTS


def unreadable_order(client, shop: str = SHOP) -> None:
    """An orders/paid the platform signed but whose order id cannot be read: it fails for good."""
    assert signed_webhook(client, "orders/paid", order(id="not-a-number"), shop=shop).status_code == 200


def event_row(app, event_id: int) -> WebhookEvent:
    with app.app_context(), transaction() as session:
        return session.scalars(select(WebhookEvent).where(WebhookEvent.id == event_id)).one()


def test_failed_events_are_listed_with_their_error_for_the_tokens_shop_only(client, installed, settle):
    unreadable_order(client, SHOP)
    unreadable_order(client, OTHER_SHOP)
    signed_webhook(client, "orders/paid", order(subtotal="10.00"))
    settle()
    listed = client.get("/api/events?status=failed", headers=auth()).get_json()["events"]
    assert len(listed) == 1
    (event,) = listed
    assert event["topic"] == "orders/paid" and event["status"] == "failed" and event["attempts"] == 1
    assert event["last_error"] == "'id' must be a numeric id"  # the field and its type, never the value
    assert set(event) >= {"id", "webhook_id", "received_at"}
    others = client.get("/api/events", headers=auth(OTHER_SHOP)).get_json()["events"]
    assert len(others) == 1 and others[0]["id"] != event["id"]
    processed = client.get("/api/events?status=processed", headers=auth()).get_json()["events"]
    assert [e["status"] for e in processed] == ["processed"]


def test_retrying_a_failed_event_processes_it_and_awards_its_points(app, client, installed, settle):
    event_id = stored_outage_failure(app, subtotal="40.00")
    assert balance(client) is None
    response = client.post(f"/api/events/{event_id}/retry", headers=auth())
    assert response.status_code == 200
    # In-process jobs have processed it already; RQ workers may still be at it.
    assert response.get_json()["status"] in ("processed", "pending")
    settle()
    assert event_row(app, event_id).status is EventStatus.PROCESSED
    assert balance(client) == 40
    assert client.get("/api/events?status=failed", headers=auth()).get_json()["events"] == []


def test_an_event_that_fails_again_is_listed_again_with_its_error(app, client, installed, settle):
    unreadable_order(client)
    settle()
    (event,) = client.get("/api/events", headers=auth()).get_json()["events"]
    client.post(f"/api/events/{event['id']}/retry", headers=auth())
    settle()
    (again,) = client.get("/api/events", headers=auth()).get_json()["events"]
    assert again["id"] == event["id"] and again["attempts"] == 1 and "numeric id" in again["last_error"]


def test_another_shops_event_is_404_and_stays_failed(app, client, installed, db):
    event_id = stored_outage_failure(app, shop=OTHER_SHOP)
    before = table_counts(db)
    response = client.post(f"/api/events/{event_id}/retry", headers=auth(SHOP))
    assert response.status_code == 404 and response.get_json()["error"] == "no such webhook event in this shop"
    db.expire_all()
    assert table_counts(db) == before
    event = event_row(app, event_id)
    assert (event.status, event.attempts) == (EventStatus.FAILED, MAX_ATTEMPTS)
    assert client.post("/api/events/999999/retry", headers=auth()).status_code == 404


def test_only_a_failed_event_can_be_retried(app, client, settle):
    signed_webhook(client, "orders/paid", order(subtotal="12.00"))
    settle()
    (event,) = client.get("/api/events?status=processed", headers=auth()).get_json()["events"]
    response = client.post(f"/api/events/{event['id']}/retry", headers=auth())
    assert response.status_code == 409 and response.get_json()["error"] == "only a failed event can be retried"
    assert balance(client) == 12


def test_an_unknown_status_is_422(client, installed):
    response = client.get("/api/events?status=lost", headers=auth())
    assert response.status_code == 422 and "status" in response.get_json()["fields"]


@pytest.mark.parametrize("method, path", [("get", "/api/events"), ("post", "/api/events/1/retry")])
def test_every_operations_route_needs_a_session_token(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 401 and response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
