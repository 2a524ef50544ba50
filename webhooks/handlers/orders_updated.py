"""`orders/updated`: the order as it stands now, sent on every change to it.

It heals what other webhooks missed (plugin/loyalty/order_reports.py `order_updated`): a
known customer's paid order that never earned is awarded, as its `orders/paid` would have
been, and refunds and a cancellation it carries are applied under their own ids. Every
other update (fulfilment, tags, notes, an order already settled) changes nothing and costs
at most two light reads. The payload is the same Order object as `orders/paid`'s, read by
the same parser.
"""
from plugin.loyalty.order_reports import OrderReport, order_updated
from webhooks.handlers.orders_paid import paid_when_delivered, parse, waiting_events

__all__ = ["apply", "apply_many", "parse"]


def apply(session, shop, facts: OrderReport, delivery=None) -> set[int]:
    return apply_many(session, shop, [(facts, delivery)])


def apply_many(session, shop, deliveries: list) -> set[int]:
    """A run of updates from one batch; returns the event ids of orders waiting for product facts."""
    return waiting_events(deliveries, order_updated(session, shop, paid_when_delivered(deliveries)).waiting)
