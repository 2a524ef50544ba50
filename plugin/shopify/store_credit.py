"""Crediting a customer's store credit account, and reading back what it holds (SHOPIFY.md 10).

`storeCreditAccountCredit` takes the customer's id (the platform opens an account in that
currency if there is none) and has no idempotency key: a call whose answer was lost may have
credited the customer or not. So `credit` is sent exactly once per call (the client's own
retries are off here), and `credit_transactions` reads the customer's recent credits, which
the loyalty domain compares with its recorded intent before it ever sends another.
"""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from plugin.shopify.client import AdminClient, PlatformUnavailable
from plugin.shopify.customers import customer_gid
from plugin.shopify.discounts import money

CREDIT = """mutation($id: ID!, $creditInput: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction { ... on StoreCreditAccountCreditTransaction { id createdAt
      amount { amount currencyCode } } }
    userErrors { field message code } } }"""
# Newest first; a lost answer is looked for among the last hundred credits of each account.
TRANSACTIONS = """query($id: ID!) { customer(id: $id) { storeCreditAccounts(first: 10) { nodes { id
  transactions(first: 100, reverse: true) { nodes { ... on StoreCreditAccountCreditTransaction {
    id createdAt amount { amount currencyCode } } } } } } } }"""


@dataclass(frozen=True)
class Credit:
    """One credit to make: whose, how much, in which currency, until when (None: no expiry)."""

    customer_id: int
    amount: Decimal
    currency: str
    expires_at: datetime | None


@dataclass(frozen=True)
class CreditTransaction:
    id: str
    amount: Decimal
    currency: str
    created_at: datetime


def credit(client: AdminClient, wanted: Credit) -> str:
    """Credit the customer once; returns the transaction's id (UserErrors if refused)."""
    made = client.mutate(CREDIT, {"id": customer_gid(wanted.customer_id), "creditInput": {
        "creditAmount": {"amount": money(wanted.amount), "currencyCode": wanted.currency},
        "expiresAt": wanted.expires_at.isoformat() if wanted.expires_at else None,
        "notify": True,
    }}, "storeCreditAccountCredit")
    transaction = made.get("storeCreditAccountTransaction") or {}
    if not transaction.get("id"):
        # Something was done, or not: an unknown outcome, looked for before any retry.
        raise PlatformUnavailable("the platform answered a store credit without its transaction")
    return transaction["id"]


def credit_transactions(client: AdminClient, customer_id: int) -> list[CreditTransaction]:
    """The customer's recent credit transactions, in every currency (debits are left out)."""
    customer = client.query(TRANSACTIONS, {"id": customer_gid(customer_id)}).get("customer") or {}
    found = []
    for account in (customer.get("storeCreditAccounts") or {}).get("nodes") or []:
        for node in (account.get("transactions") or {}).get("nodes") or []:
            parsed = _transaction(node)
            if parsed is not None:
                found.append(parsed)
    return found


def _transaction(node: dict) -> CreditTransaction | None:
    try:
        amount = node["amount"]
        return CreditTransaction(str(node["id"]), Decimal(str(amount["amount"])), str(amount["currencyCode"]),
                                 datetime.fromisoformat(str(node["createdAt"]).replace("Z", "+00:00")))
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return None  # a debit or another transaction kind: the fragment selected nothing
