"""Customer data and secrets stay out of logs and stored errors."""
import logging

import pytest
import requests
from sqlalchemy import select, text

from plugin.models import WebhookEvent
from tests.helpers import SHOP, auth, install, order, proxy_url, session_token, signed_webhook
from webhooks.handlers import orders_paid
from webhooks.processing import drain_due_events

EMAIL = "grace.hopper@example.com"


def test_a_failed_statement_keeps_the_customers_email_out_of_logs_and_the_stored_error(
        inprocess_app, monkeypatch, caplog):
    def apply(session, shop, facts, delivery=None):  # a failing statement that carries the email
        session.execute(text("SELECT * FROM no_such_table WHERE email = :email"), {"email": facts.order.email})

    monkeypatch.setattr(orders_paid, "apply", apply)
    monkeypatch.delattr(orders_paid, "apply_many")
    client = inprocess_app.test_client()
    with caplog.at_level(logging.DEBUG):
        assert signed_webhook(client, "orders/paid", order(email=EMAIL)).status_code == 200
        with inprocess_app.app_context():
            drain_due_events()

    with inprocess_app.app_context():
        from plugin.db import transaction

        with transaction() as session:
            [stored_error] = session.scalars(select(WebhookEvent.last_error)).all()
    assert "no_such_table" in stored_error  # the database's own words, on either backend
    assert EMAIL not in stored_error and "SELECT" not in stored_error
    assert EMAIL not in caplog.text


def test_the_development_servers_request_log_hides_tokens_codes_and_customer_ids(live_server, caplog):
    token = session_token()
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        requests.get(f"{live_server}/", params={"shop": SHOP, "id_token": token}, timeout=30)
        requests.get(f"{live_server}/auth/callback", params={"shop": SHOP, "code": "secret-grant-code"}, timeout=30)
        requests.get(live_server + proxy_url("/proxy/", customer_id="987654321"), timeout=30)
    logged = caplog.text
    assert "GET /?shop=" in logged and "id_token=[hidden]" in logged
    assert token not in logged and "secret-grant-code" not in logged and "987654321" not in logged


WRONGLY_TYPED = [
    # (topic, payload with the email where something else is due, the field the error must name)
    ("orders/paid", order(customer={"id": EMAIL, "email": EMAIL}), "customer.id"),
    ("orders/paid", order(id=EMAIL), "'id'"),
    ("orders/paid", order(processed_at=EMAIL), "processed_at"),
    ("orders/paid", order(line_items=[{"id": 1, "price": EMAIL, "quantity": 1}]), "price"),
    ("orders/paid", order(line_items=[{"id": 1, "price": "5.00", "quantity": EMAIL}]), "quantity"),
    ("orders/paid", order(subtotal_price=EMAIL), "subtotal_price"),
    ("customers/update", {"id": 7001, "email": EMAIL, "updated_at": EMAIL}, "updated_at"),
    ("customers/redact", {"shop_domain": SHOP, "customer": {"id": EMAIL, "email": EMAIL}, "orders_to_redact": []},
     "customer.id"),
    ("customers/redact", {"shop_domain": SHOP, "customer": {"id": 7001, "email": EMAIL}, "orders_to_redact": [EMAIL]},
     "orders_to_redact"),
]


@pytest.mark.parametrize("topic, payload, field", WRONGLY_TYPED, ids=[f"{t} {f}" for t, _, f in WRONGLY_TYPED])
def test_an_email_in_a_wrongly_typed_field_is_named_by_field_never_quoted(inprocess_app, caplog, topic, payload, field):
    client = inprocess_app.test_client()
    install(client)
    with caplog.at_level(logging.DEBUG):
        assert signed_webhook(client, topic, payload).status_code == 200
        with inprocess_app.app_context():
            drain_due_events()
        failed = client.get("/api/events", query_string={"status": "failed"}, headers=auth()).get_json()["events"]
    [event] = failed
    assert field in event["last_error"] and "must be" in event["last_error"]
    assert EMAIL not in event["last_error"] and "grace" not in event["last_error"]
    assert EMAIL not in caplog.text


def test_an_error_raised_while_applying_loses_whatever_it_quotes(inprocess_app, monkeypatch, caplog):
    def apply(session, shop, facts, delivery=None):  # a library error that quotes its input
        int(facts.order.email)

    monkeypatch.setattr(orders_paid, "apply", apply)
    monkeypatch.delattr(orders_paid, "apply_many")
    client = inprocess_app.test_client()
    with caplog.at_level(logging.DEBUG):
        assert signed_webhook(client, "orders/paid", order(email=EMAIL, customer=None)).status_code == 200
        with inprocess_app.app_context():
            drain_due_events()
    with inprocess_app.app_context():
        from plugin.db import transaction

        with transaction() as session:
            [stored_error] = session.scalars(select(WebhookEvent.last_error)).all()
    assert stored_error.startswith("ValueError: invalid literal for int()")
    assert EMAIL not in stored_error and EMAIL not in caplog.text
