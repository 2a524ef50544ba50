"""The app proxy (`/proxy/...`): signed storefront requests get the shopper's points.

Requests are signed here with tests.helpers.proxy_signature, written from the platform's
description and checked against its documented vector, not with the code under test.
"""
import time
from urllib.parse import urlencode

import pytest

from plugin import create_app
from tests.conftest import app_config
from tests.helpers import API_SECRET, OTHER_SHOP, SHOP, order, proxy_signature, proxy_url, signed_webhook, table_counts


def test_the_signing_helper_matches_the_documented_vector():
    params = [("extra", "1"), ("extra", "2"), ("shop", "shop-name.myshopify.com"), ("logged_in_customer_id", "1"),
              ("path_prefix", "/apps/awesome_reviews"), ("timestamp", "1317327555")]
    assert proxy_signature(params, "hush") == "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"


@pytest.fixture
def paid(client, settle):
    assert signed_webhook(client, "orders/paid", order(customer_id=7001, subtotal="42.50")).status_code == 200
    settle()


def test_a_signed_request_gets_the_logged_in_shoppers_points(client, paid):
    response = client.get(proxy_url(customer_id="7001"))
    assert response.status_code == 200
    assert response.get_json() == {"logged_in": True, "customer_id": "7001", "balance": 42, "pending": 0,
                                   "lifetime_earned": 42, "tier": None}
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_logged_in_shopper_who_is_not_a_member_yet_has_zero(client, db, paid):
    before = table_counts(db)
    response = client.get(proxy_url(customer_id="8888"))
    assert response.get_json() == {"logged_in": True, "customer_id": "8888", "balance": 0, "pending": 0,
                                   "lifetime_earned": 0, "tier": None}
    assert table_counts(db) == before  # shopper traffic creates nobody


def test_a_shop_we_never_met_answers_zero_and_writes_nothing(client, db):
    before = table_counts(db)
    assert client.get(proxy_url(shop=OTHER_SHOP)).get_json()["balance"] == 0
    assert table_counts(db) == before


def test_points_are_read_in_the_shop_the_request_is_signed_for(client, paid):
    assert client.get(proxy_url(shop=OTHER_SHOP, customer_id="7001")).get_json()["balance"] == 0


def signed_url(params: list[tuple[str, str]]) -> str:
    """A proxy request with exactly these parameters, signed."""
    return f"/proxy/member.json?{urlencode(params + [('signature', proxy_signature(params))])}"


@pytest.mark.parametrize("customer_id", ["", None], ids=["empty", "absent"])
def test_nobody_logged_in_is_told_so(client, paid, customer_id):
    if customer_id is None:
        url = signed_url([("shop", SHOP), ("path_prefix", "/apps/loyalty"), ("timestamp", str(int(time.time())))])
    else:
        url = proxy_url(customer_id=customer_id)
    response = client.get(url)
    assert response.status_code == 200 and response.get_json() == {"logged_in": False}
    assert response.headers["Cache-Control"] == "private, no-store"


def tampered(url: str, old: str, new: str) -> str:
    assert old in url
    return url.replace(old, new)


def bad_requests() -> dict:
    now = int(time.time())
    good = proxy_url()
    unsigned = good.split("&signature=")[0]
    return {
        "wrong signature": good[:-1] + ("1" if good.endswith("0") else "0"),
        "missing signature": unsigned,
        "another app's secret": proxy_url(secret="someone-elses-secret"),
        "customer id changed": tampered(good, "logged_in_customer_id=7001", "logged_in_customer_id=7002"),
        "stale timestamp": proxy_url(timestamp=now - 91),
        "future timestamp": proxy_url(timestamp=now + 91),
        "duplicated shop": proxy_url(extra=[("shop", "evil-store.myshopify.com")]),
        "shop appended after signing": good + "&shop=evil-store.myshopify.com",
        "duplicated customer id": proxy_url(extra=[("logged_in_customer_id", "7002")]),
        "foreign shop domain": proxy_url(shop="evil.example.com"),
        "suffix trick": proxy_url(shop="rosebud-tea.myshopify.com.evil.com"),
        "no shop": signed_url([("logged_in_customer_id", "7001"), ("timestamp", str(now))]),
        "no query": "/proxy/member.json",
    }


@pytest.mark.parametrize("kind", list(bad_requests()))
def test_an_unverified_request_gets_401_and_writes_nothing(client, db, paid, kind):
    before = table_counts(db)
    response = client.get(bad_requests()[kind])
    assert response.status_code == 401
    assert response.get_json() == {"error": "app proxy request could not be verified"}
    assert response.headers["Cache-Control"] == "private, no-store"
    assert table_counts(db) == before


def test_a_timestamp_within_90_seconds_is_accepted(client, paid):
    assert client.get(proxy_url(timestamp=int(time.time()) - 80)).status_code == 200
    assert client.get(proxy_url(timestamp=int(time.time()) + 80)).status_code == 200


def test_the_previous_secret_is_accepted_during_a_rotation(database, paid):
    rotated = create_app({**app_config(database, None), "SHOPIFY_API_SECRET": "the-new-secret-0123456789abcdef",
                          "SHOPIFY_API_SECRET_PREVIOUS": API_SECRET})
    client = rotated.test_client()
    assert client.get(proxy_url(secret=API_SECRET)).get_json()["balance"] == 42
    assert client.get(proxy_url(secret="the-new-secret-0123456789abcdef")).get_json()["balance"] == 42
    assert client.get(proxy_url(secret="neither-of-them")).status_code == 401


def test_without_a_rotation_the_previous_secret_is_refused(database):
    config = {**app_config(database, None), "SHOPIFY_API_SECRET": "the-new-secret-0123456789abcdef"}
    client = create_app(config).test_client()
    assert client.get(proxy_url(secret=API_SECRET)).status_code == 401


def test_extra_storefront_parameters_are_covered_by_the_signature(client, paid):
    url = proxy_url(extra=[("view", "compact"), ("tag", "a"), ("tag", "b")])
    assert client.get(url).status_code == 200
    assert client.get(tampered(url, "view=compact", "view=full")).status_code == 401
