"""Shopify Flow's "Adjust points" action: a workflow's adjustment, applied once per run.

Flow posts each run to the action's runtime_url (webhooks/flow.py verifies and reads it) and
may post the same run again (a timeout, a 5xx): `action_run_id` is the idempotency key. The
run is claimed by inserting its row first, in the transaction that makes the adjustment, so
of two copies arriving together one waits on the other's unique key and then finds its
answer; a run that was answered is answered again, word for word, and nothing moves twice.

The adjustment is the merchant's own (plugin/loyalty/adjustments.py): the same limits, the
same entry kind, the reason prefixed "Shopify Flow". A workflow cannot confirm a risky
adjustment (below zero, over 10,000 points), so those are refused with the risks named;
the refusal is kept too, so a replay is refused alike. Nothing here calls the platform:
the answer comes from the database alone, well inside Flow's time limit.
"""
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.loyalty.adjustments import NeedsConfirmation, adjust, parse_adjustment
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.members import ensure_member, get_member
from plugin.models import FlowActionRun
from plugin.shopify.flow import ActionRun, customer_number

ADJUST_POINTS = "loyalty-adjust-points"
RUNS = FlowActionRun.__table__
DEFAULT_REASON = "a workflow"


class ActionRefused(Exception):
    """The run is refused with this answer; whatever it wrote must be rolled back."""

    def __init__(self, status: int, answer: dict):
        super().__init__(answer.get("error", "refused"))
        self.status, self.answer = status, answer


def apply_adjust_points(session: Session, shop_id: int, run: ActionRun) -> tuple[int, dict]:
    """(HTTP status, answer) for one run: applied now, or the answer given to it before.

    Raises ActionRefused for a run that must change nothing (bad fields, a risky adjustment);
    the caller rolls back and keeps the refusal with `record_refusal`."""
    if not _claim(session, shop_id, run):
        return _answer_given(session, shop_id, run.run_id)
    customer_id, points, reason = _fields(run.properties)
    member_id = ensure_member(session, shop_id, customer_id)
    try:
        entry_id = adjust(session, shop_id, member_id, points, reason, confirmed=False)
    except NeedsConfirmation as risky:
        raise ActionRefused(422, {"error": "Flow cannot confirm this adjustment, so it was not made",
                                  "risks": risky.risks}) from None
    balance = get_member(session, shop_id, customer_id).balance
    answer = {"status": "applied", "customer_id": str(customer_id), "points": points, "balance": balance,
              "entry_id": entry_id}
    session.execute(update(RUNS).where(RUNS.c.shop_id == shop_id, RUNS.c.action_run_id == run.run_id)
                    .values(status=200, answer=answer, entry_id=entry_id))
    return 200, answer


def record_refusal(session: Session, shop_id: int, run: ActionRun, refused: ActionRefused) -> tuple[int, dict]:
    """Keep a refusal (unless the run was answered meanwhile) and return the run's answer."""
    session.execute(insert_for(session, RUNS).values(
        shop_id=shop_id, action_run_id=run.run_id, handle=ADJUST_POINTS, status=refused.status,
        answer=refused.answer, created_at=utcnow()).on_conflict_do_nothing())
    return _answer_given(session, shop_id, run.run_id)


def _claim(session: Session, shop_id: int, run: ActionRun) -> bool:
    """Insert the run's row (answer to come); False if the run was answered before."""
    return session.execute(insert_for(session, RUNS).values(
        shop_id=shop_id, action_run_id=run.run_id, handle=ADJUST_POINTS, status=202, answer={},
        created_at=utcnow()).on_conflict_do_nothing().returning(RUNS.c.id)).first() is not None


def _answer_given(session: Session, shop_id: int, run_id: str) -> tuple[int, dict]:
    row = session.execute(select(RUNS.c.status, RUNS.c.answer).where(
        RUNS.c.shop_id == shop_id, RUNS.c.action_run_id == run_id)).one()
    return row.status, {**row.answer, "replayed": True}


def _fields(properties: dict) -> tuple[int, int, str]:
    """(customer id, points, reason) from the action's properties, or ActionRefused naming the bad ones."""
    errors = {}
    customer_id = customer_number(properties.get("customer_id"))
    if customer_id is None:
        errors["customer_id"] = "must be the customer Flow refers to (a customer id)"
    points = properties.get("points")
    points = _whole(points)
    reason = properties.get("reason")
    reason = reason.strip() if isinstance(reason, str) and reason.strip() else DEFAULT_REASON
    try:
        points, reason, _ = parse_adjustment({"points": points, "reason": f"Shopify Flow: {reason}"[:500]})
    except InvalidFields as invalid:
        errors.update(invalid.fields)
    if errors:
        raise ActionRefused(422, {"error": "invalid properties", "fields": errors})
    return customer_id, points, reason


def _whole(value):
    """The action's `points` is a decimal field (Flow has no integer one): 25, 25.0 and "25"
    are 25; anything else is left for parse_adjustment to refuse."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value
