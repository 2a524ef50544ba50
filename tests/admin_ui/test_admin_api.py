"""The admin JSON API: the session-token guard, shop scoping, and program settings."""
import time

import jwt
import pytest

from tests.helpers import API_KEY, OTHER_SHOP, SHOP, auth, customer, order, session_token, signed_webhook, table_counts

ROUTES = [
    ("get", "/api/program"),
    ("patch", "/api/program"),
    ("get", "/api/members"),
    ("get", "/api/members/7001"),
    ("post", "/api/members/7001/adjustments"),
    ("get", "/api/stats"),
    ("get", "/api/reports/liability"),
]


def bad_tokens():
    now = int(time.time())
    return {
        "missing": None,
        "not bearer": session_token(),
        "expired": f"Bearer {session_token(exp=now - 60, nbf=now - 120, iat=now - 120)}",
        "not yet valid": f"Bearer {session_token(nbf=now + 300)}",
        "another app": f"Bearer {session_token(aud='someone-elses-api-key')}",
        "another secret": f"Bearer {session_token(secret='not-our-secret-0123456789abcdef0123')}",
        "no expiry": f"Bearer {session_token(exp=None)}",
        "foreign issuer": f"Bearer {session_token(iss='https://evil.example.com/admin')}",
        "alg none": "Bearer " + jwt.encode({"dest": f"https://{SHOP}", "aud": API_KEY}, None, algorithm="none"),
        "garbage": "Bearer abc.def.ghi",
    }


@pytest.mark.parametrize("method, path", ROUTES)
@pytest.mark.parametrize("kind", list(bad_tokens()))
def test_every_admin_route_needs_a_valid_session_token(client, db, method, path, kind):
    token = bad_tokens()[kind]
    before = table_counts(db)
    headers = {} if token is None else {"Authorization": token}
    response = getattr(client, method)(path, headers=headers, json={"points": 5, "reason": "x", "signup_bonus": 5})
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert "session token" in response.get_json()["error"]
    assert table_counts(db) == before


def test_a_token_within_the_clock_leeway_is_accepted(client, installed):
    assert client.get("/api/program", headers=auth(nbf=int(time.time()) + 5)).status_code == 200


def test_the_program_starts_with_the_spec_defaults(client, installed):
    program = client.get("/api/program", headers=auth()).get_json()
    assert {k: program[k] for k in ("points_per_currency_unit", "signup_bonus", "excluded_order_tags",
                                    "exclude_gift_cards")} == {
        "points_per_currency_unit": "1", "signup_bonus": 0, "excluded_order_tags": [], "exclude_gift_cards": True}


def test_program_changes_are_saved_and_read_back_exactly(client, installed):
    response = client.patch("/api/program", headers=auth(), json={
        "points_per_currency_unit": 2.5, "signup_bonus": 250, "excluded_order_tags": [" wholesale ", "staff", "staff"],
        "exclude_gift_cards": False})
    assert response.status_code == 200
    program = client.get("/api/program", headers=auth()).get_json()
    assert (program["points_per_currency_unit"], program["signup_bonus"], program["excluded_order_tags"],
            program["exclude_gift_cards"]) == ("2.5", 250, ["wholesale", "staff"], False)


@pytest.mark.parametrize("given, shown", [("10", "10"), (100, "100"), ("2.500", "2.5"), ("0", "0")])
def test_rates_read_back_as_plain_decimals(client, installed, given, shown):
    assert client.patch("/api/program", headers=auth(), json={"points_per_currency_unit": given}).status_code == 200
    assert client.get("/api/program", headers=auth()).get_json()["points_per_currency_unit"] == shown


@pytest.mark.parametrize("changes, field, message", [
    ({"points_per_currency_unit": "-1"}, "points_per_currency_unit", "zero or more"),
    ({"points_per_currency_unit": "ten"}, "points_per_currency_unit", "decimal number"),
    ({"points_per_currency_unit": True}, "points_per_currency_unit", "decimal number"),
    ({"points_per_currency_unit": "NaN"}, "points_per_currency_unit", "zero or more"),
    ({"points_per_currency_unit": "0.0000001"}, "points_per_currency_unit", "6 decimal places"),
    ({"signup_bonus": "100"}, "signup_bonus", "whole number"),
    ({"signup_bonus": -5}, "signup_bonus", "between 0"),
    ({"signup_bonus": 1.5}, "signup_bonus", "whole number"),
    ({"excluded_order_tags": "wholesale"}, "excluded_order_tags", "list of tag names"),
    ({"exclude_gift_cards": "yes"}, "exclude_gift_cards", "true or false"),
    ({"colour": "red"}, "colour", "not a program setting"),
])
def test_bad_program_values_get_422_naming_the_field_and_change_nothing(client, installed, changes, field, message):
    before = client.get("/api/program", headers=auth()).get_json()
    response = client.patch("/api/program", headers=auth(), json={"signup_bonus": 10, **changes})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "invalid program settings" and message in body["fields"][field]
    assert client.get("/api/program", headers=auth()).get_json() == before


@pytest.mark.parametrize("body", [b"not json", b"[1]", b"null"])
def test_a_program_body_that_is_not_an_object_gets_422(client, installed, body):
    response = client.patch("/api/program", headers={**auth(), "Content-Type": "application/json"}, data=body)
    assert response.status_code == 422


def test_a_member_of_another_shop_is_not_found(client, installed, settle):
    signed_webhook(client, "orders/paid", order(customer_id=9001, subtotal="10.00"), shop=OTHER_SHOP)
    settle()
    assert client.get("/api/members/9001", headers=auth(OTHER_SHOP)).status_code == 200
    response = client.get("/api/members/9001", headers=auth(SHOP))
    assert response.status_code == 404 and response.get_json()["error"] == "no such member in this shop"
    assert client.get("/api/members", headers=auth(SHOP)).get_json()["total"] == 0
    adjusted = client.post("/api/members/9001/adjustments", headers=auth(SHOP), json={"points": 5, "reason": "x"})
    assert adjusted.status_code == 404
    assert client.get("/api/members/9001", headers=auth(OTHER_SHOP)).get_json()["balance"] == 10


@pytest.mark.parametrize("customer_id", ["abc", "-1", "1.5", "99999"])
def test_unknown_or_malformed_member_ids_are_404(client, installed, customer_id):
    assert client.get(f"/api/members/{customer_id}", headers=auth()).status_code == 404


def test_members_are_searched_by_email_name_or_id_and_paged(client, settle):
    signed_webhook(client, "customers/create", customer(7001, "ada@example.com", "Ada", "Lovelace"))
    signed_webhook(client, "customers/create", customer(7002, "grace@example.com", "Grace", "Hopper"))
    for n in range(60):
        signed_webhook(client, "customers/create", customer(8000 + n, f"bulk{n}@example.com", "Bulk", str(n)))
    settle()
    search = lambda **q: client.get("/api/members", query_string=q, headers=auth()).get_json()
    assert [m["email"] for m in search(query="GRACE")["members"]] == ["grace@example.com"]
    assert [m["customer_id"] for m in search(query="ada love")["members"]] == ["7001"]
    assert [m["customer_id"] for m in search(query="Hopper Grace")["members"]] == ["7002"]  # either order
    assert [m["customer_id"] for m in search(query="7002")["members"]] == ["7002"]
    first, second = search(query="bulk"), search(query="bulk", page=2)
    assert (first["total"], len(first["members"]), len(second["members"])) == (60, 50, 10)
    assert client.get("/api/members?page=0", headers=auth()).status_code == 422


def test_members_are_sorted_by_balance_lifetime_activity_or_tier_and_filtered_by_pending(client, installed, settle):
    for name, threshold in (("Silver", 50), ("Gold", 100)):
        assert client.post("/api/tiers", json={"name": name, "threshold": threshold}, headers=auth()).status_code == 201
    for customer_id in (7001, 7002, 7003):
        signed_webhook(client, "customers/create", customer(customer_id, f"c{customer_id}@example.com"))
    settle()
    # 7002: 60 (Silver), then 7003: 120 (Gold), then 7001: 40; then +100 for 7001 and -100 for 7003.
    for customer_id, subtotal in ((7002, "60.00"), (7003, "120.00"), (7001, "40.00")):
        signed_webhook(client, "orders/paid", order(customer_id=customer_id, subtotal=subtotal))
        settle()
    client.post("/api/members/7001/adjustments", json={"points": 100, "reason": "goodwill"}, headers=auth())
    client.post("/api/members/7003/adjustments", json={"points": -100, "reason": "correction"}, headers=auth())
    listed = lambda **q: [m["customer_id"] for m in
                          client.get("/api/members", query_string=q, headers=auth()).get_json()["members"]]
    assert listed() == ["7003", "7002", "7001"]  # newest member first
    assert listed(sort="balance") == ["7001", "7002", "7003"]  # 140, 60, 20
    assert listed(sort="lifetime") == ["7001", "7003", "7002"]  # 140, 120, 60
    assert listed(sort="last_activity") == ["7001", "7003", "7002"]  # the orders' times (adjustments are not activity)
    assert listed(sort="tier") == ["7003", "7002", "7001"]  # Gold, Silver, none
    assert listed(pending="1") == []


@pytest.mark.parametrize("params, field", [
    ({"sort": "name"}, "sort"), ({"sort": ""}, "sort"), ({"pending": "yes"}, "pending"), ({"pending": "0"}, "pending"),
])
def test_a_bad_sort_or_pending_filter_is_422_naming_it(client, db, installed, params, field):
    before = table_counts(db)
    response = client.get("/api/members", query_string=params, headers=auth())
    assert response.status_code == 422 and set(response.get_json()["fields"]) == {field}
    assert table_counts(db) == before


def test_a_member_shows_balance_lifetime_and_recent_ledger(client, settle):
    signed_webhook(client, "orders/paid", order(order_id=1234, subtotal="40.00", name="#1234"))
    settle()
    body = client.get("/api/members/7001", headers=auth()).get_json()
    assert (body["customer_id"], body["balance"], body["lifetime_earned"], body["tier"]) == ("7001", 40, 40, None)
    [entry] = body["ledger"]
    assert (entry["delta"], entry["reason"], entry["source"], entry["order_id"]) == (
        40, "Order #1234 paid", {"type": "order", "id": "1234"}, "1234")
    assert entry["created_at"].endswith("+00:00")


@pytest.mark.parametrize("body, field", [
    ({"points": 0, "reason": "x"}, "points"),
    ({"points": "5", "reason": "x"}, "points"),
    ({"points": 5}, "reason"),
    ({"points": 5, "reason": "   "}, "reason"),
])
def test_bad_adjustments_get_422_and_move_no_points(client, settle, body, field):
    signed_webhook(client, "orders/paid", order(subtotal="10.00"))
    settle()
    response = client.post("/api/members/7001/adjustments", headers=auth(), json=body)
    assert response.status_code == 422 and field in response.get_json()["fields"]
    assert client.get("/api/members/7001", headers=auth()).get_json()["balance"] == 10
