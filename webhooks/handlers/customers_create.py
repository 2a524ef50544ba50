"""`customers/create`: the customer becomes a member and receives the signup bonus, once."""
from plugin.loyalty.ledger.bonuses import grant_signup_bonus
from webhooks.handlers import customers_update
from webhooks.handlers.customers_update import CustomerProfile

parse = customers_update.parse


def apply(session, shop, facts: CustomerProfile, delivery=None) -> None:
    member = customers_update.apply(session, shop, facts, delivery)
    grant_signup_bonus(session, shop.id, member, facts.customer_id, shop.signup_bonus)
