"""The liability statement balances on any history: a property test over random event streams.

Each example is a fresh shop in a random zone with random program settings. Its history goes
through the public surface: signed webhooks (customers, paid orders placed hours or days ago,
refunds, cancellations), adjustments and redemptions (codes made or refused, the Admin API
mocked) through the admin API, all posted now; then `tick --now` at the last second of some
later local days (pending points released, points expired). Codes here never expire: the tick
gives an expired code's points back with an entry stamped at the real time, not at `--now`,
which would put a later day's event on today's row. After each tick the
members' balance and pending points are read through the API. The statement from the day
before the first event to the last tick's day must then satisfy, for every row:
opening + movements = closing, opening = the previous row's closing, and closing and pending
= the members' balance + pending and pending as they stood at that day's end.
"""
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import responses
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from plugin.db import utcnow
from tests.helpers import auth, customer, refund, session_token, signed_webhook, token_answer, token_endpoint

ZONES = ("UTC", "Asia/Kolkata", "America/New_York", "America/St_Johns", "Pacific/Kiritimati")
CUSTOMERS = (7001, 7002, 7003)
MOVEMENTS = ("earned", "reversed", "redeemed", "returned", "expired", "adjusted", "imported")
CREATED = {"data": {"discountCodeBasicCreate": {"codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"},
                                                "userErrors": []}}}
REFUSED = {"data": {"discountCodeBasicCreate": {"codeDiscountNode": None, "userErrors": [
    {"field": ["code"], "message": "Code is invalid", "code": "INVALID"}]}}}

customer_ids = st.sampled_from(CUSTOMERS)
events = st.one_of(
    st.tuples(st.just("customer"), customer_ids),
    st.tuples(st.just("order"), customer_ids, st.integers(1, 150), st.integers(0, 300)),  # subtotal, hours ago
    st.tuples(st.just("refund"), st.integers(0, 20), st.integers(1, 150)),  # which order, amount
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("adjust"), customer_ids, st.integers(-60, 100).filter(bool)),
    st.tuples(st.just("redeem"), customer_ids, st.booleans()),  # the code is made, or refused
)
programs = st.fixed_dictionaries({
    "signup_bonus": st.integers(0, 30), "pending_days": st.integers(0, 10),
    "expiry_policy": st.sampled_from(["never", "fifo", "inactivity"]),
})


@settings(max_examples=6, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(zone=st.sampled_from(ZONES), program=programs, stream=st.lists(events, min_size=1, max_size=12),
       later=st.sets(st.integers(1, 40), max_size=3))
def test_every_row_balances_and_matches_the_members_at_each_days_end(app, client, settle, zone, program, stream,
                                                                     later):
    # Far from local midnight, so the events posted now all fall on one local day.
    assume(1 <= utcnow().astimezone(ZoneInfo(zone)).hour <= 22)
    shop = Shop(client, settle, f"prop-{uuid.uuid4().hex[:10]}.myshopify.com")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        shop.install(mock, zone, program)
        for event in stream:
            shop.play(mock, *event)
    today = utcnow().astimezone(ZoneInfo(zone)).date()
    held = {}
    for day in sorted({0, *later}):
        tick(app, datetime.combine(today + timedelta(days=day), time(23, 59, 59), ZoneInfo(zone)))
        held[today + timedelta(days=day)] = shop.held()
    rows = shop.statement(today - timedelta(days=1), max(held))
    assert rows[0]["opening"] == 0 and rows[0]["closing"] == 0
    previous, state = 0, (0, 0)
    for row in rows:
        day = date.fromisoformat(row["date"])
        state = held.get(day, state)  # nothing happens between two ticks
        assert row["opening"] == previous, row
        assert row["opening"] + sum(row[name] for name in MOVEMENTS) == row["closing"], row
        assert (row["closing"], row["pending"]) == state, (row, state)
        previous = row["closing"]


def tick(app, now: datetime) -> None:
    result = app.test_cli_runner().invoke(args=["tick", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output


class Shop:
    """One example's shop, driven through signed webhooks and the admin API."""

    def __init__(self, client, settle, domain: str):
        self.client, self.settle, self.domain = client, settle, domain
        self.orders: list[dict] = []
        self.graphql = f"https://{domain}/admin/api/2026-10/graphql.json"

    def install(self, mock, zone: str, program: dict) -> None:
        mock.post(token_endpoint(self.domain), json=token_answer("shpat_live"))
        opened = self.client.get("/", query_string={"shop": self.domain, "id_token": session_token(self.domain)})
        assert opened.status_code == 200
        self.webhook("shop/update", {"id": 1, "myshopify_domain": self.domain, "iana_timezone": zone})
        months = {} if program["expiry_policy"] == "never" else {"expiry_months": 1}
        self.api("patch", "/api/program", {**program, **months, "return_points_on_expiry": True})
        self.reward = self.api("post", "/api/rewards", {"name": "1 off", "kind": "amount_off", "value": "1",
                                                        "points_cost": 10})["id"]
        self.base = utcnow().replace(minute=0, second=0, microsecond=0)

    def play(self, mock, kind: str, *args) -> None:
        if kind == "customer":
            self.webhook("customers/create", customer(args[0], email=f"{args[0]}@example.com"))
        elif kind == "order":
            self.paid(*args)
        elif kind == "refund" and self.orders:
            self.webhook("refunds/create", refund(self.orders[args[0] % len(self.orders)]["id"], f"{args[1]}.00"))
        elif kind == "cancel" and self.orders:
            self.webhook("orders/cancelled", {**self.orders[args[0] % len(self.orders)],
                                              "cancelled_at": utcnow().isoformat()})
        elif kind == "adjust":
            response = self.client.post(f"/api/members/{args[0]}/adjustments", headers=auth(self.domain),
                                        json={"points": args[1], "reason": "property"})
            assert response.status_code in (201, 200, 404, 409, 422), response.get_json()
        elif kind == "redeem":
            mock.upsert(responses.POST, self.graphql, json=CREATED if args[1] else REFUSED)
            response = self.client.post(f"/api/members/{args[0]}/redemptions", json={"reward_id": self.reward},
                                        headers=auth(self.domain))
            assert response.status_code in (201, 404, 409), response.get_json()

    def paid(self, customer_id: int, subtotal: int, hours_ago: int) -> None:
        order_id = 450_000_000 + len(self.orders) * 7 + customer_id
        when = self.base - timedelta(hours=hours_ago)
        payload = {
            "id": order_id, "name": f"#{order_id}", "email": f"{customer_id}@example.com", "currency": "USD",
            "subtotal_price": f"{subtotal}.00", "total_price": f"{subtotal}.00", "financial_status": "paid",
            "test": False, "tags": "", "line_items": [], "processed_at": when.isoformat(),
            "customer": {"id": customer_id, "email": f"{customer_id}@example.com"}}
        self.webhook("orders/paid", payload)
        self.orders.append(payload)

    def webhook(self, topic: str, payload: dict) -> None:
        assert signed_webhook(self.client, topic, payload, shop=self.domain).status_code == 200
        self.settle()

    def api(self, method: str, path: str, body: dict) -> dict:
        response = getattr(self.client, method)(path, json=body, headers=auth(self.domain))
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    def held(self) -> tuple[int, int]:
        """(balance + pending, pending) summed over the shop's members, as the API shows them."""
        total = pending = 0
        for customer_id in CUSTOMERS:
            found = self.client.get(f"/api/members/{customer_id}", headers=auth(self.domain))
            if found.status_code == 200:
                total += found.get_json()["balance"] + found.get_json()["pending"]
                pending += found.get_json()["pending"]
        return total, pending

    def statement(self, first: date, last: date) -> list[dict]:
        response = self.client.get("/api/reports/liability", headers=auth(self.domain),
                                   query_string={"from": first.isoformat(), "to": last.isoformat()})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["rows"]
