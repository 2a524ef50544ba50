"""The Admin GraphQL client against a mocked platform: throttling, retries, userErrors."""
import json

import pytest
import requests
import responses

from plugin.db import transaction
from plugin.models import Shop
from plugin.shopify.client import AdminClient, PlatformError, PlatformUnavailable, ShopUnauthorized, UserErrors
from plugin.shopify.tokens import NotInstalled
from tests.helpers import SHOP, session_token, token_answer, token_endpoint

GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
SHOP_QUERY = "{ shop { name } }"


def throttled(available: float = 2, requested: int = 52, restore: float = 100) -> dict:
    return {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": None,
                                    "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": available,
                                                       "restoreRate": restore}}}}


@pytest.fixture
def admin(app, client):
    """An installed shop's client; `waits` records every pause instead of sleeping."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(token_endpoint(), json=token_answer("shpat_live"))
        client.get("/", query_string={"shop": SHOP, "id_token": session_token()})
        with app.app_context(), transaction() as session:
            shop_id = session.query(Shop).filter_by(domain=SHOP).one().id
    waits = []
    with app.app_context():
        yield AdminClient(shop_id, SHOP, sleep=waits.append), waits


@responses.activate
def test_a_query_sends_the_decrypted_token_to_the_pinned_version(admin):
    client, waits = admin
    responses.post(GRAPHQL, json={"data": {"shop": {"name": "Rosebud Tea"}}})
    assert client.query(SHOP_QUERY) == {"shop": {"name": "Rosebud Tea"}}
    request = responses.calls[0].request
    assert request.headers["X-Shopify-Access-Token"] == "shpat_live"
    assert json.loads(request.body) == {"query": SHOP_QUERY, "variables": {}}
    assert waits == []


@responses.activate
def test_throttled_answers_wait_for_the_bucket_then_succeed(admin):
    client, waits = admin
    responses.post(GRAPHQL, json=throttled(available=2, requested=52, restore=100))
    responses.post(GRAPHQL, json=throttled(available=0, requested=200, restore=100))
    responses.post(GRAPHQL, json={"data": {"shop": {"name": "ok"}}})
    assert client.query(SHOP_QUERY) == {"shop": {"name": "ok"}}
    assert waits == [0.5, 2.0]  # (52 - 2) / 100 is under the 0.5 s floor; 200 / 100 = 2 s


@responses.activate
@pytest.mark.parametrize("failure", [
    {"status": 429, "headers": {"Retry-After": "2.0"}},
    {"status": 503},
    {"status": 502},
    {"body": requests.ConnectionError("refused")},
    {"body": requests.Timeout("slow")},
])
def test_transient_failures_are_retried_with_backoff(admin, failure):
    client, waits = admin
    responses.post(GRAPHQL, **failure)
    responses.post(GRAPHQL, json={"data": {"ok": True}})
    assert client.query(SHOP_QUERY) == {"ok": True}
    assert len(waits) == 1
    assert waits[0] == 2.0 if failure.get("status") == 429 else 0.4 <= waits[0] <= 0.6


@responses.activate
def test_a_platform_that_stays_down_raises_unavailable_after_the_last_try(admin):
    client, waits = admin
    responses.post(GRAPHQL, status=503)
    with pytest.raises(PlatformUnavailable):
        client.query(SHOP_QUERY)
    assert len(responses.calls) == 5 and len(waits) == 4 and waits == sorted(waits)


@responses.activate
def test_user_errors_become_a_typed_error_with_the_messages(admin):
    client, _ = admin
    responses.post(GRAPHQL, json={"data": {"discountCodeBasicCreate": {"codeDiscountNode": None, "userErrors": [
        {"field": ["basicCodeDiscount", "code"], "message": "Code must be unique.", "code": "TAKEN"}]}}})
    with pytest.raises(UserErrors) as raised:
        client.mutate("mutation { x }", {}, "discountCodeBasicCreate")
    assert raised.value.errors[0]["code"] == "TAKEN" and "Code must be unique." in str(raised.value)


@responses.activate
@pytest.mark.parametrize("status, error", [(401, ShopUnauthorized), (403, ShopUnauthorized), (402, PlatformError)])
def test_refusals_that_retrying_cannot_fix_are_raised_at_once(admin, status, error):
    client, waits = admin
    responses.post(GRAPHQL, status=status)
    with pytest.raises(error):
        client.query(SHOP_QUERY)
    assert len(responses.calls) == 1 and waits == []


@responses.activate
def test_other_graphql_errors_are_raised_with_their_message(admin):
    client, _ = admin
    responses.post(GRAPHQL, json={"errors": [{"message": "Field 'nope' doesn't exist on type 'Shop'"}]})
    with pytest.raises(PlatformError, match="doesn't exist"):
        client.query("{ shop { nope } }")


def test_a_shop_that_never_installed_has_no_client_token(app):
    with app.app_context():
        with pytest.raises(NotInstalled):
            AdminClient(123456, SHOP).query(SHOP_QUERY)
