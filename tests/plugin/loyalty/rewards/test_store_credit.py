"""Store credit: points become the shopper's store credit, credited once however the platform answers.

`storeCreditAccountCredit` has no idempotency key, so every answer that was lost is followed by
a reading of the customer's store credit transactions before anything is sent again.
"""
import json
from datetime import timedelta

import requests
import responses

from plugin.db import transaction, utcnow
from plugin.loyalty.rewards.redemptions import MAX_ISSUE_ATTEMPTS
from plugin.loyalty.rewards.store_credit import retry_due_credits
from plugin.models import Redemption
from tests.helpers import SHOP, auth, balance, member, order, refund, signed_webhook, table_counts

GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
TRANSACTION = "gid://shopify/StoreCreditAccountCreditTransaction/77"


class Store:
    """The Admin API's store credit, as `responses` answers it: each call is kept, and what
    the credit mutation and the transactions query answer is chosen per test."""

    def __init__(self, mock):
        self.calls: list[dict] = []
        self.credit = [self.credited()]  # answers in turn; the last one repeats
        self.transactions: list[dict] = []
        self.read_fails = False
        mock.add_callback(responses.POST, GRAPHQL, callback=self.answer)

    @staticmethod
    def credited(transaction_id: str = TRANSACTION, amount: str = "5.0", currency: str = "USD") -> dict:
        made = {"id": transaction_id, "createdAt": utcnow().isoformat(),
                "amount": {"amount": amount, "currencyCode": currency}}
        return {"data": {"storeCreditAccountCredit": {"storeCreditAccountTransaction": made, "userErrors": []}}}

    def answer(self, request):
        body = json.loads(request.body)
        self.calls.append(body)
        if "storeCreditAccountCredit" in body["query"]:
            answer = self.credit.pop(0) if len(self.credit) > 1 else self.credit[0]
        elif self.read_fails:
            return 503, {}, "{}"
        else:
            answer = {"data": {"customer": {"storeCreditAccounts": {"nodes": [
                {"id": "gid://shopify/StoreCreditAccount/1", "transactions": {"nodes": self.transactions}}]}}}}
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            return answer, {}, "{}"
        return 200, {}, json.dumps(answer)

    def sent(self) -> list[str]:
        return ["credit" if "storeCreditAccountCredit" in call["query"] else "read" for call in self.calls]


def fund(client, send, points: int) -> None:
    send("shop/update", {"id": 1, "myshopify_domain": SHOP, "currency": "USD"})
    send("orders/paid", order(customer_id=7001, subtotal=f"{points}.00"))


def credit_reward(client, **fields) -> int:
    body = {"name": "5 in store credit", "kind": "store_credit", "value": "5", "points_cost": 500, **fields}
    response = client.post("/api/rewards", json=body, headers=auth())
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["kind"] == "store_credit"
    return response.get_json()["id"]


def redeem(client, rid):
    return client.post("/api/members/7001/redemptions", json={"reward_id": rid}, headers=auth())


def make_due(app) -> None:
    with app.app_context(), transaction() as session:
        session.query(Redemption).update({"next_attempt_at": utcnow() - timedelta(seconds=1)})


def retry(app) -> None:
    make_due(app)
    with app.app_context():
        retry_due_credits()


def test_points_become_store_credit_in_one_call(client, send, platform):
    store = Store(platform)
    fund(client, send, 620)
    response = redeem(client, credit_reward(client, code_lifetime_days=30))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["status"], body["code"], body["store_credit"], body["balance"]) == (
        "issued", None, {"amount": "5", "currency": "USD"}, 120)
    [call] = store.calls
    sent = call["variables"]
    assert sent["id"] == "gid://shopify/Customer/7001"
    assert sent["creditInput"]["creditAmount"] == {"amount": "5.00", "currencyCode": "USD"}
    assert sent["creditInput"]["expiresAt"] is not None
    ada = member(client)
    assert ada["redemptions"][0]["status"] == "issued" and ada["redemptions"][0]["code"] is None
    assert sorted(e["delta"] for e in ada["ledger"]) == [-500, 620]


def test_user_errors_fail_the_credit_and_give_the_points_back(client, send, platform):
    store = Store(platform)
    store.credit = [{"data": {"storeCreditAccountCredit": {"storeCreditAccountTransaction": None, "userErrors": [
        {"field": ["id"], "message": "Owner does not exist", "code": "ACCOUNT_NOT_FOUND"}]}}}]
    fund(client, send, 500)
    body = redeem(client, credit_reward(client)).get_json()
    assert body["status"] == "failed" and "Owner does not exist" in body["error"]
    assert store.sent() == ["credit"]
    assert balance(client) == 500
    assert sorted(e["kind"] for e in member(client)["ledger"]) == ["order_award", "redemption", "redemption_return"]


def test_a_platform_failing_is_sent_once_then_read_before_it_is_sent_again(app, client, send, platform):
    store = Store(platform)
    store.credit = [503, store.credited()]
    fund(client, send, 500)
    body = redeem(client, credit_reward(client)).get_json()
    assert body["status"] == "pending" and balance(client) == 0
    assert store.sent() == ["credit"]  # no blind retry inside the request: the answer may have been lost
    retry(app)
    assert store.sent() == ["credit", "read", "credit"]
    assert member(client)["redemptions"][0]["status"] == "issued" and balance(client) == 0


def test_an_answer_too_late_is_found_in_the_account_and_never_credited_twice(app, client, send, platform):
    store = Store(platform)
    store.credit = [requests.ReadTimeout("the answer never came")]
    fund(client, send, 500)
    assert redeem(client, credit_reward(client)).get_json()["status"] == "pending"
    # The platform did credit the customer; only its answer was lost.
    store.transactions = [
        {"id": "gid://shopify/StoreCreditAccountCreditTransaction/12", "createdAt": "2020-01-01T00:00:00Z",
         "amount": {"amount": "5.0", "currencyCode": "USD"}},  # an old credit: not ours
        {"id": "gid://shopify/StoreCreditAccountCreditTransaction/13", "createdAt": utcnow().isoformat(),
         "amount": {"amount": "7.0", "currencyCode": "USD"}},  # another amount: not ours
        {"id": TRANSACTION, "createdAt": utcnow().isoformat(), "amount": {"amount": "5.0", "currencyCode": "USD"}},
    ]
    retry(app)
    retry(app)
    assert store.sent() == ["credit", "read"]
    assert member(client)["redemptions"][0]["status"] == "issued" and balance(client) == 0
    with app.app_context(), transaction() as session:
        assert session.query(Redemption).one().credit_transaction_id == TRANSACTION


def test_an_account_that_cannot_be_read_keeps_the_credit_pending_and_unsent(app, client, send, platform):
    store = Store(platform)
    store.credit = [requests.ConnectionError("lost")]
    fund(client, send, 500)
    redeem(client, credit_reward(client))
    store.read_fails = True
    for _ in range(MAX_ISSUE_ATTEMPTS + 2):
        retry(app)
    assert store.sent().count("credit") == 1
    assert member(client)["redemptions"][0]["status"] == "pending" and balance(client) == 0


def test_after_the_last_try_the_points_come_back_only_once_the_account_shows_no_credit(app, client, send, platform):
    store = Store(platform)
    store.credit = [503]
    fund(client, send, 500)
    redeem(client, credit_reward(client))
    for _ in range(MAX_ISSUE_ATTEMPTS):
        retry(app)
    assert store.sent()[-1] == "read" and store.sent().count("credit") == MAX_ISSUE_ATTEMPTS
    assert member(client)["redemptions"][0]["status"] == "failed" and balance(client) == 500


def test_one_credit_pays_for_one_redemption_only(app, client, send, platform):
    """Two redemptions of the same amount whose answers were both lost, and one credit in the
    account: the first is issued with it, the second sends its own credit."""
    store = Store(platform)
    store.credit = [requests.ReadTimeout("lost"), requests.ReadTimeout("lost"),
                    store.credited("gid://shopify/StoreCreditAccountCreditTransaction/78")]
    fund(client, send, 1000)
    rid = credit_reward(client)
    redeem(client, rid)
    redeem(client, rid)
    store.transactions = [{"id": TRANSACTION, "createdAt": utcnow().isoformat(),
                           "amount": {"amount": "5.0", "currencyCode": "USD"}}]
    retry(app)
    assert store.sent() == ["credit", "credit", "read", "read", "credit"]
    assert [r["status"] for r in member(client)["redemptions"]] == ["issued", "issued"]
    with app.app_context(), transaction() as session:
        assert {r.credit_transaction_id for r in session.query(Redemption)} == {
            TRANSACTION, "gid://shopify/StoreCreditAccountCreditTransaction/78"}


def test_a_refund_of_an_order_paid_with_store_credit_gives_no_redemption_points_back(client, send, platform):
    Store(platform)
    fund(client, send, 500)
    assert redeem(client, credit_reward(client)).get_json()["status"] == "issued"
    paid = order(order_id=6001, subtotal="30.00", payment_gateway_names=["shopify_store_credit"])
    send("orders/paid", paid)
    assert balance(client) == 30
    returned = refund(6001, "30.00")
    returned["transactions"] = [{"kind": "refund", "gateway": "shopify_store_credit", "amount": "30.00",
                                 "status": "success"}]
    send("refunds/create", returned)
    ada = member(client)
    assert ada["balance"] == 0  # the order's own points went back with it, and nothing else moved
    assert ada["redemptions"][0]["status"] == "issued"
    assert sorted(e["kind"] for e in ada["ledger"]) == ["order_award", "order_award", "redemption",
                                                       "refund_reversal"]


def test_store_credit_without_the_stores_currency_is_refused_and_changes_nothing(client, db, settle, platform):
    store = Store(platform)
    signed_webhook(client, "orders/paid", order(customer_id=7001, subtotal="500.00"))
    settle()
    rid = credit_reward(client)
    before = table_counts(db)
    response = redeem(client, rid)
    assert response.status_code == 422 and "currency" in response.get_json()["error"]
    assert table_counts(db) == before and balance(client) == 500 and store.calls == []
