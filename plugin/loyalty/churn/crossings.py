"""The tick's step that tells a member's crossing into `at_risk` as a `member_at_risk` event.

A member's days since the last order only grow until they order again, so crossing into
`at_risk` happens at most once per last order day. `members.at_risk_order_day` keeps the
last order day already told: a member at risk whose last order day is not that one is a new
crossing; while they stay at risk (or lapse) nothing more is raised; once a new order made
them active, their next crossing has a new last order day and is told again. The event's key
is the customer and that day, so even a step run twice at once records it once.

Days since the last order grow only at midnight in the shop's zone, so each shop is checked
once per business day (`churn_checks`), not at every 5-minute tick: reading every customer's
order days costs about a second per 100,000 members (bench/at_risk.py). A cancellation that
makes a member at risk in the middle of a day is told on the next day's check.
"""
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from plugin.db import insert_for
from plugin.loyalty.churn.recency import AT_RISK, recency
from plugin.loyalty.events.member_events import record_events
from plugin.loyalty.shop_facts import business_zone
from plugin.models import ChurnCheck, Member, MemberEventKind, Shop

CHECKS = ChurnCheck.__table__


def raise_at_risk_events(session: Session, now: datetime) -> int:
    """Each installed shop's new crossings into `at_risk`, as of `now` in its zone, for the
    shops not checked yet on that business day; how many."""
    days: dict[date, list[int]] = defaultdict(list)
    shops = session.execute(select(Shop.id, Shop.iana_timezone, ChurnCheck.checked_on)
                            .outerjoin(ChurnCheck, ChurnCheck.shop_id == Shop.id)
                            .where(Shop.uninstalled_at.is_(None))).all()
    for shop_id, zone, checked_on in shops:
        today = now.astimezone(business_zone(zone)).date()
        # Not `<`: a tick replaying an earlier day (`tick --now`) after one at a later day checks too.
        if checked_on != today:
            days[today].append(shop_id)
    crossed = 0
    for today, shop_ids in days.items():
        crossed += _raise_for(session, shop_ids, today)
        _mark_checked(session, shop_ids, today)
    return crossed


def _mark_checked(session: Session, shop_ids: list[int], today: date) -> None:
    upsert = insert_for(session, CHECKS).values([{"shop_id": shop, "checked_on": today} for shop in shop_ids])
    session.execute(upsert.on_conflict_do_update(index_elements=[CHECKS.c.shop_id],
                                                 set_={"checked_on": upsert.excluded.checked_on}))


def _raise_for(session: Session, shop_ids: list[int], today: date) -> int:
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
