"""Who each row is: by customer id, then by normalised email among members, then in the store.

The shop's members are read once (customer id and email: a few MB for 100,000 members),
so matching a million rows costs no query per row. Emails that no member has are looked
up in the store through the Admin API in batches (plugin/shopify/customer_search.py),
BEFORE anything is written, so no transaction waits on the network. An email shared by
two members or two store customers matches neither: the row says so.
"""
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from plugin.loyalty.emails import email_key
from plugin.loyalty.imports.reading import Problem
from plugin.loyalty.imports.rows import Row
from plugin.models import Member

AMBIGUOUS = 0  # a key that several customers share


class Directory:
    def __init__(self, session: Session, shop_id: int):
        self.members: set[int] = set()
        self.by_email: dict[str, int] = {}
        for customer_id, email in session.execute(select(Member.customer_id, Member.email).where(
                Member.shop_id == shop_id)):
            self.members.add(customer_id)
            _remember(self.by_email, email_key(email), customer_id)
        self.store: dict[str, int] = {}
        self.wanted: dict[str, str] = {}  # key -> the email as a file spelled it

    def want(self, row: Row) -> None:
        """Note a row's email for the store lookup when no member has it."""
        if row.customer_id is None and row.email_key not in self.by_email:
            self.wanted.setdefault(row.email_key, row.email.strip().lower())

    def look_up(self, search: Callable[[list[str]], list[tuple[int, str]]]) -> None:
        """Ask the store for every wanted email at once (`search` batches the calls)."""
        if self.wanted:
            for customer_id, email in search(sorted(set(self.wanted.values()))):
                _remember(self.store, email_key(email), customer_id)

    def resolve(self, row: Row) -> int | Problem:
        """The row's customer id, or why it has none."""
        if row.customer_id is not None:
            return row.customer_id
        found = self.by_email.get(row.email_key, self.store.get(row.email_key))
        if found == AMBIGUOUS:
            return Problem(row.row, "email", "several customers have this email: give the customer_id")
        if found is None:
            return Problem(row.row, "email", "no member and no customer of the store has this email")
        return found


def _remember(index: dict[str, int], key: str | None, customer_id: int) -> None:
    if key is not None:
        index[key] = customer_id if index.get(key, customer_id) == customer_id else AMBIGUOUS
