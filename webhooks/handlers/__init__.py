"""One module per webhook topic, named after it (`orders/paid` -> `orders_paid.py`).

Each module has `parse(payload) -> facts`, which reads the payload and raises
`PayloadError` before anything is written, and `apply(session, shop, facts, delivery)`,
which moves points through plugin/ledger.py (`delivery` is the stored event: its id and
when it arrived). Splitting the two keeps a bad payload from touching the
database and lets a batch of events share one transaction.
"""
from webhooks.handlers import (
    app_uninstalled,
    customers_create,
    customers_update,
    orders_cancelled,
    orders_paid,
    refunds_create,
)

HANDLERS = {
    "app/uninstalled": app_uninstalled,
    "orders/paid": orders_paid,
    "orders/cancelled": orders_cancelled,
    "refunds/create": refunds_create,
    "customers/create": customers_create,
    "customers/update": customers_update,
}
