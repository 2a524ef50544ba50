"""`customers/create`: the customer becomes a member and receives the signup bonus, once."""
from plugin.loyalty.signups import customer_signed_up
from webhooks.handlers import customers_update
from webhooks.handlers.customers_update import CustomerProfile

parse = customers_update.parse


def apply(session, shop, facts: CustomerProfile, delivery=None) -> None:
    customer_signed_up(session, shop, facts.customer_id, facts.email, facts.first_name, facts.last_name,
                       facts.updated_at)
