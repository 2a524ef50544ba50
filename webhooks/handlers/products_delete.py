"""`products/delete`: the product is marked deleted; its cached facts stay.

An order of the product may still be paid after the deletion (or its orders/paid may
arrive late), and it must earn under the facts the product had; the platform could not
tell them any more. The payload is just `{"id"}`; the deletion time is the delivery's.
"""
from dataclasses import dataclass

from plugin.db import utcnow
from plugin.loyalty.rules.product_cache import record_gone
from webhooks.handlers.payloads import platform_id, required


@dataclass(frozen=True)
class DeletedProduct:
    product_id: int


def parse(payload: dict) -> DeletedProduct:
    return DeletedProduct(platform_id(required(payload, "id"), "id"))


def apply(session, shop, facts: DeletedProduct, delivery=None) -> None:
    record_gone(session, shop.id, facts.product_id, delivery.occurred_at if delivery else utcnow())
