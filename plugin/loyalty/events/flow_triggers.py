"""Shopify Flow triggers: which member changes fire which trigger, owed in the same transaction.

The four triggers (extensions/loyalty-flow-*/shopify.extension.toml declare their fields):
- `loyalty-points-earned`: an order's award (plugin/loyalty/ledger/orders.py), a referral's
  points (`referral_completed`) and a birthday bonus (`birthday_bonus`). A merchant's
  adjustment is not "earned", which also keeps the "Adjust points" action from looping
  back into a workflow that started it;
- `loyalty-tier-changed` (`tier_changed`), `loyalty-points-expiring` (`points_expiring`),
  `loyalty-reward-redeemed` (`reward_issued`: the code was made).

`owe_for_events` runs inside `record_events` (plugin/loyalty/events/member_events.py), like the
deliveries to the merchant's endpoints: a call is owed exactly when its change commits, once
per (shop, trigger, change). Only triggers the shop uses are owed: Flow's lifecycle callbacks
(`record_usage`) say which ones have an enabled workflow. The calls go out after the commit
(plugin/loyalty/events/flow_sender.py), never inside a request or a webhook drain.
"""
import time
from datetime import datetime

from sqlalchemy import event as orm_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.db import insert_for, reading_session, utcnow
from plugin.models import FlowTrigger, FlowTriggerUsage, MemberEventKind, TriggerStatus
from plugin.queue import Flag, clear_flag, prefixed, request

POINTS_EARNED = "loyalty-points-earned"
TIER_CHANGED = "loyalty-tier-changed"
POINTS_EXPIRING = "loyalty-points-expiring"
REWARD_REDEEMED = "loyalty-reward-redeemed"
# The trigger's name in Flow, as its extension declares it: a lifecycle callback may name either.
TRIGGERS = {POINTS_EARNED: "Points earned", TIER_CHANGED: "Tier changed", POINTS_EXPIRING: "Points expiring",
            REWARD_REDEEMED: "Reward redeemed"}
FOR_KIND = {MemberEventKind.TIER_CHANGED: TIER_CHANGED, MemberEventKind.POINTS_EXPIRING: POINTS_EXPIRING,
            MemberEventKind.REWARD_ISSUED: REWARD_REDEEMED, MemberEventKind.REFERRAL_COMPLETED: POINTS_EARNED,
            MemberEventKind.BIRTHDAY_BONUS: POINTS_EARNED}
TRIGGER_ROWS = FlowTrigger.__table__
USAGE = FlowTriggerUsage.__table__
SEND_FLAG_SECONDS = 30
IDLE_SECONDS = 60.0


# --- what each change fires ----------------------------------------------------------------

def payload(kind: MemberEventKind, customer_id: int, data: dict) -> dict:
    """The trigger's payload for one member event: the fields its extension declares."""
    base = {"customer_id": customer_id}
    if kind is MemberEventKind.TIER_CHANGED:
        return {**base, "Previous tier": data.get("from") or "", "New tier": data.get("to") or "",
                "Direction": data.get("direction") or ""}
    if kind is MemberEventKind.POINTS_EXPIRING:
        return {**base, "Points": int(data.get("points") or 0), "Expires on": str(data.get("expires_at") or "")}
    if kind is MemberEventKind.REWARD_ISSUED:
        return {**base, "Redemption ID": str(data.get("redemption_id") or ""), "Discount code": data.get("code") or ""}
    source = "referral" if kind is MemberEventKind.REFERRAL_COMPLETED else "birthday"
    return {**base, "Points": int(data.get("points") or 0), "Source": source, "Order ID": ""}


def earned_by_order(customer_id: int, order_id: int, points: int) -> dict:
    return {"customer_id": customer_id, "Points": points, "Source": "order", "Order ID": str(order_id)}


def owe_for_events(session: Session, shop_id: int, kind: MemberEventKind,
                   events: list[tuple[int, str, dict]]) -> int:
    """The trigger calls new events owe: (customer id, event key, data) each."""
    handle = FOR_KIND.get(kind)
    if handle is None or not events:
        return 0
    return owe(session, shop_id, handle, [(f"{kind.value}:{key}", payload(kind, customer, data))
                                         for customer, key, data in events])


def owe_points_earned(session: Session, shop_id: int, awards: list[tuple[int, int, int]]) -> int:
    """`Points earned` for orders' awards: (customer id, order id, points) each."""
    return owe(session, shop_id, POINTS_EARNED, [(f"order:{order_id}", earned_by_order(customer, order_id, points))
                                                 for customer, order_id, points in awards if points > 0])


def owe(session: Session, shop_id: int, handle: str, calls: list[tuple[str, dict]]) -> int:
    """Owe one call per (key, payload) if the shop uses the trigger; a key owed before is skipped."""
    if not calls or handle not in used_triggers(session, shop_id):
        return 0
    rows = [dict(shop_id=shop_id, handle=handle, key=key[:160], payload=body, status=TriggerStatus.PENDING,
                 attempts=0, next_attempt_at=utcnow(), created_at=utcnow()) for key, body in calls]
    session.execute(insert_for(session, TRIGGER_ROWS).on_conflict_do_nothing(), rows)
    send_after_commit(session)
    return len(rows)


# --- which triggers a shop uses (Flow's lifecycle callbacks) --------------------------------

def used_triggers(session: Session, shop_id: int) -> set[str]:
    """The shop's triggers with an enabled workflow; read once per transaction."""
    # Kept per transaction: a lifecycle callback committed since must be seen by the next one.
    transaction_id, cache = session.info.get("loyalty_flow_triggers_used", (None, {}))
    if transaction_id != id(session.get_transaction()):
        transaction_id, cache = id(session.get_transaction()), {}
        session.info["loyalty_flow_triggers_used"] = (transaction_id, cache)
    if shop_id not in cache:
        cache[shop_id] = set(session.scalars(select(USAGE.c.handle).where(USAGE.c.shop_id == shop_id,
                                                                          USAGE.c.enabled.is_(True))))
    return cache[shop_id]


def trigger_handle(definition: str) -> str | None:
    """Our handle for what Flow calls the trigger (its handle or its name), None if not ours."""
    if definition in TRIGGERS:
        return definition
    return next((handle for handle, name in TRIGGERS.items() if name.lower() == definition.strip().lower()), None)


def record_usage(session: Session, shop_id: int, handle: str, enabled: bool, at: datetime) -> bool:
    """Keep what a lifecycle callback says, unless a later one was kept already; True if kept."""
    stmt = insert_for(session, USAGE).values(shop_id=shop_id, handle=handle, enabled=enabled, changed_at=at)
    stmt = stmt.on_conflict_do_update(index_elements=["shop_id", "handle"],
                                      set_={"enabled": stmt.excluded.enabled, "changed_at": stmt.excluded.changed_at},
                                      where=USAGE.c.changed_at <= stmt.excluded.changed_at)
    kept = session.execute(stmt.returning(USAGE.c.handle)).first() is not None
    session.info.pop("loyalty_flow_triggers_used", None)
    return kept


# --- asking for the sender ------------------------------------------------------------------

def send_flag() -> str:
    return prefixed("flow-triggers-scheduled")


def request_sending() -> None:
    """Ask for the due trigger calls to be made soon; never raises for a queue outage."""
    request("flow-triggers", job_id=f"flow-triggers-{time.time_ns()}", coalesce=Flag(send_flag(), SEND_FLAG_SECONDS))


def clear_send_flag() -> None:
    clear_flag(send_flag())


def send_after_commit(session: Session) -> None:
    """Ask for the sender once this transaction commits (never before: it would find nothing)."""
    if session.info.get("loyalty_flow_after_commit"):
        return
    session.info["loyalty_flow_after_commit"] = True
    orm_event.listen(session, "after_commit", _ask_after_commit, once=True)


def _ask_after_commit(session: Session) -> None:
    session.info.pop("loyalty_flow_after_commit", None)
    request_sending()


def seconds_until_due() -> float:
    """How long the in-process sender may sleep: until the next pending call is due."""
    session = reading_session()
    try:
        with session.begin():
            due = session.scalar(select(func.min(TRIGGER_ROWS.c.next_attempt_at)).where(
                TRIGGER_ROWS.c.status == TriggerStatus.PENDING))
    except Exception:
        return IDLE_SECONDS
    finally:
        session.close()
    return IDLE_SECONDS if due is None else min(max((due - utcnow()).total_seconds(), 0.05), IDLE_SECONDS)
