"""`shop/update`: the store's time zone and currency, kept on the shop (plugin/loyalty/shop_facts.py)."""
from dataclasses import dataclass

from plugin.loyalty.shop_facts import keep_shop_facts
from webhooks.handlers.payloads import optional_text


@dataclass(frozen=True)
class ShopSettings:
    iana_timezone: str | None
    currency: str | None


def parse(payload: dict) -> ShopSettings:
    return ShopSettings(iana_timezone=optional_text(payload.get("iana_timezone"), 64),
                        currency=optional_text(payload.get("currency"), 3))


def apply(session, shop, facts: ShopSettings, delivery=None) -> None:
    keep_shop_facts(session, shop.id, facts.iana_timezone, facts.currency)
