"""`orders/cancelled`: the order gives back every point it still holds."""
from dataclasses import dataclass
from datetime import datetime

from plugin.db import utcnow
from plugin.loyalty.orders import order_cancelled
from webhooks.handlers.payloads import platform_id, required, timestamp


@dataclass(frozen=True)
class Cancellation:
    order_id: int
    cancelled_at: datetime


def parse(payload: dict) -> Cancellation:
    return Cancellation(
        order_id=platform_id(required(payload, "id"), "id"),
        cancelled_at=timestamp(payload.get("cancelled_at"), "cancelled_at") or utcnow(),
    )


def apply(session, shop, facts: Cancellation, delivery=None) -> None:
    order_cancelled(session, shop, facts.order_id, facts.cancelled_at)
