"""Spending races against a live threaded server, on SQLite as on PostgreSQL.

Every test here commits for real from many threads at once, through the public routes of a
real socket server (the same werkzeug server `make run` starts), because a race cannot be
shown inside one rolled-back transaction. Only the platform's side is mocked.
"""
import json
import sqlite3
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from sqlalchemy import create_engine, func, select, text

from plugin import create_app
from plugin.db import transaction
from plugin.loyalty.rewards.redemptions import issue_code
from plugin.models import LedgerEntry, Redemption
from tests.conftest import SERVICES, app_config
from tests.helpers import SHOP, all_at_once, auth, balance, member, order, proxy_url, table_counts
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created, fund, graphql_calls, reward_id
from tests.plugin.storefront.test_storefront_page import csrf_of


def api_redeem(live_server: str, rid: int) -> int:
    return requests.post(f"{live_server}/api/members/7001/redemptions", json={"reward_id": rid},
                         headers=auth(), timeout=60).status_code


def verify_ledger(app) -> None:
    result = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert result.exit_code == 0, result.output


def test_twenty_redemptions_at_once_with_points_for_three_give_three_codes_and_seventeen_409s(
        app, client, settle, platform, live_server):
    fund(client, settle, 1600)  # 3 × 500 = 1500 fit, a fourth does not
    platform.post(GRAPHQL, json=created())
    rid = reward_id(client)

    answers = all_at_once(20, lambda n: api_redeem(live_server, rid))

    assert sorted(answers) == [201] * 3 + [409] * 17
    ada = member(client)
    assert ada["balance"] == 100
    assert sorted(r["status"] for r in ada["redemptions"]) == ["issued"] * 3
    assert len(graphql_calls(platform)) == 3
    verify_ledger(app)


def test_twenty_manual_adjustments_at_once_all_count(app, client, settle, live_server):
    fund(client, settle, 100)
    deltas = [7 if n % 2 else -3 for n in range(20)]  # +70 and -30

    answers = all_at_once(20, lambda n: requests.post(
        f"{live_server}/api/members/7001/adjustments", json={"points": deltas[n], "reason": f"race {n}"},
        headers=auth(), timeout=60).status_code)

    assert answers == [201] * 20
    assert balance(client) == 140
    verify_ledger(app)


def test_storefront_redemptions_racing_admin_ones_never_spend_more_than_the_balance(
        app, client, settle, platform, live_server):
    fund(client, settle, 1500)  # three 500-point rewards
    platform.post(GRAPHQL, json=created())
    rid = reward_id(client)
    page = requests.get(live_server + proxy_url("/proxy/"), timeout=30).text
    form = {"reward_id": str(rid), "csrf": csrf_of(page)}

    def either(n):
        if n % 2:
            return api_redeem(live_server, rid)
        answer = requests.post(live_server + proxy_url("/proxy/redemptions"), data=form, timeout=60,
                               allow_redirects=False)
        assert answer.status_code == 303
        return parse_qs(urlparse(answer.headers["Location"]).query)["notice"][0]

    answers = all_at_once(10, either)

    succeeded = answers.count(201) + answers.count("issued")
    assert succeeded == 3, answers
    assert set(answers) - {201, "issued"} <= {409, "insufficient"}, answers
    assert balance(client) == 0
    assert len(graphql_calls(platform)) == 3
    verify_ledger(app)


def test_a_failing_code_retry_returning_points_while_the_shopper_redeems_leaves_the_exact_balance(
        app, client, settle, platform, live_server):
    fund(client, settle, 1000)
    rid = reward_id(client)
    platform.post(GRAPHQL, json={"errors": [{"message": "down"}]}, status=503)
    first = client.post("/api/members/7001/redemptions", json={"reward_id": rid}, headers=auth()).get_json()
    assert (first["status"], first["balance"]) == ("pending", 500)
    with app.app_context(), transaction() as session:  # its retry is due now
        session.get(Redemption, first["id"]).next_attempt_at = session.get(Redemption, first["id"]).created_at

    def answer(request):  # the platform now refuses the pending code and accepts new ones
        code = json.loads(request.body)["variables"]["discount"]["code"]
        if code == first["code"]:
            return 200, {}, json.dumps({"data": {"discountCodeBasicCreate": {
                "codeDiscountNode": None, "userErrors": [{"field": ["code"], "message": "bad", "code": "INVALID"}]}}})
        return 200, {}, json.dumps(created())

    platform.replace(responses.POST, GRAPHQL)  # drop the 503
    platform.add_callback(responses.POST, GRAPHQL, callback=answer)

    def either(n):
        if n == 0:
            with app.app_context():
                return issue_code(first["id"]).value
        return api_redeem(live_server, rid)

    answers = all_at_once(4, either)

    assert answers[0] == "failed"
    issued = answers.count(201)
    assert 1 <= issued <= 2 and answers.count(409) == 3 - issued, answers
    assert balance(client) == 1000 - 500 * issued >= 0
    verify_ledger(app)


@pytest.fixture
def impatient_app(database):
    """The same database, served by an app that waits only half a second for a lock."""
    return create_app({**app_config(database, None), "LOCK_TIMEOUT_SECONDS": 0.5})


def hold_the_members_lock(database: str):
    """Another writer that keeps the member's row (SQLite: the whole database) locked."""
    if SERVICES:
        engine = create_engine(database)
        connection = engine.connect()
        connection.execute(text("SELECT id FROM members FOR UPDATE"))
        return connection, engine
    connection = sqlite3.connect(database.removeprefix("sqlite:///"), isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    return connection, None


def test_a_request_that_waits_past_the_lock_timeout_gets_503_and_changes_nothing(
        client, settle, db, database, impatient_app):
    fund(client, settle, 100)
    before = table_counts(db)
    impatient = impatient_app.test_client()
    holder, engine = hold_the_members_lock(database)
    try:
        answer = impatient.post("/api/members/7001/adjustments", json={"points": 5, "reason": "held"},
                                headers=auth())
    finally:
        holder.rollback() if engine else holder.execute("ROLLBACK")
        holder.close()
        if engine:
            engine.dispose()

    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    assert "busy" in answer.get_json()["error"]
    assert table_counts(db) == before and balance(client) == 100
    again = impatient.post("/api/members/7001/adjustments", json={"points": 5, "reason": "retried"},
                           headers=auth())
    assert again.status_code == 201 and balance(client) == 105
    assert db.scalar(select(func.count()).select_from(LedgerEntry)) == before["ledger_entries"] + 1


def test_codes_expiring_while_orders_use_them_end_used_or_returned_never_both(
        app, client, settle, platform, live_server):
    from datetime import timedelta

    from plugin.db import utcnow
    from plugin.loyalty.tick import run_tick

    fund(client, settle, 5000)
    platform.post(GRAPHQL, json=created())
    rid = reward_id(client, code_lifetime_days=1)
    codes = [client.post("/api/members/7001/redemptions", json={"reward_id": rid}, headers=auth()).get_json()["code"]
             for _ in range(10)]
    assert balance(client) == 0
    with app.app_context(), transaction() as session:  # all past their expiry and its grace
        session.query(Redemption).update({"expires_at": utcnow() - timedelta(days=2)})

    def either(n):
        if n == 10:
            with app.app_context():
                return run_tick(utcnow())["codes_expired"]
        paid = order(order_id=60_000 + n, subtotal="10.00", discount_codes=[{"code": codes[n], "amount": "5.00"}])
        return requests.post(f"{live_server}/webhooks", data=json.dumps(paid).encode(), timeout=30,
                             headers=signed_headers("orders/paid", paid)).status_code

    answers = all_at_once(11, either)
    settle()

    assert answers[:10] == [200] * 10 and isinstance(answers[10], int)
    statuses = [r["status"] for r in member(client)["redemptions"]]
    assert set(statuses) <= {"used", "expired"} and len(statuses) == 10
    # Orders earned 10 each; a code that ended expired gave its 500 back, a used one did not.
    assert balance(client) == 100 + 500 * statuses.count("expired")
    verify_ledger(app)


def signed_headers(topic: str, payload: dict) -> dict:
    import uuid

    from tests.helpers import API_SECRET
    from webhooks.verification import signature

    return {"X-Shopify-Topic": topic, "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Hmac-Sha256": signature(API_SECRET, json.dumps(payload).encode()),
            "Content-Type": "application/json"}


@responses.activate
def test_twenty_redemptions_at_once_with_the_token_due_for_refresh_refresh_it_once_and_all_succeed(
        app, client, settle, live_server):
    from tests.helpers import SHOP, session_token, token_answer, token_endpoint

    responses.add_passthru("http://127.0.0.1")
    responses.post(token_endpoint(), json=token_answer("shpat_old", "shprt_old", expires_in=60))  # due at once
    assert client.get("/", query_string={"shop": SHOP, "id_token": session_token()}).status_code == 200
    responses.replace(responses.POST, token_endpoint(), json=token_answer("shpat_new", "shprt_new"))
    responses.post(GRAPHQL, json=created())
    fund(client, settle, 20 * 500)
    rid = reward_id(client)

    answers = all_at_once(20, lambda n: api_redeem(live_server, rid))

    assert answers == [201] * 20
    assert len([c for c in responses.calls if c.request.url == token_endpoint()]) == 2  # the install, one refresh
    assert {c.request.headers.get("X-Shopify-Access-Token") for c in responses.calls
            if c.request.url == GRAPHQL} == {"shpat_new"}
    assert balance(client) == 0 and sorted({r["status"] for r in member(client)["redemptions"]}) == ["issued"]
    verify_ledger(app)


def test_a_redemption_whose_outcome_cannot_be_written_answers_201_pending_and_is_finished_later(
        app, client, settle, platform, monkeypatch):
    import sqlite3 as driver

    from sqlalchemy.exc import OperationalError

    from plugin.loyalty.rewards import redemptions

    fund(client, settle, 600)
    platform.post(GRAPHQL, json=created())

    def busy(*args, **kwargs):
        raise OperationalError("UPDATE redemptions", {}, driver.OperationalError("database is locked"))

    monkeypatch.setattr(redemptions, "_record_outcome", busy)
    answer = client.post("/api/members/7001/redemptions", json={"reward_id": reward_id(client)}, headers=auth())
    assert answer.status_code == 201  # the points are spent: never "503, nothing changed"
    assert (answer.get_json()["status"], answer.get_json()["balance"]) == ("pending", 100)
    monkeypatch.undo()
    with app.app_context(), transaction() as session:  # the claim lease has run out
        session.query(Redemption).update({"next_attempt_at": redemptions.utcnow()})
    with app.app_context():
        assert redemptions.retry_due_codes()["retried"] == 1
    assert member(client)["redemptions"][0]["status"] == "issued" and balance(client) == 100
