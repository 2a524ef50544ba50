"""Redeeming a reward, as the panel's API and the storefront both ask for it.

Two transactions, owned here rather than by the edge, because their order is the point:
the first takes the member's points and records the redemption with its code chosen
(`redeem_reward`), and is committed before the platform is called, so a slow or failed
call can never hold the member's row or lose the spend; the second records what the
platform answered (`issue_code_in_request`, or `grant_credit_in_request` for store credit,
whose own flow is in store_credit.py). A refusal rolls the first back and is raised
to the edge, which says it its own way.
"""
from dataclasses import dataclass

from sqlalchemy.orm import Session

from plugin.loyalty.rewards.redemptions import RedemptionRefused, issue_code_in_request, redeem_reward
from plugin.loyalty.rewards.store_credit import grant_credit_in_request
from plugin.models import RedemptionStatus, Shop


@dataclass(frozen=True)
class Redeemed:
    """A committed redemption and where its code stands after the first platform call."""

    redemption_id: int
    status: RedemptionStatus


def redeem(session: Session, shop: Shop, customer_id: int, reward_id) -> Redeemed:
    """Spend the reward's points and make its code; RedemptionRefused (nothing spent) if it cannot be."""
    try:
        redemption = redeem_reward(session, shop, customer_id, reward_id)
    except RedemptionRefused:
        session.rollback()
        raise
    store_credit = redemption.credit_amount is not None
    session.commit()
    return Redeemed(redemption.id, (grant_credit_in_request if store_credit else issue_code_in_request)(redemption.id))
