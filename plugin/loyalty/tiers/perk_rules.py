"""What a tier's perk may be, and marking a tier whose perk the store must catch up with.

The perk is a reward of the catalog (free shipping or a percentage off: what an automatic
discount gives every order of the tier's members). Making the store match is the rewards'
side (plugin/loyalty/rewards/tier_perks.py), which turns rewards into discounts; tiers only
say what they want, so this package never imports the rewards package (which imports the
ledger, which imports tiers).
"""
from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.ids import parse_id
from plugin.models import Member, Reward, RewardKind, Tier

PERK_KINDS = (RewardKind.FREE_SHIPPING, RewardKind.PERCENTAGE_OFF)
PENDING, SYNCED, FAILED = "pending", "synced", "failed"


def mark_perk_changed(tier: Tier) -> None:
    """The store must be brought to match this tier's perk (or to lose it)."""
    holds = tier.perk_segment_id is not None or tier.perk_discount_id is not None
    if tier.perk_reward_id is None and not holds:
        tier.perk_state = None
        return
    tier.perk_state, tier.perk_attempts, tier.perk_error = PENDING, 0, None
    tier.perk_next_attempt_at = utcnow()


def perk_reward(session: Session, shop_id: int, value) -> int | None:
    """The parser of `perk_reward_id`: an active free-shipping or percentage-off reward of this
    shop, or null for no perk."""
    if value is None:
        return None
    number = parse_id(value)
    reward = None if number is None else session.scalar(select(Reward).where(
        Reward.shop_id == shop_id, Reward.id == number, Reward.deleted_at.is_(None)))
    if reward is None:
        raise ValueError("must be the id of a reward of this shop, or null")
    if reward.kind not in PERK_KINDS or not reward.active:
        raise ValueError("must be an active free_shipping or percentage_off reward: a perk applies to every order")
    return reward.id


def perk_given(session: Session, member: Member | None) -> int | None:
    """The reward the member's tier already gives at checkout, which is not offered to them for
    points; None when their tier has no perk the store applies yet (pending or failed)."""
    if member is None or member.tier_id is None:
        return None
    return session.scalar(select(Tier.perk_reward_id).where(
        Tier.id == member.tier_id, Tier.shop_id == member.shop_id, Tier.live.is_(True), Tier.perk_state == SYNCED))
