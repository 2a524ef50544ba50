"""Reading products from the Admin API, many per query: the facts order lines do not carry.

One `nodes(ids: [...])` query answers a whole list of products (SHOPIFY.md 10): type,
vendor, tags, collections and `updatedAt`, which the cache uses to refuse older facts
than it holds. Ids the platform no longer knows come back as null and are left out of the
answer, so the caller can tell "deleted" from "found".

Why not 250 products with `collections(first: 250)` each: a query's requested cost counts
every connection at its `first` (SHOPIFY.md 6.4), about 250 × 253 points for that, far past
the 1,000 one query may cost, and the platform would refuse it. A page of
COLLECTIONS_PER_PAGE collections per product keeps IDS_PER_QUERY products under that limit;
the rare product in more collections has the rest read with a query of its own.
Knows nothing of loyalty: it returns plain dataclasses.
"""
from dataclasses import dataclass
from datetime import datetime, timezone

from plugin.ids import parse_id
from plugin.shopify.client import AdminClient

MAX_QUERY_COST = 1000
COLLECTIONS_PER_PAGE = 10
# Each product: itself (1), its collections connection (2 + a page of nodes) and pageInfo (1).
PRODUCT_COST = 1 + 2 + COLLECTIONS_PER_PAGE + 1
IDS_PER_QUERY = min(250, MAX_QUERY_COST // PRODUCT_COST)  # 250: the platform's cap on an input list
PAGE = "nodes { id } pageInfo { hasNextPage endCursor }"
BY_IDS = f"""query($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Product {{
  id productType vendor tags updatedAt collections(first: {COLLECTIONS_PER_PAGE}) {{ {PAGE} }} }} }} }}"""
MORE_COLLECTIONS = f"""query($id: ID!, $after: String) {{ node(id: $id) {{ ... on Product {{
  collections(first: 250, after: $after) {{ {PAGE} }} }} }} }}"""


@dataclass(frozen=True)
class PlatformProduct:
    product_id: int
    product_type: str | None
    vendor: str | None
    tags: tuple[str, ...]
    collection_ids: tuple[int, ...]
    updated_at: datetime | None


def product_gid(product_id: int) -> str:
    return f"gid://shopify/Product/{product_id}"


def fetch_products(client: AdminClient, product_ids: set[int]) -> dict[int, PlatformProduct]:
    """The products the platform knows among these, by id; one query per IDS_PER_QUERY ids.
    Raises what AdminClient.query raises (PlatformUnavailable while the platform is down)."""
    ids = sorted(product_ids)
    found: dict[int, PlatformProduct] = {}
    for start in range(0, len(ids), IDS_PER_QUERY):
        chunk = [product_gid(product_id) for product_id in ids[start:start + IDS_PER_QUERY]]
        for node in client.query(BY_IDS, {"ids": chunk}).get("nodes") or []:
            product = _product(client, node)
            if product is not None:
                found[product.product_id] = product
    return found


def _product(client: AdminClient, node: dict | None) -> PlatformProduct | None:
    product_id = _numeric_id((node or {}).get("id"))
    if product_id is None:
        return None  # null: a deleted product; {}: an id that is not a product
    return PlatformProduct(
        product_id=product_id,
        product_type=node.get("productType") or None,
        vendor=node.get("vendor") or None,
        tags=tuple(str(tag) for tag in node.get("tags") or ()),
        collection_ids=tuple(_collections(client, node["id"], node.get("collections") or {})),
        updated_at=_moment(node.get("updatedAt")),
    )


def _collections(client: AdminClient, gid: str, page: dict) -> list[int]:
    """The collection ids of a product: the page that came with it, then any further pages."""
    ids = []
    while True:
        ids += [number for number in (_numeric_id(entry.get("id")) for entry in page.get("nodes") or [])
                if number is not None]
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage") or not info.get("endCursor"):
            return ids  # (no cursor: asking again would only repeat the first page)
        node = client.query(MORE_COLLECTIONS, {"id": gid, "after": info.get("endCursor")}).get("node") or {}
        page = node.get("collections") or {}


def _numeric_id(gid) -> int | None:
    """123 from "gid://shopify/Product/123"."""
    return parse_id(str(gid).rsplit("/", 1)[-1]) if isinstance(gid, str) and gid.startswith("gid://") else None


def _moment(value) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return moment.astimezone(timezone.utc) if moment and moment.tzinfo else None
