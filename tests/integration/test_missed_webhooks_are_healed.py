"""A webhook is lost; reconciliation (or the order's next `orders/updated`) heals it.

The development store plays the platform (tests/dev_store.py): it keeps every order the test
"places" (admin_ui/dev/store_orders.py), whether or not its webhook is delivered, and answers
the reconciliation query from them over HTTP, through the app's own Admin API client. Each
kind of webhook is dropped in turn (paid, refund, cancel), and the ledger after healing must
be the one the delivered webhook would have left: same balance, same entries.
"""
import pytest
from sqlalchemy import func, select

from admin_ui.dev import store_orders
from plugin.db import transaction
from plugin.models import LedgerEntry, ReconciliationRun
from tests.admin_ui.dev.test_dev_store import open_panel
from tests.dev_store import DEV_SHOP, dev_store_fixture  # noqa: F401 (the `dev_store` fixture)
from tests.helpers import auth, order, refund, signed_webhook

ADA = 7100000001


@pytest.fixture
def store(dev_store):
    open_panel(dev_store.client())  # installs the development shop: the platform issues its token
    return Store(dev_store)


class Store:
    """The store's side: it keeps each order, and delivers its webhook unless it is lost."""

    def __init__(self, dev_store):
        self.dev_store = dev_store
        self.client = dev_store.client()

    def happens(self, topic: str, payload: dict, delivered: bool = True) -> None:
        with self.dev_store.app.app_context(), transaction() as session:
            store_orders.keep(session, DEV_SHOP, topic, payload)
        if delivered:
            assert signed_webhook(self.client, topic, payload, shop=DEV_SHOP).status_code == 200

    def reconcile(self, *options: str, exit_code: int = 0) -> str:
        # In the development store's app context: `db` has pushed the other test app's.
        with self.dev_store.app.app_context():
            result = self.dev_store.app.test_cli_runner().invoke(args=["reconcile", "--shop", DEV_SHOP, *options])
        assert result.exit_code == exit_code, result.output
        return result.output

    def balance(self, customer_id: int = ADA) -> int | None:
        answer = self.client.get(f"/api/members/{customer_id}", headers=auth(DEV_SHOP))
        return answer.get_json()["balance"] if answer.status_code == 200 else None

    def entries(self, db) -> list[tuple]:
        return sorted((entry.kind.value, entry.source_id, entry.delta, entry.reason) for entry in db.execute(
            select(LedgerEntry.kind, LedgerEntry.source_id, LedgerEntry.delta, LedgerEntry.reason)))


def healed(output: str) -> str:
    return output.split("; healed ", 1)[1].split(";")[0].strip()


def test_a_lost_orders_paid_is_awarded_by_reconciliation_as_the_webhook_would(store, db):
    delivered, lost = order(customer_id=ADA, subtotal="40.00"), order(customer_id=ADA, subtotal="25.50")
    store.happens("orders/paid", delivered)
    store.happens("orders/paid", lost, delivered=False)
    assert store.balance() == 40
    assert healed(store.reconcile()) == "1 missed orders, 0 refunds, 0 cancellations"
    assert store.balance() == 40 + 25
    [award] = [e for e in store.entries(db) if e[1] == str(lost["id"])]
    assert award[2:] == (25, f"Order {lost['name']} paid")
    # Twice: the same orders are read again, and nothing changes.
    before = store.entries(db)
    assert healed(store.reconcile()) == "0 missed orders, 0 refunds, 0 cancellations"
    assert store.entries(db) == before


def test_a_lost_refund_and_a_lost_cancellation_are_taken_back_by_reconciliation(store, db):
    refunded, cancelled = order(customer_id=ADA, subtotal="40.00"), order(customer_id=ADA, subtotal="30.00")
    store.happens("orders/paid", refunded)
    store.happens("orders/paid", cancelled)
    store.happens("refunds/create", refund(refunded["id"], "15.00"), delivered=False)
    store.happens("orders/cancelled", {**cancelled, "cancelled_at": "2026-12-01T10:00:00Z"}, delivered=False)
    assert store.balance() == 70
    assert healed(store.reconcile()) == "0 missed orders, 1 refunds, 1 cancellations"
    assert store.balance() == 70 - 15 - 30
    assert healed(store.reconcile()) == "0 missed orders, 0 refunds, 0 cancellations"
    assert store.balance() == 25


def test_the_late_webhook_of_a_healed_refund_changes_nothing(store, db):
    paid = order(customer_id=ADA, subtotal="40.00")
    store.happens("orders/paid", paid)
    late = refund(paid["id"], "10.00")
    store.happens("refunds/create", late, delivered=False)
    store.reconcile()
    assert store.balance() == 30
    before = store.entries(db)
    assert signed_webhook(store.client, "refunds/create", late, shop=DEV_SHOP).status_code == 200
    assert store.entries(db) == before


def test_orders_updated_heals_a_lost_orders_paid_and_refund_without_reconciliation(store, db):
    paid = order(customer_id=ADA, subtotal="40.00")
    store.happens("orders/paid", paid, delivered=False)
    given_back = refund(paid["id"], "12.00")
    store.happens("refunds/create", given_back, delivered=False)
    store.happens("orders/updated", {**paid, "financial_status": "partially_refunded", "refunds": [given_back],
                                     "note": "fulfilled"})
    assert store.balance() == 40 - 12
    # Reconciliation finds nothing left to do, and the refund's own webhook changes nothing.
    assert healed(store.reconcile()) == "0 missed orders, 0 refunds, 0 cancellations"
    assert signed_webhook(store.client, "refunds/create", given_back, shop=DEV_SHOP).status_code == 200
    assert signed_webhook(store.client, "orders/paid", paid, shop=DEV_SHOP).status_code == 200
    assert store.balance() == 28


def test_a_run_records_its_watermark_and_the_next_starts_from_it(store, db):
    store.happens("orders/paid", order(customer_id=ADA, subtotal="10.00"), delivered=False)
    store.reconcile()
    runs = list(db.scalars(select(ReconciliationRun).order_by(ReconciliationRun.id)))
    assert [(r.orders_read, r.missed_orders, r.error) for r in runs] == [(1, 1, None)]
    assert runs[0].until is not None
    store.reconcile()
    second = db.scalars(select(ReconciliationRun).order_by(ReconciliationRun.id.desc())).first()
    assert second.since == runs[0].until


def test_since_must_be_a_time_with_its_zone_and_changes_nothing_otherwise(store, db):
    for bad in ("yesterday", "2026-12-01T00:00:00"):
        assert "--since" in store.reconcile("--since", bad, exit_code=2)
    with store.dev_store.app.app_context():
        unknown = store.dev_store.app.test_cli_runner().invoke(args=["reconcile", "--shop", "nobody.myshopify.com"])
    assert unknown.exit_code == 1 and "not an installed shop" in unknown.output
    assert db.scalar(select(func.count()).select_from(ReconciliationRun)) == 0


def test_orders_updated_heals_a_lost_cancellation(store, db):
    paid = order(customer_id=ADA, subtotal="40.00")
    store.happens("orders/paid", paid)
    cancelled = {**paid, "cancelled_at": "2026-12-01T10:00:00Z", "financial_status": "refunded"}
    store.happens("orders/cancelled", cancelled, delivered=False)
    store.happens("orders/updated", cancelled)
    assert store.balance() == 0
    assert [e[:3] for e in store.entries(db)] == [("cancel_reversal", str(paid["id"]), -40),
                                                  ("order_award", str(paid["id"]), 40)]
    assert healed(store.reconcile()) == "0 missed orders, 0 refunds, 0 cancellations"
