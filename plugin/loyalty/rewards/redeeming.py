"""Redeeming a reward, as the panel's API and the storefront both ask for it.

Two transactions of the request's session, owned here rather than by the edge, because
their order is the point: the first takes the member's points and records the redemption
with its code chosen and claimed (`redeem_reward`), and is committed before the platform
is called, so a slow or failed call can never hold the member's row or lose the spend; the
second records what the platform answered (`issue_taken`; store credit has its own flow,
`grant_credit_in_request` in store_credit.py). Nothing is read again between them: the
platform call is made from what the first read. A refusal rolls the first back and is
raised to the edge, which says it its own way.
"""
from dataclasses import dataclass

from sqlalchemy.orm import Session

from plugin.loyalty.rewards.redemptions import RedemptionRefused, issue_taken, redeem_reward, redemption_json
from plugin.loyalty.rewards.store_credit import grant_credit_in_request
from plugin.models import Redemption, RedemptionStatus, Shop


@dataclass(frozen=True)
class Redeemed:
    """A committed redemption and where its code stands after the first platform call."""

    redemption_id: int
    status: RedemptionStatus
    code: str
    redemption: dict  # `redemption_json` as it stands now
    balance: int  # the member's balance after it (the points are back if the code failed)


def redeem(session: Session, shop: Shop, customer_id: int, reward_id) -> Redeemed:
    """Spend the reward's points and make its code; RedemptionRefused (nothing spent) if it cannot be."""
    try:
        taken = redeem_reward(session, shop, customer_id, reward_id)
    except RedemptionRefused:
        session.rollback()
        raise
    store_credit = taken.redemption.credit_amount is not None
    session.commit()
    if store_credit:
        status = grant_credit_in_request(taken.redemption.id)
        session.expire_all()  # its outcome was committed by the credit flow's own transactions
        recorded = session.get(Redemption, taken.redemption.id)
        returned = recorded.points if status is RedemptionStatus.FAILED else 0
        return Redeemed(recorded.id, status, recorded.code, redemption_json(recorded), taken.balance + returned)
    pending = redemption_json(taken.redemption)  # read now: a busy second transaction expires the row
    recorded = issue_taken(session, taken)
    if recorded is None:
        return Redeemed(taken.redemption.id, RedemptionStatus.PENDING, pending["code"], pending, taken.balance)
    returned = recorded.points if recorded.status is RedemptionStatus.FAILED else 0
    return Redeemed(recorded.id, recorded.status, recorded.code, redemption_json(recorded), taken.balance + returned)
