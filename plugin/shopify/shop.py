"""Reading the store's own settings from the Admin API: its time zone and currency."""
from plugin.shopify.client import AdminClient

SHOP_SETTINGS = "query { shop { ianaTimezone currencyCode } }"


def shop_settings(client: AdminClient) -> tuple[str | None, str | None]:
    """(IANA time zone, ISO currency code) as the platform reports them; None where it said nothing."""
    shop = client.query(SHOP_SETTINGS).get("shop") or {}
    return shop.get("ianaTimezone"), shop.get("currencyCode")
