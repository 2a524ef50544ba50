"""The product cache: what order lines do not carry (product type, tags, collections).

Fed by the products/* webhooks (webhooks/handlers/products_update.py and siblings) and by
look-ups through the Admin API, which run before a batch of paid orders opens its
transaction (webhooks/products.py); read here as the pure engine's ProductFacts. Only rules
that match on product facts need it: with none active, nothing is read or looked up.

Facts decide points only while fresh (read from the platform within FRESH_FOR; a rule on
collections also needs collections read within it, which only a look-up does). Pricing
never guesses: facts that are missing or stale raise ProductFactsMissing, and the order's
event waits and is retried with the usual backoff while the look-up pass fills the cache.
A deleted product keeps its last facts, for orders of it still to come, and never goes
stale: nothing about it can change any more.
"""
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.db import insert_for, utcnow
from plugin.loyalty.earning.strategies import MATCHES, EarningRule, ProductFacts
from plugin.models import CachedProduct

# Facts older than this are refreshed before they decide points.
FRESH_FOR = timedelta(days=1)
# Pricing accepts facts this much older than FRESH_FOR, so an entry that turns a day old
# between the look-up pass and its batch does not send the order back to wait.
PRICING_GRACE = timedelta(minutes=10)
COLLECTION_FIELD = "collection_id"


class ProductFactsMissing(Exception):
    """An active rule needs facts the cache does not hold fresh: the order must wait (its event
    is retried with backoff), never earn at a guessed rate."""

    def __init__(self, product_ids: set[int], usable: dict[int, ProductFacts] | None = None):
        shown = ", ".join(str(product_id) for product_id in sorted(product_ids)[:10])
        more = f" and {len(product_ids) - 10} more" if len(product_ids) > 10 else ""
        super().__init__(f"facts of product(s) {shown}{more} are not cached yet, or too old; retried later")
        self.product_ids = frozenset(product_ids)
        self.usable = usable or {}  # what could be read: enough for the orders that need no more


def product_match_fields() -> list[str]:
    """The rule match fields whose facts come from this cache."""
    return [name for name, match in MATCHES.items() if match.needs_product]


def needs_product_facts(rules: tuple[EarningRule, ...]) -> bool:
    return any(MATCHES[rule.match_field].needs_product for rule in rules)


def needs_collections(rules: tuple[EarningRule, ...]) -> bool:
    return any(rule.match_field == COLLECTION_FIELD for rule in rules)


def product_facts(session: Session, shop_id: int, product_ids: set[int]) -> dict[int, ProductFacts]:
    """The cached facts of these products (missing ones are simply absent), fresh or not."""
    return {row.product_id: _facts(row) for row in _rows(session, shop_id, product_ids)}


def facts_for_pricing(session: Session, shop_id: int, product_ids: set[int],
                      collections: bool = False) -> dict[int, ProductFacts]:
    """The facts of these products, all of them fresh, or ProductFactsMissing."""
    cutoff = utcnow() - FRESH_FOR - PRICING_GRACE
    usable = {row.product_id: _facts(row) for row in _rows(session, shop_id, product_ids)
              if _fresh(row, collections, cutoff)}
    if len(usable) < len(product_ids):
        raise ProductFactsMissing(set(product_ids) - set(usable), usable)
    return usable


def stale_or_missing(session: Session, shop_id: int, product_ids: set[int], collections: bool = False) -> set[int]:
    """Products whose facts are not cached, or older than FRESH_FOR (with `collections`: their
    collections too): what the look-up pass fetches."""
    cutoff = utcnow() - FRESH_FOR
    fresh = {row.product_id for row in _rows(session, shop_id, product_ids) if _fresh(row, collections, cutoff)}
    return set(product_ids) - fresh


def _rows(session: Session, shop_id: int, product_ids: set[int]) -> list[CachedProduct]:
    if not product_ids:
        return []
    return list(session.scalars(select(CachedProduct).where(CachedProduct.shop_id == shop_id,
                                                            CachedProduct.product_id.in_(product_ids))))


def _fresh(row: CachedProduct, collections: bool, cutoff: datetime) -> bool:
    if row.deleted_at is not None:
        return True  # the platform has nothing newer to say, and a look-up would find nothing
    if row.fetched_at <= cutoff:
        return False
    return not collections or (row.collections_fetched_at is not None and row.collections_fetched_at > cutoff)


def _facts(row: CachedProduct) -> ProductFacts:
    return ProductFacts(row.product_id, row.product_type, row.vendor,
                        frozenset(tag.strip().lower() for tag in row.tags or ()),
                        frozenset(row.collection_ids or ()))


def record_product(session: Session, shop_id: int, facts: ProductFacts, updated_at: datetime | None,
                   collections_known: bool) -> None:
    """Store what the platform said of a product (a webhook, or a look-up with
    `collections_known`). Facts older than those held (by the platform's `updated_at`) change
    nothing: if they came from a look-up that raced a webhook, the next look-up pass asks again."""
    row = _row_for_update(session, shop_id, facts.product_id)
    if updated_at is not None and row.updated_at is not None and updated_at < row.updated_at:
        return
    now = utcnow()
    row.product_type, row.vendor, row.tags = facts.product_type, facts.vendor, sorted(facts.tags)
    row.updated_at = updated_at or row.updated_at
    row.fetched_at = now
    if collections_known:
        row.collection_ids, row.collections_fetched_at = sorted(facts.collection_ids), now


def record_gone(session: Session, shop_id: int, product_id: int, deleted_at: datetime) -> None:
    """The product was deleted (products/delete, or a look-up found nothing): its last facts stay."""
    row = _row_for_update(session, shop_id, product_id)
    if row.deleted_at is None:
        row.deleted_at = deleted_at


def record_look_up(session: Session, shop_id: int, asked: set[int],
                   found: list[tuple[ProductFacts, datetime | None]]) -> None:
    """Store a look-up's answer: the products found, and the ones the platform no longer knows.
    In id order, so two writers of the same products take their row locks in the same order."""
    now = utcnow()
    answered = {facts.product_id: (facts, updated_at) for facts, updated_at in found}
    for product_id in sorted(asked | set(answered)):
        if product_id in answered:
            record_product(session, shop_id, *answered[product_id], collections_known=True)
        else:
            record_gone(session, shop_id, product_id, now)


def _row_for_update(session: Session, shop_id: int, product_id: int) -> CachedProduct:
    """The product's row, created empty if missing, locked until the transaction ends.
    ON CONFLICT: a webhook and a look-up may meet the same new product at once."""
    session.execute(insert_for(session, CachedProduct.__table__).values(
        shop_id=shop_id, product_id=product_id, tags=[], collection_ids=[], fetched_at=utcnow())
        .on_conflict_do_nothing())
    return session.scalars(select(CachedProduct).where(CachedProduct.shop_id == shop_id,
                                                       CachedProduct.product_id == product_id)
                           .with_for_update()).one()


# The rule match fields a merchant picks a value for from what the cache knows, and where.
PICKABLE = {"product_type": "product_type", "vendor": "vendor", "product_tag": "tags"}
MAX_PICKS = 50


def known_values(session: Session, shop_id: int, field: str, typed: str = "") -> list[str]:
    """Up to MAX_PICKS values of `field` (a key of PICKABLE) among the shop's cached products,
    containing `typed` (any case), in alphabetical order: what the rule editor offers instead
    of free text. Deleted products count (an order of one may still come)."""
    column = PICKABLE[field]
    rows = session.scalars(select(getattr(CachedProduct, column)).where(CachedProduct.shop_id == shop_id))
    found: dict[str, str] = {}
    for value in rows:
        for one in (value or []) if column == "tags" else [value]:
            if one and one.strip() and typed.strip().lower() in one.lower():
                found.setdefault(one.strip().lower(), one.strip())
    return sorted(found.values(), key=str.lower)[:MAX_PICKS]
