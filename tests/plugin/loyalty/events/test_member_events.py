"""Member events: recorded once with what changed, listed per shop, filtered by kind and customer."""
import pytest
import responses

from tests.helpers import OTHER_SHOP, SHOP, auth, install, table_counts
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created, fund, make_due, redeem, reward_id


def events(client, shop: str = SHOP, **query):
    response = client.get("/api/member-events", query_string=query, headers=auth(shop))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_issued_code_records_one_reward_issued_event(client, settle, platform):
    fund(client, settle, 1000)
    platform.post(GRAPHQL, json=created())
    body = redeem(client, reward_id(client)).get_json()
    assert body["status"] == "issued"
    listed = events(client)
    assert listed["total"] == 1
    [event] = listed["events"]
    assert event["kind"] == "reward_issued" and event["customer_id"] == "7001"
    assert event["data"] == {"redemption_id": body["id"], "code": body["code"]}


def test_a_code_issued_on_retry_is_recorded_once_and_a_failed_one_not_at_all(app, client, settle, platform):
    from plugin.loyalty.rewards.redemptions import retry_due_codes

    fund(client, settle, 1000)
    platform.post(GRAPHQL, status=503)
    pending = redeem(client, reward_id(client)).get_json()
    assert pending["status"] == "pending" and events(client)["total"] == 0
    platform.replace(responses.POST, GRAPHQL, json=created())
    make_due(app)
    with app.app_context():
        retry_due_codes()
        retry_due_codes()  # nothing left to issue: no second event
    assert [e["data"]["redemption_id"] for e in events(client)["events"]] == [pending["id"]]
    assert events(client, kind="reward_issued", customer_id="7001")["total"] == 1
    assert events(client, kind="tier_changed")["total"] == 0
    assert events(client, customer_id="7002")["total"] == 0


def test_events_of_another_shop_are_never_listed(client, settle, platform):
    fund(client, settle, 1000)
    platform.post(GRAPHQL, json=created())
    assert redeem(client, reward_id(client)).status_code == 201
    install(client, OTHER_SHOP)
    assert events(client, OTHER_SHOP)["total"] == 0 and events(client)["total"] == 1


@pytest.mark.parametrize("query, field", [
    ({"kind": "party"}, "kind"),
    ({"customer_id": "ada"}, "customer_id"),
    ({"customer_id": "-5"}, "customer_id"),
    ({"page": "0"}, "page"),
    ({"page": "x"}, "page"),
    ({"page": "100001"}, "page"),
])
def test_bad_filters_are_refused_by_name_and_change_nothing(client, installed, db, query, field):
    before = table_counts(db)
    response = client.get("/api/member-events", query_string=query, headers=auth())
    assert response.status_code == 422 and field in response.get_json()["fields"]
    assert table_counts(db) == before


def test_member_events_need_a_session_token(client, installed):
    assert client.get("/api/member-events").status_code == 401
