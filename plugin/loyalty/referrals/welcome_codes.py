"""Welcome codes on the platform: made for a committed referral, and withdrawn once unusable.

`issue_welcome_code` makes the one Admin API call for a referral that plugin/loyalty/referrals/
friends.py recorded (through the redemptions' path: the same retries, the same adoption of
a code that already exists), kept to the store's segment of customers without orders so an
existing customer cannot use it. `withdraw_welcome_codes` is the periodic job that switches
off the codes of referrals rejected before their code was used.
"""
import logging
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import delete, select, update

from plugin.db import transaction, utcnow
from plugin.loyalty.referrals.friends import REFERRALS
from plugin.loyalty.rewards.redemptions import IN_REQUEST_LIMITS, call_platform, reward_offer
from plugin.models import Referral, ReferralStatus, Reward, Shop
from plugin.shopify.client import AdminClient, PlatformError, PlatformUnavailable
from plugin.shopify.discounts import CodeSpec, create_code, deactivate_code
from plugin.shopify.grants import PlatformAuthError
from plugin.shopify.segments import create_segment
from plugin.shopify.tokens import NotInstalled

log = logging.getLogger(__name__)

NEW_CUSTOMERS_SEGMENT = "Loyalty: customers without orders (welcome codes)"
NEW_CUSTOMERS_QUERY = "number_of_orders = 0"


def issue_welcome_code(referral_id: int) -> Referral | None:
    """Make the committed referral's code on the platform; the referral, or None when no code
    could be made (the referral is then gone and the friend may ask again)."""
    with transaction() as session:
        referral = session.get(Referral, referral_id)
        shop = session.get(Shop, referral.shop_id)
        reward = session.get(Reward, referral.reward_id)
        spec, offer = _spec(referral, reward), reward_offer(reward)
        shop_id, domain, segment_id = shop.id, shop.domain, shop.new_customers_segment_id
    spec = replace(spec, segment_id=segment_id or _new_customers_segment(shop_id, domain))
    outcome = call_platform(shop_id, domain, IN_REQUEST_LIMITS, lambda client: create_code(client, spec, offer))
    with transaction() as session:
        if outcome.discount_id is None:
            log.warning("welcome code of referral %s not made: %s", referral_id, outcome.postpone or outcome.fail)
            session.execute(delete(REFERRALS).where(REFERRALS.c.id == referral_id,
                                                    REFERRALS.c.status == ReferralStatus.CREATING))
            return None
        session.execute(update(REFERRALS).where(REFERRALS.c.id == referral_id,
                                                REFERRALS.c.status == ReferralStatus.CREATING)
                        .values(status=ReferralStatus.CODE_ISSUED, discount_id=outcome.discount_id))
        return session.get(Referral, referral_id)


def _new_customers_segment(shop_id: int, domain: str) -> str | None:
    """The store's segment of customers without orders, made once and kept on the shop: welcome
    codes name it as their context, so a customer who has ordered cannot use one. None when the
    store cannot make it now: that code is then open to all buyers, and the next one asks again."""
    try:
        made = create_segment(AdminClient(shop_id, domain, **IN_REQUEST_LIMITS), NEW_CUSTOMERS_SEGMENT,
                              NEW_CUSTOMERS_QUERY)
    except (PlatformError, PlatformAuthError, NotInstalled, KeyError, TypeError) as error:
        log.warning("no segment of new customers for shop %s (welcome codes open to all): %s", shop_id, error)
        return None
    with transaction() as session:
        session.execute(update(Shop).where(Shop.id == shop_id, Shop.new_customers_segment_id.is_(None))
                        .values(new_customers_segment_id=made))
        return session.scalar(select(Shop.new_customers_segment_id).where(Shop.id == shop_id))


def _spec(referral: Referral, reward: Reward) -> CodeSpec:
    ends = referral.created_at + timedelta(days=reward.code_lifetime_days) if reward.code_lifetime_days else None
    return CodeSpec(referral.code, f"Welcome from a friend: {reward.name}", None, referral.created_at, ends)


def withdraw_welcome_codes(limit: int = 100) -> int:
    """The periodic job: deactivate on the platform the codes of referrals rejected before
    their code was used (the friend ordered without it), so nobody can use them later.
    Returns how many were withdrawn; a platform that cannot answer now is asked next time."""
    with transaction() as session:
        due = session.execute(select(Referral.id, Referral.discount_id, Shop.id, Shop.domain)
                              .join(Shop, Shop.id == Referral.shop_id).where(
            Referral.status == ReferralStatus.REJECTED, Referral.order_id.is_(None),
            Referral.discount_id.is_not(None), Referral.code_withdrawn_at.is_(None),
            Shop.access_token.is_not(None)).order_by(Referral.id).limit(limit)).all()
    withdrawn = 0
    for referral_id, discount_id, shop_id, domain in due:
        try:
            deactivate_code(AdminClient(shop_id, domain, **IN_REQUEST_LIMITS), discount_id)
        except (PlatformUnavailable, PlatformAuthError, NotInstalled) as error:
            log.warning("welcome code of referral %s not withdrawn yet: %s", referral_id, error)
            continue
        except PlatformError as error:  # refused for good (the code is gone): nothing left to withdraw
            log.warning("welcome code of referral %s could not be withdrawn: %s", referral_id, error)
        with transaction() as session:
            session.execute(update(REFERRALS).where(REFERRALS.c.id == referral_id).values(code_withdrawn_at=utcnow()))
        withdrawn += 1
    return withdrawn
