"""What the theme's launcher and blocks are given (`/proxy/panel.json`): the program, the
rewards, and for a logged-in shopper their standing, as plain JSON.

The theme app extension (extensions/loyalty-theme/) renders it; every shopper-visible
word is in the extension's locales, so this answer carries figures, names the merchant
typed, the ledger's reasons and short keys (`notice`, `kind`, `status`), never sentences
of ours. Ids travel as strings (64-bit ids break JS numbers). Money and points stay
numbers or decimal strings; the extension formats them in the shop's currency.
"""
from urllib.parse import quote

from sqlalchemy.orm import Session

from plugin.loyalty.ledger.lifecycle import next_expiry
from plugin.loyalty.members import get_member, recent_entries
from plugin.loyalty.rewards.catalog import list_rewards
from plugin.loyalty.rewards.redemptions import recent_redemptions
from plugin.loyalty.rewards.within_reach import within_reach
from plugin.loyalty.rules.definitions import active_rules
from plugin.loyalty.shop_facts import business_zone
from plugin.loyalty.tiers.perk_rules import perk_given
from plugin.loyalty.tiers.views import member_tiers
from plugin.models import Member, Redemption, RedemptionStatus, Reward, Shop
from plugin.storefront import page as storefront

ENTRIES_SHOWN = 10
CODES_SHOWN = 10


def panel_json(session: Session, shop: Shop, customer_id: int | None, prefix: str) -> dict:
    """The whole panel: what everyone sees, and the shopper's own standing when logged in."""
    catalogue = list_rewards(session, shop.id)
    member = None if customer_id is None else get_member(session, shop.id, customer_id)
    given = perk_given(session, member)  # what the shopper's tier gives at checkout is not sold for points
    rewards = [r for r in catalogue if r.active and r.id != given]
    answer = {
        "logged_in": customer_id is not None,
        "currency": shop.currency,
        "timezone": shop.iana_timezone,  # for instants (history); business dates come as dates
        "program": _program(session, shop),
        "rewards": [_reward(r) for r in sorted(rewards, key=lambda r: (r.points_cost, r.id))],
        "login_url": f"/account/login?return_url={prefix}",
        "page_url": prefix,
    }
    if customer_id is not None:
        answer.update(_standing(session, shop, member, catalogue, given, prefix))
        answer["csrf"] = storefront.csrf_token(shop.domain, customer_id)
    return answer


def _program(session: Session, shop: Shop) -> dict:
    program = shop.program
    return {
        "points_per_currency_unit": f"{program.points_per_currency_unit:f}",
        "signup_bonus": program.signup_bonus,
        "birthday_bonus": program.birthday_bonus,
        "referral_points": program.referral_points,
        "rules": [{"name": rule.name} for rule in sorted(active_rules(session, shop.id), key=lambda r: r.id)],
    }


def _reward(reward: Reward) -> dict:
    return {"id": str(reward.id), "name": reward.name, "kind": reward.kind.value,
            "value": f"{reward.value:f}", "points_cost": reward.points_cost,
            "min_subtotal": None if reward.min_subtotal is None else f"{reward.min_subtotal:f}"}


def _standing(session: Session, shop: Shop, member: Member | None, rewards: list[Reward], given: int | None,
              prefix: str) -> dict:
    """A shopper who is not a member yet has 0 points and nothing else. `rewards` is the whole
    catalogue: a code keeps its reward's name after the merchant retires the reward; `given`
    is the reward their tier gives already, never within reach for points."""
    balance = 0 if member is None else member.balance
    reach = within_reach([r for r in rewards if r.id != given], balance)
    tiers = None if member is None else member_tiers(session, shop.id, [member])[member.id]
    return {
        "balance": balance,
        "pending": 0 if member is None else member.pending,
        "lifetime_earned": 0 if member is None else member.lifetime_earned,
        "next_expiry": None if member is None else next_expiry(session, shop.program, member,
                                                               business_zone(shop.iana_timezone)),
        "redeemable": [str(r.id) for r in reach.redeemable],
        "nearest_reward": None if reach.nearest is None else {
            "id": str(reach.nearest.id), "name": reach.nearest.name, "points_cost": reach.nearest.points_cost,
            "points_needed": reach.points_needed},
        "tier": None if tiers is None or tiers["tier"] is None else {
            "name": tiers["tier"]["name"], "multiplier": tiers["tier"]["multiplier"]},
        "tier_progress": _tier_progress(tiers),
        "referral_link": storefront.referral_link(shop.domain, prefix, member, shop.program),
        "birthday": None if member is None else member.birthday,
        "entries": [] if member is None else [
            {"delta": e.delta, "kind": e.kind.value, "reason": e.reason, "created_at": e.created_at.isoformat()}
            for e in recent_entries(session, member, ENTRIES_SHOWN)],
        "codes": [] if member is None else [
            _code(r, rewards) for r in recent_redemptions(session, member.id, CODES_SHOWN)],
    }


def _tier_progress(tiers: dict | None) -> dict | None:
    """Progress to the next tier, or None when there is none to reach (no tiers, or the top)."""
    progress = None if tiers is None else tiers["tier_progress"]
    if progress is None or progress["next_tier"] is None:
        return None
    return {"basis": progress["basis"], "qualifying": progress["qualifying"], "remaining": progress["remaining"],
            "next_tier": {"name": progress["next_tier"]["name"], "threshold": progress["next_tier"]["threshold"]}}


def _code(redemption: Redemption, rewards: list[Reward]) -> dict:
    names = {reward.id: reward.name for reward in rewards}
    ready = redemption.status is RedemptionStatus.ISSUED
    if redemption.credit_amount is not None:  # store credit: no code to type, the money is in the account
        return {"code": None, "reward": names.get(redemption.reward_id), "status": redemption.status.value,
                "expires_at": None, "apply_url": None,
                "store_credit": {"amount": f"{redemption.credit_amount:f}", "currency": redemption.credit_currency}}
    return {
        "code": redemption.code,
        "reward": names.get(redemption.reward_id),
        "status": redemption.status.value,
        "expires_at": None if redemption.expires_at is None else redemption.expires_at.isoformat(),
        # Relative: the launcher runs on the shop's own domain, and the dev store resolves it locally.
        "apply_url": f"/discount/{quote(redemption.code, safe='')}?redirect=/cart" if ready else None,
    }
