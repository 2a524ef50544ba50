"""`flask --app plugin tick [--now ISO]`: time-driven changes, once, one tick at a time."""
import threading
from datetime import timedelta

import pytest

from plugin import create_app, leases
from plugin.db import utcnow
from plugin.loyalty.tick import LEASE, TickRunning, run_tick
from tests.conftest import app_config
from tests.helpers import all_at_once, balance, member
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created, fund, redeem, reward_id


def tick(app, *args: str):
    return app.test_cli_runner().invoke(args=["tick", *args])


@pytest.fixture
def two_codes(app, client, settle, platform):
    """A member with two issued codes that expire in a day; 1000 points before redeeming."""
    fund(client, settle, 1000)
    platform.post(GRAPHQL, json=created())
    rid = reward_id(client, code_lifetime_days=1)
    redeem(client, rid)
    redeem(client, rid)
    assert balance(client) == 0


def later(days: int) -> str:
    return (utcnow() + timedelta(days=days)).isoformat()


def test_a_tick_expires_what_is_due_and_the_same_tick_again_changes_nothing(app, client, two_codes):
    assert "codes_expired 2" in tick(app, "--now", later(3)).output
    assert balance(client) == 1000
    again = tick(app, "--now", later(3))
    assert again.exit_code == 0 and "codes_expired 0" in again.output
    assert balance(client) == 1000 and [r["status"] for r in member(client)["redemptions"]] == ["expired"] * 2


def test_a_tick_while_another_holds_the_lease_does_nothing_and_says_so(app, client, two_codes):
    with app.app_context():
        holder = leases.take(LEASE, timedelta(minutes=10))
        assert holder is not None
        try:
            result = tick(app, "--now", later(3))
        finally:
            leases.give_back(LEASE, holder)
    assert result.exit_code == 0 and "another tick is running" in result.output
    assert balance(client) == 0  # nothing expired
    assert "codes_expired 2" in tick(app, "--now", later(3)).output  # the lease given back, the work is done


def test_a_tick_killed_half_way_leaves_a_lease_that_lapses_and_the_next_tick_finishes(app, client, two_codes):
    with app.app_context():
        assert leases.take(LEASE, timedelta(seconds=-1)) is not None  # a holder that died: its lease has lapsed
    assert "codes_expired 2" in tick(app, "--now", later(3)).output
    assert balance(client) == 1000


def test_ticks_started_together_expire_each_code_once(app, client, two_codes):
    def run(_n):
        with app.app_context():
            try:
                return run_tick(utcnow() + timedelta(days=3))["codes_expired"]
            except TickRunning:
                return "refused"

    outcomes = all_at_once(4, run)
    assert sum(o for o in outcomes if o != "refused") == 2 and len(outcomes) == 4
    assert balance(client) == 1000


@pytest.mark.parametrize("now", ["2027-03-01T00:00:00", "tomorrow", ""])
def test_a_now_that_is_not_a_moment_with_a_zone_is_refused_and_nothing_changes(app, client, two_codes, now):
    result = tick(app, "--now", now)
    assert result.exit_code == 2 and "--now" in result.output
    assert balance(client) == 0


def test_now_is_refused_in_production(database, monkeypatch):
    monkeypatch.setenv("LOYALTY_ENV", "production")
    production = create_app({**app_config(database, None), "LOYALTY_ENV": "production"})
    result = production.test_cli_runner().invoke(args=["tick", "--now", later(3)])
    assert result.exit_code == 2 and "refused in production" in result.output


def test_two_ticks_never_run_their_steps_at_the_same_time(app, monkeypatch):
    """A slow step records when it runs: with the lease, runs never overlap (without it, they would)."""
    import time as clock

    from plugin.loyalty import tick as ticking

    spans, guard = [], threading.Lock()

    def slow_step(session, now):
        started = clock.monotonic()
        clock.sleep(0.3)
        with guard:
            spans.append((started, clock.monotonic()))
        return 1

    monkeypatch.setattr(ticking, "STEPS", (("slow", slow_step),))
    def run(_n):
        with app.app_context():
            try:
                return run_tick(utcnow())
            except TickRunning:
                return "refused"

    refused = [outcome for outcome in all_at_once(3, run) if outcome == "refused"]
    spans.sort()
    assert spans and len(spans) + len(refused) == 3
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:]))
