"""A tier the merchant gives a member by hand, from the member page: "at least Gold until then".

A grant rides on the members' running-tier pair (`paid_tier_id`, `paid_until`), which the
ladder honours as "at least this tier until then" (Ladder.standing) and the tick lets lapse
(tiers/review.py), as an imported tier does (imports/floors.py). So a grant lifts the member
at once if it is higher than their tier (a `tier_changed` event and the store sync follow,
as for any promotion); the member's own figures still lift them above it; and taking a grant
back, or giving a lower one, moves them down only at the next tick, as every demotion does.
Until: the grant's own time, or by default one tier window (`floor_until`).
"""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.shop_facts import business_zone
from plugin.loyalty.tiers.definitions import load_ladder
from plugin.loyalty.tiers.standing import Move, move_members
from plugin.models import Member, Program, Shop

FOR_GOOD = datetime(9999, 12, 31, tzinfo=timezone.utc)


def floor_until(program: Program, zone, now: datetime) -> datetime:
    """How long a floor lasts by default: one tier window (`lifetime`: for good;
    `calendar_year`: through the next calendar year; `rolling_12_months`: 365 days)."""
    if program.tier_window == "lifetime":
        return FOR_GOOD
    if program.tier_window == "calendar_year":
        local = now.astimezone(zone)
        return datetime(local.year + 2, 1, 1, tzinfo=zone).astimezone(timezone.utc)
    return now + timedelta(days=365)


def grant_tier(session: Session, member: Member, tier_id: int | None, until: datetime | None, now: datetime) -> None:
    """Give `member` at least tier `tier_id` until `until` (None: one tier window), or take the
    grant back (`tier_id` None); raises InvalidFields naming the bad field, writing nothing."""
    program, shop = session.get(Program, member.shop_id), session.get(Shop, member.shop_id)
    ladder = load_ladder(session, member.shop_id, program.tier_basis)
    if tier_id is not None and tier_id not in {tier.id for tier in ladder.live}:
        raise InvalidFields({"tier_id": "is not a tier of this shop"})
    if tier_id is None and until is not None:
        raise InvalidFields({"tier_until": "is only read with a tier_id"})
    if until is not None and until <= now:
        raise InvalidFields({"tier_until": "must be in the future"})
    held = session.execute(select(Member.tier_id, Member.tier_changes).where(Member.id == member.id)
                           .with_for_update()).one()
    if tier_id is None:
        session.execute(update(Member).where(Member.id == member.id).values(paid_tier_id=None, paid_until=None))
        return
    until = until or floor_until(program, business_zone(shop.iana_timezone), now)
    session.execute(update(Member).where(Member.id == member.id).values(paid_tier_id=tier_id, paid_until=until))
    if ladder.rank(tier_id) > ladder.rank(held.tier_id):
        move_members(session, member.shop_id, ladder,
                     [Move(member.id, member.customer_id, held.tier_changes, held.tier_id, tier_id, now)])
