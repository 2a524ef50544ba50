"""Collections by title in the rule editor: the store's collections are read from the Admin API
(paged), kept a day, offered by title with their ids, and a rule on a collection is listed by
its title. Run on the in-process app (jobs in the request), so the mocked Admin API answers
the refresh in both passes of the suite."""
import json

import pytest
import responses

from tests.helpers import SHOP, auth, install, table_counts
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL


def page(titles: dict[int, str], more: bool, cursor: str | None = None) -> dict:
    return {"data": {"collections": {
        "nodes": [{"id": f"gid://shopify/Collection/{cid}", "title": title} for cid, title in titles.items()],
        "pageInfo": {"hasNextPage": more, "endCursor": cursor}}}}


@pytest.fixture
def editor(inprocess_app):
    client = inprocess_app.test_client()
    install(client, SHOP)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.post(GRAPHQL, json=page({841564295: "Summer teas", 841564296: "Teaware"}, True, "c1"))
        mock.post(GRAPHQL, json=page({841564297: "Gift ideas"}, False))
        yield client, mock


def offered(client, q: str = "") -> dict:
    response = client.get("/api/earning-rules/values", query_string={"field": "collection_id", "q": q},
                          headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_collections_are_offered_by_title_with_their_ids_read_once_a_day(editor):
    client, mock = editor
    found = offered(client)
    assert found["values"] == ["841564297", "841564295", "841564296"]  # by title: Gift, Summer, Teaware
    assert found["labels"] == {"841564295": "Summer teas", "841564296": "Teaware", "841564297": "Gift ideas"}
    assert found["refreshing"] is False
    sent = [json.loads(call.request.body) for call in mock.calls if call.request.url == GRAPHQL]
    assert [s["variables"] for s in sent] == [{"first": 250, "after": None, "sortKey": "TITLE"},
                                              {"first": 250, "after": "c1", "sortKey": "TITLE"}]
    assert offered(client, "TEA")["values"] == ["841564295", "841564296"]  # any case, in the title
    assert offered(client, "841564297")["labels"] == {"841564297": "Gift ideas"}  # or the id itself
    assert len(mock.calls) == 2  # kept a day: typing never waits on the store again


def test_a_rule_on_a_collection_is_listed_by_its_title(editor):
    client, _ = editor
    offered(client)
    made = client.post("/api/earning-rules", headers=auth(), json={
        "name": "Gifts earn double", "kind": "multiplier", "match": {"field": "collection_id", "value": "841564297"},
        "multiplier": "2"})
    assert made.status_code == 201, made.get_json()
    [rule] = client.get("/api/earning-rules", headers=auth()).get_json()["earning_rules"]
    assert rule["match"] == {"field": "collection_id", "value": "841564297", "label": "Gift ideas"}


def test_a_store_that_cannot_answer_leaves_nothing_offered_and_is_asked_again(inprocess_app, db):
    client = inprocess_app.test_client()
    install(client, SHOP)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.post(GRAPHQL, status=503)
        before = table_counts(db)
        assert offered(client)["values"] == []
        assert table_counts(db) == before
        mock.replace(responses.POST, GRAPHQL, json=page({1: "Teas"}, False))
        assert offered(client)["labels"] == {"1": "Teas"}
