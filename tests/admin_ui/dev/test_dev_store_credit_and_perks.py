"""The development store answers store credit, segments and automatic discounts, and /dev shows them.

The app reaches the development platform over HTTP, exactly as it reaches the real one
(tests/dev_store.py), so these walk the whole way: the panel's API, the app's platform code,
the fake's answers, and what /dev lists.
"""
import re

from sqlalchemy import select

from plugin.models import DevPlatformRecord, DevRecordKind
from tests.admin_ui.dev.test_dev_store import ADA, balance, graphql, open_panel, records, token
from tests.dev_store import DEV_SHOP, dev_store_fixture  # noqa: F401 (the `dev_store` fixture)
from tests.helpers import auth, signed_webhook


def reward_id(client, name: str) -> int:
    return next(r["id"] for r in client.get("/api/rewards", headers=auth(DEV_SHOP)).get_json()["rewards"]
                if r["name"] == name)


def test_a_shopper_turns_points_into_store_credit_and_dev_shows_it(dev_store, db):
    client = dev_store.client()
    open_panel(client)
    client.post("/dev/orders", data={"count": "10"})
    told = signed_webhook(client, "shop/update", {"id": 1, "myshopify_domain": DEV_SHOP, "currency": "USD"},
                          shop=DEV_SHOP)
    assert told.status_code == 200
    made = client.post("/api/rewards", json={"name": "5 in store credit", "kind": "store_credit", "value": "5",
                                             "points_cost": 400}, headers=auth(DEV_SHOP))
    assert made.status_code == 201, made.get_json()
    page = client.get("/dev/storefront", query_string={"customer_id": ADA}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "$5.00 in store credit" in text
    csrf = re.search(r"name=csrf value='([^']+)'", text)[1]
    redeemed = client.post("/apps/loyalty/redemptions", data={"reward_id": made.get_json()["id"], "csrf": csrf},
                           follow_redirects=True)
    assert "the store credit is in your account" in redeemed.get_data(as_text=True)
    assert balance(client, ADA) == 77  # 477 less 400
    [credit] = records(db, DevRecordKind.STORE_CREDIT)
    assert credit.data["customer"] == f"gid://shopify/Customer/{ADA}"
    assert credit.data["amount"] == {"amount": "5.00", "currencyCode": "USD"}
    dev_page = client.get("/dev").get_data(as_text=True)
    assert "Store credit granted" in dev_page and "5.00 USD" in dev_page


def test_the_platform_reads_back_credits_newest_first_and_refuses_a_zero_credit(dev_store, db):
    access = token(dev_store)
    owner = f"gid://shopify/Customer/{ADA}"
    document = ("mutation($id: ID!, $creditInput: StoreCreditAccountCreditInput!) { storeCreditAccountCredit("
                "id: $id, creditInput: $creditInput) { storeCreditAccountTransaction { id } userErrors { field } } }")
    for amount in ("5.00", "7.00"):
        graphql(dev_store, document, {"id": owner, "creditInput": {
            "creditAmount": {"amount": amount, "currencyCode": "USD"}}}, access)
    refused = graphql(dev_store, document, {"id": owner, "creditInput": {
        "creditAmount": {"amount": "0", "currencyCode": "USD"}}}, access).json()
    assert refused["data"]["storeCreditAccountCredit"]["userErrors"]
    read = graphql(dev_store, "query($id: ID!) { customer(id: $id) { storeCreditAccounts(first: 10) { nodes { id "
                              "transactions(first: 100, reverse: true) { nodes { id } } } } } }",
                   {"id": owner}, access).json()
    [account] = read["data"]["customer"]["storeCreditAccounts"]["nodes"]
    assert [t["amount"]["amount"] for t in account["transactions"]["nodes"]] == ["7.00", "5.00"]
    assert len(records(db, DevRecordKind.STORE_CREDIT)) == 2


def test_a_tier_perk_is_a_segment_and_an_automatic_discount_on_the_development_platform(dev_store, db):
    client = dev_store.client()
    open_panel(client)
    free_shipping = reward_id(client, "Free shipping")
    tier = client.post("/api/tiers", json={"name": "Gold", "threshold": 100, "perk_reward_id": free_shipping},
                       headers=auth(DEV_SHOP)).get_json()
    assert tier["perk_state"] == "synced", tier
    [segment] = records(db, DevRecordKind.SEGMENT)
    [discount] = records(db, DevRecordKind.AUTOMATIC_DISCOUNT)
    assert segment.data["query"] == "customer_tags CONTAINS 'loyalty-tier-gold'"
    assert discount.data["kind"] == "free_shipping"
    assert discount.data["input"]["context"] == {"customerSegments": {"add": [segment.key]}}
    dev_page = client.get("/dev").get_data(as_text=True)
    assert "Free shipping (Gold members)" in dev_page and "loyalty-tier-gold" in dev_page
    changed = client.patch(f"/api/tiers/{tier['id']}", json={"perk_reward_id": reward_id(client, "10% off your order")},
                           headers=auth(DEV_SHOP)).get_json()
    assert changed["perk_state"] == "synced"
    db.expire_all()  # SQLite may give the new record the deleted one's id: read it afresh
    [discount] = records(db, DevRecordKind.AUTOMATIC_DISCOUNT)
    assert discount.data["kind"] == "basic" and discount.data["input"]["customerGets"]["value"] == {"percentage": 0.1}
    client.delete(f"/api/tiers/{tier['id']}", headers=auth(DEV_SHOP))
    assert db.scalars(select(DevPlatformRecord).where(DevPlatformRecord.kind.in_(
        [DevRecordKind.SEGMENT, DevRecordKind.AUTOMATIC_DISCOUNT]))).all() == []
