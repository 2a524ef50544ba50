"""The tick's step that tells a member's crossing into `at_risk` as a `member_at_risk` event.

A member's days since the last order only grow until they order again, so crossing into
`at_risk` happens at most once per last order day. `members.at_risk_order_day` keeps the
last order day already told: a member at risk whose last order day is not that one is a new
crossing; while they stay at risk (or lapse) nothing more is raised; once a new order made
them active, their next crossing has a new last order day and is told again. The event's key
is the customer and that day, so even a step run twice at once records it once.
"""
from collections import defaultdict
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from plugin.loyalty.churn.recency import AT_RISK, recency
from plugin.loyalty.events.member_events import record_events
from plugin.loyalty.shop_facts import business_zone
from plugin.models import Member, MemberEventKind, Shop


def raise_at_risk_events(session: Session, now: datetime) -> int:
    """Each installed shop's new crossings into `at_risk`, as of `now` in its zone; how many."""
    zones: dict[str | None, list[int]] = defaultdict(list)
    for shop_id, zone in session.execute(select(Shop.id, Shop.iana_timezone).where(Shop.uninstalled_at.is_(None))):
        zones[zone].append(shop_id)
    return sum(_raise_in_zone(session, shops, now.astimezone(business_zone(zone)).date())
               for zone, shops in zones.items())


def _raise_in_zone(session: Session, shop_ids: list[int], today) -> int:
    figures = recency(shop_ids, today)
    crossed = session.execute(
        select(Member.shop_id, Member.id, Member.customer_id, Member.balance, figures.c.last_day,
               figures.c.days_since, figures.c.usual_gap)
        .join(figures, figures.c.member_id == Member.id)
        .where(figures.c.status == AT_RISK,
               or_(Member.at_risk_order_day.is_(None), Member.at_risk_order_day != figures.c.last_day))
        .order_by(Member.id)).all()
    if not crossed:
        return 0
    session.execute(update(Member), [{"id": row.id, "at_risk_order_day": row.last_day} for row in crossed])
    events: dict[int, list] = defaultdict(list)
    for row in crossed:
        day = row.last_day.isoformat()
        events[row.shop_id].append((row.id, row.customer_id, f"{row.customer_id}-{day}", {
            "last_order_on": day, "days_since_last_order": row.days_since, "usual_gap_days": row.usual_gap,
            "balance": row.balance}))
    return sum(record_events(session, shop, MemberEventKind.MEMBER_AT_RISK, rows) for shop, rows in events.items())
