"""Writing to the store's customers: metafields in batches, and tags (SHOPIFY.md "Customer metafields").

`metafieldsSet` takes at most 25 values per call and is atomic; `tagsAdd`/`tagsRemove`
take one customer per call. This module knows GraphQL, not loyalty: callers say which
customer gets which value.
"""
from dataclasses import dataclass

from plugin.shopify.client import AdminClient

METAFIELDS_PER_CALL = 25
SET = """mutation($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) { metafields { id } userErrors { field message code } } }"""
DELETE = """mutation($metafields: [MetafieldIdentifierInput!]!) {
  metafieldsDelete(metafields: $metafields) { deletedMetafields { key } userErrors { field message } } }"""
TAGS_ADD = "mutation($id: ID!, $tags: [String!]!) { tagsAdd(id: $id, tags: $tags) { node { id } userErrors { field message } } }"
TAGS_REMOVE = ("mutation($id: ID!, $tags: [String!]!) { tagsRemove(id: $id, tags: $tags) "
               "{ node { id } userErrors { field message } } }")


@dataclass(frozen=True)
class CustomerValue:
    customer_id: int
    namespace: str
    key: str
    type: str
    value: str | None  # None: delete the metafield


def customer_gid(customer_id: int) -> str:
    return f"gid://shopify/Customer/{customer_id}"


def set_metafields(client: AdminClient, values: list[CustomerValue]) -> None:
    """Set at most 25 values in one call (UserErrors if the platform refused them: none was set)."""
    assert len(values) <= METAFIELDS_PER_CALL
    client.mutate(SET, {"metafields": [
        {"ownerId": customer_gid(v.customer_id), "namespace": v.namespace, "key": v.key, "type": v.type,
         "value": v.value} for v in values]}, "metafieldsSet")


def delete_metafields(client: AdminClient, values: list[CustomerValue]) -> None:
    client.mutate(DELETE, {"metafields": [
        {"ownerId": customer_gid(v.customer_id), "namespace": v.namespace, "key": v.key} for v in values]},
        "metafieldsDelete")


def add_tags(client: AdminClient, customer_id: int, tags: list[str]) -> None:
    client.mutate(TAGS_ADD, {"id": customer_gid(customer_id), "tags": tags}, "tagsAdd")


def remove_tags(client: AdminClient, customer_id: int, tags: list[str]) -> None:
    client.mutate(TAGS_REMOVE, {"id": customer_gid(customer_id), "tags": tags}, "tagsRemove")


def refused_positions(errors: list[dict]) -> set[int]:
    """Which inputs of a batch the platform refused, from userErrors' `field` paths
    (["metafields", "3", "value"]); empty if it did not say."""
    positions = set()
    for error in errors:
        field = error.get("field") or []
        if len(field) >= 2 and str(field[1]).isdigit():
            positions.add(int(field[1]))
    return positions
