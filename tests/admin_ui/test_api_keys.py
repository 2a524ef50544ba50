"""API keys for merchants' scripts (SPEC "Merchants' scripts"), through the JSON API: made
with a session token, used as `Authorization: Bearer lk_...`, refused by scope, revoked,
rate-limited, never shown again, stored hashed, and every write put on the keys' trail."""
import hashlib
import logging
import re
import time

import pytest
from sqlalchemy import select

from plugin.models import ApiKey
from tests.helpers import (
    OTHER_SHOP,
    SHOP,
    auth,
    balance,
    order,
    signed_webhook,
    stored_outage_failure,
    table_counts,
)

KEY_TEXT = re.compile(r"^lk_[A-Za-z0-9_-]{32,}$")


def make_key(client, name="Nightly export", scope="read", shop=SHOP) -> dict:
    made = client.post("/api/keys", headers=auth(shop), json={"name": name, "scope": scope})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def bearer(key: dict | str) -> dict:
    return {"Authorization": f"Bearer {key['key'] if isinstance(key, dict) else key}"}


@pytest.fixture
def ada(client, installed, settle):
    """Ada (7001) has 40 points in SHOP."""
    signed_webhook(client, "orders/paid", order(customer_id=7001, subtotal="40.00"))
    settle()


def test_a_key_is_shown_once_listed_without_its_text_and_stored_as_a_hash(client, installed, db):
    made = make_key(client, "Nightly export", "read")
    assert KEY_TEXT.fullmatch(made["key"])
    assert {k: made[k] for k in ("name", "scope", "last_used_at")} == {
        "name": "Nightly export", "scope": "read", "last_used_at": None}
    listed = client.get("/api/keys", headers=auth())
    assert listed.status_code == 200
    assert listed.get_json() == {"keys": [{k: v for k, v in made.items() if k != "key"}]}
    assert made["key"] not in listed.get_data(as_text=True)
    row = db.scalar(select(ApiKey))
    assert row.key_hash == hashlib.sha256(made["key"].encode()).hexdigest()
    assert made["key"] not in repr([getattr(row, c.name) for c in ApiKey.__table__.columns])
    assert client.get("/api/keys", headers=auth(OTHER_SHOP)).get_json() == {"keys": []}


def test_a_read_key_reads_its_shop_and_is_refused_every_write(client, ada, db):
    key = make_key(client, scope="read")
    member = client.get("/api/members/7001", headers=bearer(key))
    assert member.status_code == 200 and member.get_json()["balance"] == 40
    assert client.get("/api/program", headers=bearer(key)).status_code == 200
    before = table_counts(db)
    program = client.get("/api/program", headers=auth()).get_json()
    for method, path, body in (("POST", "/api/members/7001/adjustments", {"points": 5, "reason": "script"}),
                               ("PATCH", "/api/program", {"points_per_currency_unit": 9})):
        refused = client.open(path, method=method, headers=bearer(key), json=body)
        assert refused.status_code == 403
        assert refused.get_json() == {"error": "this API key may only read (GET); a write key is needed"}
    assert table_counts(db) == before
    assert client.get("/api/program", headers=auth()).get_json() == program
    assert balance(client) == 40


def test_a_write_key_writes_and_the_trail_names_it(client, ada):
    key = make_key(client, "Ops script", "write")
    adjusted = client.post("/api/members/7001/adjustments", headers=bearer(key), json={"points": 5, "reason": "bulk"})
    assert adjusted.status_code == 201 and adjusted.get_json()["balance"] == 45
    refused = client.post("/api/members/7001/adjustments", headers=bearer(key), json={"points": "x", "reason": "bulk"})
    assert refused.status_code == 422
    writes = client.get("/api/keys/writes", headers=auth()).get_json()["writes"]
    assert [(w["key_id"], w["key_name"], w["method"], w["path"], w["status"]) for w in writes] == [
        (key["id"], "Ops script", "POST", "/api/members/7001/adjustments", 201)]
    assert balance(client) == 45


def test_a_write_that_reads_after_its_commit_is_on_the_trail_and_answers_at_once(app, client, installed, settle):
    """The retry of a failed event reads the event again after committing: on SQLite that
    read holds the write lock until the request ends, which the trail's note must not wait for."""
    event_id = stored_outage_failure(app, subtotal="40.00")
    key = make_key(client, "Retrier", "write")
    started = time.monotonic()
    retried = client.post(f"/api/events/{event_id}/retry", headers=bearer(key))
    assert retried.status_code == 200 and time.monotonic() - started < 8  # the lock wait is 10 s
    settle()
    assert balance(client) == 40
    writes = client.get("/api/keys/writes", headers=auth()).get_json()["writes"]
    assert [(w["key_name"], w["path"], w["status"]) for w in writes] == [
        ("Retrier", f"/api/events/{event_id}/retry", 200)]
    assert client.get("/api/keys", headers=auth()).get_json()["keys"][0]["last_used_at"] is not None


def test_keys_cannot_make_list_or_revoke_keys(client, installed, db):
    key = make_key(client, scope="write")
    before = table_counts(db)
    for method, path in (("POST", "/api/keys"), ("GET", "/api/keys"), ("DELETE", f"/api/keys/{key['id']}"),
                         ("GET", "/api/keys/writes")):
        refused = client.open(path, method=method, headers=bearer(key), json={"name": "more", "scope": "write"})
        assert refused.status_code == 403, (method, path)
        assert "cannot create, list or revoke keys" in refused.get_json()["error"]
    assert table_counts(db) == before
    assert client.get("/api/program", headers=bearer(key)).status_code == 200


def test_a_revoked_key_gets_401_and_leaves_the_list(client, installed, db):
    kept, revoked = make_key(client, "kept"), make_key(client, "gone")
    answer = client.delete(f"/api/keys/{revoked['id']}", headers=auth())
    assert answer.status_code == 200 and answer.get_json() == {"revoked": revoked["id"]}
    refused = client.get("/api/program", headers=bearer(revoked))
    assert refused.status_code == 401 and refused.get_json() == {"error": "unknown or revoked API key"}
    assert refused.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert "X-Shopify-Retry-Invalid-Session-Request" not in refused.headers
    assert [k["name"] for k in client.get("/api/keys", headers=auth()).get_json()["keys"]] == ["kept"]
    assert client.get("/api/program", headers=bearer(kept)).status_code == 200
    again = client.delete(f"/api/keys/{revoked['id']}", headers=auth())
    assert again.status_code == 404 and again.get_json() == {"error": "no such API key in this shop"}


@pytest.mark.parametrize("header", [
    "Bearer lk_" + "A" * 43,            # well-formed, unknown
    "Bearer lk_short",                   # too short
    "Bearer lk_" + "A" * 42 + "!",       # a character no key has
    "Bearer lk_" + "A" * 44,            # too long
    "bearer  lk_" + "A" * 43 + " x",    # trailing junk
])
def test_unknown_or_malformed_keys_get_401_and_change_nothing(client, ada, db, header):
    before = table_counts(db)
    for method, path in (("GET", "/api/members/7001"), ("POST", "/api/members/7001/adjustments")):
        refused = client.open(path, method=method, headers={"Authorization": header}, json={"points": 5, "reason": "x"})
        assert refused.status_code == 401
        assert refused.get_json() == {"error": "unknown or revoked API key"}
    assert table_counts(db) == before
    assert balance(client) == 40


def test_a_key_serves_only_its_own_shop(client, installed, settle):
    signed_webhook(client, "orders/paid", order(customer_id=9001, subtotal="10.00"), shop=OTHER_SHOP)
    settle()
    theirs = make_key(client, "theirs", "write", shop=OTHER_SHOP)
    assert client.get("/api/members/9001", headers=bearer(theirs)).get_json()["balance"] == 10
    mine = make_key(client, "mine", "write")
    assert client.get("/api/members/9001", headers=bearer(mine)).status_code == 404
    assert client.post("/api/members/9001/adjustments", headers=bearer(mine),
                       json={"points": 5, "reason": "x"}).status_code == 404
    assert client.delete(f"/api/keys/{theirs['id']}", headers=auth(SHOP)).status_code == 404
    assert client.get("/api/members/9001", headers=bearer(theirs)).get_json()["balance"] == 10


def test_an_uninstalled_shops_key_gets_401(client, installed, settle):
    key = make_key(client)
    signed_webhook(client, "app/uninstalled", {"id": 1, "myshopify_domain": SHOP})
    settle()
    refused = client.get("/api/program", headers=bearer(key))
    assert refused.status_code == 401 and "not installed" in refused.get_json()["error"]


@pytest.mark.parametrize("body, fields", [
    ({"scope": "read"}, {"name": "is required"}),
    ({"name": "   ", "scope": "read"}, {"name": "is required: up to 100 characters"}),
    ({"name": "x" * 101, "scope": "read"}, {"name": "is required: up to 100 characters"}),
    ({"name": "x"}, {"scope": "is required"}),
    ({"name": "x", "scope": "admin"}, {"scope": "must be one of read, write"}),
    ({"name": "x", "scope": "read", "expires": 1}, {"expires": "is not a key field (name, scope)"}),
    ([], {"_body": "must be a JSON object of key fields"}),
    (None, {"_body": "must be a JSON object of key fields"}),
])
def test_bad_key_requests_get_422_and_make_no_key(client, installed, db, body, fields):
    before = table_counts(db)
    refused = client.post("/api/keys", headers=auth(), json=body)
    assert refused.status_code == 422
    assert refused.get_json() == {"error": "invalid API key", "fields": fields}
    assert table_counts(db) == before


def test_a_second_live_key_of_one_name_is_refused(client, installed, db):
    first = make_key(client, "export")
    before = table_counts(db)
    refused = client.post("/api/keys", headers=auth(), json={"name": "export", "scope": "write"})
    assert refused.status_code == 422
    assert refused.get_json()["fields"] == {"name": "another key of this shop has this name"}
    assert table_counts(db) == before
    client.delete(f"/api/keys/{first['id']}", headers=auth())
    assert make_key(client, "export")["name"] == "export"


@pytest.mark.parametrize("key_id", ["999", "0", "abc", "-1", "99999999999999999999"])
def test_revoking_an_unknown_key_is_404_and_changes_nothing(client, installed, db, key_id):
    make_key(client)
    before = table_counts(db)
    refused = client.delete(f"/api/keys/{key_id}", headers=auth())
    assert refused.status_code == 404
    assert table_counts(db) == before
    assert len(client.get("/api/keys", headers=auth()).get_json()["keys"]) == 1


def test_last_use_is_noted_at_most_once_a_minute(client, installed):
    key = make_key(client)
    client.get("/api/program", headers=bearer(key))
    first = client.get("/api/keys", headers=auth()).get_json()["keys"][0]["last_used_at"]
    assert first is not None
    client.get("/api/program", headers=bearer(key))
    assert client.get("/api/keys", headers=auth()).get_json()["keys"][0]["last_used_at"] == first


def test_the_key_is_never_logged(client, ada, caplog):
    caplog.set_level(logging.DEBUG)
    key = make_key(client, scope="write")
    client.get("/api/members/7001", headers=bearer(key))
    client.post("/api/members/7001/adjustments", headers=bearer(key), json={"points": 1, "reason": "x"})
    client.post("/api/members/7001/adjustments", headers=bearer(key["key"][:-1] + "Z"),
                json={"points": 1, "reason": "x"})
    assert key["key"] not in caplog.text and key["key"][3:] not in caplog.text
