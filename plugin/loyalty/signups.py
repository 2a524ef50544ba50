"""A customer signs up: they become a member and receive the program's signup bonus, once.

The bonus is keyed on the customer (the ledger's unique source), so a second
`customers/create` for the same customer grants nothing.
"""
from datetime import datetime

from sqlalchemy.orm import Session

from plugin.loyalty.ledger.bonuses import grant_signup_bonus
from plugin.loyalty.members import update_profile


def customer_signed_up(session: Session, shop, customer_id: int, email: str | None, first_name: str | None,
                       last_name: str | None, updated_at: datetime | None) -> int:
    """The member's id, created or brought up to date, with the signup bonus of `shop` (a ShopContext)."""
    member = update_profile(session, shop.id, customer_id, email, first_name, last_name, updated_at)
    grant_signup_bonus(session, shop.id, member, customer_id, shop.signup_bonus)
    return member
