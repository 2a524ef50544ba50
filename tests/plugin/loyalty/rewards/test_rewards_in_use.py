"""A reward the program uses (the friends' welcome reward) cannot be withdrawn from under it.

Before, deactivating it gave no warning; Settings then showed a blank welcome reward and every
referral link answered that the store offers no welcome reward. Now each withdrawing change is
a 409 naming the use, nothing changes, and `GET /api/rewards` says so before the merchant tries.
"""
import pytest

from tests.helpers import OTHER_SHOP, SHOP, auth, table_counts


def rewards(client, shop: str = SHOP) -> dict[str, dict]:
    return {r["name"]: r for r in client.get("/api/rewards", headers=auth(shop)).get_json()["rewards"]}


def welcome(client, reward_id: int, shop: str = SHOP) -> None:
    response = client.patch("/api/program", json={"referral_reward_id": reward_id}, headers=auth(shop))
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def five_off(client, installed) -> int:
    """The default "5 off" reward, chosen as the friends' welcome reward."""
    reward = rewards(client)["5 off your order"]
    welcome(client, reward["id"])
    return reward["id"]


@pytest.mark.parametrize("change", [
    ("patch", {"active": False}),
    ("patch", {"kind": "free_shipping"}),
    ("delete", None),
])
def test_withdrawing_the_welcome_reward_is_409_naming_where_it_is_used(client, db, five_off, change):
    method, body = change
    before = table_counts(db)
    response = getattr(client, method)(f"/api/rewards/{five_off}", headers=auth(),
                                       **({} if body is None else {"json": body}))
    assert response.status_code == 409
    assert "friends' welcome reward" in response.get_json()["error"]
    assert table_counts(db) == before
    reward = rewards(client)["5 off your order"]
    assert (reward["active"], reward["kind"], reward["used_by"]) == (True, "amount_off", ["referral_welcome"])
    program = client.get("/api/program", headers=auth()).get_json()
    assert program["referral_reward_id"] == five_off


def test_other_changes_to_the_welcome_reward_are_still_allowed(client, five_off):
    response = client.patch(f"/api/rewards/{five_off}", json={"points_cost": 450, "name": "5 off for friends"},
                            headers=auth())
    assert response.status_code == 200
    assert (response.get_json()["points_cost"], response.get_json()["used_by"]) == (450, ["referral_welcome"])


def test_once_another_welcome_reward_is_chosen_the_old_one_can_go(client, five_off):
    ten_percent = rewards(client)["10% off your order"]["id"]
    welcome(client, ten_percent)
    assert rewards(client)["5 off your order"]["used_by"] == []
    assert client.patch(f"/api/rewards/{five_off}", json={"active": False}, headers=auth()).status_code == 200
    assert client.delete(f"/api/rewards/{five_off}", headers=auth()).status_code == 204
    assert rewards(client)["10% off your order"]["used_by"] == ["referral_welcome"]


def test_another_shops_welcome_reward_does_not_guard_this_shops_rewards(client, installed):
    other = rewards(client, OTHER_SHOP)["5 off your order"]["id"]
    welcome(client, other, OTHER_SHOP)
    mine = rewards(client)["5 off your order"]
    assert mine["used_by"] == []
    assert client.patch(f"/api/rewards/{mine['id']}", json={"active": False}, headers=auth()).status_code == 200
