"""Two members become one (customers/merge): the merged member's points join the kept one's.

The ledger is append-only, so the merged member's history stays where it was written, and
one entry on each side says what moved: `merge_out` takes the merged member's balance and
pending points to zero, `merge_in` gives the kept member the same (both keyed by the
merged customer's id, so a replayed merge writes nothing). The lots move with their
points, keeping their dates, their pending windows and their orders: expiry, the release
of pending points and a later refund of one of the merged member's orders treat them
exactly as before. Lifetime points move too; `verify-ledger` reckons a member's lifetime
from its own entries and those of the members merged into it (`members.merged_into_id`),
and a member merged away holds none.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for
from plugin.loyalty.bounds import check_member_points
from plugin.loyalty.ledger.lots import LOTS
from plugin.loyalty.ledger.posting import ENTRIES, MEMBERS, entry_row
from plugin.models import EntryKind


@dataclass(frozen=True)
class Moved:
    """What a merge moved from the merged member to the kept one."""

    balance: int
    pending: int
    lifetime: int


def fold_member(session: Session, shop_id: int, kept_id: int, gone_id: int, now: datetime) -> Moved | None:
    """Move everything the member `gone_id` holds to `kept_id`; None if it was merged before.

    Both rows are locked first, in customer-id order (the order in which order batches lock
    members: plugin/loyalty/ledger/orders.py), so an order
    crediting either member waits for the merge or is waited for, and never lands between.
    """
    rows = {row.id: row for row in session.execute(
        select(MEMBERS.c.id, MEMBERS.c.customer_id, MEMBERS.c.balance, MEMBERS.c.pending,
               MEMBERS.c.lifetime_earned, MEMBERS.c.merged_into_id, MEMBERS.c.last_activity_at)
        .where(MEMBERS.c.id.in_([kept_id, gone_id])).order_by(MEMBERS.c.customer_id).with_for_update())}
    gone, kept = rows[gone_id], rows[kept_id]
    if gone.merged_into_id is not None:
        return None
    moved = Moved(gone.balance, gone.pending, gone.lifetime_earned)
    total, source = moved.balance + moved.pending, str(gone.customer_id)
    if total:  # an entry never moves nothing (delta <> 0): a merge of an empty account has none
        reason = f"Customer {gone.customer_id} merged into customer {kept.customer_id}"
        session.execute(insert_for(session, ENTRIES).values([
            entry_row(shop_id, gone_id, -total, EntryKind.MERGE_OUT, source, reason),
            entry_row(shop_id, kept_id, total, EntryKind.MERGE_IN, source, reason)]))
    latest = gone.last_activity_at if kept.last_activity_at is None or (
        gone.last_activity_at is not None and gone.last_activity_at > kept.last_activity_at) else kept.last_activity_at
    check_member_points(kept.lifetime_earned + moved.lifetime)
    changes = {kept_id: dict(balance=MEMBERS.c.balance + moved.balance, pending=MEMBERS.c.pending + moved.pending,
                             lifetime_earned=MEMBERS.c.lifetime_earned + moved.lifetime, last_activity_at=latest),
               gone_id: dict(balance=0, pending=0, lifetime_earned=0, merged_into_id=kept_id, merged_at=now)}
    # In member-id order: a balance change marks the member's store_sync row (a trigger), and
    # the store sync job settles those rows in member-id order, so neither waits on the other
    # while holding what the other needs.
    for member in sorted(changes):
        session.execute(update(MEMBERS).where(MEMBERS.c.id == member).values(**changes[member]))
    # Members merged into `gone` before now belong to `kept`: one step always reaches the live account.
    session.execute(update(MEMBERS).where(MEMBERS.c.merged_into_id == gone_id).values(merged_into_id=kept_id))
    session.execute(update(LOTS).where(LOTS.c.member_id == gone_id).values(member_id=kept_id))
    return moved


def owner():
    """The member an entry's lifetime points belong to: the one its member was merged into, if any."""
    return case((MEMBERS.c.merged_into_id.is_not(None), MEMBERS.c.merged_into_id), else_=MEMBERS.c.id)

