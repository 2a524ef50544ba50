"""`customers/merge` (scope `read_customer_merge`): two customers became one, so their members do.

The payload names the two customers by GraphQL id (`admin_graphql_api_customer_kept_id`,
`admin_graphql_api_customer_deleted_id`) and says how the merge went (`status`: only a
`completed` merge moves anything; a `failed` one carries `errors` and changes nothing).
plugin/loyalty/merges.py does the rest.
"""
from plugin.ids import parse_id
from plugin.loyalty.merges import MergeReport, customers_merged
from webhooks.handlers.payloads import PayloadError, optional_text, required

PREFIX = "gid://shopify/Customer/"


def parse(payload: dict) -> MergeReport:
    return MergeReport(kept_customer_id=customer_gid(payload, "admin_graphql_api_customer_kept_id"),
                       merged_customer_id=customer_gid(payload, "admin_graphql_api_customer_deleted_id"),
                       status=(optional_text(payload.get("status"), 32) or "").lower())


def customer_gid(payload: dict, field: str) -> int:
    """123 from "gid://shopify/Customer/123" (a bare number is taken too)."""
    value = required(payload, field)
    text = value[len(PREFIX):] if isinstance(value, str) and value.startswith(PREFIX) else value
    number = parse_id(text)
    if not number:
        raise PayloadError(f"'{field}' must be a customer id (gid://shopify/Customer/<number>)")
    return number


def apply(session, shop, facts: MergeReport, delivery=None):
    return customers_merged(session, shop.id, facts)
