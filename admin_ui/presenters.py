"""The JSON shapes the panel's API answers with, one function per thing it shows.

The domain returns rows and plain values; how they look on the wire is decided here, at
the edge, so a change of shape never reaches the loyalty code. (Shapes the domain itself
writes out -- the customer data export, member events' payloads -- stay with it.)
"""
from datetime import datetime

from plugin.loyalty.tiers.definitions import threshold_json
from plugin.models import (
    DeliveryStatus,
    EarningRuleRecord,
    EventDelivery,
    EventSubscription,
    Member,
    Program,
    Referral,
    Reward,
    Tier,
)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def reward_json(reward: Reward, used_by: list[str]) -> dict:
    """`used_by` lists the program's uses of the reward (`referral_welcome`, `tier_perk`:
    catalog.reward_uses), which keep it from being deactivated or deleted: the panel says so
    before the merchant tries."""
    return {
        "id": reward.id, "name": reward.name, "kind": reward.kind.value, "value": str(reward.value),
        "points_cost": reward.points_cost,
        "min_subtotal": None if reward.min_subtotal is None else str(reward.min_subtotal),
        "code_lifetime_days": reward.code_lifetime_days, "combines_with": dict(reward.combines_with),
        "product_id": None if reward.product_id is None else str(reward.product_id),
        "active": reward.active, "used_by": used_by,
    }


def program_json(program: Program) -> dict:
    return {
        "points_per_currency_unit": str(program.points_per_currency_unit),
        "signup_bonus": program.signup_bonus,
        "excluded_order_tags": list(program.excluded_order_tags),
        "exclude_gift_cards": program.exclude_gift_cards,
        "award_test_orders": program.award_test_orders,
        "return_points_on_expiry": program.return_points_on_expiry,
        "pending_days": program.pending_days,
        "expiry_policy": program.expiry_policy,
        "expiry_months": program.expiry_months,
        "expiry_reminder_days": program.expiry_reminder_days,
        "store_sync_enabled": program.store_sync_enabled,
        "tier_basis": program.tier_basis,
        "tier_window": program.tier_window,
        "updated_at": program.updated_at.isoformat(),
        "referral_points": program.referral_points,
        "referral_reward_id": program.referral_reward_id,
        "birthday_bonus": program.birthday_bonus,
    }


def rule_json(record: EarningRuleRecord, label: str | None = None) -> dict:
    """`label`: how the panel names the matched value (a collection's title), when known."""
    match = {"field": record.match_field, "value": record.match_value}
    if label is not None:
        match["label"] = label
    return {
        "id": record.id, "name": record.name, "kind": record.kind,
        "match": match,
        "multiplier": None if record.multiplier is None else str(record.multiplier),
        "points": record.points, "per": record.per,
        "min_subtotal": None if record.min_subtotal is None else str(record.min_subtotal),
        "starts_at": _iso(record.starts_at), "ends_at": _iso(record.ends_at), "active": record.active,
        "created_at": _iso(record.created_at),
    }


def tier_json(tier: Tier, basis: str) -> dict:
    return {
        "id": tier.id, "name": tier.name, "threshold": threshold_json(tier.threshold, basis),
        "multiplier": str(tier.multiplier), "perks": tier.perks,
        "product_id": None if tier.product_id is None else str(tier.product_id),
        # The perk its members get at checkout without a code, and where the store stands with it.
        "perk_reward_id": tier.perk_reward_id, "perk_state": tier.perk_state, "perk_error": tier.perk_error,
        "created_at": tier.created_at.isoformat(),
    }


def subscription_json(subscription: EventSubscription) -> dict:
    return {
        "id": subscription.id,
        "url": subscription.url,
        "kinds": list(subscription.kinds),
        "created_at": subscription.created_at.isoformat(),
    }


def delivery_json(delivery: EventDelivery, kind: str | None = None, history: list | None = None) -> dict:
    """A delivery; with `history` (its DeliveryAttempt rows, newest first), every kept try as well."""
    found = {
        "id": delivery.id,
        "subscription_id": delivery.subscription_id,
        "event_id": delivery.event_id,
        "sample": delivery.event_id is None,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "response_status": delivery.response_status,
        "error": delivery.error,
        "next_attempt_at": delivery.next_attempt_at.isoformat() if delivery.status is DeliveryStatus.PENDING else None,
        "last_attempt_at": delivery.last_attempt_at.isoformat() if delivery.last_attempt_at else None,
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
        "created_at": delivery.created_at.isoformat(),
    }
    if history is not None:
        found["attempt_history"] = [{"attempted_at": a.attempted_at.isoformat(), "response_status": a.response_status,
                                     "error": a.error} for a in history]
    return found


def referral_json(referral: Referral, referrer: Member) -> dict:
    return {
        "id": referral.id,
        "referrer_customer_id": str(referrer.customer_id),
        # How the panel names the referrer: their name, else their email (null once redacted).
        "referrer_name": " ".join(filter(None, (referrer.first_name, referrer.last_name))) or referrer.email,
        "friend_email": referral.friend_email,
        "code": referral.code,
        "status": referral.status.value,
        "reason": referral.reason,
        "order_id": None if referral.order_id is None else str(referral.order_id),
        "points": referral.points,
        "reversed_at": referral.reversed_at.isoformat() if referral.reversed_at else None,
        "created_at": referral.created_at.isoformat(),
    }
