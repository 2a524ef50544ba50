"""Tiers as readers see them: the member JSON's `tier` and `tier_progress`, the panel's
preview of where members would land, and members per tier for the dashboard.

Each reads the qualifying totals of plugin/loyalty/tiers/totals.py at the present moment
(in the shop's zone), in one grouped query for any number of members.
"""
from decimal import Decimal

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.loyalty.fields import InvalidFields, parse_each
from plugin.loyalty.shop_facts import business_zone
from plugin.loyalty.tiers.definitions import load_ladder, parse_threshold, threshold_json
from plugin.loyalty.tiers.ladder import Ladder, shown, units
from plugin.loyalty.tiers.totals import business_day, qualifying, qualifying_query, shop_zone
from plugin.models import Member, Program, Shop

MEMBERS = Member.__table__


def member_tiers(session: Session, shop_id: int, members: list[Member],
                 ladder: Ladder | None = None) -> dict[int, dict]:
    """`tier` and `tier_progress` of each member, by member id (`ladder`: the shop's, if the caller has it)."""
    program = session.get(Program, shop_id)
    ladder = ladder or load_ladder(session, shop_id, program.tier_basis)
    today = business_day(utcnow(), _zone(session, shop_id))
    figures = qualifying(session, shop_id, program.tier_basis, program.tier_window, today, [m.id for m in members])
    return {m.id: {"tier": _tier(ladder, m), "tier_progress": _progress(ladder, figures.get(m.id, 0), m.tier_id)}
            for m in members}


def _zone(session: Session, shop_id: int):
    """The shop's zone; its row is usually loaded already (the request's shop): then no statement."""
    return business_zone(session.get(Shop, shop_id).iana_timezone)


def _tier(ladder: Ladder, member: Member) -> dict | None:
    tier = ladder.by_id.get(member.tier_id)
    if tier is None:
        return None
    paid = member.paid_tier_id == tier.id and member.paid_until is not None
    return {"id": tier.id, "name": tier.name, "multiplier": str(tier.multiplier),
            "since": member.tier_since.isoformat() if member.tier_since else None,
            "paid_until": member.paid_until.isoformat() if paid else None}


def _progress(ladder: Ladder, figure: int, tier_id: int | None) -> dict:
    goal = ladder.next_above(figure, tier_id)
    return {
        "basis": ladder.basis,
        "qualifying": shown(figure, ladder.basis),
        "next_tier": None if goal is None else {"id": goal.id, "name": goal.name,
                                                "threshold": threshold_json(goal.threshold, ladder.basis)},
        "remaining": None if goal is None
        else shown(max(units(goal.threshold, ladder.basis) - figure, 0), ladder.basis),
    }


def members_per_tier(session: Session, shop_id: int) -> list[dict]:
    """How many members hold each live tier now (and how many hold none), for the dashboard."""
    program = session.get(Program, shop_id)
    ladder = load_ladder(session, shop_id, program.tier_basis)
    counts = dict(session.execute(select(MEMBERS.c.tier_id, func.count()).where(MEMBERS.c.shop_id == shop_id)
                                  .group_by(MEMBERS.c.tier_id)).all())
    rows = [{"id": t.id, "name": t.name, "members": counts.pop(t.id, 0)} for t in ladder.live]
    return [{"id": None, "name": None, "members": sum(counts.values())}] + rows


def preview_tiers(session: Session, program: Program, body) -> dict:
    """Where the shop's members would land today under proposed thresholds (the saved tiers
    when none are given): one grouped query over the qualifying totals, bucketed here."""
    thresholds = _proposed(session, program, body)
    today = business_day(utcnow(), shop_zone(session, program.shop_id))
    figures = qualifying_query(program.shop_id, program.tier_basis, program.tier_window, today).subquery()
    # A literal 0, not a parameter: PostgreSQL must see the same expression in SELECT and GROUP BY.
    figure = func.coalesce(figures.c.qualifying, literal_column("0"))
    spread = session.execute(select(figure, func.count()).select_from(MEMBERS)
                             .outerjoin(figures, figures.c.member_id == MEMBERS.c.id)
                             .where(MEMBERS.c.shop_id == program.shop_id).group_by(figure)).all()
    limits = sorted(thresholds)
    landed = {threshold: 0 for threshold in limits}
    below = 0
    for figure, count in spread:
        reached = [t for t in limits if units(t, program.tier_basis) <= max(int(figure), 0)]
        if reached:
            landed[reached[-1]] += count
        else:
            below += count
    return {"basis": program.tier_basis, "window": program.tier_window, "no_tier": below,
            "tiers": [{"threshold": threshold_json(t, program.tier_basis), "members": landed[t]} for t in limits]}


def _proposed(session: Session, program: Program, body) -> list[Decimal]:
    if body is None or body == {}:
        return [t.threshold for t in load_ladder(session, program.shop_id, program.tier_basis).live]
    values, errors = parse_each(body, {"thresholds": lambda value: _thresholds(value, program.tier_basis)},
                                "is not a preview field", "preview fields")
    if errors:
        raise InvalidFields(errors)
    return values.get("thresholds", [])


def _thresholds(value, basis: str) -> list[Decimal]:
    if not isinstance(value, list) or len(value) > 20:
        raise ValueError("must be a list of up to 20 thresholds")
    thresholds = [parse_threshold(item, basis) for item in value]
    if len(set(thresholds)) != len(thresholds):
        raise ValueError("must not repeat a threshold")
    return thresholds


def storefront_tier(session: Session, shop_id: int, member: Member | None) -> dict | None:
    """What the shopper's page says of tiers: the tier held and perks, and "120 points to Gold";
    None when the shop has no tiers."""
    program = session.get(Program, shop_id)
    ladder = load_ladder(session, shop_id, program.tier_basis)
    if not ladder.live:
        return None
    if member is None:
        return {"name": None, "perks": "", "goal": _goal(_progress(ladder, 0, None))}
    found = member_tiers(session, shop_id, [member], ladder)[member.id]
    held = ladder.by_id.get(member.tier_id)
    return {"name": held.name if held else None, "perks": _perks_of(session, held.id) if held else "",
            "goal": _goal(found["tier_progress"])}


def _goal(progress: dict) -> str | None:
    goal = progress["next_tier"]
    if goal is None:
        return None
    unit = "points" if progress["basis"] == "points_earned" else "to spend"
    return f"{progress['remaining']} {unit} to {goal['name']}"


def _perks_of(session: Session, tier_id: int) -> str:
    from plugin.models import Tier

    return session.scalar(select(Tier.perks).where(Tier.id == tier_id)) or ""
