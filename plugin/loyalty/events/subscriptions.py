"""The merchant's event subscriptions, and the deliveries each new member event owes them.

`owe_deliveries` runs inside `record_events`, in the transaction that records the events:
one delivery row per (matching subscription, event), so an event that commits has its
deliveries committed with it and one that rolls back has none. The receivers are called
only after that commit, by plugin/loyalty/events/delivery.py (asked for through
plugin/loyalty/events/dispatch.py). The signing secret is made
here, shown once in the creation answer, and kept encrypted like the shops' access tokens.
"""
import secrets

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import insert_for
from plugin.loyalty.events.dispatch import send_after_commit
from plugin.loyalty.fields import InvalidFields, parse_each
from plugin.models import DeliveryStatus, EventDelivery, EventSubscription, MemberEventKind
from plugin.outbound import UnsafeURL, check_url
from plugin.shopify.tokens import cipher, encrypt

MAX_SUBSCRIPTIONS = 10
DELIVERIES = EventDelivery.__table__
KIND_NAMES = tuple(kind.value for kind in MemberEventKind)


def development() -> bool:
    return current_app.config["LOYALTY_ENV"] == "development"


def parse_subscription(body) -> dict:
    """`{"url", "kinds"}` checked; `kinds` left out means every kind. InvalidFields names bad fields."""
    values, errors = parse_each(body, {"url": _url, "kinds": _kinds}, "is not a subscription field",
                                "url and kinds")
    if "url" not in values and "url" not in errors:
        errors["url"] = "is required: the https address that receives the events"
    if errors:
        raise InvalidFields(errors)
    return {"kinds": list(KIND_NAMES), **values}


def _url(value) -> str:
    try:
        check_url(value, development())
    except UnsafeURL as unsafe:
        raise ValueError(str(unsafe)) from None
    return value.strip()


def _kinds(value) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(kind, str) for kind in value):
        raise ValueError("must be a non-empty list of event kinds: " + ", ".join(KIND_NAMES))
    unknown = [kind for kind in value if kind not in KIND_NAMES]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not an event kind; the kinds are " + ", ".join(KIND_NAMES))
    return list(dict.fromkeys(value))


def create_subscription(session: Session, shop_id: int, fields: dict) -> tuple[EventSubscription, str]:
    """A new subscription and its signing secret (the only time the secret is readable)."""
    count = len(shop_subscriptions(session, shop_id))
    if count >= MAX_SUBSCRIPTIONS:
        raise InvalidFields({"url": f"a shop may have at most {MAX_SUBSCRIPTIONS} subscriptions"})
    secret = secrets.token_urlsafe(32)
    subscription = EventSubscription(shop_id=shop_id, url=fields["url"], kinds=fields["kinds"], secret=encrypt(secret))
    session.add(subscription)
    session.flush()
    return subscription, secret


def shop_subscriptions(session: Session, shop_id: int) -> list[EventSubscription]:
    return list(session.scalars(select(EventSubscription).where(EventSubscription.shop_id == shop_id)
                                .order_by(EventSubscription.id)))


def find_subscription(session: Session, shop_id: int, subscription_id: int) -> EventSubscription | None:
    return session.scalar(select(EventSubscription).where(
        EventSubscription.shop_id == shop_id, EventSubscription.id == subscription_id))


def owe_deliveries(session: Session, shop_id: int, kind: MemberEventKind, event_ids: list[int]) -> int:
    """One pending delivery per (subscription that wants `kind`, event); sent after the commit."""
    if not event_ids:
        return 0
    wanted = [s for s in session.execute(select(EventSubscription.id, EventSubscription.kinds)
                                         .where(EventSubscription.shop_id == shop_id)) if kind.value in s.kinds]
    if not wanted:
        return 0
    rows = [dict(shop_id=shop_id, subscription_id=s.id, event_id=event_id, status=DeliveryStatus.PENDING,
                 attempts=0) for s in wanted for event_id in event_ids]
    session.execute(insert_for(session, DELIVERIES).on_conflict_do_nothing(), rows)
    send_after_commit(session)
    return len(rows)


def rotate_subscription_secrets(session: Session) -> int:
    """Re-encrypt every signing secret with the current key (beside the shops' tokens)."""
    rotated = 0
    for subscription in session.scalars(select(EventSubscription).with_for_update()):
        subscription.secret = cipher().rotate(subscription.secret.encode()).decode()
        rotated += 1
    session.flush()
    return rotated
