"""Where the features meet: points lifecycle, tiers, referrals, birthdays and member events
together, worked through signed webhooks, the API and `tick --now`, with the member's
balance, pending points and tier after each step, and `verify-ledger` plus the lot
invariants at the end (for each member: spendable lots hold at least a non-negative
balance, pending lots hold exactly the pending points).

With real workers (PostgreSQL and Redis) the workers also tick at the real time: examples
with fixed dates that a tick today would expire use dates in 2030, the others use times
relative to now."""
from sqlalchemy import func, select

from plugin.db import transaction
from plugin.models import Member, MemberEvent, PointLot
from tests.helpers import auth, member, order, refund


def tick(app, now: str) -> str:
    result = app.test_cli_runner().invoke(args=["tick", "--now", now])
    assert result.exit_code == 0, result.output
    return result.output


def verify(app) -> None:
    result = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert result.exit_code == 0, result.output
    with app.app_context(), transaction() as session:
        for m in session.scalars(select(Member)):
            spendable = session.scalar(select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
                PointLot.member_id == m.id, PointLot.pending_until.is_(None)))
            pending = session.scalar(select(func.coalesce(func.sum(PointLot.remaining), 0)).where(
                PointLot.member_id == m.id, PointLot.pending_until.is_not(None)))
            assert int(pending) == m.pending, (m.customer_id, pending, m.pending)
            if m.balance >= 0:
                assert int(spendable) >= m.balance, (m.customer_id, spendable, m.balance)


def program(client, **settings) -> None:
    response = client.patch("/api/program", json=settings, headers=auth())
    assert response.status_code == 200, response.get_json()


def adjust(client, points: int, customer_id: int = 7001) -> None:
    response = client.post(f"/api/members/{customer_id}/adjustments", json={"points": points, "reason": "test"},
                           headers=auth())
    assert response.status_code in (200, 201), response.get_json()


def events(client, kind: str) -> list[dict]:
    return client.get("/api/member-events", query_string={"kind": kind}, headers=auth()).get_json()["events"]


def points(client, customer_id: int = 7001) -> tuple[int, int]:
    found = member(client, customer_id)
    return found["balance"], found["pending"]


def paid(send, when: str, subtotal: str, customer_id: int = 7001, **fields) -> dict:
    payload = order(customer_id=customer_id, subtotal=subtotal, processed_at=when, **fields)
    send("orders/paid", payload)
    return payload


def test_fifo_a_debt_left_by_a_cancellation_is_paid_by_the_oldest_points_not_the_newest(app, client, send,
                                                                                        installed):
    program(client, expiry_policy="fifo", expiry_months=1, expiry_reminder_days=0)
    first = paid(send, "2030-03-01T10:00:00Z", "100.00")
    adjust(client, -100)                          # spends the first order's lot
    assert points(client) == (0, 0)
    send("orders/cancelled", {**first, "cancelled_at": "2030-03-02T10:00:00Z"})
    assert points(client) == (-100, 0)            # owed: the order's points were already used
    paid(send, "2030-03-05T10:00:00Z", "30.00")   # pays 30 of the debt
    paid(send, "2030-03-20T10:00:00Z", "150.00")  # pays the other 70: 80 of it are left
    assert points(client) == (80, 0)
    assert member(client)["next_expiry"] == {"points": 80, "expires_at": "2030-04-20"}
    program(client, expiry_reminder_days=30)
    tick(app, "2030-03-21T12:00:00Z")             # both dates within 30 days: only the one that takes points
    assert [(e["data"]["points"], e["data"]["expires_at"]) for e in events(client, "points_expiring")] == [
        (80, "2030-04-20")]
    tick(app, "2030-04-05T12:00:00Z")             # the 5 March order's date: its points paid the debt
    assert points(client) == (80, 0)
    tick(app, "2030-04-20T12:00:00Z")             # the 20 March order's date: what is left of it expires
    assert points(client) == (0, 0)
    verify(app)


def tier_of(client, customer_id: int = 7001) -> str | None:
    found = member(client, customer_id)
    return found["tier"] and found["tier"]["name"]


def state(client, customer_id: int = 7001) -> tuple[int, int, str | None]:
    found = member(client, customer_id)
    return found["balance"], found["pending"], found["tier"] and found["tier"]["name"]


def snapshot(app) -> dict:
    """Everything a tick may write: entries, events, lots and member rows."""
    from plugin.models import LedgerEntry, PointLot, Redemption

    with app.app_context(), transaction() as session:
        return {
            "entries": session.scalar(select(func.count()).select_from(LedgerEntry)),
            "events": session.scalar(select(func.count()).select_from(MemberEvent)),
            "lots": sorted(tuple(r) for r in session.execute(select(PointLot.id, PointLot.remaining, PointLot.expired,
                                                                    PointLot.pending_until))),
            "members": sorted(tuple(r) for r in session.execute(select(
                Member.id, Member.balance, Member.pending, Member.tier_id, Member.tier_changes,
                Member.last_activity_at, Member.paid_tier_id))),
            "codes": sorted(tuple(r) for r in session.execute(select(Redemption.id, Redemption.status))),
        }


def tick_twice(app, moment) -> str:
    """A tick at `moment`, then a second one at the same moment that must change nothing."""
    out = tick(app, iso(moment))
    before = snapshot(app)
    tick(app, iso(moment))
    assert snapshot(app) == before
    return out


def iso(moment) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_every_feature_at_once_a_members_year(app, client, send, platform):
    from datetime import timedelta

    from plugin.db import utcnow
    from tests.helpers import customer
    from tests.plugin.loyalty.referrals.test_referrals import five_off, friend_order, welcome_code
    from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created, redeem, reward_id

    program(client, pending_days=7, expiry_policy="fifo", expiry_months=6, expiry_reminder_days=14,
            referral_points=50, referral_reward_id=five_off(client), birthday_bonus=25, tier_window="lifetime",
            return_points_on_expiry=True)
    for name, threshold, multiplier in (("Bronze", 50, "1.5"), ("Silver", 150, "2"), ("Gold", 400, "3")):
        response = client.post("/api/tiers", json={"name": name, "threshold": threshold, "multiplier": multiplier},
                               headers=auth())
        assert response.status_code == 201, response.get_json()
    send("customers/create", customer(7001, "ada@example.com"))
    now = utcnow()

    paid(send, iso(now - timedelta(days=20)), "60.00")  # × 1, spendable: its window closed; Bronze
    assert state(client) == (60, 0, "Bronze")
    second = order(customer_id=7001, subtotal="100.00", processed_at=iso(now - timedelta(days=1)))
    send("refunds/create", refund(second["id"], "20.00"))  # before its order
    send("orders/paid", second)  # × 1.5 = 150 pending, the refund takes 30 of them
    assert state(client) == (60, 120, "Silver")
    third = paid(send, iso(now), "50.00")  # × 2 = 100 pending
    assert state(client) == (60, 220, "Silver")
    send("orders/cancelled", {**third, "cancelled_at": iso(now)})
    assert state(client) == (60, 120, "Silver")

    platform.post(GRAPHQL, json=created("gid://shopify/DiscountCodeNode/5"))
    rid = reward_id(client, points_cost=50, code_lifetime_days=1)
    assert redeem(client, rid).status_code == 201
    assert state(client) == (10, 120, "Silver")

    platform.post(GRAPHQL, json=created("gid://shopify/DiscountCodeNode/77"))
    code = welcome_code(client, member(client)["referral_code"], "grace@example.com")
    friend = friend_order(8001, "grace@example.com", code, processed_at=iso(now))
    send("orders/paid", friend)
    assert state(client) == (10, 170, "Silver")
    assert state(client, 8001) == (0, 60, "Bronze")
    send("orders/cancelled", {**friend, "cancelled_at": iso(now)})
    assert state(client) == (10, 120, "Silver")
    assert state(client, 8001)[:2] == (0, 0)

    birthday = (now + timedelta(days=40)).date()
    response = client.patch("/api/members/7001", json={"birthday": f"{birthday.month:02d}-{birthday.day:02d}"},
                            headers=auth())
    assert response.status_code == 200, response.get_json()

    tick_twice(app, now + timedelta(days=2, hours=1))  # the code expired unused: its points go back
    assert state(client) == (60, 120, "Silver")
    assert state(client, 8001) == (0, 0, None)  # the tick corrects the friend's tier from exact figures
    tick_twice(app, now + timedelta(days=6, hours=1))  # the second order's window closes
    assert state(client) == (180, 0, "Silver")
    tick_twice(app, now.replace(hour=12) + timedelta(days=40))  # birthday
    assert state(client) == (205, 0, "Silver")
    tick_twice(app, now + timedelta(days=170))  # the first order's 60 points (back from the code) expire
    assert state(client) == (145, 0, "Silver")
    tick_twice(app, now + timedelta(days=190))  # the second order's 120 expire
    assert state(client) == (25, 0, "Silver")
    tick_twice(app, now + timedelta(days=230))  # the birthday's
    assert state(client) == (0, 0, "Silver")  # lifetime window: expiry does not demote
    verify(app)


def ladder_of_two(client) -> None:
    """Silver at 100 points (× 2), Gold at 300 (× 3); calendar-year window, points basis."""
    for name, threshold, multiplier in (("Silver", 100, "2"), ("Gold", 300, "3")):
        response = client.post("/api/tiers", json={"name": name, "threshold": threshold, "multiplier": multiplier},
                               headers=auth())
        assert response.status_code == 201, response.get_json()


def tier_moves(client) -> list[tuple]:
    found = client.get("/api/member-events?kind=tier_changed", headers=auth()).get_json()["events"]
    return [(e["data"]["from"], e["data"]["to"]) for e in sorted(found, key=lambda e: e["id"])]


def test_an_order_cancelled_before_it_was_paid_promotes_nobody_and_the_next_order_earns_at_the_tier_held(
        app, client, send, installed):
    ladder_of_two(client)
    paid(send, "2026-03-01T10:00:00Z", "150.00")  # crosses Silver at × 1
    assert (member(client)["balance"], tier_of(client)) == (150, "Silver")
    cancelled = order(customer_id=7001, subtotal="500.00", processed_at="2026-03-02T10:00:00Z")
    send("orders/cancelled", {**cancelled, "cancelled_at": "2026-03-02T11:00:00Z"})
    send("orders/paid", cancelled)  # earns nothing: it was cancelled; nor does it count toward Gold
    assert (member(client)["balance"], tier_of(client)) == (150, "Silver")
    paid(send, "2026-03-03T10:00:00Z", "10.00")  # Silver's × 2, not Gold's × 3
    assert (member(client)["balance"], tier_of(client)) == (170, "Silver")
    assert "tiers_reviewed 0" in tick(app, "2026-03-04T00:00:00Z")
    assert tier_moves(client) == [(None, "Silver")]  # no Gold told to subscribers and taken back
    verify(app)


def test_a_refund_that_arrived_before_its_order_counts_before_the_order_promotes(app, client, send, installed):
    ladder_of_two(client)
    paid(send, "2026-03-01T10:00:00Z", "150.00")
    refunded = order(customer_id=7001, subtotal="100.00", processed_at="2026-03-02T10:00:00Z")
    send("refunds/create", refund(refunded["id"], "90.00"))  # before its order
    send("orders/paid", refunded)  # × 2: 200, less the refund's 180: 170 in all, short of Gold's 300
    assert (member(client)["balance"], tier_of(client)) == (170, "Silver")
    assert member(client)["tier_progress"]["qualifying"] == 170
    paid(send, "2026-03-03T10:00:00Z", "10.00")  # × 2
    assert (member(client)["balance"], tier_of(client)) == (190, "Silver")
    assert "tiers_reviewed 0" in tick(app, "2026-03-04T00:00:00Z")
    assert tier_moves(client) == [(None, "Silver")]
    verify(app)


def test_a_paid_membership_order_cancelled_before_it_was_paid_buys_no_membership(app, client, send, installed):
    ladder_of_two(client)
    response = client.post("/api/tiers", json={"name": "VIP", "threshold": 10000, "multiplier": "4",
                                               "product_id": "gid://shopify/Product/555"}, headers=auth())
    assert response.status_code == 201, response.get_json()
    line = {"id": 1, "product_id": 555, "quantity": 1, "price": "20.00", "gift_card": False,
            "price_set": {"shop_money": {"amount": "20.00", "currency_code": "USD"}}, "discount_allocations": []}
    bought = order(customer_id=7001, subtotal="20.00", processed_at="2026-02-02T10:00:00Z", line_items=[line])
    send("orders/cancelled", {**bought, "cancelled_at": "2026-02-02T11:00:00Z"})
    send("orders/paid", bought)
    found = member(client)
    assert (found["balance"], found["tier"]) == (0, None)
    assert tier_moves(client) == []
    assert "tiers_reviewed 0" in tick(app, "2026-02-03T00:00:00Z")
    verify(app)


def test_replaying_the_webhooks_into_a_fresh_shop_gives_the_same_points_pending_tiers_and_lots(
        app, client, send, settle, installed, tmp_path):
    import json
    from datetime import timedelta

    from plugin.db import utcnow
    from plugin.models import Shop
    from tests.helpers import OTHER_SHOP, SHOP

    for shop in (SHOP, OTHER_SHOP):
        response = client.patch("/api/program", json=dict(pending_days=7, expiry_policy="fifo", expiry_months=3),
                                headers=auth(shop))
        assert response.status_code == 200, response.get_json()
        for name, threshold, multiplier in (("Silver", 100, "2"), ("Gold", 300, "3")):
            assert client.post("/api/tiers", json={"name": name, "threshold": threshold, "multiplier": multiplier},
                               headers=auth(shop)).status_code == 201
    now = utcnow()
    at = {days: iso(now - timedelta(days=days)) for days in (1, 2, 30, 40)}
    first, second = order(subtotal="120.00", processed_at=at[30]), order(subtotal="100.00", processed_at=at[2])
    third, fourth = order(subtotal="50.00", processed_at=at[1]), order(subtotal="300.00", processed_at=at[1])
    history = [("orders/paid", first), ("refunds/create", refund(second["id"], "10.00")), ("orders/paid", second),
               ("orders/paid", third), ("orders/cancelled", {**third, "cancelled_at": at[1]}),
               ("orders/cancelled", {**fourth, "cancelled_at": at[1]}), ("orders/paid", fourth),
               ("orders/paid", order(customer_id=7002, subtotal="90.00", processed_at=at[40])),
               ("refunds/create", refund(first["id"], "20.00"))]
    for topic, payload in history:
        send(topic, payload)
    for n, (topic, payload) in enumerate(history):  # one at a time, as the tiers' replay test says why
        path = tmp_path / f"{n}.jsonl"
        path.write_text(json.dumps({"topic": topic, "shop": OTHER_SHOP, "webhook_id": f"replay-{n}",
                                    "payload": payload}))
        assert app.test_cli_runner().invoke(args=["replay", str(path)]).exit_code == 0
        settle()

    def outcome(shop: str) -> list:
        found = [client.get(f"/api/members/{c}", headers=auth(shop)).get_json() for c in (7001, 7002)]
        with app.app_context(), transaction() as session:
            shop_id = session.scalar(select(Shop.id).where(Shop.domain == shop))
            lots = sorted((r.earned_at, r.amount, r.remaining, r.expired, r.pending_until is None)
                          for r in session.execute(select(PointLot).where(PointLot.shop_id == shop_id)).scalars())
        return [(m["balance"], m["pending"], m["tier"] and m["tier"]["name"]) for m in found] + lots

    # 120 at × 1 (Silver); 200 at × 2 pending, less its early refund's 20 (Gold: 300); the
    # cancelled 150 and the order cancelled first give nothing; the first order's refund takes 20
    assert outcome(SHOP)[:2] == [(100, 180, "Gold"), (90, 0, None)]
    assert outcome(SHOP) == outcome(OTHER_SHOP)
    tick(app, iso(now + timedelta(days=8)))
    assert outcome(SHOP)[:2] == [(280, 0, "Silver"), (90, 0, None)]  # the refund demotes at the tick
    assert outcome(SHOP) == outcome(OTHER_SHOP)
    tick(app, iso(now + timedelta(days=80)))  # 30- and 40-day-old orders' points expire (3 months)
    assert outcome(SHOP)[:2] == [(180, 0, "Silver"), (0, 0, None)]
    assert outcome(SHOP) == outcome(OTHER_SHOP)
    verify(app)


def test_fifo_points_that_paid_a_debt_are_not_counted_as_expired_when_their_order_is_refunded(
        app, client, send, installed):
    program(client, expiry_policy="fifo", expiry_months=1, expiry_reminder_days=0)
    first = paid(send, "2030-03-01T10:00:00Z", "100.00")
    adjust(client, -100)
    send("orders/cancelled", {**first, "cancelled_at": "2030-03-02T10:00:00Z"})
    assert points(client) == (-100, 0)
    later = paid(send, "2030-03-05T10:00:00Z", "30.00")  # pays 30 of the debt
    assert points(client) == (-70, 0)
    tick(app, "2030-04-05T12:00:00Z")  # its date: nothing of it is left to expire
    assert points(client) == (-70, 0)
    assert not [e for e in member(client)["ledger"] if e["kind"] == "expiry"]
    send("refunds/create", refund(later["id"], "30.00"))  # its 30 points go back: they were never expired
    assert points(client) == (-100, 0)
    verify(app)


def test_inactivity_points_that_paid_a_debt_are_taken_back_by_their_orders_refund(app, client, send, installed):
    program(client, expiry_policy="inactivity", expiry_months=1, expiry_reminder_days=0)
    first = paid(send, "2030-03-01T10:00:00Z", "100.00")
    adjust(client, -100)
    send("orders/cancelled", {**first, "cancelled_at": "2030-03-02T10:00:00Z"})
    later = paid(send, "2030-03-05T10:00:00Z", "130.00")  # 100 pay the debt
    assert points(client) == (30, 0)
    tick(app, "2030-05-01T12:00:00Z")  # inactive for a month: the 30 left expire
    assert points(client) == (0, 0)
    send("refunds/create", refund(later["id"], "130.00"))  # takes back the 100 that paid the debt
    assert points(client) == (-100, 0)
    verify(app)


def test_inactivity_a_birthday_bonus_is_activity_and_does_not_expire_at_the_next_tick(app, client, send, installed):
    from datetime import timedelta

    from plugin.db import utcnow

    program(client, expiry_policy="inactivity", expiry_months=1, expiry_reminder_days=0, birthday_bonus=25)
    now = utcnow()
    paid(send, iso(now - timedelta(days=10)), "40.00")
    birthday = (now + timedelta(days=60)).date()
    assert client.patch("/api/members/7001", json={"birthday": f"{birthday.month:02d}-{birthday.day:02d}"},
                        headers=auth()).status_code == 200
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=60)
    tick(app, iso(noon))  # a month without earning: the 40 expire; then the birthday bonus
    assert points(client) == (25, 0)
    tick(app, iso(noon + timedelta(minutes=5)))  # the next scheduled tick
    assert points(client) == (25, 0)
    assert member(client)["next_expiry"]["expires_at"] > birthday.isoformat()
    verify(app)


def test_inactivity_referral_points_are_activity_and_do_not_expire_at_the_next_tick(app, client, send, platform):
    from datetime import timedelta

    from plugin.db import utcnow
    from tests.plugin.loyalty.referrals.test_referrals import five_off, friend_order, welcome_code
    from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created

    program(client, expiry_policy="inactivity", expiry_months=1, expiry_reminder_days=0, referral_points=50,
            referral_reward_id=five_off(client))
    now = utcnow()
    paid(send, iso(now - timedelta(days=60)), "40.00")  # Ada's last order, two months ago
    tick(app, iso(now - timedelta(hours=1)))
    assert points(client) == (0, 0)  # a month without earning
    platform.post(GRAPHQL, json=created("gid://shopify/DiscountCodeNode/77"))
    code = welcome_code(client, member(client)["referral_code"], "grace@example.com")
    send("orders/paid", friend_order(8001, "grace@example.com", code, processed_at=iso(now)))
    assert points(client) == (50, 0)
    tick(app, iso(now + timedelta(minutes=5)))
    assert points(client) == (50, 0)
    verify(app)


def test_fifo_points_a_lapsed_code_returns_to_an_already_expired_lot_expire_again_without_breaking_the_tick(
        app, client, send, platform):
    from datetime import timedelta

    from plugin.db import utcnow
    from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created, redeem, reward_id

    program(client, expiry_policy="fifo", expiry_months=1, expiry_reminder_days=0, return_points_on_expiry=True)
    now = utcnow()
    paid(send, iso(now - timedelta(days=27)), "100.00")  # one lot: a month after its date it expires
    platform.post(GRAPHQL, json=created("gid://shopify/DiscountCodeNode/5"))
    rid = reward_id(client, points_cost=60, code_lifetime_days=30)
    assert redeem(client, rid).status_code == 201  # the code expires 30 days from now (wall clock)
    assert points(client) == (40, 0)
    tick(app, iso(now + timedelta(days=6)))  # the lot's 40 expire
    assert points(client) == (0, 0)
    later = now + timedelta(days=32)
    tick(app, iso(later))  # the code lapsed: its 60 go back to the expired lot and expire at once
    assert points(client) == (0, 0)
    assert "points_expired 0" in tick(app, iso(later))
    expiries = [e["delta"] for e in member(client)["ledger"] if e["kind"] == "expiry"]
    assert sorted(expiries) == [-60, -40]
    verify(app)


def test_a_paid_membership_order_cancelled_after_it_was_paid_ends_the_membership_at_the_next_tick(
        app, client, send, installed):
    ladder_of_two(client)
    response = client.post("/api/tiers", json={"name": "VIP", "threshold": 10000, "multiplier": "4",
                                               "product_id": "gid://shopify/Product/555"}, headers=auth())
    assert response.status_code == 201, response.get_json()
    line = {"id": 1, "product_id": 555, "quantity": 1, "price": "20.00", "gift_card": False,
            "price_set": {"shop_money": {"amount": "20.00", "currency_code": "USD"}}, "discount_allocations": []}
    bought = order(customer_id=7001, subtotal="20.00", processed_at="2026-02-02T10:00:00Z", line_items=[line])
    send("orders/paid", bought)
    assert (member(client)["balance"], tier_of(client)) == (20, "VIP")
    send("orders/cancelled", {**bought, "cancelled_at": "2026-02-03T11:00:00Z"})
    assert (member(client)["balance"], tier_of(client)) == (0, "VIP")  # demotion waits for the tick
    assert "tiers_reviewed 1" in tick(app, "2026-02-04T00:00:00Z")
    found = member(client)
    assert found["tier"] is None  # as if the cancellation had arrived first (the test above)
    verify(app)


def test_amount_spent_a_refund_that_arrived_first_counts_before_the_order_promotes(app, client, send, installed):
    program(client, tier_basis="amount_spent")
    ladder_of_two(client)  # Silver at 100.00 spent, Gold at 300.00
    paid(send, "2026-03-01T10:00:00Z", "150.00")
    refunded = order(customer_id=7001, subtotal="300.00", processed_at="2026-03-02T10:00:00Z")
    send("refunds/create", refund(refunded["id"], "250.00"))
    send("orders/paid", refunded)  # 300 at Silver's × 2 = 600, less 500: 200 spent in all, short of Gold
    assert (member(client)["balance"], tier_of(client)) == (250, "Silver")
    assert member(client)["tier_progress"]["qualifying"] == "200.00"
    assert "tiers_reviewed 0" in tick(app, "2026-03-04T00:00:00Z")
    assert tier_moves(client) == [(None, "Silver")]
    verify(app)
