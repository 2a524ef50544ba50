"""Reading the store's collections (id and title) from the Admin API, a page at a time.

The rule editor names collections by title; products carry only their collections' ids.
Knows nothing of loyalty: it returns (id, title) pairs.
"""
from plugin.ids import parse_id
from plugin.shopify.client import AdminClient

PER_PAGE = 250
MAX_PAGES = 40  # 10,000 collections: past that, the editor offers the first ones by title
COLLECTIONS = """query($first: Int!, $after: String, $sortKey: CollectionSortKeys) {
  collections(first: $first, after: $after, sortKey: $sortKey) {
    nodes { id title } pageInfo { hasNextPage endCursor } } }"""


def fetch_collections(client: AdminClient) -> list[tuple[int, str]]:
    """Every collection of the store as (id, title), in title order (up to MAX_PAGES pages).
    Raises what AdminClient.query raises."""
    found, after = [], None
    for _ in range(MAX_PAGES):
        page = client.query(COLLECTIONS, {"first": PER_PAGE, "after": after, "sortKey": "TITLE"})["collections"]
        for node in page.get("nodes") or []:
            collection_id = parse_id(str(node.get("id") or "").rsplit("/", 1)[-1])
            if collection_id is not None:
                found.append((collection_id, str(node.get("title") or "")[:255]))
        if not page.get("pageInfo", {}).get("hasNextPage"):
            break
        after = page["pageInfo"]["endCursor"]
    return found
