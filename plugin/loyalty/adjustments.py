"""A merchant's manual change of a member's points, and undoing one.

A slip of the keyboard must not cost a shop its figures: an adjustment that would take the
balance below zero, or that moves more than CONFIRM_OVER points either way, is made only
when the request confirms it (the panel asks first). Any adjustment can be undone by a
reversing entry (plugin/loyalty/ledger/bonuses.py), never by editing history, and the
lifetime figure comes back to what it was.
"""
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.loyalty.fields import InvalidFields, flag, text
from plugin.loyalty.ledger.bonuses import adjust_points, reverse_adjustment
from plugin.models import Member

MAX_ADJUSTMENT = 1_000_000
CONFIRM_OVER = 10_000


class NeedsConfirmation(Exception):
    """The adjustment was not made: it must be confirmed, for `risks`."""

    def __init__(self, risks: list[str]):
        super().__init__("; ".join(risks))
        self.risks = risks


def parse_adjustment(body) -> tuple[int, str, bool]:
    """`{"points": int, "reason": str, "confirm"?: bool}`; InvalidFields names bad fields."""
    if not isinstance(body, dict):
        raise InvalidFields({"_body": "must be a JSON object with points and reason"})
    errors = {}
    points, reason, confirmed = body.get("points"), body.get("reason"), False
    if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > MAX_ADJUSTMENT:
        errors["points"] = f"must be a whole number of points, not 0, at most {MAX_ADJUSTMENT} either way"
    try:
        reason = text(reason, 500, "is required: say why, in up to 500 characters")
    except ValueError as problem:
        errors["reason"] = str(problem)
    try:
        confirmed = flag(body.get("confirm", False))
    except ValueError as problem:
        errors["confirm"] = str(problem)
    if errors:
        raise InvalidFields(errors)
    return points, reason, confirmed


def adjust(session: Session, shop_id: int, member_id: int, points: int, reason: str, confirmed: bool) -> int:
    """Make the adjustment, or raise NeedsConfirmation and write nothing; returns the entry's id.

    The balance is read under the member's row lock, so the check and the entry agree.
    """
    balance = session.scalar(select(Member.balance).where(Member.id == member_id, Member.shop_id == shop_id)
                             .with_for_update())
    risks = adjustment_risks(balance, points)
    if risks and not confirmed:
        raise NeedsConfirmation(risks)
    return adjust_points(session, shop_id, member_id, points, reason)


def adjustment_risks(balance: int, points: int) -> list[str]:
    """Why an adjustment of `points` to `balance` must be confirmed (none: it need not be)."""
    risks = []
    if balance + points < 0:
        risks.append(f"it would take the balance from {balance:,} to {balance + points:,} points, below zero")
    if abs(points) > CONFIRM_OVER:
        risks.append(f"it moves {abs(points):,} points, more than {CONFIRM_OVER:,}")
    return risks


def undo_adjustment(session: Session, shop_id: int, member_id: int, entry_id: int) -> int:
    """Reverse one of the member's adjustments, once (NotReversible otherwise); returns the entry's id."""
    return reverse_adjustment(session, shop_id, member_id, entry_id, f"Adjustment {entry_id} undone")
