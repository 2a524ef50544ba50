"""Cohorts: members by the month they joined, and the share of them who ordered in each later month.

A member joins in the month (of the shop's zone) their row was created, and counts once they
have earned points (`lifetime_earned > 0`, as everywhere in the analytics). For a cohort of
month M and each month M + k up to the current one, `retention[k]` is the share of the
cohort's members with at least one paid order (orders/paid reached, not cancelled) whose
business day (`orders.tier_day`, the order's own time in the shop's zone) falls in M + k.
Month 0 is the joining month itself; the later ones are "ordered again". Months that have
not happened yet are left out, which draws the triangle.

Two aggregate queries: the cohorts' sizes, and the distinct buyers per (join month, order
month) over the orders of the shown months only (ix_orders_business_day).
"""
from dataclasses import dataclass
from datetime import date, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from plugin.loyalty.analytics.sql_dates import month_of
from plugin.loyalty.analytics.zone_days import ZoneDays
from plugin.loyalty.fields import InvalidFields
from plugin.models import Member, OrderRecord

MEMBERS = Member.__table__
ORDERS = OrderRecord.__table__
DEFAULT_MONTHS = 12
MAX_MONTHS = 24
RATE_PLACES = Decimal("0.0001")


@dataclass
class Cohort:
    month: str  # 'YYYY-MM'
    members: int
    buyers: list[int]  # distinct buyers in the joining month + k, k = 0 .. up to the current month


def parse_months(raw: str | None) -> int:
    """How many months `?months=` asks for (1 to MAX_MONTHS, default DEFAULT_MONTHS)."""
    if raw is None:
        return DEFAULT_MONTHS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_MONTHS:
        raise InvalidFields({"months": f"must be a whole number from 1 to {MAX_MONTHS}"})
    return int(raw)


def month_starts(today: date, months: int) -> list[date]:
    """The first days of the `months` months ending with today's."""
    index = today.year * 12 + today.month - 1
    return [date(n // 12, n % 12 + 1, 1) for n in range(index - months + 1, index + 1)]


def compute(session: Session, shop_id: int, zone: tzinfo, today: date, months: int) -> list[Cohort]:
    """The cohorts of the `months` months ending with today's (of the shop's zone); reads only."""
    starts = month_starts(today, months)
    days = ZoneDays(zone, starts[0], today)
    dialect = session.get_bind().dialect.name
    joined = select(MEMBERS.c.customer_id, month_of(days.day_of(MEMBERS.c.created_at, dialect)).label("month")).where(
        MEMBERS.c.shop_id == shop_id, MEMBERS.c.created_at >= days.start, MEMBERS.c.created_at < days.end,
        MEMBERS.c.lifetime_earned > 0).subquery()
    sizes = dict(session.execute(select(joined.c.month, func.count()).group_by(joined.c.month)).all())
    ordered = month_of(ORDERS.c.tier_day)
    bought = session.execute(select(joined.c.month, ordered, func.count(distinct(ORDERS.c.customer_id))).select_from(
        joined.join(ORDERS, ORDERS.c.customer_id == joined.c.customer_id)).where(
        ORDERS.c.shop_id == shop_id, ORDERS.c.tier_day >= starts[0], ORDERS.c.tier_day <= today,
        ORDERS.c.paid_at.is_not(None), ORDERS.c.cancelled_at.is_(None)).group_by(joined.c.month, ordered)).all()
    keys = [start.strftime("%Y-%m") for start in starts]
    counts = {(joined_in, bought_in): count for joined_in, bought_in, count in bought}
    return [Cohort(key, sizes.get(key, 0), [counts.get((key, later), 0) for later in keys[index:]])
            for index, key in enumerate(keys)]


def cohorts_json(cohorts: list[Cohort], zone: tzinfo) -> dict:
    return {"zone": getattr(zone, "key", "UTC"), "cohorts": [
        {"month": cohort.month, "members": cohort.members, "buyers": cohort.buyers,
         "retention": [_share(count, cohort.members) for count in cohort.buyers]} for cohort in cohorts]}


def _share(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, ROUND_HALF_UP))
