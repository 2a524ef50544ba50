"""Imports racing, through a real threaded server on SQLite as on PostgreSQL: a redemption
against the revert of the import that gave its points (whichever commits first, the points
are spent once or taken back once, never both, and the revert says how many were already
spent), and two applies of the same bytes at once (one wins, the other is `already_imported`)."""

import pytest
import requests

from tests.admin_ui.test_imports_api import previewed, verify_ledger
from tests.helpers import all_at_once, auth, balance, member
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created, fund, reward_id


@pytest.mark.parametrize("round_", range(3))
def test_a_redemption_racing_a_revert_spends_or_is_taken_back_never_both(app, client, settle, platform, live_server,
                                                                         round_):
    fund(client, settle, 40)
    platform.post(GRAPHQL, json=created())
    rid = reward_id(client)  # 500 points
    found = previewed(client, f"customer_id,points,earned_at\n7001,600,2026-0{round_ + 1}-15\n".encode())
    assert client.post(f"/api/imports/{found['id']}/apply", headers=auth()).status_code == 200

    def either(n):
        if n == 0:
            return requests.post(f"{live_server}/api/imports/{found['id']}/revert", headers=auth(), timeout=60)
        return requests.post(f"{live_server}/api/members/7001/redemptions", json={"reward_id": rid},
                             headers=auth(), timeout=60)

    reverted, redeemed = all_at_once(2, either)

    assert reverted.status_code == 200, reverted.text
    assert redeemed.status_code in (201, 409), redeemed.text
    spent = 500 if redeemed.status_code == 201 else 0
    assert reverted.json()["not_reverted"] == spent
    assert balance(client) == 40
    assert len(member(client)["redemptions"]) == (1 if spent else 0)
    verify_ledger(app)


def test_the_same_bytes_applied_twice_at_once_are_applied_once(app, client, settle, live_server):
    fund(client, settle, 40)
    body = b"customer_id,points\n7001,600\n"
    first, second = previewed(client, body), previewed(client, body)

    answers = all_at_once(2, lambda n: requests.post(
        f"{live_server}/api/imports/{(first, second)[n]['id']}/apply", headers=auth(), timeout=60))

    assert sorted(a.status_code for a in answers) == [200, 409]
    assert [a.json().get("code") for a in answers if a.status_code == 409] == ["already_imported"]
    assert balance(client) == 640
    verify_ledger(app)
