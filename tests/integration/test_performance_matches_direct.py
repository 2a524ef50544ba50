"""Program performance, the dashboard's orders and the cohorts equal a direct count: a property test.

Each example is a fresh shop in a random zone. Random paid orders (members', guests', some
excluded by tag so they earn nothing) placed up to 60 days ago, some cancelled, go in through
signed webhooks; then the figures of a random period are asked through the API and compared
with the same definitions worked out here in Python from what was sent
(plugin/loyalty/analytics/performance.py, dashboard.py, cohorts.py).
"""
import uuid
from collections import defaultdict
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.db import utcnow
from tests.helpers import auth, session_token, signed_webhook, token_answer, token_endpoint

ZONES = ("UTC", "Asia/Kolkata", "America/New_York", "America/St_Johns", "Pacific/Kiritimati")
CUSTOMERS = (7001, 7002, 7003, 7004, None)  # None: a guest
orders = st.tuples(st.sampled_from(CUSTOMERS), st.integers(1, 150), st.integers(0, 60 * 24),  # subtotal, hours ago
                   st.booleans(), st.booleans())  # excluded by tag, cancelled


def rate(part, whole) -> str | None:
    return None if not whole else str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def cents(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("0.01")))


def average(amount: Decimal, count: int) -> str | None:
    return None if not count else str((amount / count).quantize(Decimal("0.01"), ROUND_HALF_UP))


@settings(max_examples=8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(zone=st.sampled_from(ZONES), stream=st.lists(orders, min_size=1, max_size=12),
       span=st.tuples(st.integers(0, 62), st.integers(0, 62)))
def test_the_figures_equal_a_direct_count_of_the_orders_sent(client, settle, zone, stream, span):
    domain = f"prop-{uuid.uuid4().hex[:10]}.myshopify.com"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.post(token_endpoint(domain), json=token_answer("shpat_live"))
        assert client.get("/", query_string={"shop": domain, "id_token": session_token(domain)}).status_code == 200
    send(client, settle, domain, "shop/update", {"id": 1, "myshopify_domain": domain, "iana_timezone": zone})
    assert client.patch("/api/program", json={"excluded_order_tags": ["wholesale"]},
                        headers=auth(domain)).status_code == 200
    now, local = utcnow().replace(microsecond=0), ZoneInfo(zone)
    sent = []
    for index, (customer_id, subtotal, hours_ago, excluded, cancelled) in enumerate(stream):
        placed = now - timedelta(hours=hours_ago)
        payload = {"id": 460_000_000 + index, "name": f"#{index}", "email": "x@example.com", "currency": "USD",
                   "subtotal_price": f"{subtotal}.00", "total_price": f"{subtotal}.00", "financial_status": "paid",
                   "test": False, "tags": "wholesale" if excluded else "", "line_items": [],
                   "processed_at": placed.isoformat(),
                   "customer": None if customer_id is None else {"id": customer_id, "email": "x@example.com"}}
        send(client, settle, domain, "orders/paid", payload)
        if cancelled:
            send(client, settle, domain, "orders/cancelled", {**payload, "cancelled_at": now.isoformat()})
        sent.append((customer_id, Decimal(subtotal), placed.astimezone(local).date(), excluded, cancelled))
    today = now.astimezone(local).date()
    first, last = sorted(today - timedelta(days=n) for n in span)
    expected = direct(sent, first, last)
    period = {"from": first.isoformat(), "to": last.isoformat()}
    figures = get(client, domain, "/api/reports/performance", period)
    assert {name: figures["groups"][name] for name in ("members", "non_members")} == expected["groups"]
    assert (figures["guests"], figures["orders"], figures["order_earning_rate"], figures["membership_rate"]) == (
        expected["guests"], expected["orders"], expected["order_earning_rate"], expected["membership_rate"])
    series = {day["date"]: day["orders"] for day in get(client, domain, "/api/stats", period)["series"]}
    assert {day: count for day, count in series.items() if count} == expected["by_day"]
    cohort = get(client, domain, "/api/reports/cohorts", {"months": "3"})["cohorts"][-1]  # all joined today
    assert (cohort["members"], cohort["buyers"][0]) == expected_cohort(sent, today)


def direct(sent: list, first, last) -> dict:
    """The definitions, counted by hand: members earned points (a paid order not excluded, cancelled or not)."""
    members = {customer for customer, _, _, excluded, _ in sent if customer is not None and not excluded}
    paid = [(customer, amount, day, excluded) for customer, amount, day, excluded, cancelled in sent
            if not cancelled and first <= day <= last]
    per = defaultdict(list)
    for customer, amount, _, _ in paid:
        if customer is not None:
            per[customer].append(amount)
    groups = {}
    for name, who in (("members", [c for c in per if c in members]),
                      ("non_members", [c for c in per if c not in members])):
        amounts = [amount for customer in who for amount in per[customer]]
        revenue = sum(amounts, Decimal(0))
        groups[name] = {"customers": len(who), "orders": len(amounts), "revenue": cents(revenue),
                        "repeat_purchase_rate": rate(sum(len(per[c]) >= 2 for c in who), len(who)),
                        "average_order_value": average(revenue, len(amounts)),
                        "orders_per_customer": rate(len(amounts), len(who)),
                        "revenue_per_customer": average(revenue, len(who))}
    guests = [amount for customer, amount, _, _ in paid if customer is None]
    by_day = defaultdict(int)
    for _, _, day, _ in paid:
        by_day[day.isoformat()] += 1
    earning = sum(1 for customer, _, _, excluded in paid if customer is not None and not excluded)
    return {"groups": groups, "guests": {"orders": len(guests), "revenue": cents(sum(guests, Decimal(0)))},
            "orders": len(paid), "order_earning_rate": rate(earning, len(paid)),
            "membership_rate": rate(groups["members"]["customers"], len(per)), "by_day": dict(by_day)}


def expected_cohort(sent: list, today) -> tuple[int, int]:
    members = {customer for customer, _, _, excluded, _ in sent if customer is not None and not excluded}
    month = (today.year, today.month)
    bought = {customer for customer, _, day, _, cancelled in sent
              if customer in members and not cancelled and (day.year, day.month) == month}
    return len(members), len(bought)


def send(client, settle, domain: str, topic: str, payload: dict) -> None:
    assert signed_webhook(client, topic, payload, shop=domain).status_code == 200
    settle()


def get(client, domain: str, path: str, query: dict) -> dict:
    response = client.get(path, query_string=query, headers=auth(domain))
    assert response.status_code == 200, response.get_json()
    return response.get_json()
