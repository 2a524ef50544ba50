"""One module per webhook topic, named after it (`orders/paid` -> `orders_paid.py`).

Each module has `parse(payload) -> facts`, which reads the payload and raises
`PayloadError` before anything is written, and `apply(session, shop, facts, delivery)`,
which moves points through plugin/loyalty/ledger/ (`delivery` is the stored event: its id and
when it arrived). Splitting the two keeps a bad payload from touching the
database and lets a batch of events share one transaction. A module whose `apply` may
delete its shop says so with `ERASES_SHOP = True` (shop/redact), so the batch stops
trusting what it cached of that shop.
"""
from webhooks.handlers import (
    app_uninstalled,
    customers_create,
    customers_data_request,
    customers_merge,
    customers_redact,
    customers_update,
    orders_cancelled,
    orders_create,
    orders_paid,
    orders_updated,
    products_create,
    products_delete,
    products_update,
    refunds_create,
    shop_redact,
    shop_update,
)

HANDLERS = {
    "app/uninstalled": app_uninstalled,
    "shop/update": shop_update,  # the shop's time zone and currency
    "orders/paid": orders_paid,
    # The order as it stands: heals a missed orders/paid, refunds/create or orders/cancelled.
    "orders/updated": orders_updated,
    "orders/create": orders_create,
    "orders/cancelled": orders_cancelled,
    "refunds/create": refunds_create,
    "customers/create": customers_create,
    "customers/update": customers_update,
    # Two customers made one: their members' points, tiers and referrals become the kept one's.
    "customers/merge": customers_merge,
    # The product cache that rules on product type, tags and collections read.
    "products/create": products_create,
    "products/update": products_update,
    "products/delete": products_delete,
    # The mandatory privacy topics (shopify.app.toml subscribes them as compliance_topics).
    "customers/data_request": customers_data_request,
    "customers/redact": customers_redact,
    "shop/redact": shop_redact,
}
