"""The tick step for tiers: every member's tier made right at `now`, shop by shop.

This is where members go down (a refund never demotes on the spot), where windows roll
over (a calendar year's status lapses after the next year, a rolling window slides past old
orders), where paid memberships end, and where a new tier, a changed threshold, a changed
basis or window, or a deleted tier reaches the members it concerns. One query reads a shop's
members with their qualifying totals, one bulk UPDATE moves those whose tier is wrong, one
insert records their events: no statement per member. A second tick at the same moment
finds nothing to move.
"""
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from plugin.loyalty.tiers.definitions import load_ladder
from plugin.loyalty.tiers.ladder import units
from plugin.loyalty.tiers.standing import Move, move_members
from plugin.loyalty.tiers.totals import business_day, qualifying_query, shop_zone
from plugin.models import Member, Program, Tier

MEMBERS = Member.__table__


def review_tiers(session: Session, now: datetime) -> int:
    """Move every member whose tier is not the one their figures give at `now`; how many moved."""
    return sum(_review_shop(session, shop_id, now) for shop_id in session.scalars(select(Tier.shop_id).distinct()))


def _review_shop(session: Session, shop_id: int, now: datetime) -> int:
    program = session.get(Program, shop_id)
    ladder = load_ladder(session, shop_id, program.tier_basis)
    session.execute(update(MEMBERS).where(MEMBERS.c.shop_id == shop_id, MEMBERS.c.paid_until <= now)
                    .values(paid_tier_id=None, paid_until=None))
    figures = qualifying_query(shop_id, program.tier_basis, program.tier_window,
                               business_day(now, shop_zone(session, shop_id))).subquery()
    concerned = [MEMBERS.c.tier_id.is_not(None), MEMBERS.c.paid_tier_id.is_not(None), figures.c.qualifying.is_not(None)]
    entry = ladder.live and units(ladder.live[0].threshold, ladder.basis) <= 0
    query = select(MEMBERS.c.id, MEMBERS.c.customer_id, MEMBERS.c.tier_id, MEMBERS.c.tier_changes,
                   MEMBERS.c.paid_tier_id, MEMBERS.c.paid_until, figures.c.qualifying) \
        .outerjoin(figures, figures.c.member_id == MEMBERS.c.id).where(MEMBERS.c.shop_id == shop_id)
    if not entry:  # with an entry tier (threshold 0) every member belongs somewhere
        query = query.where(or_(*concerned))
    moves = []
    for m in session.execute(query.order_by(MEMBERS.c.id).with_for_update(of=MEMBERS)):
        target = ladder.standing(max(int(m.qualifying or 0), 0), m.paid_tier_id, m.paid_until, now)
        if target != m.tier_id:
            moves.append(Move(m.id, m.customer_id, m.tier_changes, m.tier_id, target, now))
    return move_members(session, shop_id, ladder, moves)
