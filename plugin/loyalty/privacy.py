"""Privacy duties: customer data exports, customer redaction and shop erasure.

The platform's three mandatory compliance webhooks end here (webhooks/handlers/
customers_data_request.py, customers_redact.py, shop_redact.py); the admin API reads the
exports back (admin_ui/privacy.py). Like every service, these flush and never commit.

Design
- An export is built once per platform request id and kept as JSON in `data_requests`:
  the platform asks us to hand it to the merchant, who fetches it from the admin API.
- Redaction de-identifies instead of deleting: email and name go, the member's balance and
  ledger stay, so the shop's figures (points outstanding, points earned) remain true.
  `members.redacted_at` keeps later webhooks from writing the profile back (plugin/loyalty/members.py).
  A customer we never met gets an empty redacted member for the same reason: a retried
  order webhook older than the redaction must not store the email afterwards.
- Stored webhook payloads are the platform's raw JSON, with emails and addresses; those that
  concern the redacted customer or their orders are overwritten with `{"redacted": true}`,
  and so is any delivery about them processed later. The redact delivery itself keeps only
  the ids it acted on. Every processed payload is blanked after the retention period
  (LOYALTY_PAYLOAD_RETENTION_DAYS) by the periodic upkeep.
- Shop erasure deletes the shop row: every table keyed by a shop id follows through ON DELETE
  CASCADE (enforced on SQLite too: plugin/db.py turns its foreign keys on). Webhook events
  and OAuth nonces are keyed by the domain, so they are deleted by domain.
"""
import json
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.loyalty.members import entry_json, get_member, member_summary
from plugin.loyalty.rewards.redemptions import redemption_json
from plugin.loyalty.tiers.views import member_tiers
from plugin.models import (
    DataRequest,
    EventStatus,
    ImportRow,
    LedgerEntry,
    Member,
    OAuthState,
    OrderRecord,
    Redemption,
    RefundRecord,
    Shop,
    WebhookEvent,
)

REDACTED_PAYLOAD = '{"redacted": true}'
BLANKED_PAYLOAD = '{"retention_expired": true}'
DATA_REQUESTS = DataRequest.__table__
EVENTS = WebhookEvent.__table__
MEMBERS = Member.__table__


def record_data_request(session: Session, shop_id: int, shop_domain: str, request_id: str, customer_id: int,
                        order_ids: tuple[int, ...] = ()) -> int | None:
    """Store the export for one platform request; None if that request was answered before."""
    if find_data_request_id(session, shop_id, request_id) is not None:
        return None
    export = customer_export(session, shop_id, shop_domain, customer_id, order_ids)
    # ON CONFLICT: two workers may meet two deliveries of one request at once.
    row = session.execute(insert_for(session, DATA_REQUESTS).values(
        shop_id=shop_id, request_id=request_id, customer_id=customer_id, export=export,
    ).on_conflict_do_nothing().returning(DATA_REQUESTS.c.id)).first()
    return None if row is None else row.id


def find_data_request_id(session: Session, shop_id: int, request_id: str) -> int | None:
    return session.scalar(select(DataRequest.id).where(DataRequest.shop_id == shop_id,
                                                       DataRequest.request_id == request_id))


def customer_export(session: Session, shop_id: int, shop_domain: str, customer_id: int,
                    order_ids: tuple[int, ...] = ()) -> dict:
    """Everything this app keeps about one customer of one shop, as plain JSON values."""
    member = get_member(session, shop_id, customer_id)
    orders = _customer_orders(session, shop_id, customer_id, order_ids)
    refunds = session.scalars(select(RefundRecord).where(
        RefundRecord.shop_id == shop_id, RefundRecord.order_id.in_([o.order_id for o in orders]),
    ).order_by(RefundRecord.id)).all()
    entries = [] if member is None else session.scalars(
        select(LedgerEntry).where(LedgerEntry.member_id == member.id).order_by(LedgerEntry.id)).all()
    return {
        "shop": shop_domain,
        "customer_id": str(customer_id),
        "generated_at": utcnow().isoformat(),
        "member": None if member is None else _member_json(session, member),
        "ledger": [entry_json(entry) for entry in entries],
        "orders": [_order_json(order) for order in orders],
        "refunds": [_refund_json(refund) for refund in refunds],
        "redemptions": [] if member is None else [
            redemption_json(r) for r in session.scalars(select(Redemption).where(
                Redemption.member_id == member.id).order_by(Redemption.id))],
    }


def _customer_orders(session: Session, shop_id: int, customer_id: int, requested: tuple[int, ...]) -> list:
    # A requested order we only know from an early refund has no customer yet; one that
    # names another customer is that customer's, whatever the request lists.
    mine = or_(OrderRecord.customer_id == customer_id,
               OrderRecord.order_id.in_(requested) & OrderRecord.customer_id.is_(None))
    return list(session.scalars(select(OrderRecord).where(OrderRecord.shop_id == shop_id, mine)
                                .order_by(OrderRecord.id)))


def _member_json(session: Session, member: Member) -> dict:
    return {**member_summary(member), **member_tiers(session, member.shop_id, [member])[member.id],
            "profile_updated_at": _iso(member.profile_updated_at),
            "redacted_at": _iso(member.redacted_at)}


def _order_json(order: OrderRecord) -> dict:
    return {
        "order_id": str(order.order_id),
        "name": order.name,
        "earned_points": order.earned_points,
        "rate": None if order.rate is None else str(order.rate),
        "cancelled_at": _iso(order.cancelled_at),
        "created_at": _iso(order.created_at),
    }


def _refund_json(refund: RefundRecord) -> dict:
    return {
        "refund_id": str(refund.refund_id),
        "order_id": str(refund.order_id),
        "refunded_subtotal": str(refund.refunded_subtotal),
        "applied": refund.applied,
        "created_at": _iso(refund.created_at),
    }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def list_data_requests(session: Session, shop_id: int) -> list[DataRequest]:
    return list(session.scalars(select(DataRequest).where(DataRequest.shop_id == shop_id)
                                .order_by(DataRequest.id.desc())))


def get_data_request(session: Session, shop_id: int, data_request_id: int) -> DataRequest | None:
    return session.scalar(select(DataRequest).where(DataRequest.shop_id == shop_id,
                                                    DataRequest.id == data_request_id))


def redact_customer(session: Session, shop_id: int, shop_domain: str, customer_id: int,
                    order_ids: tuple[int, ...], keep_event_id: int) -> int:
    """Remove the customer's personal data, keeping their points; returns payloads scrubbed.

    `keep_event_id` is the delivery being processed, which its own processing still needs.
    """
    known_orders = session.scalars(select(OrderRecord.order_id).where(
        OrderRecord.shop_id == shop_id, OrderRecord.customer_id == customer_id)).all()
    # Event rows before the member's row: a concurrent batch locks its events, then the
    # members it credits, and taking locks in the same order cannot deadlock with it.
    scrubbed = _scrub_deliveries(session, shop_domain, customer_id, {*known_orders, *order_ids}, keep_event_id)
    _forget_profile(session, shop_id, customer_id)
    # The parsed order facts kept for a simulator say what the customer bought: they go too.
    # What each line earned (orders.lines) stays: it is the shop's figure refunds need.
    session.execute(update(OrderRecord).where(OrderRecord.shop_id == shop_id, OrderRecord.customer_id == customer_id)
                    .values(facts=None))
    session.execute(delete(DATA_REQUESTS).where(DATA_REQUESTS.c.shop_id == shop_id,
                                                DATA_REQUESTS.c.customer_id == customer_id))
    # A previewed import's rows repeat the file's email and birthday (an apply deletes them).
    session.execute(delete(ImportRow.__table__).where(ImportRow.shop_id == shop_id, ImportRow.customer_id == customer_id))
    return scrubbed


def _forget_profile(session: Session, shop_id: int, customer_id: int) -> None:
    stmt = insert_for(session, MEMBERS).values(shop_id=shop_id, customer_id=customer_id, balance=0,
                                               lifetime_earned=0, redacted_at=utcnow())
    session.execute(stmt.on_conflict_do_update(index_elements=["shop_id", "customer_id"], set_={
        "email": None, "first_name": None, "last_name": None,
        "redacted_at": func.coalesce(MEMBERS.c.redacted_at, stmt.excluded.redacted_at),  # the first redaction's time
    }))


def _scrub_deliveries(session: Session, shop_domain: str, customer_id: int, order_ids: set[int],
                      keep_event_id: int) -> int:
    """Overwrite the stored payloads that concern the customer or their orders."""
    needles = [str(customer_id), *(str(order_id) for order_id in order_ids)]
    rows = session.execute(select(EVENTS.c.id, EVENTS.c.topic, EVENTS.c.payload).where(
        EVENTS.c.shop_domain == shop_domain, EVENTS.c.id != keep_event_id,
        # Earlier deliveries whatever their state: in a batch they are applied but not yet
        # marked processed. Later pending ones are still to be applied and need their payload.
        or_(EVENTS.c.status != EventStatus.PENDING, EVENTS.c.id < keep_event_id),
        or_(*(EVENTS.c.payload.contains(needle) for needle in needles)),
    )).all()
    ids = [row.id for row in rows if _concerns(row.topic, row.payload, customer_id, order_ids)]
    if ids:
        session.execute(update(EVENTS).where(EVENTS.c.id.in_(ids)).values(payload=REDACTED_PAYLOAD))
    return len(ids)


def scrub_late_arrivals(session: Session, arrivals: list[tuple[int, str, int]]) -> int:
    """Deliveries (event id, shop domain, customer id) that name a customer already redacted
    lose their payload as they are processed; returns how many. One query for the lot."""
    if not arrivals:
        return 0
    redacted = set(session.execute(select(Shop.domain, Member.customer_id).join(Shop, Shop.id == Member.shop_id).where(
        Shop.domain.in_({domain for _, domain, _ in arrivals}),
        Member.customer_id.in_({customer for _, _, customer in arrivals}),
        Member.redacted_at.is_not(None))).all())
    ids = [event_id for event_id, domain, customer in arrivals if (domain, customer) in redacted]
    if ids:
        session.execute(update(EVENTS).where(EVENTS.c.id.in_(ids)).values(payload=REDACTED_PAYLOAD))
        # An order that arrived after the redaction does not keep what the customer bought either.
        for domain in {domain for domain, _ in redacted}:
            customers = [customer for shop, customer in redacted if shop == domain]
            session.execute(update(OrderRecord).where(
                OrderRecord.shop_id == select(Shop.id).where(Shop.domain == domain).scalar_subquery(),
                OrderRecord.customer_id.in_(customers)).values(facts=None))
    return len(ids)


def minimise_redact_delivery(session: Session, event_id: int, shop_domain: str | None, customer_id: int,
                             order_ids: tuple[int, ...]) -> None:
    """Once processed, a customers/redact delivery keeps only the ids it acted on (what a
    replay needs), not the email and phone it came with."""
    kept = {"redacted": True, "shop_domain": shop_domain, "customer": {"id": customer_id},
            "orders_to_redact": list(order_ids)}
    session.execute(update(EVENTS).where(EVENTS.c.id == event_id).values(payload=json.dumps(kept)))


def blank_old_payloads(session: Session, older_than: timedelta, limit: int = 5000) -> int:
    """Blank the payloads of events processed more than `older_than` ago, `limit` at a time;
    returns how many. What replay and the figures need is kept in parsed form (orders,
    refunds, entries); the raw JSON with addresses and emails is not kept past its use."""
    due = select(EVENTS.c.id).where(
        EVENTS.c.payload_blanked_at.is_(None), EVENTS.c.status == EventStatus.PROCESSED,
        EVENTS.c.processed_at < utcnow() - older_than).order_by(EVENTS.c.id).limit(limit)
    ids = session.scalars(due).all()
    if ids:
        session.execute(update(EVENTS).where(EVENTS.c.id.in_(ids)).values(
            payload=BLANKED_PAYLOAD, payload_blanked_at=utcnow()))
    return len(ids)


def _concerns(topic: str, raw: str, customer_id: int, order_ids: set[int]) -> bool:
    """Whether a payload that contains the id's digits is really about the customer."""
    try:
        payload = json.loads(raw)
    except ValueError:
        return True  # unreadable but holding the id: scrub rather than guess
    if not isinstance(payload, dict):
        return True
    customer = payload.get("customer")
    orders = {str(order_id) for order_id in order_ids}
    return any((
        isinstance(customer, dict) and str(customer.get("id")) == str(customer_id),
        topic.startswith("customers/") and str(payload.get("id")) == str(customer_id),
        topic.startswith("orders/") and str(payload.get("id")) in orders,
        topic.startswith("refunds/") and str(payload.get("order_id")) in orders,
    ))


def erase_shop(session: Session, shop_id: int, shop_domain: str, keep_event_id: int, requested_at: datetime) -> bool:
    """Delete everything of the shop but the delivery being processed; False if kept.

    A shop installed again after the platform asked for the erasure is a live installation
    (the merchant took the data back by reinstalling), so it is kept.
    """
    installed_at = session.scalar(select(Shop.installed_at).where(Shop.id == shop_id))
    if installed_at is not None and installed_at > requested_at:
        return False
    # Events first, for the same lock order as redact_customer; the shop's rows follow it.
    session.execute(delete(EVENTS).where(EVENTS.c.shop_domain == shop_domain, EVENTS.c.id != keep_event_id))
    # A nonce made after the request belongs to an install under way, not to the erased one.
    session.execute(delete(OAuthState.__table__).where(OAuthState.shop_domain == shop_domain,
                                                       OAuthState.created_at <= requested_at))
    session.execute(delete(Shop.__table__).where(Shop.id == shop_id))
    return True
