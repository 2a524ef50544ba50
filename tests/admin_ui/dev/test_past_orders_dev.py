"""Past orders on /dev: the development platform answers the bulk operation from the store's
sample orders (admin_ui/dev/bulk_orders.py), so "start from the store's past" can be tried
without a store; the jobs run in-process, as under `make run`."""
import time

from sqlalchemy import select

from admin_ui.dev.bulk_orders import PAST_ORDERS
from plugin.models import EntryKind, LedgerEntry
from tests.admin_ui.dev.test_dev_store import balance, open_panel
from tests.dev_store import DEV_SHOP, dev_store_fixture  # noqa: F401 (the `dev_store` fixture)
from tests.helpers import auth

ADA = 7100000001


def wait_for(client, import_id: int, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = client.get(f"/api/imports/{import_id}", headers=auth(DEV_SHOP)).get_json()
        if found["status"] == status:
            return found
        assert found["status"] in ("fetching", "applying"), found
        assert time.monotonic() < deadline, f"not {status} after {timeout}s: {found}"
        time.sleep(0.1)


def test_the_development_store_answers_the_bulk_operation_and_its_orders_earn_once(dev_store, db):
    client = dev_store.client()
    open_panel(client)  # installs the development shop
    started = client.post("/api/imports/orders", json={"days": 60}, headers=auth(DEV_SHOP))
    assert started.status_code == 202, started.get_json()

    found = wait_for(client, started.get_json()["id"], "previewed")

    assert found["rows"] == PAST_ORDERS and found["members_new"] == 5 and found["points_total"] > 0
    applying = client.post(f"/api/imports/{found['id']}/apply", headers=auth(DEV_SHOP))
    assert applying.status_code == 202
    done = wait_for(client, found["id"], "applied")
    assert done["rows_done"] == PAST_ORDERS
    awards = db.scalars(select(LedgerEntry.delta).where(LedgerEntry.kind == EntryKind.ORDER_AWARD)).all()
    assert len(awards) == PAST_ORDERS and sum(awards) == found["points_total"]
    assert balance(client, ADA) > 0
    # The same window again: every order has earned already, and the window was applied.
    again = client.post("/api/imports/orders", json={"days": 60}, headers=auth(DEV_SHOP)).get_json()
    second = wait_for(client, again["id"], "previewed")
    assert second["rows"] == 0 and second["points_total"] == 0 and second["already_imported"] is True
