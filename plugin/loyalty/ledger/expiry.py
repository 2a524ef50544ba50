"""Pending points released and points expired: the set-based ledger steps the tick runs.

`fifo` expires what is left of lots earned before a cut-off; `inactivity` expires the
whole balance of members idle since before one. Each expiry is one entry per member,
written for all of a shop's members in one insert.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for
from plugin.loyalty.ledger.lots import LOTS
from plugin.loyalty.ledger.posting import ENTRIES, MEMBERS, entry_row
from plugin.models import EntryKind


def release_pending(session: Session, now: datetime) -> int:
    """Pending points whose window has closed become spendable, for every shop at once:
    two set-based statements, whatever the number of members. Returns the members released."""
    due = LOTS.c.pending_until <= now
    released = select(func.coalesce(func.sum(LOTS.c.remaining), 0)).where(
        LOTS.c.member_id == MEMBERS.c.id, due).scalar_subquery()
    moved = session.execute(update(MEMBERS).where(MEMBERS.c.id.in_(select(LOTS.c.member_id).where(due)))
                            .values(pending=MEMBERS.c.pending - released, balance=MEMBERS.c.balance + released)
                            .execution_options(synchronize_session=False)).rowcount
    # released_at: the liability statement's pending points at the end of each past day.
    session.execute(update(LOTS).where(due).values(pending_until=None, released_at=now)
                    .execution_options(synchronize_session=False))
    return moved



@dataclass(frozen=True)
class Expired:
    """One member's expiry entry, as the tick records its `points_expired` event."""

    member_id: int
    customer_id: int
    source_id: str
    points: int



def expire_lots(session: Session, shop_id: int, earned_before: datetime, now: datetime,
                describe) -> list[Expired]:
    """`fifo`: what is left of every spendable lot earned before `earned_before` expires, in
    one `expiry` entry per member (`describe(first_earned_at, last_earned_at, points)` says
    when the points were earned). Never more than the member's balance: a balance that
    reversals took below its lots does not expire twice."""
    due = (LOTS.c.shop_id == shop_id) & LOTS.c.pending_until.is_(None) & (LOTS.c.remaining > 0) \
        & (LOTS.c.earned_at < earned_before)
    _lock_members(session, select(LOTS.c.member_id).where(due))
    rows = session.execute(select(
        LOTS.c.member_id, MEMBERS.c.customer_id, MEMBERS.c.balance, func.sum(LOTS.c.remaining).label("left"),
        func.min(LOTS.c.earned_at).label("first"), func.max(LOTS.c.earned_at).label("last"),
        newest_entry(LOTS.c.member_id).label("newest"), later_lots(earned_before).label("later"),
    ).join(MEMBERS, MEMBERS.c.id == LOTS.c.member_id).where(due)
        .group_by(LOTS.c.member_id, MEMBERS.c.customer_id, MEMBERS.c.balance)).all()
    # int(): PostgreSQL sums a bigint column as numeric.
    expired = [Expired(row.member_id, row.customer_id, f"fifo:{row.member_id}:{row.newest}",
                       due_points(int(row.left), row.balance, int(row.later))) for row in rows]
    reasons = {e.member_id: describe(row.first, row.last, e.points) for e, row in zip(expired, rows)}
    _post_expiries(session, shop_id, [e for e in expired if e.points > 0], reasons, now)
    _empty_lots(session, due, {e.member_id: int(row.left) - e.points for e, row in zip(expired, rows)})
    return [e for e in expired if e.points > 0]



def newest_entry(member):
    """The member's newest entry id: an expiry's key. Every expiry writes an entry, so the
    next one of the same member has a key of its own. (The newest due lot's id was the key
    once; points a lapsed code returns to an expired lot made that lot due again under the
    same key, and the tick failed on the unique key at every run, for every shop.)"""
    return select(func.max(ENTRIES.c.id)).where(ENTRIES.c.member_id == member).scalar_subquery()



def later_lots(earned_before):
    """A member's spendable points in lots earned at or after `earned_before` (not due yet),
    correlated to the member of the enclosing query's lot row."""
    later = LOTS.alias("later")
    return select(func.coalesce(func.sum(later.c.remaining), 0)).where(
        later.c.member_id == LOTS.c.member_id, later.c.pending_until.is_(None), later.c.remaining > 0,
        later.c.earned_at >= earned_before).scalar_subquery()



def due_points(left: int, balance: int, later: int) -> int:
    """What of `left` due points really expires. Lots hold more than the balance when a
    reversal took points its lots no longer had (a debt: the order's points were spent);
    like any spending, that debt uses up the OLDEST points, so only the part of the balance
    that the lots not due yet (`later`) cannot explain is due. `min(left, balance)` alone
    made a debt paid by old points expire the newest ones at the old points' date."""
    return min(left, max(balance - later, 0))



def expire_inactive(session: Session, shop_id: int, active_before: datetime, now: datetime,
                    reason: str) -> list[Expired]:
    """`inactivity`: members with no earning or redeeming since before `active_before` lose
    their whole positive balance, in one `expiry` entry each."""
    idle = (MEMBERS.c.shop_id == shop_id) & (MEMBERS.c.balance > 0) \
        & (func.coalesce(MEMBERS.c.last_activity_at, MEMBERS.c.created_at) < active_before)
    _lock_members(session, select(MEMBERS.c.id).where(idle))
    newest = select(func.max(ENTRIES.c.id)).where(ENTRIES.c.member_id == MEMBERS.c.id).scalar_subquery()
    rows = session.execute(select(MEMBERS.c.id, MEMBERS.c.customer_id, MEMBERS.c.balance, newest.label("newest"))
                           .where(idle)).all()
    expired = [Expired(row.id, row.customer_id, f"inactive:{row.id}:{row.newest}", row.balance) for row in rows]
    _post_expiries(session, shop_id, expired, {e.member_id: reason.format(points=e.points) for e in expired}, now)
    due = LOTS.c.member_id.in_([e.member_id for e in expired]) & LOTS.c.pending_until.is_(None) \
        & (LOTS.c.remaining > 0)
    held = dict(session.execute(select(LOTS.c.member_id, func.sum(LOTS.c.remaining)).where(due)
                                .group_by(LOTS.c.member_id)).all())
    _empty_lots(session, due, {e.member_id: int(held.get(e.member_id, 0)) - e.points for e in expired})
    return expired



def _empty_lots(session: Session, due, unexpired: dict[int, int]) -> None:
    """Empty the due lots, counting what they held as expired, except `unexpired` points per
    member: what the lots held beyond the member's expiry entry, a debt that the oldest of
    them paid (due_points). Those count as used, not expired, so a refund of their order
    still takes its points back (_take_back does not take again what expiry took). Set-based
    for members whose lots all expired (the usual case), lot by lot for the few others."""
    owing = {member: points for member, points in unexpired.items() if points > 0}
    whole = due if not owing else due & LOTS.c.member_id.not_in(list(owing))
    session.execute(update(LOTS).where(whole).values(expired=LOTS.c.expired + LOTS.c.remaining, remaining=0)
                    .execution_options(synchronize_session=False))
    for member, debt in sorted(owing.items()):
        lots = session.execute(select(LOTS.c.id, LOTS.c.remaining).where(due, LOTS.c.member_id == member)
                               .order_by(LOTS.c.earned_at, LOTS.c.id)).all()
        for lot in lots:
            paid = min(lot.remaining, debt)
            debt -= paid
            session.execute(update(LOTS).where(LOTS.c.id == lot.id).values(
                expired=LOTS.c.expired + lot.remaining - paid, remaining=0).execution_options(synchronize_session=False))



def _lock_members(session: Session, ids) -> None:
    """Lock the members an expiry reads balances from, in id order, so a redemption cannot
    spend between the read and the entry (SQLite's BEGIN IMMEDIATE holds the whole database)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(MEMBERS.c.id).where(MEMBERS.c.id.in_(ids)).order_by(MEMBERS.c.id).with_for_update())



def _post_expiries(session: Session, shop_id: int, expired: list[Expired], reasons: dict[int, str],
                   now: datetime) -> None:
    """The expiry entries (one multi-row insert), then the members' balances from those
    entries (one UPDATE): set-based however many members expire."""
    if not expired:
        return
    ids = session.scalars(insert_for(session, ENTRIES).returning(ENTRIES.c.id), [
        {**entry_row(shop_id, e.member_id, -e.points, EntryKind.EXPIRY, e.source_id, reasons[e.member_id]),
         "created_at": now} for e in expired]).all()
    # This insert's entries only (an earlier tick at the same `now` wrote entries with the same
    # time): expiry entries are written by the tick alone, one at a time, so its id range is its own.
    mine = (ENTRIES.c.kind == EntryKind.EXPIRY) & ENTRIES.c.id.between(min(ids), max(ids))
    # Per member through ix_ledger_entries_member (member_id, id): a handful of rows each.
    taken = select(func.sum(ENTRIES.c.delta)).where(ENTRIES.c.member_id == MEMBERS.c.id, mine).scalar_subquery()
    session.execute(update(MEMBERS).where(MEMBERS.c.id.in_(select(ENTRIES.c.member_id).where(mine)))
                    .values(balance=MEMBERS.c.balance + taken).execution_options(synchronize_session=False))
