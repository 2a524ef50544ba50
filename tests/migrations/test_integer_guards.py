"""Point and millionth columns hold integers only: past 2**63 a write fails instead of
storing a float (SQLite's integer arithmetic overflows into one; migration 0017 guards it),
and an order that meets such a guard fails at once, never retried."""
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from plugin.models import EventStatus, WebhookEvent
from tests.helpers import balance, order

NEAR_THE_TOP = 2**63 - 5


def test_an_update_past_64_bits_is_refused_and_changes_nothing(client, send, db):
    send("orders/paid", order(subtotal="10.00"))
    with pytest.raises(DBAPIError):
        db.execute(text(f"UPDATE members SET balance = balance + {NEAR_THE_TOP}"))  # 10 more than fits
    assert db.scalar(text("SELECT balance FROM members")) == 10


@pytest.mark.parametrize("statement", [
    "UPDATE members SET pending = 1.5",
    "UPDATE member_tier_totals SET amount_micros = 1e19",
    "UPDATE orders SET tier_amount_micros = 'many'",
    "INSERT INTO ledger_entries (shop_id, member_id, delta, kind, source_id, reason, created_at) "
    "SELECT shop_id, id, 0.5, 'adjustment', 'x', 'x', '2026-01-01' FROM members",
])
def test_sqlite_refuses_anything_but_an_integer_in_a_point_column(client, send, db, statement):
    if db.bind.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's BIGINT columns refuse or round these by type")
    send("orders/paid", order(subtotal="10.00"))
    with pytest.raises(DBAPIError, match="not a 64-bit integer"):
        db.execute(text(statement))
    assert db.scalar(text("SELECT count(*) FROM ledger_entries")) == 1
    assert db.execute(text("SELECT pending, typeof(pending) FROM members")).one() == (0, "integer")


def test_an_order_that_meets_the_64_bit_guard_fails_at_once(client, send, db):
    send("orders/paid", order(subtotal="10.00"))
    # A member written before the bounds, a few points below the top.
    db.execute(text(f"UPDATE members SET balance = {NEAR_THE_TOP}, lifetime_earned = {NEAR_THE_TOP}"))
    send("orders/paid", order(subtotal="10.00"))
    event = db.scalars(select(WebhookEvent).order_by(WebhookEvent.id.desc())).first()
    assert (event.status, event.attempts) == (EventStatus.FAILED, 1), event.last_error
    assert balance(client) == NEAR_THE_TOP
