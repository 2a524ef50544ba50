"""`customers/merge`: the merged customer's member folds into the kept one's, exactly and once.

Worked through signed webhooks: balances, pending points and lots, lifetime points, tier
figures, redemptions and referral codes end on the kept member; an entry on each side says
so; a replay, a failed merge and a bad payload change nothing; `verify-ledger` passes after.
"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from plugin.db import utcnow
from plugin.models import LedgerEntry, Member, MemberTierTotal, PointLot
from tests.helpers import auth, balance, customer, member, order, refund, table_counts
from tests.integration.test_seams import verify
from tests.plugin.loyalty.referrals.test_referrals import REFERRAL_POINTS, ada, friend_order, welcome_code  # noqa: F401

GONE, KEPT = 7001, 7002


def merge(kept: int = KEPT, gone: int = GONE, status: str = "completed") -> dict:
    """The payload as the platform's webhook reference shows it."""
    return {"admin_graphql_api_customer_kept_id": f"gid://shopify/Customer/{kept}",
            "admin_graphql_api_customer_deleted_id": f"gid://shopify/Customer/{gone}",
            "admin_graphql_api_job_id": None, "status": status, "errors": []}


def program(client, **settings) -> None:
    response = client.patch("/api/program", json=settings, headers=auth())
    assert response.status_code == 200, response.get_json()


def figures(client, customer_id: int) -> tuple[int, int, int]:
    found = member(client, customer_id)
    return found["balance"], found["pending"], found["lifetime_earned"]


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def entries(db, customer_id: int, kind: str) -> list[int]:
    owner = db.scalar(select(Member.id).where(Member.customer_id == customer_id))
    return [e.delta for e in db.scalars(select(LedgerEntry).where(LedgerEntry.member_id == owner))
            if e.kind.value == kind]


def test_balances_pending_points_lots_and_lifetime_become_the_kept_members(app, client, send, installed, db):
    program(client, pending_days=14)
    old = order(customer_id=GONE, subtotal="40.00", processed_at=iso(utcnow() - timedelta(days=30)))
    send("orders/paid", old)                                                        # 40 spendable
    send("orders/paid", order(customer_id=GONE, subtotal="100.00", processed_at=iso(utcnow())))  # 100 pending
    send("orders/paid", order(customer_id=KEPT, subtotal="30.00", processed_at=iso(utcnow() - timedelta(days=20))))
    assert figures(client, GONE) == (40, 100, 140) and figures(client, KEPT) == (30, 0, 30)

    send("customers/merge", merge())
    assert figures(client, GONE) == (0, 0, 0) and figures(client, KEPT) == (70, 100, 170)
    assert entries(db, GONE, "merge_out") == [-140] and entries(db, KEPT, "merge_in") == [140]
    kept_id = db.scalar(select(Member.id).where(Member.customer_id == KEPT))
    lots = db.scalars(select(PointLot).where(PointLot.member_id == kept_id)).all()
    assert sorted((lot.remaining, lot.pending_until is not None) for lot in lots) == [(30, False), (40, False),
                                                                                     (100, True)]
    verify(app)

    before = table_counts(db)
    send("customers/merge", merge())                                               # replayed: nothing moves
    assert figures(client, GONE) == (0, 0, 0) and figures(client, KEPT) == (70, 100, 170)
    assert {k: v for k, v in table_counts(db).items() if k != "webhook_events"} == \
        {k: v for k, v in before.items() if k != "webhook_events"}

    send("refunds/create", refund(old["id"], "10.00"))      # the merged customer's order: the kept one pays
    assert figures(client, KEPT) == (60, 100, 170)
    send("orders/paid", order(customer_id=GONE, subtotal="5.00", processed_at=iso(utcnow() - timedelta(days=20))))
    # A later order that names the merged customer earns for the kept one.
    assert figures(client, GONE) == (0, 0, 0) and figures(client, KEPT) == (65, 100, 175)
    verify(app)


def test_tier_figures_and_the_higher_tier_move_to_the_kept_member(app, client, send, installed, db):
    for name, threshold in (("Silver", "50"), ("Gold", "120")):
        response = client.post("/api/tiers", json={"name": name, "threshold": threshold}, headers=auth())
        assert response.status_code == 201, response.get_json()
    send("orders/paid", order(customer_id=GONE, subtotal="80.00"))
    send("orders/paid", order(customer_id=KEPT, subtotal="60.00"))
    assert member(client, GONE)["tier"]["name"] == "Silver" and member(client, KEPT)["tier"]["name"] == "Silver"
    send("customers/merge", merge())
    assert member(client, KEPT)["tier"]["name"] == "Gold"        # 140 points together reach Gold
    gone_id = db.scalar(select(Member.id).where(Member.customer_id == GONE))
    assert db.scalars(select(MemberTierTotal).where(MemberTierTotal.member_id == gone_id)).all() == []
    verify(app)


def test_the_merged_customers_referrals_and_shared_link_pay_the_kept_member(client, ada, send):
    before = welcome_code(client, ada, "grace@example.com")       # asked for before the merge
    send("customers/create", customer(KEPT, "ada.lovelace@example.com"))
    send("customers/merge", merge())
    after = welcome_code(client, ada, "alan@example.com")         # Ada's old link, after the merge
    send("orders/paid", friend_order(8001, "grace@example.com", before))
    send("orders/paid", friend_order(8002, "alan@example.com", after))
    assert (balance(client, GONE), balance(client, KEPT)) == (0, 2 * REFERRAL_POINTS)
    listed = client.get("/api/referrals", headers=auth()).get_json()["referrals"]
    assert {r["referrer_customer_id"] for r in listed} == {str(KEPT)}


def test_codes_redeemed_by_the_merged_customer_are_the_kept_members(client, send, platform, db):
    from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created, redeem, reward_id

    send("orders/paid", order(customer_id=GONE, subtotal="700.00"))
    platform.post(GRAPHQL, json=created())
    code = redeem(client, reward_id(client), customer_id=GONE).get_json()
    assert member(client, GONE)["balance"] == 200
    send("customers/merge", merge())                    # the kept customer was no member yet
    kept = member(client, KEPT)
    assert (kept["balance"], [r["code"] for r in kept["redemptions"]]) == (200, [code["code"]])
    assert member(client, GONE)["redemptions"] == []
    verify(client.application)


def test_a_chain_of_merges_ends_on_the_last_kept_member(app, client, send, installed):
    for customer, subtotal in ((7001, "10.00"), (7002, "20.00"), (7003, "30.00")):
        send("orders/paid", order(customer_id=customer, subtotal=subtotal))
    send("customers/merge", merge(kept=7002, gone=7001))
    send("customers/merge", merge(kept=7003, gone=7002))
    assert [member(client, c)["balance"] for c in (7001, 7002, 7003)] == [0, 0, 60]
    send("orders/paid", order(customer_id=7001, subtotal="4.00"))   # the first merged customer's late order
    assert member(client, 7003)["balance"] == 64
    send("customers/merge", merge(kept=7001, gone=7003))   # back the other way: 7001 already lives in 7003
    assert [member(client, c)["balance"] for c in (7001, 7002, 7003)] == [0, 0, 64]
    verify(app)


def test_an_order_of_a_customer_merged_before_they_were_a_member_follows_the_merge(client, send, installed, app):
    send("customers/merge", merge())                        # neither customer had earned anything
    send("orders/paid", order(customer_id=GONE, subtotal="12.00"))   # the merged customer's order, late
    assert (member(client, GONE)["balance"], member(client, KEPT)["balance"]) == (0, 12)
    verify(app)


@pytest.mark.parametrize("payload", [
    merge(status="failed"),
    {**merge(), "admin_graphql_api_customer_kept_id": None},
    {**merge(), "admin_graphql_api_customer_deleted_id": "gid://shopify/Order/abc"},
    {**merge(), "admin_graphql_api_customer_kept_id": ["7002"]},
    merge(kept=GONE, gone=GONE),
])
def test_a_failed_merge_or_a_bad_payload_changes_nothing(app, client, send, installed, db, payload):
    send("orders/paid", order(customer_id=GONE, subtotal="40.00"))
    send("orders/paid", order(customer_id=KEPT, subtotal="30.00"))
    before = table_counts(db)
    send("customers/merge", payload)
    assert figures(client, GONE)[0] == 40 and figures(client, KEPT)[0] == 30
    assert {k: v for k, v in table_counts(db).items() if k != "webhook_events"} == \
        {k: v for k, v in before.items() if k != "webhook_events"}


def test_a_merge_racing_an_order_of_the_merged_customer_loses_nothing(app, client, send, installed, live_server,
                                                                      settle):
    """Merges and orders of the merged customers delivered at once (processed by the real
    workers in the PostgreSQL pass): whichever lands first, the kept member ends with all."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.integration.test_concurrency import post_webhook

    pairs = [(8000 + n, 9000 + n) for n in range(6)]
    for gone, kept in pairs:
        send("orders/paid", order(customer_id=gone, subtotal="10.00"))
        send("orders/paid", order(customer_id=kept, subtotal="20.00"))
    deliveries = []
    for gone, kept in pairs:
        deliveries += [("customers/merge", merge(kept=kept, gone=gone)),
                       ("orders/paid", order(customer_id=gone, subtotal="5.00"))]
    with ThreadPoolExecutor(len(deliveries)) as pool:
        answers = list(pool.map(lambda d: post_webhook(live_server, *d), deliveries))
    settle()
    assert answers == [200] * len(deliveries)
    for gone, kept in pairs:
        assert (member(client, gone)["balance"], member(client, kept)["balance"]) == (0, 35)
    verify(app)
