"""Redemptions: points become single-use codes; never spent twice, never lost."""
import json
from datetime import timedelta

import pytest
import requests
import responses

from plugin.db import transaction, utcnow
from plugin.loyalty.rewards.redemptions import retry_due_codes
from plugin.models import Redemption
from tests.helpers import (
    OTHER_SHOP,
    SHOP,
    all_at_once,
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


def created(node_id: str = "gid://shopify/DiscountCodeNode/1", field: str = "discountCodeBasicCreate") -> dict:
    return {"data": {field: {"codeDiscountNode": {"id": node_id}, "userErrors": []}}}


THROTTLED = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
             "extensions": {"cost": {"requestedQueryCost": 10, "throttleStatus": {
                 "maximumAvailable": 2000, "currentlyAvailable": 0, "restoreRate": 100}}}}


def fund(client, settle, points: int, customer_id: int = 7001) -> None:
    signed_webhook(client, "orders/paid", order(customer_id=customer_id, subtotal=f"{points}.00"))
    settle()


def reward_id(client, kind: str = "amount_off", **fields) -> int:
    body = {"name": "Test reward", "kind": kind, "value": "5", "points_cost": 500, **fields}
    response = client.post("/api/rewards", json=body, headers=auth())
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def redeem(client, rid, customer_id: int = 7001, shop: str = SHOP):
    return client.post(f"/api/members/{customer_id}/redemptions", json={"reward_id": rid}, headers=auth(shop))


def graphql_calls(mock) -> list[dict]:
    return [json.loads(call.request.body) for call in mock.calls if call.request.url == GRAPHQL]


def test_a_new_shop_has_a_sensible_default_catalog(client, installed):
    rewards = client.get("/api/rewards", headers=auth()).get_json()["rewards"]
    assert {(r["name"], r["kind"], r["value"], r["points_cost"]) for r in rewards} >= {
        ("5 off your order", "amount_off", "5", 500)}
    assert all(r["active"] for r in rewards)


def test_redeeming_takes_the_points_and_creates_one_code_for_that_customer(client, settle, platform):
    fund(client, settle, 620)
    platform.post(GRAPHQL, json=created())
    rid = reward_id(client, value="7.50", min_subtotal="30", code_lifetime_days=30,
                    combines_with={"shipping_discounts": True, "order_discounts": False})
    response = redeem(client, rid)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "issued" and body["points"] == 500 and body["balance"] == 120
    assert body["code"].startswith("ROSEBUDT-") and len(body["code"]) == len("ROSEBUDT-") + 12
    [call] = graphql_calls(platform)
    sent = call["variables"]["discount"]
    assert "discountCodeBasicCreate" in call["query"]
    assert sent["code"] == body["code"] and sent["usageLimit"] == 1 and sent["appliesOncePerCustomer"] is True
    assert sent["context"] == {"customers": {"add": ["gid://shopify/Customer/7001"]}}
    assert sent["customerGets"]["value"] == {"discountAmount": {"amount": "7.50", "appliesOnEachItem": False}}
    assert sent["minimumRequirement"] == {"subtotal": {"greaterThanOrEqualToSubtotal": "30.00"}}
    assert sent["combinesWith"] == {"productDiscounts": False, "orderDiscounts": False, "shippingDiscounts": True}
    assert sent["endsAt"] is not None
    ada = member(client)
    assert ada["balance"] == 120 and [r["status"] for r in ada["redemptions"]] == ["issued"]
    assert sorted(e["delta"] for e in ada["ledger"]) == [-500, 620]
    events = client.get("/api/member-events", query_string={"kind": "reward_issued"}, headers=auth()).get_json()
    [event] = events["events"]
    assert (event["customer_id"], event["data"]) == ("7001", {"redemption_id": body["id"], "code": body["code"]})


def test_a_percentage_goes_to_the_platform_as_a_fraction(client, settle, platform):
    fund(client, settle, 1000)
    platform.post(GRAPHQL, json=created())
    assert redeem(client, reward_id(client, kind="percentage_off", value="10")).status_code == 201
    assert graphql_calls(platform)[0]["variables"]["discount"]["customerGets"]["value"] == {"percentage": 0.1}


def test_free_shipping_uses_its_own_mutation(client, settle, platform):
    fund(client, settle, 500)
    platform.post(GRAPHQL, json=created(field="discountCodeFreeShippingCreate"))
    response = redeem(client, reward_id(client, kind="free_shipping", value=None))
    assert response.status_code == 201 and response.get_json()["status"] == "issued"
    call = graphql_calls(platform)[0]
    assert "discountCodeFreeShippingCreate" in call["query"] and "customerGets" not in call["variables"]["discount"]


@pytest.mark.parametrize("case, status, message", [
    ("too few points", 409, "costs 500 points; the balance is 499"),
    ("negative balance", 409, "balance is negative"),
    ("inactive reward", 422, "not available"),
    ("unknown reward", 404, "no such reward"),
    ("other shop's reward", 404, "no such reward"),
    ("unknown member", 404, "no such member"),
])
def test_redemptions_that_cannot_be_made_are_refused_and_change_nothing(client, installed, settle, db, platform, case,
                                                                       status, message):
    fund(client, settle, 499)
    rid = reward_id(client)
    customer = 7001
    if case == "negative balance":
        adjusted = client.post("/api/members/7001/adjustments", headers=auth(),
                               json={"points": -600, "reason": "test", "confirm": True})
        assert adjusted.status_code == 201  # below zero: confirmed
    if case == "inactive reward":
        client.patch(f"/api/rewards/{rid}", json={"active": False}, headers=auth())
    if case == "unknown reward":
        rid = 999999
    if case == "other shop's reward":
        rid = client.get("/api/rewards", headers=auth(OTHER_SHOP)).get_json()["rewards"][0]["id"]
    if case == "unknown member":
        customer = 4242
    before = table_counts(db)
    response = redeem(client, rid, customer)
    assert response.status_code == status and message in response.get_json()["error"]
    assert table_counts(db) == before and graphql_calls(platform) == []


def test_throttled_three_times_then_success_makes_one_code_and_takes_points_once(client, settle, platform):
    fund(client, settle, 500)
    for _ in range(3):
        platform.post(GRAPHQL, json=THROTTLED)
    platform.post(GRAPHQL, json=created())
    response = redeem(client, reward_id(client))
    assert response.get_json()["status"] == "issued" and balance(client) == 0
    calls = graphql_calls(platform)
    assert len(calls) == 4 and len({c["variables"]["discount"]["code"] for c in calls}) == 1
    assert [e["delta"] for e in member(client)["ledger"] if e["delta"] < 0] == [-500]


def test_user_errors_fail_the_redemption_and_give_the_points_back(client, settle, platform):
    fund(client, settle, 500)
    platform.post(GRAPHQL, json={"data": {"discountCodeBasicCreate": {"codeDiscountNode": None, "userErrors": [
        {"field": ["basicCodeDiscount", "endsAt"], "message": "Ends at must be after starts at",
         "code": "END_DATE_BEFORE_START_DATE"}]}}})
    body = redeem(client, reward_id(client)).get_json()
    assert body["status"] == "failed" and "Ends at must be after starts at" in body["error"]
    assert body["balance"] == 500  # the answer says the points are back
    ada = member(client)
    assert ada["balance"] == 500 and sorted(e["kind"] for e in ada["ledger"]) == [
        "order_award", "redemption", "redemption_return"]
    assert ada["redemptions"][0]["error"] == body["error"]


def test_an_order_using_the_code_while_it_is_being_made_leaves_it_used_never_issued(client, settle, platform):
    from plugin.loyalty.rewards.code_usage import mark_codes_used
    from plugin.models import Shop

    fund(client, settle, 500)

    def made_and_used(request):  # the shopper's order carrying the code lands before the outcome is written
        code = json.loads(request.body)["variables"]["discount"]["code"]
        with transaction() as session:
            assert mark_codes_used(session, session.query(Shop).filter_by(domain=SHOP).one().id, [code], 4242) == 1
        return 200, {}, json.dumps(created())

    platform.add_callback(responses.POST, GRAPHQL, callback=made_and_used)
    body = redeem(client, reward_id(client)).get_json()
    assert (body["status"], body["order_id"], body["balance"]) == ("used", "4242", 0)
    assert [(r["status"], r["order_id"]) for r in member(client)["redemptions"]] == [("used", "4242")]
    issued = client.get("/api/member-events", query_string={"kind": "reward_issued"}, headers=auth()).get_json()
    assert issued["events"] == []  # what the order recorded stands: no "code issued" after it was used


def make_due(app) -> None:
    with app.app_context(), transaction() as session:
        session.query(Redemption).update({"next_attempt_at": utcnow() - timedelta(seconds=1)})


def test_a_platform_that_is_down_leaves_the_code_pending_then_a_retry_issues_it(app, client, settle, platform):
    fund(client, settle, 500)
    platform.post(GRAPHQL, status=503)
    body = redeem(client, reward_id(client)).get_json()
    assert body["status"] == "pending" and balance(client) == 0
    assert member(client)["redemptions"][0]["status"] == "pending"
    platform.replace(responses.POST, GRAPHQL, json=created())
    make_due(app)
    with app.app_context():
        assert retry_due_codes()["retried"] == 1
    assert member(client)["redemptions"][0]["status"] == "issued" and balance(client) == 0


def test_a_retry_that_finds_its_code_already_made_adopts_it(app, client, settle, platform):
    fund(client, settle, 500)
    platform.post(GRAPHQL, body=requests.ConnectionError("answer lost"))
    assert redeem(client, reward_id(client)).get_json()["status"] == "pending"
    platform.replace(responses.POST, GRAPHQL, json={"data": {"discountCodeBasicCreate": {
        "codeDiscountNode": None, "userErrors": [{"field": ["code"], "message": "Code must be unique", "code": "TAKEN"}]}}})
    platform.add(responses.POST, GRAPHQL, json={"data": {"codeDiscountNodeByCode": {"id": "gid://shopify/DiscountCodeNode/9"}}})
    make_due(app)
    with app.app_context():
        retry_due_codes()
    assert member(client)["redemptions"][0]["status"] == "issued" and balance(client) == 0


def test_a_platform_down_for_good_finally_fails_and_returns_the_points(app, client, settle, platform):
    from plugin.loyalty.rewards.redemptions import MAX_ISSUE_ATTEMPTS

    fund(client, settle, 500)
    platform.post(GRAPHQL, status=502)
    redeem(client, reward_id(client))
    for _ in range(MAX_ISSUE_ATTEMPTS):
        make_due(app)
        with app.app_context():
            retry_due_codes()
    assert member(client)["redemptions"][0]["status"] == "failed" and balance(client) == 500


def test_an_order_using_the_code_marks_it_used_once_and_earns_on_the_discounted_subtotal(client, settle, platform):
    fund(client, settle, 500)
    platform.post(GRAPHQL, json=created())
    code = redeem(client, reward_id(client)).get_json()["code"]
    paid = order(order_id=5555, subtotal="45.00", total_discounts="5.00",
                 discount_codes=[{"code": code.lower(), "amount": "5.00", "type": "fixed_amount"}])
    signed_webhook(client, "orders/create", paid)
    signed_webhook(client, "orders/paid", paid)
    signed_webhook(client, "orders/paid", paid)  # replayed under a new webhook id
    settle()
    [used] = member(client)["redemptions"]
    assert (used["status"], used["order_id"]) == ("used", "5555")
    assert balance(client) == 45  # 45.00 after the code, not 50


def test_codes_that_expire_unused_give_points_back_when_the_program_says_so(app, client, settle, platform):
    fund(client, settle, 1000)
    platform.post(GRAPHQL, json=created())
    rid = reward_id(client, code_lifetime_days=1)
    redeem(client, rid)
    client.patch("/api/program", json={"return_points_on_expiry": False}, headers=auth())
    redeem(client, rid)
    client.patch("/api/program", json={"return_points_on_expiry": True}, headers=auth())
    assert balance(client) == 0
    assert "codes_expired 0" in tick(app, days=1)  # a day on: expired, but within the grace for late orders
    assert balance(client) == 0
    assert "codes_expired 2" in tick(app, days=3)  # past expiry and its grace
    assert [r["status"] for r in member(client)["redemptions"]] == ["expired", "expired"]
    assert balance(client) == 1000
    assert "codes_expired 0" in tick(app, days=3)  # the same tick again changes nothing
    assert balance(client) == 1000


def tick(app, days: int) -> str:
    """`flask --app plugin tick --now` that many days from now; its output."""
    result = app.test_cli_runner().invoke(args=["tick", "--now", (utcnow() + timedelta(days=days)).isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def test_catalog_changes_are_validated_field_by_field_and_scoped_to_the_shop(client, installed, db):
    bad = client.post("/api/rewards", json={"name": "", "kind": "cash", "points_cost": 0}, headers=auth())
    assert bad.status_code == 422 and set(bad.get_json()["fields"]) == {"name", "kind", "points_cost"}
    over = client.post("/api/rewards", json={"name": "x", "kind": "percentage_off", "value": "150",
                                             "points_cost": 10}, headers=auth())
    assert over.status_code == 422 and "at most 100" in over.get_json()["fields"]["value"]
    rid = reward_id(client)
    assert client.patch(f"/api/rewards/{rid}", json={"points_cost": -1}, headers=auth()).status_code == 422
    assert client.patch(f"/api/rewards/{rid}", json={"points_cost": 750}, headers=auth()).get_json()["points_cost"] == 750
    assert client.patch(f"/api/rewards/{rid}", json={"points_cost": 1}, headers=auth(OTHER_SHOP)).status_code == 404
    assert client.delete(f"/api/rewards/{rid}", headers=auth(OTHER_SHOP)).status_code == 404
    assert client.delete(f"/api/rewards/{rid}", headers=auth()).status_code == 204
    assert rid not in [r["id"] for r in client.get("/api/rewards", headers=auth()).get_json()["rewards"]]


def test_two_redemptions_at_once_with_points_for_one_exactly_one_succeeds(client, settle, platform, live_server):
    fund(client, settle, 500)
    platform.post(GRAPHQL, json=created())
    rid = reward_id(client)
    answers = all_at_once(2, lambda _n: requests.post(f"{live_server}/api/members/7001/redemptions",
                                                      json={"reward_id": rid}, headers=auth(), timeout=30).status_code)
    assert sorted(answers) == [201, 409]
    assert balance(client) == 0 and len(graphql_calls(platform)) == 1


def test_a_customer_data_export_lists_their_redemptions(client, settle, platform):
    fund(client, settle, 500)
    platform.post(GRAPHQL, json=created())
    code = redeem(client, reward_id(client)).get_json()["code"]
    signed_webhook(client, "customers/data_request", {
        "shop_id": 1, "shop_domain": SHOP, "orders_requested": [], "data_request": {"id": 77},
        "customer": {"id": 7001, "email": "ada@example.com", "phone": None}})
    settle()
    [listed] = client.get("/api/data-requests", headers=auth()).get_json()["data_requests"]
    export = client.get(f"/api/data-requests/{listed['id']}", headers=auth()).get_json()["export"]
    assert [(r["code"], r["status"], r["points"]) for r in export["redemptions"]] == [(code, "issued", 500)]


# The platform failing in the middle of a redemption


def default_reward(client) -> int:
    """The default catalog's 500-point reward."""
    return next(r["id"] for r in client.get("/api/rewards", headers=auth()).get_json()["rewards"]
                if r["points_cost"] == 500)


@responses.activate
def test_a_refused_token_refresh_during_issuance_fails_the_redemption_and_returns_the_points(app, client, send):
    responses.post(token_endpoint(), json=token_answer("shpat_old", expires_in=60))
    client.get("/", query_string={"shop": SHOP, "id_token": session_token()})
    send("orders/paid", order(subtotal="1000.00"))
    responses.replace(responses.POST, token_endpoint(), status=400, json={"error": "invalid_grant"})
    response = redeem(client, default_reward(client))
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
    assert redeem(client, default_reward(client)).get_json()["status"] == "pending" and balance(client) == 500
    with app.app_context(), transaction() as session:
        session.query(Redemption).update({"next_attempt_at": utcnow() - timedelta(seconds=1)})
    responses.replace(responses.POST, token_endpoint(), json=token_answer("shpat_new"))
    responses.post(GRAPHQL, json=created())
    with app.app_context():
        assert retry_due_codes()["retried"] == 1
    assert member(client)["redemptions"][0]["status"] == "issued" and balance(client) == 500


def test_a_lost_answer_retried_by_the_client_adopts_the_code_it_made(client, send, platform):
    send("orders/paid", order(subtotal="600.00"))
    platform.post(GRAPHQL, body=requests.ConnectionError("answer lost"))
    platform.post(GRAPHQL, json={"data": {"discountCodeBasicCreate": {"codeDiscountNode": None, "userErrors": [
        {"field": ["code"], "message": "Code must be unique", "code": "TAKEN"}]}}})
    platform.post(GRAPHQL, json={"data": {"codeDiscountNodeByCode": {"id": "gid://shopify/DiscountCodeNode/5"}}})
    body = redeem(client, default_reward(client)).get_json()
    assert body["status"] == "issued" and balance(client) == 100


def test_a_code_used_after_its_points_were_returned_spends_them_again_once(app, client, send, platform):
    send("orders/paid", order(subtotal="500.00"))
    platform.post(GRAPHQL, json=created())
    code = redeem(client, reward_id(client, code_lifetime_days=1)).get_json()["code"]
    tick(app, days=3)
    assert balance(client) == 500  # expired unused: points back
    used = order(order_id=42, subtotal="0.00", discount_codes=[{"code": code, "amount": "5.00", "type": "fixed_amount"}])
    send("orders/paid", used)
    send("orders/paid", used)
    assert member(client)["redemptions"][0]["status"] == "used" and balance(client) == 0
    assert app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0
