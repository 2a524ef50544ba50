"""`shop/redact`: 48 hours after an uninstall, erase everything the app holds of the shop.

What goes: the shop row, and with it (ON DELETE CASCADE) its program, members, ledger
entries, order and refund records and data exports; every stored webhook event of the
domain; its OAuth nonces. What stays: this delivery's own event row, which the processing
code still marks processed, so a redelivery is recognised as a duplicate at intake.

Re-creation, thought through. `webhooks/processing.py` resolves the shop (creating it with
defaults if unknown) before calling `apply`, so the row deleted here may exist only because
of this very event; deleting it is still right. Other events of the domain:
- earlier in the same batch: already applied; their effects go with the shop and their rows
  are deleted here (the batch's final status update then touches nothing);
- later in the same batch: their rows are deleted here too, and the processing code skips
  an event of a batch whose row a shop erasure removed (see `ERASES_SHOP`), so they neither
  re-create the shop nor act on it;
- held by another worker's batch (PostgreSQL): the delete here waits for that batch to
  commit, then removes its rows and, through the shop row, its effects;
- stored after the delete ran: newer deliveries, processed normally (a batch that still saw
  the old shop row fails on its foreign key and retries the event alone). Like any webhook
  from an unknown shop they re-create the shop row with defaults, holding nothing of what
  was erased: that is a reinstall, or a late compliance webhook for the erased shop.
A shop installed again after the platform asked for the erasure is not erased at all
(plugin/loyalty/privacy.py `erase_shop`): the merchant took the app and its data back.
"""
import logging
from dataclasses import dataclass

from plugin.loyalty.privacy import erase_shop
from webhooks.handlers.payloads import named_shop

log = logging.getLogger(__name__)

# Tells the processing code that this handler may delete the shop and its events.
ERASES_SHOP = True


@dataclass(frozen=True)
class ShopRedaction:
    shop_domain: str | None


def parse(payload: dict) -> ShopRedaction:
    return ShopRedaction(shop_domain=named_shop(payload))


def apply(session, shop, facts: ShopRedaction, delivery) -> None:
    if facts.shop_domain not in (None, shop.domain):
        log.warning("shop/redact for %s names another shop in its body; ignored", shop.domain)
        return
    if erase_shop(session, shop.id, shop.domain, delivery.event_id, delivery.occurred_at):
        log.info("shop/redact: erased everything of %s", shop.domain)
    else:
        log.warning("shop/redact for %s ignored: the shop was installed again since", shop.domain)
