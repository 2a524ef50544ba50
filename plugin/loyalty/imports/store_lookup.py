"""The store lookup an import's preview uses: emails to customers through the Admin API."""
from collections.abc import Callable

from plugin.shopify.client import AdminClient
from plugin.shopify.customer_search import customers_by_email


def store_search(shop_id: int, domain: str) -> Callable[[list[str]], list[tuple[int, str]]]:
    return lambda emails: customers_by_email(AdminClient(shop_id, domain), emails)
