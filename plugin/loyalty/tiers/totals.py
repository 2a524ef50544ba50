"""What each member's orders count toward tiers, kept exact beside the ledger's order entries.

An order counts on its business day (its own time, read in the shop's zone): its award's
points and its eligible amount are added to the member's day row and year row in the same
transaction as the award entry; each refund or cancellation subtracts, on the ORDER's day,
the points it took back and the money it refunded (never more than the order still counts,
`orders.tier_amount_micros`). So the figures follow the ledger whatever the order of
arrival, and a replay (which moves no points) moves no figure. A batch of orders is booked
with three statements whatever its size.

Windows read few rows: `lifetime` sums a member's year rows, `calendar_year` takes the
higher of this year's and last year's, `rolling_12_months` sums the day rows of the last
365 days. `verify-ledger` checks the day rows against the entries and orders they
summarise, and the year rows against the day rows (`verify_totals`).
"""
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, delete, func, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.loyalty.bounds import MAX_MEMBER_MICROS
from plugin.loyalty.earning.engine import Award
from plugin.loyalty.earning.rules import OrderFacts
from plugin.loyalty.shop_facts import business_zone
from plugin.loyalty.tiers.ladder import micros
from plugin.models import EntryKind, LedgerEntry, Member, MemberTierTotal, OrderRecord, Shop

TOTALS = MemberTierTotal.__table__
ORDERS = OrderRecord.__table__
ENTRIES = LedgerEntry.__table__
MEMBERS = Member.__table__
ORDER_KINDS = (EntryKind.ORDER_AWARD, EntryKind.REFUND_REVERSAL, EntryKind.CANCEL_REVERSAL)


def shop_zone(session: Session, shop_id: int):
    return business_zone(session.scalar(select(Shop.iana_timezone).where(Shop.id == shop_id)))


def business_day(moment: datetime, zone) -> date:
    return moment.astimezone(zone).date()


def book_orders(session: Session, shop_id: int, orders: list[OrderFacts], priced: dict[int, Award],
                owners: dict[int, int], counted: dict[int, int] | None = None) -> None:
    """Count newly credited orders toward their members' tiers (called by the ledger, which
    stored each order's `tier_day` and `tier_amount_micros` with it). `counted`: each member's
    amount so far, if the caller read it after locking the members (else read here)."""
    counting = [o for o in orders if priced[o.order_id].points or priced[o.order_id].eligible]
    if not counting:
        return
    days = {o.order_id: o.business_day for o in counting}
    if None in days.values():  # a caller that did not know the shop's zone (the handler always does)
        zone = shop_zone(session, shop_id)
        days = {o.order_id: o.business_day or business_day(o.business_time or o.paid_at or utcnow(), zone)
                for o in counting}
        session.execute(update(ORDERS).where(ORDERS.c.shop_id == shop_id, ORDERS.c.order_id.in_(list(days)))
                        .values(tier_day=case(days, value=ORDERS.c.order_id)))
    amounts = _within_bound(session, shop_id, counting, priced, owners, counted)
    changes = defaultdict(lambda: [0, 0])
    for order in counting:
        _add(changes, owners[order.customer_id], days[order.order_id], priced[order.order_id].points,
             amounts[order.order_id])
    _write(session, shop_id, changes)


def _within_bound(session: Session, shop_id: int, orders: list[OrderFacts], priced: dict[int, Award],
                  owners: dict[int, int], counted: dict[int, int] | None) -> dict[int, int]:
    """Each order's amount in millionths as it counts: no more than its member has left under
    MAX_MEMBER_MICROS (plugin/loyalty/bounds.py). The member rows are locked (by the credit, or
    before `counted` was read) before their totals are read. An order cut short (a member past
    10**12 of the shop's currency) has its `tier_amount_micros` corrected, so a refund gives
    back what it counted."""
    members = {owners[order.customer_id] for order in orders}
    if counted is not None and members <= set(counted):
        so_far = defaultdict(int, {member: counted[member] for member in members})
    else:
        so_far = defaultdict(int, {row.member_id: int(row.amount or 0) for row in session.execute(
            select(TOTALS.c.member_id, func.sum(TOTALS.c.amount_micros).label("amount"))
            .where(TOTALS.c.member_id.in_(members), TOTALS.c.grain == "year").group_by(TOTALS.c.member_id))})
    amounts = {}
    for order in orders:
        member, wanted = owners[order.customer_id], micros(priced[order.order_id].eligible)
        amounts[order.order_id] = max(min(wanted, MAX_MEMBER_MICROS - so_far[member]), 0)
        so_far[member] += amounts[order.order_id]
        if amounts[order.order_id] != wanted:
            session.execute(update(ORDERS).where(ORDERS.c.shop_id == shop_id, ORDERS.c.order_id == order.order_id)
                            .values(tier_amount_micros=amounts[order.order_id]))
    return amounts


def book_reversal(session: Session, shop_id: int, record, points: int, refunded) -> int:
    """A refund (`refunded` money) or a cancellation (`refunded` None: all) of a counted order,
    which took `points` back; returns `points`, so the ledger can hand its answer through."""
    if record.tier_day is None or record.customer_id is None:
        return points  # an order that never counted (no customer, or awarded before tiers existed)
    member_id = session.scalar(select(MEMBERS.c.id).where(MEMBERS.c.shop_id == shop_id,
                                                          MEMBERS.c.customer_id == record.customer_id))
    left = session.scalar(select(ORDERS.c.tier_amount_micros).where(ORDERS.c.id == record.id)) or 0
    amount = left if refunded is None else min(left, micros(refunded))
    if amount:
        session.execute(update(ORDERS).where(ORDERS.c.id == record.id)
                        .values(tier_amount_micros=ORDERS.c.tier_amount_micros - amount))
    if points or amount:
        changes = defaultdict(lambda: [0, 0])
        _add(changes, member_id, record.tier_day, -points, -amount)
        _write(session, shop_id, changes)
    return points


def _add(changes: dict, member_id: int, day: date, points: int, amount: int) -> None:
    for key in ((member_id, "year", date(day.year, 1, 1)), (member_id, "day", day)):
        changes[key][0] += points
        changes[key][1] += amount


def fold_totals(session: Session, shop_id: int, kept_id: int, gone_id: int) -> None:
    """customers/merge: the merged member's figures are added to the kept member's, day by day
    and year by year, and leave the merged member (plugin/loyalty/merges.py)."""
    rows = session.execute(select(TOTALS.c.grain, TOTALS.c.starts_on, TOTALS.c.points, TOTALS.c.amount_micros)
                           .where(TOTALS.c.member_id == gone_id)).all()
    if not rows:
        return
    changes = {(kept_id, row.grain, row.starts_on): [row.points, row.amount_micros] for row in rows}
    session.execute(delete(TOTALS).where(TOTALS.c.member_id == gone_id))
    _write(session, shop_id, changes)


def _write(session: Session, shop_id: int, changes: dict) -> None:
    # Rows in key order, so concurrent batches lock the rows they share in the same order.
    rows = [dict(member_id=member, shop_id=shop_id, grain=grain, starts_on=day, year=day.year, points=points,
                 amount_micros=amount) for (member, grain, day), (points, amount) in sorted(changes.items())]
    stmt = insert_for(session, TOTALS)
    stmt = stmt.on_conflict_do_update(index_elements=["member_id", "grain", "starts_on"], set_={
        "points": TOTALS.c.points + stmt.excluded.points,
        "amount_micros": TOTALS.c.amount_micros + stmt.excluded.amount_micros})
    # RETURNING makes SQLAlchemy send the rows as multi-row statements ("insertmanyvalues");
    # the keys are unique (summed above), as one multi-row upsert requires.
    session.execute(stmt.returning(TOTALS.c.member_id), rows).all()


def qualifying_query(shop_id: int, basis: str, window: str, today: date, member_ids=None):
    """(member_id, qualifying) for members with figures in the window, in one grouped query."""
    column = TOTALS.c.points if basis == "points_earned" else TOTALS.c.amount_micros
    where = [TOTALS.c.shop_id == shop_id]
    if member_ids is not None:
        where.append(TOTALS.c.member_id.in_(member_ids))
    if window == "lifetime":
        where.append(TOTALS.c.grain == "year")
        figure = func.sum(column)
    elif window == "calendar_year":  # status reached in a year lasts through the next one
        where += [TOTALS.c.grain == "year", TOTALS.c.year.in_([today.year - 1, today.year])]
        figure = func.max(column)
    else:
        where += [TOTALS.c.grain == "day", TOTALS.c.starts_on > today - timedelta(days=365),
                  TOTALS.c.starts_on <= today]
        figure = func.sum(column)
    return select(TOTALS.c.member_id, figure.label("qualifying")).where(*where).group_by(TOTALS.c.member_id)


def qualifying(session: Session, shop_id: int, basis: str, window: str, today: date, member_ids) -> dict[int, int]:
    if not member_ids:
        return {}
    rows = session.execute(qualifying_query(shop_id, basis, window, today, list(member_ids))).all()
    return {row.member_id: max(int(row.qualifying or 0), 0) for row in rows}


def verify_totals(session: Session, shop_id: int | None = None) -> list[dict]:
    """Figures that differ from what they summarise: day rows against the order entries and
    orders of that member and day; year rows against their day rows. One shop's, or all
    (each problem names its shop: a member belongs to one, so grouping by it splits nothing)."""
    def of(table) -> list:
        return [] if shop_id is None else [table.c.shop_id == shop_id]

    # A merged member's entries count for the member it was merged into, as its figures do.
    owner = case((MEMBERS.c.merged_into_id.is_not(None), MEMBERS.c.merged_into_id), else_=MEMBERS.c.id)
    entries = (select(ENTRIES.c.shop_id, owner.label("member_id"), ORDERS.c.tier_day.label("day"),
                      func.sum(ENTRIES.c.delta).label("points"))
               .join(ORDERS, and_(ORDERS.c.shop_id == ENTRIES.c.shop_id, ORDERS.c.order_id == ENTRIES.c.order_id))
               .join(MEMBERS, MEMBERS.c.id == ENTRIES.c.member_id)
               .where(ENTRIES.c.kind.in_(ORDER_KINDS), ORDERS.c.tier_day.is_not(None), *of(ENTRIES))
               .group_by(ENTRIES.c.shop_id, owner, ORDERS.c.tier_day))
    money = (select(MEMBERS.c.shop_id, MEMBERS.c.id.label("member_id"), ORDERS.c.tier_day.label("day"),
                    func.sum(ORDERS.c.tier_amount_micros).label("amount"))
             .join(MEMBERS, and_(MEMBERS.c.shop_id == ORDERS.c.shop_id, MEMBERS.c.customer_id == ORDERS.c.customer_id))
             .where(ORDERS.c.tier_day.is_not(None), *of(ORDERS))
             .group_by(MEMBERS.c.shop_id, MEMBERS.c.id, ORDERS.c.tier_day))
    days = {(r.shop_id, r.member_id, r.starts_on): (r.points, r.amount_micros) for r in session.execute(
        select(TOTALS.c.shop_id, TOTALS.c.member_id, TOTALS.c.starts_on, TOTALS.c.points, TOTALS.c.amount_micros)
        .where(TOTALS.c.grain == "day", *of(TOTALS)))}
    expected = defaultdict(lambda: [0, 0])
    for row in session.execute(entries):
        expected[(row.shop_id, row.member_id, row.day)][0] = int(row.points)
    for row in session.execute(money):
        expected[(row.shop_id, row.member_id, row.day)][1] = int(row.amount or 0)
    problems = []
    for (s, m, d), want in expected.items():
        stored = list(days.get((s, m, d), (0, 0)))
        if stored != want:
            problems.append(dict(shop_id=s, member_id=m, day=d.isoformat(), figure="day", stored=stored,
                                 expected=want))
    problems += [dict(shop_id=s, member_id=m, day=d.isoformat(), figure="day", stored=list(have), expected=[0, 0])
                 for (s, m, d), have in days.items() if (s, m, d) not in expected and list(have) != [0, 0]]
    return problems + _verify_years(session, of(TOTALS))


def _verify_years(session: Session, of_shop: list) -> list[dict]:
    day_sums = (select(TOTALS.c.shop_id, TOTALS.c.member_id, TOTALS.c.year, func.sum(TOTALS.c.points).label("points"),
                       func.sum(TOTALS.c.amount_micros).label("amount"))
                .where(TOTALS.c.grain == "day", *of_shop).group_by(TOTALS.c.shop_id, TOTALS.c.member_id, TOTALS.c.year))
    sums = {(r.shop_id, r.member_id, r.year): [int(r.points), int(r.amount)] for r in session.execute(day_sums)}
    years = {(r.shop_id, r.member_id, r.year): [r.points, r.amount_micros] for r in session.execute(
        select(TOTALS.c.shop_id, TOTALS.c.member_id, TOTALS.c.year, TOTALS.c.points, TOTALS.c.amount_micros)
        .where(TOTALS.c.grain == "year", *of_shop))}
    zero = [0, 0]
    return [dict(shop_id=s, member_id=m, year=y, figure="year", stored=years.get((s, m, y), zero),
                 expected=sums.get((s, m, y), zero))
            for (s, m, y) in set(sums) | set(years) if years.get((s, m, y), zero) != sums.get((s, m, y), zero)]
