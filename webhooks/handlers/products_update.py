"""`products/update`: keep the product cache's facts current; a stale payload loses.

The REST product payload carries `product_type`, `vendor` and `tags` (one comma-separated
string), but not collections: the cache keeps the collections it has, and only a look-up
through the Admin API (webhooks/products.py) fills or refreshes them. Should a payload
carry `collections` after all (a list of `{"id"}`), they are taken too. Deliveries arrive
out of order, so one whose `updated_at` is older than the facts held changes nothing.
"""
from dataclasses import dataclass
from datetime import datetime

from plugin.ids import parse_id
from plugin.loyalty.earning.rules import normalise_tag
from plugin.loyalty.earning.strategies import ProductFacts
from plugin.loyalty.rules.product_cache import record_product
from webhooks.handlers.payloads import optional_text, platform_id, required, timestamp


@dataclass(frozen=True)
class ProductChange:
    facts: ProductFacts
    updated_at: datetime | None
    collections_known: bool  # False: the payload did not carry them (the REST webhook never does)


def parse(payload: dict) -> ProductChange:
    collections = collection_ids(payload)
    facts = ProductFacts(
        product_id=platform_id(required(payload, "id"), "id"),
        product_type=optional_text(payload.get("product_type")),
        vendor=optional_text(payload.get("vendor")),
        tags=tags(payload.get("tags")),
        collection_ids=frozenset(collections or ()),
    )
    updated_at = timestamp(payload.get("updated_at") or payload.get("created_at"), "updated_at")
    return ProductChange(facts, updated_at, collections is not None)


def tags(value) -> frozenset[str]:
    """Tags given as "Green, Organic" (REST) or as a list, compared without case or spaces."""
    listed = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    # NUL is not storable in PostgreSQL text; it never belongs in a tag.
    cleaned = (normalise_tag(str(tag).replace("\x00", ""))[:255] for tag in listed)
    return frozenset(tag for tag in cleaned if tag)


def collection_ids(payload: dict) -> frozenset[int] | None:
    """The payload's collections, or None when it carries none we can read: the cache then
    keeps what it has rather than forget the product's collections."""
    listed = payload.get("collections")
    if not isinstance(listed, list) or not all(isinstance(entry, dict) for entry in listed):
        return None
    ids = [parse_id(str(entry.get("id")).rsplit("/", 1)[-1]) for entry in listed]
    return None if None in ids else frozenset(ids)


def apply(session, shop, change: ProductChange, delivery=None) -> None:
    record_product(session, shop.id, change.facts, change.updated_at, change.collections_known)
