"""Customer data and secrets stay out of logs and stored errors."""
import logging

import requests
from sqlalchemy import select, text

from plugin.models import WebhookEvent
from tests.helpers import SHOP, order, proxy_url, session_token, signed_webhook
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
