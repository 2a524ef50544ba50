"""Recording member events once, and reading them back (`GET /api/member-events`).

Every feature that notices something worth telling a member (a tier reached, points about
to expire, a referral paid, a birthday, a code issued) records it here, in the transaction
that made the change, so an event exists exactly when its change committed. Where the
events go from here (the merchant's endpoints, the store's metafields) is decided by
their readers, not by the code that records them: the merchant's endpoints, the store sync and
Shopify Flow's triggers (plugin/loyalty/events/flow_triggers.py).
"""
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plugin.db import insert_for
from plugin.ids import parse_id
from plugin.loyalty.events.flow_triggers import owe_for_events
from plugin.loyalty.events.store_sync import mark_for_sync
from plugin.loyalty.events.subscriptions import owe_deliveries
from plugin.loyalty.fields import InvalidFields, one_of
from plugin.models import Member, MemberEvent, MemberEventKind

EVENTS = MemberEvent.__table__
PAGE_SIZE = 50
MAX_PAGE = 100_000


@dataclass(frozen=True)
class EventFilter:
    kind: MemberEventKind | None = None
    customer_id: int | None = None
    page: int = 1


def record_event(session: Session, shop_id: int, member_id: int, kind: MemberEventKind, key: str,
                 data: dict) -> bool:
    """Record one event; False (and nothing written) when this (kind, key) was recorded before."""
    customer = session.scalar(select(Member.customer_id).where(Member.id == member_id))
    return record_events(session, shop_id, kind, [(member_id, customer, key, data)]) == 1


def record_events(session: Session, shop_id: int, kind: MemberEventKind,
                  rows: list[tuple[int, int, str, dict]]) -> int:
    """Record many events of one kind in one statement: (member id, customer id, key, data)
    each; those recorded before are skipped. Returns how many are new."""
    if not rows:
        return 0
    values = [dict(shop_id=shop_id, member_id=member, customer_id=customer, kind=kind, key=key[:128], data=data)
              for member, customer, key, data in rows]
    inserted = session.execute(insert_for(session, EVENTS).on_conflict_do_nothing()
                               .returning(EVENTS.c.id, EVENTS.c.key), values).all()
    new = [row.id for row in inserted]
    owe_deliveries(session, shop_id, kind, new)
    new_keys = {row.key for row in inserted}
    owe_for_events(session, shop_id, kind, [(value["customer_id"], value["key"], value["data"])
                                            for value in values if value["key"] in new_keys])
    if kind is MemberEventKind.TIER_CHANGED and new:
        mark_for_sync(session, shop_id, [member for member, _customer, _key, _data in rows])
    return len(new)


def parse_filter(kind: str | None, customer_id: str | None, page: str | None) -> EventFilter:
    errors, chosen_kind, customer, number = {}, None, None, parse_id(page or "1")
    if kind:
        try:
            chosen_kind = one_of(kind, MemberEventKind)
        except ValueError as problem:
            errors["kind"] = str(problem)
    if customer_id:
        customer = parse_id(customer_id)
        if customer is None:
            errors["customer_id"] = "must be the platform's numeric customer id"
    if not number or number > MAX_PAGE:
        errors["page"] = f"must be a whole number from 1 to {MAX_PAGE}"
    if errors:
        raise InvalidFields(errors)
    return EventFilter(chosen_kind, customer, number)


def list_events(session: Session, shop_id: int, chosen: EventFilter) -> tuple[list[MemberEvent], int]:
    """One page of the shop's events, newest first, and how many match in all."""
    where = [MemberEvent.shop_id == shop_id]
    if chosen.kind is not None:
        where.append(MemberEvent.kind == chosen.kind)
    if chosen.customer_id is not None:
        where.append(MemberEvent.customer_id == chosen.customer_id)
    total = session.scalar(select(func.count()).select_from(MemberEvent).where(*where))
    rows = session.scalars(select(MemberEvent).where(*where).order_by(MemberEvent.id.desc())
                           .limit(PAGE_SIZE).offset((chosen.page - 1) * PAGE_SIZE)).all()
    return list(rows), total


def event_json(event: MemberEvent) -> dict:
    return {
        "id": event.id,
        "kind": event.kind.value,
        "customer_id": str(event.customer_id),
        "data": event.data,
        "created_at": event.created_at.isoformat(),
    }
