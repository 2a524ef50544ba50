"""Points brought from another loyalty app, and taken back when the import is reverted.

One `import` entry per row of the file, keyed `<import id>:<row>`, so applying an import
twice writes nothing the second time. A credit opens a lot dated by the file's `earned_at`
(or `created_at`), so expiry counts from when the points were really earned; a debit (a
history row that spent points) uses the oldest lots, like any spending. Imported points
were earned elsewhere: they are spendable at once (never pending) and do not count as
earned here (`lifetime_earned`, tiers), which a revert could otherwise leave inflated.

A revert writes one `import_reversal` entry per import entry, under the same key: a credit
loses what its own lot still holds (never more: points already spent stay spent), a debit
gives its points back to the lots it used. It locks the member row first, as a spend does
(its UPDATE), so a redemption and a revert of one member run one after the other.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.loyalty.ledger.lots import LOTS, USES, return_to_lots
from plugin.loyalty.ledger.posting import ENTRIES, MEMBERS, post
from plugin.models import EntryKind


def credit_import(session: Session, shop_id: int, member: int, points: int, key: str, reason: str,
                  earned_at: datetime | None) -> bool:
    """One imported row's points (a debit when negative), at most once per `key`."""
    if points == 0:
        return False
    return post(session, shop_id, member, points, EntryKind.IMPORT, key, reason, earned_at=earned_at)


@dataclass
class Reverted:
    taken: int = 0  # points taken back (net of debits given back)
    spent: int = 0  # imported points already spent, which stay spent


def revert_member_import(session: Session, shop_id: int, member: int, import_id: int, reason: str) -> Reverted:
    """Take back what this import gave one member, newest entry first; a second call finds
    every entry reversed already and moves nothing."""
    _lock_member(session, member)
    entries = session.execute(select(ENTRIES.c.id, ENTRIES.c.delta, ENTRIES.c.source_id).where(
        ENTRIES.c.member_id == member, ENTRIES.c.kind == EntryKind.IMPORT,
        ENTRIES.c.source_id.like(f"{import_id}:%")).order_by(ENTRIES.c.id.desc())).all()
    done = set(session.scalars(select(ENTRIES.c.source_id).where(
        ENTRIES.c.member_id == member, ENTRIES.c.kind == EntryKind.IMPORT_REVERSAL,
        ENTRIES.c.source_id.like(f"{import_id}:%"))))
    result = Reverted()
    for entry in entries:
        if entry.source_id not in done:
            _reverse(session, shop_id, member, entry, reason, result)
    return result


def _reverse(session: Session, shop_id: int, member: int, entry, reason: str, result: Reverted) -> None:
    if entry.delta < 0:  # a debit of the history: its points go back to the lots it used
        post(session, shop_id, member, -entry.delta, EntryKind.IMPORT_REVERSAL, entry.source_id, reason)
        back = session.scalar(select(ENTRIES.c.id).where(
            ENTRIES.c.shop_id == shop_id, ENTRIES.c.kind == EntryKind.IMPORT_REVERSAL,
            ENTRIES.c.source_id == entry.source_id))
        # Only what lots covered goes back to lots; the rest was a debt, which the balance alone carried.
        used = session.scalar(select(func.coalesce(func.sum(USES.c.points), 0)).where(USES.c.entry_id == entry.id))
        return_to_lots(session, member, shop_id, entry.id, back, int(used), utcnow())
        result.taken += entry.delta
        return
    lot = session.execute(select(LOTS.c.id, LOTS.c.remaining).where(LOTS.c.entry_id == entry.id)).one()
    result.spent += entry.delta - lot.remaining
    if lot.remaining > 0:
        post(session, shop_id, member, -lot.remaining, EntryKind.IMPORT_REVERSAL, entry.source_id, reason,
             own_lot=lot.id)
        result.taken += lot.remaining


def _lock_member(session: Session, member: int) -> None:
    """PostgreSQL: the member row, before reading lots (SQLite's BEGIN IMMEDIATE holds all)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(MEMBERS.c.id).where(MEMBERS.c.id == member).with_for_update())
