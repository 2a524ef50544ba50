"""How long a member has been silent, against how often they usually order (docs/at-risk.md).

A member's order days are the distinct business days (`orders.tier_day`: the order's own
time read in the shop's zone) of their paid orders that were not cancelled. From them:

- usual gap `G`, in days: with two order days or more, the mean gap between them,
  ceil((last - first) / (order days - 1)), but at least MIN_GAP_DAYS (two orders in one
  week do not make a customer at risk after ten days); with a single order day,
  ONE_ORDER_GAP_DAYS.
- days since the last order `D`: today (in the shop's zone) minus the last order day.
- status: `active` while D <= 1.5 G, `at_risk` while 1.5 G < D <= 3 G, `lapsed` past 3 G.
  A member with no order day has no status (a signup who never bought is not churning).

Everything is one SQL statement over each customer's order days (index
`ix_orders_customer_day`), written in whole day numbers so both backends do the same integer
arithmetic; the thresholds are compared as 2 D <= 3 G, never in floating point.
"""
from datetime import date

from sqlalchemy import Integer, Subquery, and_, case, distinct, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from plugin.models import Member, OrderRecord

ORDERS = OrderRecord.__table__
MIN_GAP_DAYS = 14
ONE_ORDER_GAP_DAYS = 30
ACTIVE, AT_RISK, LAPSED = "active", "at_risk", "lapsed"
STATUSES = (ACTIVE, AT_RISK, LAPSED)
EPOCH = date(1970, 1, 1)


class day_number(FunctionElement):
    """A DATE column as whole days since 1970-01-01."""

    type = Integer()
    inherit_cache = True


@compiles(day_number, "postgresql")
def _day_number_postgresql(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


@compiles(day_number)
def _day_number_sqlite(element, compiler, **kw):
    # SQLite keeps a Date as 'YYYY-MM-DD' text; its Julian day is a whole number plus .5.
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


def recency(shop_ids: list[int], today: date) -> Subquery:
    """Each member of these shops who has an order day, with their figures as of `today`:
    `member_id`, `shop_id`, `last_day`, `order_days`, `days_since`, `usual_gap`, `status`."""
    first, last = func.min(day_number(ORDERS.c.tier_day)), func.max(day_number(ORDERS.c.tier_day))
    history = (select(ORDERS.c.shop_id, ORDERS.c.customer_id, first.label("first"), last.label("last"),
                      func.max(ORDERS.c.tier_day).label("last_day"),
                      func.count(distinct(ORDERS.c.tier_day)).label("days"))
               .where(ORDERS.c.shop_id.in_(shop_ids), ORDERS.c.customer_id.is_not(None),
                      ORDERS.c.tier_day.is_not(None), ORDERS.c.cancelled_at.is_(None))
               .group_by(ORDERS.c.shop_id, ORDERS.c.customer_id).subquery("order_history"))
    span, days = history.c.last - history.c.first, history.c.days
    mean = (span + days - 2) // func.nullif(days - 1, 0, type_=Integer)  # ceil(span / (days - 1)) in integers
    gap = case((days < 2, ONE_ORDER_GAP_DAYS), (mean < MIN_GAP_DAYS, MIN_GAP_DAYS), else_=mean)
    since = literal((today - EPOCH).days, Integer) - history.c.last
    status = case((2 * since <= 3 * gap, ACTIVE), (since <= 3 * gap, AT_RISK), else_=LAPSED)
    return (select(Member.id.label("member_id"), Member.shop_id, history.c.last_day, days.label("order_days"),
                   since.label("days_since"), gap.label("usual_gap"), status.label("status"))
            .join(history, and_(history.c.shop_id == Member.shop_id, history.c.customer_id == Member.customer_id))
            .where(Member.redacted_at.is_(None))
            .subquery("recency"))


def members_at_risk(shop_id: int, today: date):
    """The ids of the shop's members whose status is `at_risk` today (the Members filter)."""
    figures = recency([shop_id], today)
    return select(figures.c.member_id).where(figures.c.status == AT_RISK)
