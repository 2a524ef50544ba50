"""The dashboard's figures for one shop over a range of whole days of the shop's zone, computed in SQL.

A period is `from` 00:00:00 in the shop's zone (`iana_timezone`, else UTC) up to, not
including, local midnight after `to`: an entry stamped 23:59:59.999999 local time on `to`
counts, one at local midnight the next day does not. Entries and members fall on the local
day they were posted or created; an order falls on its own business day (`orders.tier_day`:
its processed_at, else created_at, read in the shop's zone, stored when it was paid), never
the hour its webhook arrived, so a history sent in one go still draws as a history. Five aggregate queries
answer everything, whatever the size of the shop: the ledger, the members and the orders are
each grouped by UTC day once (totals are the sums of those at most 366 rows), one query
groups the period's buyers, one reads the balances and the best reward. Each filters on an
index that starts with the shop (migration 0004), so a shop's figures cost what its own
rows cost, not the whole table's. Definitions:

- `members`: the shop's members (every customer the app knows: created by customers/create
  or by their first order) created before the period's end; `new_members`: created in it.
- `points_issued`: positive entries of the earning kinds (`EntryKind.counts_as_earned`:
  order awards, signup, referral and birthday bonuses) in the period. Manual adjustments are
  corrections, not earning: a mistake and its fix must not inflate what the program issued.
- `points_redeemed`: points spent on redemptions less points given back for redemptions
  (`redemption_return`: a code that could not be made, or expired unused) in the period. A
  return counts on the day it happens, so a day, or a short period, can come out negative.
- `redemption_rate`: points_redeemed / points_issued, 4 places; null when nothing was issued.
- `points_expired`: points taken by `expiry` entries (plugin/loyalty/ledger/lifecycle.py) in the period.
- `points_outstanding`: the sum of the balances above zero, now (not at the period's end).
  Points that will expire before they are used stay in it: whether a shopper spends them
  before their date is not knowable, and a liability that counts on breakage would be a
  guess. `points_pending`: the pending points (not yet spendable) of all members, now,
  outside `points_outstanding` since a refund may still take them.
- `outstanding_value`: what those points would cost the shop if every one were spent on the
  active amount-off reward that gives the most money per point (value / points_cost), rounded
  to the cent; an upper bound, since points are spent in whole rewards. Null without an
  active amount-off reward.
- Paid orders are `orders` rows that orders/paid reached (`paid_at` set) whose business day
  is within the period and that are not cancelled. `orders` counts them,
  guests' orders included; `loyalty_revenue` sums the `total_price` (shop money, before
  refunds) of those that used a code this app issued (a redemption names the order).
- `repeat_purchase_rate`: among the customers with at least one paid order in the period,
  the share with two or more. "members" are those whose member row has earned points
  (`lifetime_earned > 0`: an awarded order, the signup bonus or a positive adjustment), so
  taking part in the program counts, not having a row (every ordering customer has one);
  "non_members" are the others, whose orders earned nothing (excluded by tag, test orders, a
  rate of 0). Judged now, not at the period's end: asking the ledger "by then" costs a probe
  per customer (seconds at a million entries), and the two differ only for a customer whose
  first points came after the period. Guest orders have no customer to follow, so they are
  left out of both rather than counted as one-order buyers, which would drag the non-member
  rate down for a reason that has nothing to do with loyalty. `ordering_customers` gives the
  counts behind both rates and the guest orders left out. A rate is null for an empty group.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Float, case, cast, exists, func, select, text, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from plugin.loyalty.analytics.zone_days import ZoneDays
from plugin.loyalty.fields import InvalidFields
from plugin.models import EntryKind, LedgerEntry, Member, OrderRecord, Redemption, Reward, RewardKind

ENTRIES = LedgerEntry.__table__
MEMBERS = Member.__table__
ORDERS = OrderRecord.__table__
REDEMPTIONS = Redemption.__table__
REWARDS = Reward.__table__
EARNING = [kind for kind in EntryKind if kind.counts_as_earned and kind is not EntryKind.ADJUSTMENT]
REDEEMING = [EntryKind.REDEMPTION, EntryKind.REDEMPTION_RETURN]
DEFAULT_DAYS = 30
MAX_DAYS = 366
EARLIEST = date(1970, 1, 1)
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Money sums travel as whole millionths (orders.total_price has 6 places): exact on both
# databases, where SQLite would sum its decimal text as floats.
MICRO = Decimal(10) ** 6
RATE_PLACES = Decimal("0.0001")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, timezone.utc)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight UTC after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time.min, timezone.utc)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass
class Day:
    points_issued: int = 0
    points_redeemed: int = 0
    points_expired: int = 0
    new_members: int = 0
    orders: int = 0


@dataclass
class Figures:
    period: Period
    days: dict[date, Day]
    members_before: int = 0
    guest_orders: int = 0
    loyalty_revenue: Decimal = Decimal(0)
    # {"members" | "non_members": (customers who ordered, of whom with 2+ paid orders)}
    buyers: dict[str, tuple[int, int]] = field(default_factory=dict)
    points_outstanding: int = 0
    points_pending: int = 0
    best_reward: tuple[Decimal, int] | None = None  # (value, points_cost)
    zone: ZoneDays | None = None  # the period's days in the shop's zone: their UTC bounds and SQL

    def total(self, name: str) -> int:
        return sum(getattr(day, name) for day in self.days.values())


def parse_period(raw_from: str | None, raw_to: str | None, today: date) -> Period:
    """The period of `?from=&to=`; `to` defaults to today, `from` to 30 days ending on `to`."""
    errors = {}
    last = _parse_day(raw_to, "to", errors) if raw_to else today
    first = _parse_day(raw_from, "from", errors) if raw_from else None
    if errors:
        raise InvalidFields(errors)
    first = first or max(last - timedelta(days=DEFAULT_DAYS - 1), EARLIEST)
    if first > last:
        raise InvalidFields({"from": f"must be on or before to ({last.isoformat()})"})
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidFields({"to": f"must be within {MAX_DAYS} days of from (both included)"})
    return Period(first, last)


def _parse_day(raw: str, name: str, errors: dict) -> date | None:
    try:
        day = date.fromisoformat(raw) if ISO_DATE.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None or not EARLIEST <= day < date.max:
        errors[name] = "must be a day as YYYY-MM-DD (the shop's zone), from 1970-01-01"
    return day


def compute(session: Session, shop_id: int, period: Period, zone: tzinfo = timezone.utc) -> Figures:
    """The shop's figures for the period, days of `zone` (see the module docstring); reads only."""
    figures = Figures(period, {day: Day() for day in period.days}, zone=ZoneDays(zone, period.first, period.last))
    if session.get_bind().dialect.name == "postgresql":
        # These plans cost enough to trigger PostgreSQL's JIT, whose compiling took longer (up
        # to 2 s) than running them (bench/stats.py); LOCAL ends with the request's transaction.
        session.execute(text("SET LOCAL jit = off"))
    _ledger_by_day(session, shop_id, figures)
    _members_by_day(session, shop_id, figures)
    _orders_by_day(session, shop_id, figures)
    _repeat_buyers(session, shop_id, figures)
    _balances(session, shop_id, figures)
    return figures


class micro_units(FunctionElement):
    """A decimal column in whole millionths (see MICRO)."""

    inherit_cache = True


@compiles(micro_units, "postgresql")
def _micro_units_postgresql(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} * 1000000)"


@compiles(micro_units)
def _micro_units_sqlite(element, compiler, **kw):
    # Each row's text becomes a float only to be rounded to an integer: exact up to 2**53.
    return f"CAST(ROUND({compiler.process(element.clauses, **kw)} * 1000000) AS INTEGER)"


def _ledger_by_day(session: Session, shop_id: int, figures: Figures) -> None:
    day = figures.zone.day_of(ENTRIES.c.created_at, session.get_bind().dialect.name)
    earning = ENTRIES.c.kind.in_(EARNING) & (ENTRIES.c.delta > 0)
    rows = session.execute(select(
        day, func.sum(case((earning, ENTRIES.c.delta), else_=0)),
        func.sum(case((ENTRIES.c.kind.in_(REDEEMING), -ENTRIES.c.delta), else_=0)),
        func.sum(case((ENTRIES.c.kind == EntryKind.EXPIRY, -ENTRIES.c.delta), else_=0)),
    ).where(
        ENTRIES.c.shop_id == shop_id, ENTRIES.c.created_at >= figures.zone.start,
        ENTRIES.c.created_at < figures.zone.end,
    ).group_by(day))
    for on, issued, redeemed, expired in rows:
        on = _as_date(on)
        figures.days[on].points_issued, figures.days[on].points_redeemed = int(issued), int(redeemed)
        figures.days[on].points_expired = int(expired)


def _members_by_day(session: Session, shop_id: int, figures: Figures) -> None:
    # Members from before the period fall in the NULL day: one scan gives both figures.
    local_day = figures.zone.day_of(MEMBERS.c.created_at, session.get_bind().dialect.name)
    joined = select(case((MEMBERS.c.created_at >= figures.zone.start, local_day))
                    .label("day")).where(MEMBERS.c.shop_id == shop_id, MEMBERS.c.created_at < figures.zone.end)
    joined = joined.subquery()
    for on, count in session.execute(select(joined.c.day, func.count()).group_by(joined.c.day)):
        if on is None:
            figures.members_before = count
        else:
            figures.days[_as_date(on)].new_members = count


def _orders_by_day(session: Session, shop_id: int, figures: Figures) -> None:
    # The shop as a constant, not orders.shop_id: the hashed form then reads this shop's codes only.
    ours = exists().where(REDEMPTIONS.c.shop_id == shop_id, REDEMPTIONS.c.order_id.is_not(None),
                          REDEMPTIONS.c.order_id == ORDERS.c.order_id)
    paid = select(
        ORDERS.c.tier_day.label("day"),
        case((ORDERS.c.customer_id.is_(None), 1), else_=0).label("guest"),
        case((ours, micro_units(func.coalesce(ORDERS.c.total_price, 0))), else_=0).label("loyalty"),
    ).where(*_paid_in(shop_id, figures.period)).subquery()
    rows = session.execute(select(paid.c.day, func.count(), func.sum(paid.c.guest), func.sum(paid.c.loyalty))
                           .group_by(paid.c.day))
    for on, count, guests, loyalty in rows:
        figures.days[_as_date(on)].orders = count
        figures.guest_orders += int(guests)
        figures.loyalty_revenue += Decimal(loyalty) / MICRO


def _paid_in(shop_id: int, period: Period) -> list:
    """The shop's paid orders of the period: reached by orders/paid, of a business day in it, not cancelled."""
    return [ORDERS.c.shop_id == shop_id, ORDERS.c.tier_day >= period.first, ORDERS.c.tier_day <= period.last,
            ORDERS.c.paid_at.is_not(None), ORDERS.c.cancelled_at.is_(None)]


def _as_date(value) -> date:
    """A DATE as the driver returns it (SQLite: 'YYYY-MM-DD' text from an expression)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _repeat_buyers(session: Session, shop_id: int, figures: Figures) -> None:
    buyers = select(ORDERS.c.customer_id, func.count().label("orders")).where(
        *_paid_in(shop_id, figures.period), ORDERS.c.customer_id.is_not(None),
    ).group_by(ORDERS.c.customer_id).subquery()
    account = buyers.outerjoin(MEMBERS, (MEMBERS.c.shop_id == shop_id)
                               & (MEMBERS.c.customer_id == buyers.c.customer_id))
    flagged = select(case((MEMBERS.c.lifetime_earned > 0, 1), else_=0).label("member"),
                     case((buyers.c.orders >= 2, 1), else_=0).label("repeat")).select_from(account).subquery()
    rows = session.execute(select(flagged.c.member, func.count(), func.sum(flagged.c.repeat))
                           .group_by(flagged.c.member))
    for member, count, repeat in rows:
        figures.buyers["members" if member else "non_members"] = (count, int(repeat))


def _balances(session: Session, shop_id: int, figures: Figures) -> None:
    held = select(func.coalesce(func.sum(case((MEMBERS.c.balance > 0, MEMBERS.c.balance), else_=0)), 0).label("points"),
                  func.coalesce(func.sum(MEMBERS.c.pending), 0).label("pending")).where(
        MEMBERS.c.shop_id == shop_id, (MEMBERS.c.balance > 0) | (MEMBERS.c.pending > 0)).subquery()
    # Ordered as floats (SQLite keeps the value as text); the winner's rate is then exact.
    best = select(REWARDS.c.value, REWARDS.c.points_cost).where(
        REWARDS.c.shop_id == shop_id, REWARDS.c.kind == RewardKind.AMOUNT_OFF, REWARDS.c.active.is_(True),
        REWARDS.c.deleted_at.is_(None),
    ).order_by((cast(REWARDS.c.value, Float) / REWARDS.c.points_cost).desc(), REWARDS.c.id).limit(1).subquery()
    row = session.execute(select(held.c.points, held.c.pending, best.c.value, best.c.points_cost)
                          .select_from(held.outerjoin(best, true()))).one()
    figures.points_outstanding = int(row.points)
    figures.points_pending = int(row.pending)
    figures.best_reward = None if row.value is None else (row.value, row.points_cost)


def figures_json(figures: Figures, currency: str | None) -> dict:
    issued, redeemed = figures.total("points_issued"), figures.total("points_redeemed")
    members = figures.members_before + figures.total("new_members")
    return {
        "from": figures.period.first.isoformat(), "to": figures.period.last.isoformat(), "currency": currency,
        "members": members, "new_members": figures.total("new_members"),
        "points_issued": issued, "points_redeemed": redeemed,
        "redemption_rate": _ratio(redeemed, issued),
        "points_expired": figures.total("points_expired"),
        "points_outstanding": figures.points_outstanding,
        "points_pending": figures.points_pending,
        "outstanding_value": _outstanding_value(figures),
        "orders": figures.total("orders"),
        "loyalty_revenue": _money(figures.loyalty_revenue),
        "repeat_purchase_rate": {group: _ratio(repeat, count) for group, (count, repeat) in _groups(figures)},
        "ordering_customers": {**{group: count for group, (count, _) in _groups(figures)},
                               "guest_orders": figures.guest_orders},
        "series": [{"date": on.isoformat(), **vars(day)} for on, day in figures.days.items()],
    }


def _groups(figures: Figures) -> list[tuple[str, tuple[int, int]]]:
    return [(group, figures.buyers.get(group, (0, 0))) for group in ("members", "non_members")]


def _ratio(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, ROUND_HALF_UP))


def _outstanding_value(figures: Figures) -> str | None:
    if figures.best_reward is None:
        return None
    value, cost = figures.best_reward
    return str((figures.points_outstanding * value / cost).quantize(CENT, ROUND_HALF_UP))


def _money(amount: Decimal) -> str:
    """Exact, with at least two places: "45.00", and "12.345" for a three-decimal currency."""
    amount = amount.normalize()
    return str(amount if amount.as_tuple().exponent < -2 else amount.quantize(CENT))
