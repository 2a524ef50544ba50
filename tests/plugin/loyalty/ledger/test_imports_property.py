"""A property of plugin/loyalty/ledger/imports.py, through the public API: when nothing was
spent in between, reverting an applied import leaves every member's balance and every lot
as it was before the apply, whatever the file (credits and debits, old and new dates,
members and customers who were not members yet, debits larger than what lots hold)."""
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from plugin.models import EntryKind, LedgerEntry, Member, PointLot
from tests.admin_ui.test_imports_api import act, previewed, verify_ledger
from tests.helpers import auth, customer

CUSTOMERS = [7001, 7002, 7003, 7004]  # 7004 is never a member before an import
NOW = datetime(2026, 12, 1, tzinfo=timezone.utc)

rows = st.lists(st.tuples(st.sampled_from(CUSTOMERS), st.integers(-300, 500).filter(bool), st.integers(1, 800)),
                min_size=1, max_size=12)
credits = st.lists(st.tuples(st.sampled_from(CUSTOMERS[:3]), st.integers(1, 400)), max_size=4)


def history(found_rows, salt: int) -> bytes:
    lines = ["customer_id,points,created_at,reason,external_id"]
    for n, (customer_id, points, days) in enumerate(found_rows):
        lines.append(f"{customer_id},{points},{(NOW - timedelta(days=days)).isoformat()},row {n},{salt}-{n}")
    return ("\n".join(lines) + "\n").encode()


def state(db) -> tuple[dict, dict]:
    balances = dict(db.execute(select(Member.customer_id, Member.balance)).all())
    lots = {lot.id: (lot.remaining, lot.expired) for lot in db.scalars(select(PointLot))}
    return {c: balances.get(c, 0) for c in CUSTOMERS}, lots


def test_revert_after_apply_leaves_balances_and_lots_as_before(app, client, db, send, installed):
    for customer_id in CUSTOMERS[:3]:
        send("customers/create", customer(customer_id, f"c{customer_id}@example.com"))
    salts = iter(range(10**6))

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(rows=rows, credits=credits)
    def check(rows, credits):
        for customer_id, points in credits:  # points the members hold before the import
            answer = client.post(f"/api/members/{customer_id}/adjustments", json={"points": points, "reason": "x"},
                                 headers=auth())
            assert answer.status_code == 201
        before_balances, before_lots = state(db)
        found = previewed(client, history(rows, next(salts)), kind="history")
        assert act(client, found["id"], "apply").status_code == 200

        reverted = act(client, found["id"], "revert").get_json()

        balances, lots = state(db)
        assert reverted["not_reverted"] == 0
        assert balances == before_balances
        assert {lot: lots[lot] for lot in before_lots} == before_lots
        imported = set(db.scalars(select(PointLot.id).join(LedgerEntry, LedgerEntry.id == PointLot.entry_id).where(
            LedgerEntry.kind.in_([EntryKind.IMPORT, EntryKind.IMPORT_REVERSAL]))))
        assert set(lots) - set(before_lots) <= imported
        assert all(lots[lot][0] == 0 for lot in set(lots) - set(before_lots))

    check()
    verify_ledger(app)
