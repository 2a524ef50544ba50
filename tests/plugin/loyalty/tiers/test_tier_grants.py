"""A tier given by hand on the member page (`PATCH /api/members/<id>` with `tier_id`,
`tier_until`): at least that tier until then, lifted at once, lowered only by a tick.

Worked example: Silver at 100 points (× 2), Gold at 300 (× 3). Ada has 60 points, no tier."""
from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import OTHER_SHOP, auth, member, table_counts
from tests.plugin.loyalty.tiers.test_tiers import add_tier, ladder, paid, standing, tick, tier_events  # noqa: F401


def give(client, customer_id: int = 7001, **body):
    return client.patch(f"/api/members/{customer_id}", json=body, headers=auth())


def later(days: int) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


@pytest.fixture
def ada(client, send, ladder):  # noqa: F811
    send("orders/paid", paid("60.00", datetime.now(timezone.utc).isoformat()))
    assert standing(client) == (60, None)
    return ladder


def test_a_given_tier_lifts_the_member_at_once_and_lapses_at_the_tick_after_its_day(app, client, send, db, ada):
    until = later(30)
    answer = give(client, tier_id=ada["gold"]["id"], tier_until=until.isoformat())
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["tier"]["name"] == "Gold"
    assert answer.get_json()["tier_given"] == {"tier_id": ada["gold"]["id"], "until": until.isoformat()}
    # The shopper is told, as for any promotion.
    assert [(e["from"], e["to"], e["direction"]) for e in tier_events(db)] == [(None, "Gold", "up")]
    send("orders/paid", paid("10.00", datetime.now(timezone.utc).isoformat(), id=9990))
    assert standing(client) == (90, "Gold")  # 60 + 10 × 3
    tick(app, later(29).isoformat())
    assert standing(client) == (90, "Gold")  # still given
    tick(app, later(31).isoformat())
    assert standing(client) == (90, None)  # lapsed: 90 points reach no tier
    assert member(client)["tier_given"] is None


def test_taking_a_given_tier_back_moves_the_member_down_at_the_next_tick_only(app, client, ada):
    give(client, tier_id=ada["gold"]["id"])  # no day: one tier window
    assert member(client)["tier_given"]["until"] > later(360).isoformat()
    answer = give(client, tier_id=None)
    assert answer.status_code == 200 and answer.get_json()["tier"]["name"] == "Gold"  # as every demotion: at a tick
    assert answer.get_json()["tier_given"] is None
    tick(app, later(1).isoformat())
    assert standing(client) == (60, None)


def test_a_member_whose_points_reach_higher_keeps_their_own_tier(app, client, send, ada):
    send("orders/paid", paid("300.00", datetime.now(timezone.utc).isoformat(), id=9991))
    assert standing(client) == (360, "Gold")
    answer = give(client, tier_id=ada["silver"]["id"])
    assert answer.status_code == 200 and answer.get_json()["tier"]["name"] == "Gold"
    tick(app, later(1).isoformat())
    assert standing(client) == (360, "Gold")


@pytest.mark.parametrize("body, field", [
    ({"tier_id": 999999}, "tier_id"),
    ({"tier_id": "gold"}, "tier_id"),
    ({"tier_id": "SILVER_OF_OTHER_SHOP"}, "tier_id"),
    ({"tier_until": "2030-01-01T00:00:00Z"}, "tier_until"),
    ({"tier_id": "GOLD", "tier_until": "2020-01-01T00:00:00Z"}, "tier_until"),
    ({"tier_id": "GOLD", "tier_until": "next week"}, "tier_until"),
    ({"tier_id": "GOLD", "tier_until": "2030-01-01T00:00:00"}, "tier_until"),  # no zone
])
def test_a_bad_tier_to_give_is_422_naming_the_field_and_changes_nothing(client, db, ada, body, field):
    other = add_tier(client, shop=OTHER_SHOP, name="Other Silver", threshold=100, multiplier="2")
    swap = {"GOLD": ada["gold"]["id"], "SILVER_OF_OTHER_SHOP": other["id"]}
    body = {key: swap.get(value, value) for key, value in body.items()}
    before, seen = table_counts(db), member(client)
    answer = give(client, **body)
    assert answer.status_code == 422 and set(answer.get_json()["fields"]) == {field}, answer.get_json()
    assert table_counts(db) == before and member(client) == seen
