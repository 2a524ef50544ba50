"""Inputs and faults found in review: odd ids, NUL characters, refresh failures, lost answers."""
from datetime import timedelta

import pytest
import requests
import responses

from plugin.db import transaction, utcnow
from plugin.loyalty.redemptions import retry_and_expire_codes
from plugin.models import EventStatus, Redemption, WebhookEvent
from tests.helpers import (
    SHOP,
    auth,
    balance,
    member,
    order,
    session_token,
    signed_webhook,
    table_counts,
    token_answer,
    token_endpoint,
)

GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
CREATED = {"data": {"discountCodeBasicCreate": {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"},
                                                "userErrors": []}}}


def five_off(client) -> int:
    return next(r["id"] for r in client.get("/api/rewards", headers=auth()).get_json()["rewards"]
                if r["points_cost"] == 500)


def redeem(client):
    return client.post("/api/members/7001/redemptions", json={"reward_id": five_off(client)}, headers=auth())


@pytest.mark.parametrize("path, status", [
    ("/api/members/%C2%B2", 404),
    ("/api/members/99999999999999999999999", 404),
    ("/api/members?query=%C2%B2", 200),
    ("/api/members?page=%C2%B2", 422),
    ("/api/members?page=99999999999999999999999", 422),
    ("/api/events/99999999999999999999999/retry", 404),
    ("/api/data-requests/99999999999999999999999", 404),
])
def test_ids_that_are_not_plain_64_bit_numbers_are_answered_not_crashed(client, installed, db, path, status):
    before = table_counts(db)
    method = client.post if path.endswith("/retry") else client.get
    assert method(path, headers=auth()).status_code == status
    assert table_counts(db) == before


@pytest.mark.parametrize("reward_id", ["²", "99999999999999999999999", True, None, "1.0"])
def test_a_redemption_naming_an_odd_reward_id_is_404_and_spends_nothing(client, installed, send, reward_id):
    send("orders/paid", order(subtotal="600.00"))
    response = client.post("/api/members/7001/redemptions", json={"reward_id": reward_id}, headers=auth())
    assert response.status_code == 404 and balance(client) == 600
    assert client.patch("/api/rewards/%C2%B2", json={"active": False}, headers=auth()).status_code == 404


def test_a_webhook_with_a_unicode_digit_id_fails_at_once_instead_of_retrying(app, client, settle):
    signed_webhook(client, "orders/paid", order(order_id=1, subtotal="5.00") | {"id": "²"})
    settle()
    with app.app_context(), transaction() as session:
        event = session.query(WebhookEvent).one()
    assert (event.status, event.attempts) == (EventStatus.FAILED, 1) and "numeric id" in event.last_error


def test_nul_characters_are_stored_safely_or_refused(app, client, send, db):
    raw = signed_webhook(client, "orders/paid", b'{"id": 1\x00}')
    assert raw.status_code == 200
    send("orders/paid", order(subtotal="5.00", customer={"id": 7001, "email": "ada\u0000@example.com"}))
    assert member(client)["email"] == "ada@example.com" and balance(client) == 5
    named = client.post("/api/rewards", json={"name": "x\u0000y", "kind": "amount_off", "value": "1",
                                             "points_cost": 5}, headers=auth())
    assert named.status_code == 422
    reason = client.post("/api/members/7001/adjustments", json={"points": 1, "reason": "a\u0000"}, headers=auth())
    assert reason.status_code == 422 and balance(client) == 5


@responses.activate
def test_a_refused_token_refresh_during_issuance_fails_the_redemption_and_returns_the_points(app, client, send):
    responses.post(token_endpoint(), json=token_answer("shpat_old", expires_in=60))
    client.get("/", query_string={"shop": SHOP, "id_token": session_token()})
    send("orders/paid", order(subtotal="1000.00"))
    responses.replace(responses.POST, token_endpoint(), status=400, json={"error": "invalid_grant"})
    response = redeem(client)
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "failed" and "renew our access" in body["error"]
    assert balance(client) == 1000


@responses.activate
def test_a_token_endpoint_that_is_down_leaves_the_code_pending_and_upkeep_goes_on(app, client, send):
    responses.post(token_endpoint(), json=token_answer("shpat_old", expires_in=60))
    client.get("/", query_string={"shop": SHOP, "id_token": session_token()})
    send("orders/paid", order(subtotal="1000.00"))
    responses.replace(responses.POST, token_endpoint(), status=503)
    assert redeem(client).get_json()["status"] == "pending" and balance(client) == 500
    with app.app_context(), transaction() as session:
        session.query(Redemption).update({"next_attempt_at": utcnow() - timedelta(seconds=1)})
    responses.replace(responses.POST, token_endpoint(), json=token_answer("shpat_new"))
    responses.post(GRAPHQL, json=CREATED)
    with app.app_context():
        assert retry_and_expire_codes()["retried"] == 1
    assert member(client)["redemptions"][0]["status"] == "issued" and balance(client) == 500


def test_a_lost_answer_retried_by_the_client_adopts_the_code_it_made(client, send, platform):
    send("orders/paid", order(subtotal="600.00"))
    platform.post(GRAPHQL, body=requests.ConnectionError("answer lost"))
    platform.post(GRAPHQL, json={"data": {"discountCodeBasicCreate": {"codeDiscountNode": None, "userErrors": [
        {"field": ["code"], "message": "Code must be unique", "code": "TAKEN"}]}}})
    platform.post(GRAPHQL, json={"data": {"codeDiscountNodeByCode": {"id": "gid://shopify/DiscountCodeNode/5"}}})
    body = redeem(client).get_json()
    assert body["status"] == "issued" and balance(client) == 100


def test_a_code_used_after_its_points_were_returned_spends_them_again_once(app, client, send, platform):
    send("orders/paid", order(subtotal="500.00"))
    platform.post(GRAPHQL, json=CREATED)
    code = redeem(client).get_json()["code"]
    with app.app_context(), transaction() as session:
        session.query(Redemption).update({"expires_at": utcnow() - timedelta(days=2)})
    with app.app_context():
        retry_and_expire_codes()
    assert balance(client) == 500  # expired unused: points back
    used = order(order_id=42, subtotal="0.00", discount_codes=[{"code": code, "amount": "5.00", "type": "fixed_amount"}])
    send("orders/paid", used)
    send("orders/paid", used)
    assert member(client)["redemptions"][0]["status"] == "used" and balance(client) == 0
    assert app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0
