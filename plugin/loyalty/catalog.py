"""The product cache: what order lines do not carry (product type, tags, collections).

Fed by the products/* webhooks and by look-ups through the Admin API; read here as the
pure engine's ProductFacts. Only rules that match on product facts need it: with none
active, nothing is read.
"""
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import utcnow
from plugin.loyalty.earning.strategies import ProductFacts
from plugin.models import CachedProduct

# Facts older than this are refreshed before they decide points.
FRESH_FOR = timedelta(days=1)


def product_facts(session: Session, shop_id: int, product_ids: set[int]) -> dict[int, ProductFacts]:
    """The cached facts of these products (missing ones are simply absent)."""
    if not product_ids:
        return {}
    rows = session.scalars(select(CachedProduct).where(CachedProduct.shop_id == shop_id,
                                                       CachedProduct.product_id.in_(product_ids)))
    return {row.product_id: ProductFacts(row.product_id, row.product_type, row.vendor,
                                         frozenset(tag.strip().lower() for tag in row.tags or ()),
                                         frozenset(row.collection_ids or ()))
            for row in rows}


def stale_or_missing(session: Session, shop_id: int, product_ids: set[int]) -> set[int]:
    """Products whose facts are not cached, or older than FRESH_FOR."""
    if not product_ids:
        return set()
    fresh = set(session.scalars(select(CachedProduct.product_id).where(
        CachedProduct.shop_id == shop_id, CachedProduct.product_id.in_(product_ids),
        CachedProduct.fetched_at > utcnow() - FRESH_FOR)))
    return product_ids - fresh
