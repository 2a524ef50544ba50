"""Moving members between tiers: one bulk UPDATE and one multi-row event insert per batch.

Every move records a `tier_changed` event keyed by the member's change counter
(`members.tier_changes`), so a move is told exactly once and a re-run that moves nobody
records nothing. The UPDATE only moves a member still holding the tier the caller read, so
an order batch and a tick that read the same member cannot both move it.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from plugin.loyalty.events.member_events import record_events
from plugin.loyalty.tiers.ladder import Ladder
from plugin.models import Member, MemberEventKind

MEMBERS = Member.__table__


@dataclass(frozen=True)
class Move:
    member_id: int
    customer_id: int
    changes: int  # the member's tier_changes when read
    from_id: int | None
    to_id: int | None
    at: datetime


def move_members(session: Session, shop_id: int, ladder: Ladder, moves: list[Move]) -> int:
    """Apply the moves and record their events; returns how many members moved."""
    # By member (a stable sort keeps one member's successive moves in order): concurrent
    # writers lock the rows they share in the same order.
    moves = sorted((m for m in moves if m.from_id != m.to_id), key=lambda m: m.member_id)
    if not moves:
        return 0
    session.execute(update(MEMBERS).where(MEMBERS.c.id == bindparam("m_id"),
                                          MEMBERS.c.tier_changes == bindparam("seen"))
                    .values(tier_id=bindparam("to_id"), tier_since=bindparam("at"),
                            tier_changes=MEMBERS.c.tier_changes + 1),
                    [dict(m_id=m.member_id, seen=m.changes, to_id=m.to_id, at=m.at) for m in moves])
    record_events(session, shop_id, MemberEventKind.TIER_CHANGED, [
        (m.member_id, m.customer_id, f"{m.member_id}:{m.changes + 1}", _event(ladder, m)) for m in moves])
    return len(moves)


def _event(ladder: Ladder, move: Move) -> dict:
    up = ladder.rank(move.to_id) > ladder.rank(move.from_id)
    return {"from": ladder.name(move.from_id), "to": ladder.name(move.to_id), "direction": "up" if up else "down",
            "at": move.at.isoformat()}
