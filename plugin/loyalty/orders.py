"""Orders as the store reports them: the use cases the order webhooks call.

A handler parses its payload and calls one function here per batch; this module decides
what the ledger, tiers, earning rules, redemptions and referrals each do about it, in the
caller's transaction. `shop_context` is what every handler needs of its shop.
"""
from dataclasses import dataclass
from datetime import timezone, tzinfo

from sqlalchemy.orm import Session

from plugin.loyalty.earning.rules import ProgramRules
from plugin.loyalty.earning.strategies import EarningRule
from plugin.loyalty.programs import program_rules
from plugin.loyalty.rules.definitions import active_rules
from plugin.loyalty.shop_facts import business_zone
from plugin.loyalty.shops import get_or_create_shop


@dataclass(frozen=True)
class ShopContext:
    """What a webhook handler needs of its shop, read once per batch."""

    id: int
    domain: str
    rules: ProgramRules
    signup_bonus: int
    earning_rules: tuple[EarningRule, ...] = ()
    zone: tzinfo = timezone.utc  # business_zone(): where an order's business day is read


def shop_context(session: Session, domain: str) -> ShopContext:
    shop = get_or_create_shop(session, domain)
    return ShopContext(shop.id, shop.domain, program_rules(shop.program), shop.program.signup_bonus,
                       active_rules(session, shop.id), business_zone(shop.iana_timezone))
