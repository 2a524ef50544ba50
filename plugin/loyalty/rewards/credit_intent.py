"""What a store-credit redemption records with its spend, before any platform call.

Store credit has no idempotency key (SHOPIFY.md 10), so the amount, currency and expiry are
fixed when the points are taken: every later try, and the check of the customer's account
after a lost answer, compares against these values, never against a reward the merchant
may have changed meanwhile.
"""
from datetime import datetime, timedelta

from plugin.models import Reward, RewardKind, Shop


class NoCurrency(Exception):
    """The store's currency is not known yet, so no credit can be made; nothing was spent."""


def credit_intent(shop: Shop, reward: Reward, now: datetime) -> dict:
    """The redemption's store-credit columns: empty for a reward that gives a code."""
    if reward.kind is not RewardKind.STORE_CREDIT:
        return {}
    if not shop.currency:
        raise NoCurrency("store credit needs the store's currency, which is not known yet; no points were spent")
    return {"credit_amount": reward.value, "credit_currency": shop.currency,
            "credit_expires_at": now + timedelta(days=reward.code_lifetime_days) if reward.code_lifetime_days else None,
            "expires_at": None}  # the credit's own expiry: no code of ours lapses, no points come back
