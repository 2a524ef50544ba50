"""Event subscriptions: signed deliveries to a real loopback receiver, retries with backoff,
a hanging receiver that holds up nothing else, and URLs that may not reach internal services."""
import base64
import hashlib
import hmac
import json
import time

import pytest

from plugin import create_app
from plugin.models import EventSubscription
from tests.conftest import app_config
from tests.helpers import OTHER_SHOP, SHOP, auth, balance, install, order, signed_webhook, table_counts
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created, fund, redeem, reward_id
from tests.receivers import Receiver


@pytest.fixture
def receivers():
    made = []

    def make(answers=None, default=200):
        made.append(Receiver(answers, default))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def subscribe(client, url: str, shop: str = SHOP, **fields):
    response = client.post("/api/event-subscriptions", json={"url": url, **fields}, headers=auth(shop))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def deliveries(client, subscription_id: int, shop: str = SHOP) -> list[dict]:
    response = client.get(f"/api/event-subscriptions/{subscription_id}/deliveries", headers=auth(shop))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["deliveries"]


def wait_until(check, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("the condition did not hold in time")


def test_an_issued_code_is_delivered_signed_with_the_secret_shown_once(app, client, settle, platform, receivers, db):
    receiver = receivers()
    made = subscribe(client, receiver.url, kinds=["reward_issued"])
    secret = made["secret"]
    assert len(secret) >= 32 and made["kinds"] == ["reward_issued"]
    listed = client.get("/api/event-subscriptions", headers=auth()).get_json()["subscriptions"]
    assert [s["id"] for s in listed] == [made["id"]] and "secret" not in listed[0]
    stored = db.get(EventSubscription, made["id"]).secret
    assert secret not in stored  # kept encrypted, like access tokens
    fund(client, settle, 1000)
    platform.post(GRAPHQL, json=created())
    code = redeem(client, reward_id(client)).get_json()
    [(headers, body, _)] = receiver.wait_for(1)
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    assert hmac.compare_digest(headers["X-Loyalty-Hmac-Sha256"], expected)
    [event] = client.get("/api/member-events", headers=auth()).get_json()["events"]
    assert json.loads(body) == {**event, "shop": SHOP}
    assert event["data"] == {"redemption_id": code["id"], "code": code["code"]}
    assert headers["X-Loyalty-Event-Id"] == str(event["id"]) and headers["X-Loyalty-Event-Kind"] == "reward_issued"
    [delivery] = wait_until(lambda: [d for d in deliveries(client, made["id"]) if d["status"] == "succeeded"])
    assert delivery["attempts"] == 1 and delivery["response_status"] == 200 and delivery["event_id"] == event["id"]


def test_a_subscription_gets_only_the_kinds_it_asked_for(app, client, settle, platform, receivers):
    receiver = receivers()
    made = subscribe(client, receiver.url, kinds=["tier_changed"])
    fund(client, settle, 1000)
    platform.post(GRAPHQL, json=created())
    assert redeem(client, reward_id(client)).status_code == 201
    time.sleep(0.5)
    assert receiver.received == [] and deliveries(client, made["id"]) == []


@pytest.fixture
def fast_retries(database, monkeypatch):
    """The app with jobs in-process and retries after 0.2 s, 0.4 s ... instead of 30 s, 1 min ..."""
    app = create_app({**app_config(database, None), "EVENT_RETRY_FIRST_SECONDS": 0.2})
    return app


def test_a_receiver_that_fails_twice_then_answers_is_one_delivery_after_three_tries(fast_retries, receivers):
    client = fast_retries.test_client()
    install(client, SHOP)
    receiver = receivers([500, 503])
    made = subscribe(client, receiver.url)
    sample = client.post(f"/api/event-subscriptions/{made['id']}/test", headers=auth())
    assert sample.status_code == 202 and sample.get_json()["sample"] is True
    sent = receiver.wait_for(3)
    assert len({body for _, body, _ in sent}) == 1  # the same event each time
    [delivery] = wait_until(lambda: [d for d in deliveries(client, made["id"]) if d["status"] == "succeeded"])
    assert delivery["attempts"] == 3 and delivery["response_status"] == 200 and delivery["error"] is None
    assert sent[2][2] - sent[0][2] >= 0.2 + 0.4 - 0.05  # backoff between the tries


def test_a_delivery_that_keeps_failing_is_listed_failed_and_a_retry_sends_it(fast_retries, receivers, monkeypatch):
    import plugin.loyalty.events.delivery as sender

    monkeypatch.setattr(sender, "MAX_ATTEMPTS", 2)
    client = fast_retries.test_client()
    install(client, SHOP)
    receiver = receivers(default=500)
    made = subscribe(client, receiver.url)
    client.post(f"/api/event-subscriptions/{made['id']}/test", headers=auth())
    failed = wait_until(lambda: client.get("/api/event-deliveries?status=failed", headers=auth())
                        .get_json()["deliveries"])
    assert failed[0]["attempts"] == 2 and failed[0]["response_status"] == 500 and "HTTP 500" in failed[0]["error"]
    assert len(receiver.received) == 2
    receiver.default = 200
    retried = client.post(f"/api/event-deliveries/{failed[0]['id']}/retry", headers=auth())
    assert retried.status_code == 200 and retried.get_json()["status"] == "pending"
    wait_until(lambda: [d for d in deliveries(client, made["id"]) if d["status"] == "succeeded"])
    again = client.post(f"/api/event-deliveries/{failed[0]['id']}/retry", headers=auth())
    assert again.status_code == 409


def test_every_attempt_is_listed_with_its_time_answer_and_error(fast_retries, receivers):
    client = fast_retries.test_client()
    install(client, SHOP)
    receiver = receivers([500, 503])
    made = subscribe(client, receiver.url)
    client.post(f"/api/event-subscriptions/{made['id']}/test", headers=auth())
    [delivery] = wait_until(lambda: [d for d in deliveries(client, made["id"]) if d["status"] == "succeeded"])
    history = delivery["attempt_history"]
    assert [(a["response_status"], a["error"] and a["error"][:8]) for a in history] == [
        (200, None), (503, "HTTP 503"), (500, "HTTP 500")]  # newest first
    times = [a["attempted_at"] for a in history]
    assert times == sorted(times, reverse=True) and times[0] == delivery["last_attempt_at"]


def test_a_delivery_keeps_only_its_newest_attempts(fast_retries, receivers, monkeypatch, db):
    import plugin.loyalty.events.delivery as sender

    monkeypatch.setattr(sender, "MAX_ATTEMPTS", 3)
    monkeypatch.setattr(sender, "ATTEMPTS_KEPT", 4)
    client = fast_retries.test_client()
    install(client, SHOP)
    receiver = receivers(default=500)
    made = subscribe(client, receiver.url)
    client.post(f"/api/event-subscriptions/{made['id']}/test", headers=auth())
    [failed] = wait_until(lambda: client.get("/api/event-deliveries?status=failed", headers=auth())
                          .get_json()["deliveries"])
    assert client.post(f"/api/event-deliveries/{failed['id']}/retry", headers=auth()).status_code == 200
    wait_until(lambda: [d for d in deliveries(client, made["id"]) if d["status"] == "failed"]
               and len(receiver.received) == 6)
    [delivery] = wait_until(lambda: [d for d in deliveries(client, made["id"]) if d["status"] == "failed"])
    assert len(receiver.received) == 6 and len(delivery["attempt_history"]) == 4  # 6 tries, the newest 4 kept
    assert all(a["response_status"] == 500 for a in delivery["attempt_history"])
    assert table_counts(db)["event_delivery_attempts"] == 4


def test_a_hanging_receiver_delays_neither_points_nor_another_receiver(app, client, settle, platform, receivers):
    hanging, quick = receivers(["hang"]), receivers()
    slow_sub, quick_sub = subscribe(client, hanging.url), subscribe(client, quick.url)
    fund(client, settle, 1000)  # balance 1000
    platform.post(GRAPHQL, json=created())
    started = time.monotonic()
    assert redeem(client, reward_id(client)).status_code == 201  # balance 500
    assert time.monotonic() - started < 3
    hanging.wait_for(1)  # the slow receiver has it and hangs
    quick.wait_for(1, timeout=3)
    started = time.monotonic()
    signed_webhook(client, "orders/paid", order(subtotal="40.00"))
    settle(timeout=3)
    assert balance(client) == 540 and time.monotonic() - started < 3
    [late] = wait_until(lambda: [d for d in deliveries(client, slow_sub["id"]) if d["attempts"] == 1], timeout=15)
    assert late["status"] == "pending" and late["error"] == "no answer within the timeout"
    assert late["response_status"] is None
    assert [d["status"] for d in deliveries(client, quick_sub["id"])] == ["succeeded"]


def test_removing_a_subscription_drops_its_deliveries_and_sends_no_more(client, installed, receivers, db):
    receiver = receivers()
    made = subscribe(client, receiver.url)
    client.post(f"/api/event-subscriptions/{made['id']}/test", headers=auth())
    receiver.wait_for(1)
    assert client.delete(f"/api/event-subscriptions/{made['id']}", headers=auth()).status_code == 200
    assert client.get("/api/event-subscriptions", headers=auth()).get_json()["subscriptions"] == []
    assert client.get(f"/api/event-subscriptions/{made['id']}/deliveries", headers=auth()).status_code == 404
    assert table_counts(db).get("event_deliveries", 0) == 0


def test_another_shops_subscription_is_not_found_and_not_changed(client, installed, receivers, db):
    made = subscribe(client, receivers().url)
    before = table_counts(db)
    for method, path in (("delete", ""), ("get", "/deliveries"), ("post", "/test")):
        answer = getattr(client, method)(f"/api/event-subscriptions/{made['id']}{path}", headers=auth(OTHER_SHOP))
        assert answer.status_code == 404, (method, path)
    assert client.post("/api/event-deliveries/1/retry", headers=auth(OTHER_SHOP)).status_code == 404
    assert table_counts(db) == before


@pytest.mark.parametrize("body, field", [
    ({}, "url"),
    ({"url": "ftp://example.com/x"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"url": "http://example.com/hook"}, "url"),  # plain http only to loopback
    ({"url": "https://user:pw@example.com/hook"}, "url"),
    ({"url": "https://" + "a" * 2050 + ".com"}, "url"),
    ({"url": 5}, "url"),
    ({"url": "https://127.0.0.1/x", "kinds": []}, "kinds"),
    ({"url": "https://127.0.0.1/x", "kinds": ["party"]}, "kinds"),
    ({"url": "https://127.0.0.1/x", "kinds": "reward_issued"}, "kinds"),
    ({"url": "https://127.0.0.1/x", "secret": "mine"}, "secret"),
])
def test_bad_subscriptions_are_refused_by_field_and_change_nothing(client, installed, db, body, field):
    before = table_counts(db)
    response = client.post("/api/event-subscriptions", json=body, headers=auth())
    assert response.status_code == 422 and field in response.get_json()["fields"], response.get_json()
    assert table_counts(db) == before


@pytest.fixture
def production(database, installed):
    """The same database served with LOYALTY_ENV=production (jobs in-process)."""
    return create_app({**app_config(database, None), "LOYALTY_ENV": "production"}).test_client()


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "0.0.0.0", "192.168.1.20",
                                     # IPv6 that embeds or translates to 127.0.0.1 (issue 21: 6to4 got through)
                                     "2002:7f00:1::", "64:ff9b::7f00:1", "::ffff:127.0.0.1", "::127.0.0.1"])
def test_in_production_internal_addresses_are_refused_literal_or_by_name(production, db, monkeypatch, address):
    import plugin.outbound

    monkeypatch.setattr(plugin.outbound, "resolve", lambda host, port: [address])
    before = table_counts(db)
    literal = f"https://[{address}]/x" if ":" in address else f"https://{address}/x"
    for url in (literal, "https://hooks.example.com/x"):
        response = production.post("/api/event-subscriptions", json={"url": url}, headers=auth())
        assert response.status_code == 422, url
        assert "internal address" in response.get_json()["fields"]["url"]
    assert table_counts(db) == before


def test_in_production_a_name_that_turns_internal_after_saving_is_not_called(production, db, monkeypatch, receivers):
    import plugin.outbound

    monkeypatch.setattr(plugin.outbound, "resolve", lambda host, port: ["93.184.216.34"])
    made = subscribe(production, "https://hooks.example.com/x")
    monkeypatch.setattr(plugin.outbound, "resolve", lambda host, port: ["93.184.216.34", "127.0.0.1"])
    production.post(f"/api/event-subscriptions/{made['id']}/test", headers=auth())
    [delivery] = wait_until(lambda: [d for d in deliveries(production, made["id"]) if d["attempts"] == 1])
    assert delivery["status"] == "pending" and "internal address (127.0.0.1)" in delivery["error"]
    assert delivery["response_status"] is None


def test_in_production_plain_http_is_refused_even_to_loopback(production, db):
    response = production.post("/api/event-subscriptions", json={"url": "http://127.0.0.1:9/x"}, headers=auth())
    assert response.status_code == 422


def test_a_shop_has_at_most_ten_subscriptions(client, installed, receivers):
    url = receivers().url
    for _ in range(10):
        subscribe(client, url)
    response = client.post("/api/event-subscriptions", json={"url": url}, headers=auth())
    assert response.status_code == 422


def test_event_subscriptions_need_a_session_token(client, installed):
    assert client.get("/api/event-subscriptions").status_code == 401
    assert client.post("/api/event-subscriptions", json={"url": "https://example.com"}).status_code == 401


def test_more_deliveries_than_one_round_takes_all_reach_the_receiver_promptly(fast_retries, receivers):
    client = fast_retries.test_client()
    install(client, SHOP)
    receiver = receivers()
    made = subscribe(client, receiver.url)
    for _ in range(45):  # more than a sender's round takes per endpoint (20)
        assert client.post(f"/api/event-subscriptions/{made['id']}/test", headers=auth()).status_code == 202
    sent = receiver.wait_for(45, timeout=15)
    assert len({headers["X-Loyalty-Event-Id"] for headers, _, _ in sent}) == 45
    wait_until(lambda: all(d["status"] == "succeeded" for d in deliveries(client, made["id"])))


def test_rotating_the_encryption_key_keeps_deliveries_signed_with_the_same_secret(database, receivers):
    from cryptography.fernet import Fernet

    new_key = Fernet.generate_key().decode()
    old = create_app(app_config(database, None))
    client = old.test_client()
    install(client, SHOP)
    receiver = receivers()
    secret = subscribe(client, receiver.url)["secret"]
    rotating = create_app({**app_config(database, None), "LOYALTY_ENCRYPTION_KEY": new_key,
                           "LOYALTY_ENCRYPTION_KEY_PREVIOUS": old.config["LOYALTY_ENCRYPTION_KEY"]})
    result = rotating.test_cli_runner().invoke(args=["rotate-encryption-key"])
    assert result.exit_code == 0 and "signing secrets of 1 event subscription(s)" in result.output
    only_new = create_app({**app_config(database, None), "LOYALTY_ENCRYPTION_KEY": new_key}).test_client()
    made = only_new.get("/api/event-subscriptions", headers=auth()).get_json()["subscriptions"][0]
    only_new.post(f"/api/event-subscriptions/{made['id']}/test", headers=auth())
    [(headers, body, _)] = receiver.wait_for(1)
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    assert headers["X-Loyalty-Hmac-Sha256"] == expected


def test_a_secret_no_configured_key_can_read_is_not_sent_and_says_why(database, receivers):
    from cryptography.fernet import Fernet

    old = create_app(app_config(database, None)).test_client()
    install(old, SHOP)
    receiver = receivers()
    made = subscribe(old, receiver.url)
    other_key = create_app({**app_config(database, None), "LOYALTY_ENCRYPTION_KEY": Fernet.generate_key().decode()})
    client = other_key.test_client()
    client.post(f"/api/event-subscriptions/{made['id']}/test", headers=auth())
    [delivery] = wait_until(lambda: [d for d in deliveries(client, made["id"]) if d["attempts"] == 1])
    assert "cannot be decrypted" in delivery["error"] and receiver.received == []


def test_failed_deliveries_are_listed_by_a_known_status_only(client, installed, db):
    before = table_counts(db)
    response = client.get("/api/event-deliveries?status=lost", headers=auth())
    assert response.status_code == 422 and "status" in response.get_json()["fields"]
    assert client.get("/api/event-deliveries", headers=auth()).get_json() == {"deliveries": []}
    assert table_counts(db) == before
