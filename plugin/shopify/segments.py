"""Customer segments (SHOPIFY.md 11): a saved query over customers, here on one customer tag.

A segment follows its query, so a customer enters or leaves it when the tag is added or
removed; nothing is written per customer. `segmentCreate` names must be unique in the store,
so callers give a name of their own making. Deleting a segment the store no longer has is
taken as done: what the caller wanted is true either way.
"""
import re

from plugin.shopify.client import AdminClient, UserErrors

CREATE = """mutation($name: String!, $query: String!) {
  segmentCreate(name: $name, query: $query) { segment { id } userErrors { field message } } }"""
UPDATE = """mutation($id: ID!, $name: String!, $query: String!) {
  segmentUpdate(id: $id, name: $name, query: $query) { segment { id } userErrors { field message } } }"""
DELETE = """mutation($id: ID!) { segmentDelete(id: $id) { deletedSegmentId userErrors { field message } } }"""
SAFE_TAG = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def tag_query(tag: str) -> str:
    """The segment query for customers carrying `tag` (letters, digits, - and _ only: it is
    quoted into the query)."""
    if not SAFE_TAG.match(tag):
        raise ValueError(f"not a tag a segment query can name: {tag!r}")
    return f"customer_tags CONTAINS '{tag}'"


def create_segment(client: AdminClient, name: str, query: str) -> str:
    """The new segment's id (UserErrors if the store refused it)."""
    return client.mutate(CREATE, {"name": name, "query": query}, "segmentCreate")["segment"]["id"]


def update_segment(client: AdminClient, segment_id: str, name: str, query: str) -> None:
    client.mutate(UPDATE, {"id": segment_id, "name": name, "query": query}, "segmentUpdate")


def delete_segment(client: AdminClient, segment_id: str) -> None:
    try:
        client.mutate(DELETE, {"id": segment_id}, "segmentDelete")
    except UserErrors:
        pass  # not found: someone deleted it in the store admin already
