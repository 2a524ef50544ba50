"""Program performance: members against everyone else, over days of the shop's zone.

Every order figure reads the order's own business day (`orders.tier_day`: its processed_at,
else created_at, read in the shop's zone, stored with the order when it was paid), never the
hour a webhook arrived. A paid order is an `orders` row that orders/paid reached (`paid_at`
set) and that is not cancelled; its money is `total_price` (shop money, before refunds).
Definitions (docs/analytics.md says the same for merchants):

- groups: "members" are ordering customers whose member row has earned points
  (`lifetime_earned > 0`), "non_members" the other ordering customers; guest orders have no
  customer to follow and are counted apart (`guests`: orders and revenue only).
- per group: `customers` (with a paid order in the period), `orders`, `revenue`,
  `repeat_purchase_rate` (customers with 2+ orders / customers), `average_order_value`
  (revenue / orders), `orders_per_customer`, `revenue_per_customer`.
- `reward_revenue`: revenue of the period's paid orders that used a code this app issued.
- `redemption_rate`: points redeemed / points issued, both posted in the period (as on the
  dashboard: plugin/loyalty/analytics/dashboard.py).
- `order_earning_rate`: paid orders that credited a customer points / paid orders (guests'
  included, which earn nothing).
- `reward_usage_rate`: codes issued in the period that were used / codes issued in the period.
- `membership_rate`: member customers / ordering customers.
- `enrolment`: members who joined in the period (their row's `created_at`, a day of the
  shop's zone) and earned points: their orders in the WINDOW days before their join day
  against the WINDOW days from it, per member per 30 days (the after window is cut at today,
  so the rate divides by the member-days that really passed) and their average order value.
Rates have 4 places, money is exact; a rate or average over nothing is null.

Each figure is one aggregate query over the period's rows (orders by ix_orders_business_day,
entries by ix_ledger_entries_created, redemptions by ix_redemptions_issued): the cost grows
with the period's orders, never with the shop's whole history.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import and_, case, exists, func, select, text
from sqlalchemy.orm import Session

from plugin.loyalty.analytics.dashboard import EARNING, MICRO, REDEEMING, micro_units
from plugin.loyalty.analytics.sql_dates import days_between
from plugin.loyalty.analytics.zone_days import ZoneDays
from plugin.models import LedgerEntry, Member, OrderRecord, Redemption

ENTRIES = LedgerEntry.__table__
MEMBERS = Member.__table__
ORDERS = OrderRecord.__table__
REDEMPTIONS = Redemption.__table__
WINDOW = 90  # days before and after joining
MONTH_DAYS = 30
RATE_PLACES = Decimal("0.0001")
CENT = Decimal("0.01")
GROUPS = ("members", "non_members", "guests")


@dataclass
class Group:
    customers: int = 0
    orders: int = 0
    repeaters: int = 0
    revenue: Decimal = Decimal(0)


@dataclass
class Window:
    orders: int = 0
    revenue: Decimal = Decimal(0)
    member_days: int = 0


@dataclass
class Performance:
    days: ZoneDays
    groups: dict[str, Group] = field(default_factory=lambda: {name: Group() for name in GROUPS})
    reward_revenue: Decimal = Decimal(0)
    earning_orders: int = 0
    points_issued: int = 0
    points_redeemed: int = 0
    codes_issued: int = 0
    codes_used: int = 0
    joined: int = 0
    before: Window = field(default_factory=Window)
    after: Window = field(default_factory=Window)


def paid_on_days(shop_id: int, first: date, last: date) -> list:
    """The shop's paid orders whose business day is between `first` and `last` (both included)."""
    return [ORDERS.c.shop_id == shop_id, ORDERS.c.tier_day >= first, ORDERS.c.tier_day <= last,
            ORDERS.c.paid_at.is_not(None), ORDERS.c.cancelled_at.is_(None)]


def compute(session: Session, shop_id: int, zone: tzinfo, first: date, last: date, today: date) -> Performance:
    """The shop's performance over its local days `first` to `last`; reads only."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SET LOCAL jit = off"))  # see dashboard.compute: compiling costs more than running
    figures = Performance(ZoneDays(zone, first, last))
    _orders(session, shop_id, figures)
    _points(session, shop_id, figures)
    _codes(session, shop_id, figures)
    _enrolment(session, shop_id, figures, dialect, today)
    return figures


def _money(dialect: str):
    """An order's money as summed exactly: PostgreSQL's numeric sums are exact and cheaper than
    millionths; SQLite keeps decimals as text and would sum them as floats (see dashboard.MICRO)."""
    price = func.coalesce(ORDERS.c.total_price, 0)
    return price if dialect == "postgresql" else micro_units(price)


def _decimal(total) -> Decimal:
    """A sum of `_money` as a Decimal: numeric from PostgreSQL, whole millionths from SQLite."""
    return total if isinstance(total, Decimal) else Decimal(int(total)) / MICRO


def _orders(session: Session, shop_id: int, figures: Performance) -> None:
    # The shop as a constant, not orders.shop_id: the index then reads this shop's codes only.
    ours = exists().where(REDEMPTIONS.c.shop_id == shop_id, REDEMPTIONS.c.order_id.is_not(None),
                          REDEMPTIONS.c.order_id == ORDERS.c.order_id)
    money = _money(session.get_bind().dialect.name)
    buyers = select(
        ORDERS.c.customer_id, func.count().label("orders"), func.sum(money).label("revenue"),
        func.sum(case((ours, money), else_=0)).label("rewarded"),
        # A guest's order keeps what it would have earned, but nobody was credited: it earned nothing.
        func.sum(case(((ORDERS.c.earned_points > 0) & ORDERS.c.customer_id.is_not(None), 1), else_=0))
        .label("earning"),
    ).where(*paid_on_days(shop_id, figures.days.first, figures.days.last)).group_by(ORDERS.c.customer_id).subquery()
    account = buyers.outerjoin(MEMBERS, (MEMBERS.c.shop_id == shop_id)
                               & (MEMBERS.c.customer_id == buyers.c.customer_id))
    group = case((buyers.c.customer_id.is_(None), "guests"), (MEMBERS.c.lifetime_earned > 0, "members"),
                 else_="non_members").label("grp")
    flagged = select(group, buyers.c.orders, buyers.c.revenue, buyers.c.rewarded, buyers.c.earning,
                     case((buyers.c.orders >= 2, 1), else_=0).label("repeat")).select_from(account).subquery()
    rows = session.execute(select(flagged.c.grp, func.count(), func.sum(flagged.c.orders), func.sum(flagged.c.repeat),
                                  func.sum(flagged.c.revenue), func.sum(flagged.c.rewarded),
                                  func.sum(flagged.c.earning)).group_by(flagged.c.grp))
    for name, customers, orders, repeaters, revenue, rewarded, earning in rows:
        figures.groups[name] = Group(0 if name == "guests" else customers, int(orders), int(repeaters),
                                     _decimal(revenue))
        figures.reward_revenue += _decimal(rewarded)
        figures.earning_orders += int(earning)
    figures.groups["guests"].repeaters = 0  # one NULL customer is not a repeat buyer


def _points(session: Session, shop_id: int, figures: Performance) -> None:
    earning = ENTRIES.c.kind.in_(EARNING) & (ENTRIES.c.delta > 0)
    row = session.execute(select(
        func.coalesce(func.sum(case((earning, ENTRIES.c.delta), else_=0)), 0),
        func.coalesce(func.sum(case((ENTRIES.c.kind.in_(REDEEMING), -ENTRIES.c.delta), else_=0)), 0),
    ).where(ENTRIES.c.shop_id == shop_id, ENTRIES.c.created_at >= figures.days.start,
            ENTRIES.c.created_at < figures.days.end)).one()
    figures.points_issued, figures.points_redeemed = int(row[0]), int(row[1])


def _codes(session: Session, shop_id: int, figures: Performance) -> None:
    row = session.execute(select(func.count(), func.coalesce(func.sum(case(
        (REDEMPTIONS.c.used_at.is_not(None), 1), else_=0)), 0)).where(
        REDEMPTIONS.c.shop_id == shop_id, REDEMPTIONS.c.issued_at >= figures.days.start,
        REDEMPTIONS.c.issued_at < figures.days.end)).one()
    figures.codes_issued, figures.codes_used = int(row[0]), int(row[1])


def _enrolment(session: Session, shop_id: int, figures: Performance, dialect: str, today: date) -> None:
    joined_day = figures.days.day_of(MEMBERS.c.created_at, dialect)
    joined = select(MEMBERS.c.customer_id, joined_day.label("day")).where(
        MEMBERS.c.shop_id == shop_id, MEMBERS.c.created_at >= figures.days.start,
        MEMBERS.c.created_at < figures.days.end, MEMBERS.c.lifetime_earned > 0).subquery()
    for day, count in session.execute(select(joined.c.day, func.count()).group_by(joined.c.day)):
        day = day if isinstance(day, date) else date.fromisoformat(day)
        figures.joined += count
        figures.before.member_days += count * WINDOW
        figures.after.member_days += count * max(min(WINDOW, (today - day).days + 1), 0)
    offset = days_between(ORDERS.c.tier_day, joined.c.day)
    bounds = paid_on_days(shop_id, figures.days.first - timedelta(days=WINDOW),
                          figures.days.last + timedelta(days=WINDOW - 1))
    money = _money(dialect)
    before = and_(offset >= -WINDOW, offset < 0)
    after = and_(offset >= 0, offset < WINDOW)
    row = session.execute(select(*(func.coalesce(func.sum(case((side, value), else_=0)), 0)
                                   for side in (before, after) for value in (1, money))).select_from(joined.join(ORDERS, ORDERS.c.customer_id == joined.c.customer_id)).where(*bounds)).one()
    figures.before.orders, figures.before.revenue = int(row[0]), _decimal(row[1])
    figures.after.orders, figures.after.revenue = int(row[2]), _decimal(row[3])


def performance_json(figures: Performance, currency: str | None) -> dict:
    groups = figures.groups
    customers = groups["members"].customers + groups["non_members"].customers
    orders = sum(group.orders for group in groups.values())
    return {
        "from": figures.days.first.isoformat(), "to": figures.days.last.isoformat(),
        "zone": getattr(figures.days.zone, "key", "UTC"), "currency": currency,
        "groups": {name: _group_json(groups[name]) for name in ("members", "non_members")},
        "guests": {"orders": groups["guests"].orders, "revenue": money(groups["guests"].revenue)},
        "orders": orders, "revenue": money(sum((group.revenue for group in groups.values()), Decimal(0))),
        "reward_revenue": money(figures.reward_revenue),
        "points_issued": figures.points_issued, "points_redeemed": figures.points_redeemed,
        "redemption_rate": ratio(figures.points_redeemed, figures.points_issued),
        "order_earning_rate": ratio(figures.earning_orders, orders),
        "codes_issued": figures.codes_issued, "codes_used": figures.codes_used,
        "reward_usage_rate": ratio(figures.codes_used, figures.codes_issued),
        "membership_rate": ratio(groups["members"].customers, customers),
        "enrolment": {"members": figures.joined, "window_days": WINDOW,
                      "before": _window_json(figures.before), "after": _window_json(figures.after)},
    }


def _group_json(group: Group) -> dict:
    return {"customers": group.customers, "orders": group.orders, "revenue": money(group.revenue),
            "repeat_purchase_rate": ratio(group.repeaters, group.customers),
            "average_order_value": average(group.revenue, group.orders),
            "orders_per_customer": ratio(group.orders, group.customers),
            "revenue_per_customer": average(group.revenue, group.customers)}


def _window_json(window: Window) -> dict:
    return {"orders": window.orders, "revenue": money(window.revenue), "member_days": window.member_days,
            "orders_per_member_month": ratio(window.orders * MONTH_DAYS, window.member_days),
            "average_order_value": average(window.revenue, window.orders)}


def ratio(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(RATE_PLACES, ROUND_HALF_UP))


def average(amount: Decimal, count: int) -> str | None:
    """Money per something, to the cent; null over nothing."""
    return None if not count else str((amount / count).quantize(CENT, ROUND_HALF_UP))


def money(amount: Decimal) -> str:
    """Exact, with at least two places: "45.00", and "12.345" for a three-decimal currency."""
    amount = amount.normalize()
    return str(amount if amount.as_tuple().exponent < -2 else amount.quantize(CENT))
