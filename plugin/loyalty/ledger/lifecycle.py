"""The points lifecycle's tick steps: pending points released, points expired, reminders sent.

Each step runs for every shop at `now` in one transaction (plugin/loyalty/tick.py) and is
idempotent: lots already released or expired, and reminders already recorded, are not
touched again. Balances move only through plugin/loyalty/ledger/expiry.py; this module decides
which shops, which cut-off instants (plugin/loyalty/ledger/expiry_dates.py) and what to tell members.
"""
from collections import defaultdict
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.loyalty.events.member_events import record_events
from plugin.loyalty.ledger import expiry as ledger
from plugin.loyalty.ledger.expiry_dates import cutoff, expiry_date, months_between
from plugin.loyalty.ledger.lots import LOTS
from plugin.loyalty.shop_facts import business_zone
from plugin.models import Member, MemberEventKind, Program, Shop

MEMBERS = Member.__table__
EXPIRING_POLICIES = ("inactivity", "fifo")


def release_pending(session: Session, now: datetime) -> int:
    return ledger.release_pending(session, now)


def expire_points(session: Session, now: datetime) -> int:
    """Every shop with an expiry policy: what has expired by today, in the shop's zone."""
    count = 0
    for program, zone in _expiring_programs(session):
        today = now.astimezone(zone).date()
        before = cutoff(today, program.expiry_months, zone)
        if program.expiry_policy == "fifo":
            expired = ledger.expire_lots(
                session, program.shop_id, before, now,
                lambda first, last, points: f"{points} points earned in {months_between(first, last, zone)} expired")
        else:
            expired = ledger.expire_inactive(
                session, program.shop_id, before, now,
                f"{{points}} points expired after {program.expiry_months} months without earning or redeeming")
        record_events(session, program.shop_id, MemberEventKind.POINTS_EXPIRED, [
            (e.member_id, e.customer_id, e.source_id, {"points": e.points}) for e in expired])
        count += len(expired)
    return count


def remind_expiring(session: Session, now: datetime) -> int:
    """A `points_expiring` event `expiry_reminder_days` before each expiry date, once per
    member and date: the points that will expire that day if nothing is spent."""
    count = 0
    for program, zone in _expiring_programs(session):
        if not program.expiry_reminder_days:
            continue
        today = now.astimezone(zone).date()
        window = (cutoff(today, program.expiry_months, zone),
                  cutoff(today + timedelta(days=program.expiry_reminder_days), program.expiry_months, zone))
        if program.expiry_policy == "fifo":
            due = _lots_expiring(session, program, zone, window)
        else:
            due = _members_expiring(session, program, zone, window)
        count += record_events(session, program.shop_id, MemberEventKind.POINTS_EXPIRING, [
            (member, customer, f"{member}:{day.isoformat()}", {"points": points, "expires_at": day.isoformat()})
            for (member, customer, day), points in sorted(due.items()) if points > 0])
    return count


def next_expiry(session: Session, program: Program, member: Member, zone: tzinfo) -> dict | None:
    """The member's next expiry: `{"points", "expires_at"}`, or None (no policy, nothing due)."""
    if program.expiry_policy not in EXPIRING_POLICIES or member.balance <= 0:
        return None
    if program.expiry_policy == "inactivity":
        day = expiry_date(member.last_activity_at or member.created_at, program.expiry_months, zone)
        return {"points": member.balance, "expires_at": day.isoformat()}
    lots = session.execute(select(LOTS.c.earned_at, LOTS.c.remaining).where(
        LOTS.c.member_id == member.id, LOTS.c.remaining > 0, LOTS.c.pending_until.is_(None))).all()
    by_day: dict[date, int] = defaultdict(int)
    for lot in lots:
        by_day[expiry_date(lot.earned_at, program.expiry_months, zone)] += lot.remaining
    due = {day: points for day, points in owed_last(by_day, member.balance, 0).items() if points > 0}
    if not due:
        return None
    day = min(due)
    return {"points": due[day], "expires_at": day.isoformat()}


def owed_last(by_day: dict[date, int], balance: int, later: int) -> dict[date, int]:
    """What will really expire on each date: a balance below its lots (a reversal took more,
    a debt) is owed from the oldest points, as the expiry reckons it (ledger.due_points), so
    each date expires what the balance has beyond the points of later dates (`later`: those
    past the dates given)."""
    owed = {}
    for day in sorted(by_day, reverse=True):
        owed[day] = ledger.due_points(by_day[day], balance, later)
        later += by_day[day]
    return owed


def _expiring_programs(session: Session) -> list[tuple[Program, tzinfo]]:
    rows = session.execute(select(Program, Shop.iana_timezone).join(Shop, Shop.id == Program.shop_id).where(
        Program.expiry_policy.in_(EXPIRING_POLICIES), Program.expiry_months.is_not(None),
        Shop.uninstalled_at.is_(None))).all()
    return [(program, business_zone(zone)) for program, zone in rows]


def _lots_expiring(session: Session, program: Program, zone: tzinfo,
                   window: tuple[datetime, datetime]) -> dict[tuple[int, int, date], int]:
    rows = session.execute(select(LOTS.c.member_id, MEMBERS.c.customer_id, MEMBERS.c.balance, LOTS.c.earned_at,
                                  LOTS.c.remaining, ledger.later_lots(window[1]).label("beyond"))
                           .join(MEMBERS, MEMBERS.c.id == LOTS.c.member_id).where(
        LOTS.c.shop_id == program.shop_id, LOTS.c.pending_until.is_(None), LOTS.c.remaining > 0,
        LOTS.c.earned_at >= window[0], LOTS.c.earned_at < window[1])).all()
    due: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    members = {}
    for row in rows:
        due[row.member_id][expiry_date(row.earned_at, program.expiry_months, zone)] += row.remaining
        members[row.member_id] = (row.customer_id, row.balance, int(row.beyond))
    return {(m, members[m][0], day): points for m, days in due.items()
            for day, points in owed_last(days, members[m][1], members[m][2]).items()}


def _members_expiring(session: Session, program: Program, zone: tzinfo,
                      window: tuple[datetime, datetime]) -> dict[tuple[int, int, date], int]:
    active = func.coalesce(MEMBERS.c.last_activity_at, MEMBERS.c.created_at)
    rows = session.execute(select(MEMBERS.c.id, MEMBERS.c.customer_id, MEMBERS.c.balance, active.label("active"))
                           .where(MEMBERS.c.shop_id == program.shop_id, MEMBERS.c.balance > 0,
                                  active >= window[0], active < window[1])).all()
    return {(row.id, row.customer_id, expiry_date(row.active, program.expiry_months, zone)): row.balance
            for row in rows}
