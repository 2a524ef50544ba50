"""`customers/redact`: remove the customer's personal data; their points stay.

The member loses email and name and is marked redacted, so later order and customer
webhooks cannot write them back; balance and ledger are kept because they are the shop's
figures, not the shopper's identity. The customer's exports and the stored webhook payloads
about them or their orders go too (plugin/loyalty/privacy.py). Nothing of the customer is logged.
"""
import logging
from dataclasses import dataclass

from plugin.loyalty.privacy import minimise_redact_delivery, redact_customer
from plugin.loyalty.referrals.friends import forget_referred_friend
from webhooks.handlers.payloads import compliance_customer, id_list, named_shop, optional_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Redaction:
    customer_id: int
    order_ids: tuple[int, ...]
    shop_domain: str | None
    email: str | None = None  # a referred friend may be known only by the email they gave


def parse(payload: dict) -> Redaction:
    return Redaction(
        customer_id=compliance_customer(payload),
        order_ids=id_list(payload, "orders_to_redact"),
        shop_domain=named_shop(payload),
        email=optional_text((payload.get("customer") or {}).get("email"), 320),
    )


def apply(session, shop, facts: Redaction, delivery) -> None:
    if facts.shop_domain not in (None, shop.domain):
        log.warning("customers/redact for %s names another shop in its body; ignored", shop.domain)
        return
    scrubbed = redact_customer(session, shop.id, shop.domain, facts.customer_id, facts.order_ids, delivery.event_id)
    forget_referred_friend(session, shop.id, facts.customer_id, facts.email)
    minimise_redact_delivery(session, delivery.event_id, facts.shop_domain, facts.customer_id, facts.order_ids)
    log.info("customers/redact done for %s (%d stored payloads scrubbed)", shop.domain, scrubbed)
