"""An imported tier: a floor the member keeps for one full tier window (SPEC "imports").

The floor rides on the members' running-tier pair (`paid_tier_id`, `paid_until`), which the
ladder already honours as "at least this tier until then" (Ladder.standing) and the tick
already lets lapse (tiers/review.py): a member's own figures still promote them above it,
and when it ends the tick places them by their figures. The tier is set without a
`tier_changed` event: an import tells shoppers nothing.
Until: `lifetime` keeps it for good, `calendar_year` through the next calendar year (a
status reached this year lasts through the next one), `rolling_12_months` for 365 days.
"""
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.loyalty.shop_facts import business_zone
from plugin.loyalty.tiers.definitions import load_ladder
from plugin.loyalty.tiers.grants import floor_until
from plugin.models import Member, Program, Shop


def set_tier_floors(session: Session, shop_id: int, floors: list[tuple[int, int]], now: datetime) -> list[int]:
    """Give (member id, tier id) their floors; the members whose tier moved up."""
    program, shop = session.get(Program, shop_id), session.get(Shop, shop_id)
    ladder = load_ladder(session, shop_id, program.tier_basis)
    until = floor_until(program, business_zone(shop.iana_timezone), now)
    moved = []
    for member_id, tier_id in floors:
        member = session.execute(select(Member.tier_id, Member.paid_tier_id, Member.paid_until)
                                 .where(Member.id == member_id)).one()
        running = member.paid_until is not None and member.paid_until > now
        values = {}
        if not running or ladder.rank(tier_id) > ladder.rank(member.paid_tier_id):
            values.update(paid_tier_id=tier_id, paid_until=until)
        if ladder.rank(tier_id) > ladder.rank(member.tier_id):
            values.update(tier_id=tier_id, tier_since=now)
            moved.append(member_id)
        if values:
            session.execute(update(Member).where(Member.id == member_id).values(**values)
                            .execution_options(synchronize_session=False))
    return moved
