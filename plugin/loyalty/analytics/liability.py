"""The points liability statement: what the program owes at the end of each day, and why it moved.

One row per day of the shop's zone (or per month): opening, the movements by column,
closing and the part of it still pending. Every entry falls in exactly one column by its
kind (`COLUMN_OF`) and on the local day it was posted (`created_at`); columns are sums of
signed entries, so outflows are negative and opening + movements = closing by construction.

One statement reads everything, so on PostgreSQL every figure comes from one snapshot:
- the period's entries grouped by day and kind, and the entries after it in one group
  (through ix_ledger_entries_created, which covers shop, time, kind and delta);
- the members' balance + pending now; the opening is that less every entry since `from`,
  so a statement costs what its period and the days since cost, not the shop's whole
  history (the members' totals are their entries' sums: verify-ledger checks it);
- the lots pending at some day's end in the period (credited before its end, released after
  its start: ix_point_lots_released, ix_point_lots_pending), grouped by the day they were
  credited (`credited_at`, their entry's time, kept on the lot so no entry is looked up) and
  the day they were released, and their uses while pending (refunds and cancellations take
  a pending order's points first).
A lot is pending from its credit entry until the tick releases it (`released_at`), or until
`pending_until` for a lot still pending; so `pending` is exactly what the members' `pending`
held at each day's end. Lots released before migration 0019 count as never pending.
"""
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from sqlalchemy import Date, String, case, cast, func, literal, null, select, text, type_coerce, union_all
from sqlalchemy.orm import Session

from plugin.loyalty.analytics.zone_days import ZoneDays
from plugin.models import LedgerEntry, LotUse, Member, PointLot, Reward

ENTRIES = LedgerEntry.__table__
MEMBERS = Member.__table__
LOTS = PointLot.__table__
USES = LotUse.__table__
REWARDS = Reward.__table__
# Rewards whose points have a money value; by stored value, as store credit is not a kind yet.
VALUED_KINDS = ("amount_off", "store_credit")
CENT = Decimal("0.01")
# A typed NULL: PostgreSQL reads a union's column types from its first parts, where NULL alone is text.
NO_DAY = cast(null(), Date)

COLUMNS = ("earned", "reversed", "redeemed", "returned", "expired", "adjusted", "imported")
# By stored value, so kinds this checkout does not define yet (imports) have their column.
COLUMN_OF = {
    "order_award": "earned", "signup_bonus": "earned", "referral": "earned", "birthday_bonus": "earned",
    "refund_reversal": "reversed", "cancel_reversal": "reversed", "referral_reversal": "reversed",
    "redemption": "redeemed", "redemption_return": "returned", "expiry": "expired", "adjustment": "adjusted",
    "adjustment_reversal": "adjusted",  # a merchant undoing an adjustment: still a manual change
    "import": "imported", "import_reversal": "imported",
    # customers/merge: points that move between two members of the shop; the pair nets to zero.
    "merge_out": "adjusted", "merge_in": "adjusted",
}


@dataclass
class Row:
    date: date
    opening: int = 0
    earned: int = 0
    reversed: int = 0
    redeemed: int = 0
    returned: int = 0
    expired: int = 0
    adjusted: int = 0
    imported: int = 0
    closing: int = 0
    pending: int = 0

    @property
    def movements(self) -> int:
        return sum(getattr(self, name) for name in COLUMNS)


@dataclass
class Readings:
    """What the one statement returns, sorted by what it is."""

    moved: dict[date, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    since_start: int = 0
    held_now: int = 0
    # {(credit day or None: before the period, release day or None: after it): points}
    pending_lots: dict[tuple, int] = field(default_factory=lambda: defaultdict(int))
    pending_uses: dict[tuple, int] = field(default_factory=lambda: defaultdict(int))


def daily_rows(session: Session, shop_id: int, zone: tzinfo, first: date, last: date) -> list[Row]:
    """One row per local day from `first` to `last` (see the module docstring); reads only."""
    span = ZoneDays(zone, first, last)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        # As for the dashboard: JIT compiling costs more than these plans take to run.
        session.execute(text("SET LOCAL jit = off"))
    readings = _read(session, shop_id, span, dialect)
    opening = readings.held_now - readings.since_start
    rows = []
    for day, pending in zip(span.days, _pending_by_day(span.days, readings)):
        row = Row(day, opening=opening, pending=pending, **readings.moved.get(day, {}))
        row.closing = opening + row.movements
        rows.append(row)
        opening = row.closing
    return rows


def monthly_rows(rows: list[Row]) -> list[Row]:
    """Daily rows folded by calendar month: the first day's opening and date (`from` for a
    month the period starts inside), the movements summed, the last day's closing and pending."""
    months: dict[tuple[int, int], Row] = {}
    for row in rows:
        month = months.get((row.date.year, row.date.month))
        if month is None:
            months[(row.date.year, row.date.month)] = Row(**vars(row))
            continue
        for name in COLUMNS:
            setattr(month, name, getattr(month, name) + getattr(row, name))
        month.closing, month.pending = row.closing, row.pending
    return list(months.values())


def _pending_by_day(days: list[date], readings: Readings) -> list[int]:
    """Points pending at the end of each day: lots credited by then and not yet released, less
    what reversals took from them by then. Each (from day, release day) group holds for the days
    from the first up to, not including, the second: added where it starts, taken off where it
    ends, then summed day by day (linear in days and groups)."""
    index = {day: n for n, day in enumerate(days)}
    change = [0] * (len(days) + 1)
    for groups, sign in ((readings.pending_lots, 1), (readings.pending_uses, -1)):
        for (since, released), points in groups.items():
            begins = 0 if since is None else index[since]
            ends = len(days) if released is None else index[released]
            if begins < ends:
                change[begins] += sign * points
                change[ends] -= sign * points
    pending, running = [], 0
    for step in change[:-1]:
        running += step
        pending.append(running)
    return pending


def _read(session: Session, shop_id: int, span: ZoneDays, dialect: str) -> Readings:
    readings = Readings()
    statement = union_all(_entries(shop_id, span, dialect), _members(shop_id), *_pending(shop_id, span, dialect))
    for part, first, second, kind, points in session.execute(statement):
        points = int(points or 0)  # PostgreSQL sums bigints as numeric
        if part == "entries":
            readings.since_start += points
            if first is not None:
                readings.moved[first][COLUMN_OF[kind]] += points
        elif part == "members":
            readings.held_now = points
        elif part == "lots":
            readings.pending_lots[(first, second)] += points
        else:
            readings.pending_uses[(first, second)] += points
    return readings


def _tagged(part: str, first, second, kind, points):
    """One part of the union: the first part's types decide how every row's columns are read."""
    return select(literal(part).label("part"), type_coerce(first, Date).label("first"),
                  type_coerce(second, Date).label("second"), type_coerce(kind, String).label("kind"),
                  points.label("points"))


def _in_period(column, span: ZoneDays, dialect: str):
    """The local day of a time inside the period, NULL outside it (the callers know which side)."""
    return case(((column >= span.start) & (column < span.end), span.day_of(column, dialect)))


def _entries(shop_id: int, span: ZoneDays, dialect: str):
    # The kind as plain text: a kind this checkout has no EntryKind for still reads (imports).
    kind = type_coerce(ENTRIES.c.kind, String)
    day = _in_period(ENTRIES.c.created_at, span, dialect).label("day")
    moved = select(day, kind.label("kind"), ENTRIES.c.delta).where(
        ENTRIES.c.shop_id == shop_id, ENTRIES.c.created_at >= span.start).subquery()
    return _tagged("entries", moved.c.day, NO_DAY, moved.c.kind, func.sum(moved.c.delta)) \
        .group_by(moved.c.day, moved.c.kind)


def _members(shop_id: int):
    held = func.coalesce(func.sum(MEMBERS.c.balance + MEMBERS.c.pending), 0)
    return _tagged("members", NO_DAY, NO_DAY, null(), held).where(MEMBERS.c.shop_id == shop_id)


def _pending(shop_id: int, span: ZoneDays, dialect: str):
    """The lots pending at some day's end of the period, by (credit day, release day), and
    their uses while pending by (use day, release day); NULL days lie outside the period."""
    released = func.coalesce(LOTS.c.released_at, LOTS.c.pending_until)
    lots = select(
        _in_period(LOTS.c.credited_at, span, dialect).label("credited"),
        _in_period(released, span, dialect).label("released"), LOTS.c.id, LOTS.c.amount, released.label("until"),
    ).where(
        LOTS.c.shop_id == shop_id, (LOTS.c.released_at >= span.start) | (LOTS.c.pending_until >= span.start),
        LOTS.c.credited_at.is_(None) | (LOTS.c.credited_at < span.end),
    ).subquery()
    by_lot = _tagged("lots", lots.c.credited, lots.c.released, null(), func.sum(lots.c.amount)) \
        .group_by(lots.c.credited, lots.c.released)
    use = ENTRIES.alias("use")
    used = select(_in_period(use.c.created_at, span, dialect).label("used"), lots.c.released, USES.c.points) \
        .join(USES, USES.c.lot_id == lots.c.id).join(use, use.c.id == USES.c.entry_id) \
        .where(use.c.created_at < lots.c.until, use.c.created_at < span.end).subquery()
    by_use = _tagged("uses", used.c.used, used.c.released, null(), func.sum(used.c.points)) \
        .group_by(used.c.used, used.c.released)
    return by_lot, by_use


def row_fields() -> list[str]:
    return [item.name for item in fields(Row)]


def money_per_point(session: Session, shop_id: int) -> tuple[Decimal, int] | None:
    """(value, points_cost) of the active amount-off or store-credit reward whose points buy
    the most money, compared exactly (as fractions); None without one. Few rows: read here."""
    offers = session.execute(select(REWARDS.c.value, REWARDS.c.points_cost).where(
        REWARDS.c.shop_id == shop_id, type_coerce(REWARDS.c.kind, String).in_(VALUED_KINDS),
        REWARDS.c.active.is_(True), REWARDS.c.deleted_at.is_(None), REWARDS.c.points_cost > 0)).all()
    return max(((value, cost) for value, cost in offers), key=lambda offer: Fraction(offer[0]) / offer[1],
               default=None)


def closing_value(row: Row, rate: tuple[Decimal, int] | None) -> Decimal | None:
    """The row's closing points in money, to the cent (half up); None without a rate."""
    if rate is None:
        return None
    value, cost = rate
    return (row.closing * value / cost).quantize(CENT, ROUND_HALF_UP)
