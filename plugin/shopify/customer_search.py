"""Finding the store's customers by email, many per Admin API call (SHOPIFY.md "customers").

The `customers` query takes a search string: EMAILS_PER_CALL addresses joined with OR, each
quoted, so one call answers for a batch and the client's throttle handling (waiting for the
bucket from `extensions.cost`) paces a long list. This module knows GraphQL, not loyalty:
it answers which customer ids carry which email, as the store spells it.
"""
from plugin.shopify.client import AdminClient

EMAILS_PER_CALL = 50
QUERY = """query($query: String!, $first: Int!) {
  customers(first: $first, query: $query) { nodes { id email } } }"""
GID = "gid://shopify/Customer/"


def customers_by_email(client: AdminClient, emails: list[str]) -> list[tuple[int, str]]:
    """(customer id, email) for the store's customers with one of these emails."""
    found = []
    for start in range(0, len(emails), EMAILS_PER_CALL):
        batch = emails[start:start + EMAILS_PER_CALL]
        search = " OR ".join(f'email:"{_quoted(email)}"' for email in batch)
        data = client.query(QUERY, {"query": search, "first": 2 * len(batch)})
        for node in (data.get("customers") or {}).get("nodes") or []:
            if str(node.get("id", "")).startswith(GID) and node.get("email"):
                found.append((int(node["id"][len(GID):]), node["email"]))
    return found


def _quoted(email: str) -> str:
    return email.replace("\\", "\\\\").replace('"', '\\"')
