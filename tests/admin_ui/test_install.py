"""Installing by OAuth: the happy path end to end, and every refusal writing nothing."""
import logging
import time
from urllib.parse import parse_qs, urlparse

import pytest
import responses

from plugin.models import OAuthState, Shop
from tests.helpers import API_KEY, SHOP, signed_query, table_counts, token_answer, token_endpoint


def start_install(client, shop: str = SHOP):
    response = client.get("/auth/install", query_string=signed_query(shop=shop))
    assert response.status_code == 302, response.get_data(as_text=True)
    return parse_qs(urlparse(response.headers["Location"]).query)["state"][0], response


@responses.activate
def test_install_end_to_end_stores_an_encrypted_expiring_token(app, client, db, caplog):
    caplog.set_level(logging.DEBUG)
    responses.post(token_endpoint(), json=token_answer("shpat_secret_token", "shprt_secret_refresh"))
    state, redirect = start_install(client)
    authorize = urlparse(redirect.headers["Location"])
    assert (authorize.scheme, authorize.netloc, authorize.path) == ("https", SHOP, "/admin/oauth/authorize")
    query = parse_qs(authorize.query)
    assert query["client_id"] == [API_KEY]
    assert query["scope"] == ["read_orders,read_customers,read_products,write_discounts,write_app_proxy,"
                              "write_customers,write_store_credit_account_transactions,"
                              "read_store_credit_account_transactions,read_customer_merge"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8080/auth/callback"]
    assert "loyalty_oauth_state" in redirect.headers["Set-Cookie"] and "HttpOnly" in redirect.headers["Set-Cookie"]

    host = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvcm9zZWJ1ZC10ZWE"  # admin.shopify.com/store/rosebud-tea
    done = client.get("/auth/callback", query_string=signed_query(shop=SHOP, code="c0de", state=state, host=host))
    assert done.status_code == 302
    assert done.headers["Location"] == f"https://admin.shopify.com/store/rosebud-tea/apps/{API_KEY}"
    sent = parse_qs(responses.calls[0].request.body)
    assert sent["code"] == ["c0de"] and sent["expiring"] == ["1"] and sent["client_id"] == [API_KEY]

    shop = db.query(Shop).filter_by(domain=SHOP).one()
    assert shop.installed_at is not None and shop.uninstalled_at is None
    assert "shpat_secret_token" not in shop.access_token and "shprt_secret_refresh" not in shop.refresh_token
    with app.app_context():
        from plugin.shopify.tokens import decrypt

        assert decrypt(shop.access_token) == "shpat_secret_token"
    assert 3500 < (shop.access_token_expires_at - shop.installed_at).total_seconds() <= 3600
    assert db.query(OAuthState).count() == 0
    assert "shpat_secret_token" not in caplog.text and "shprt_secret_refresh" not in caplog.text
    assert app.config["SHOPIFY_API_SECRET"] not in caplog.text


@pytest.mark.parametrize("params, status", [
    (lambda: {**signed_query(shop=SHOP), "hmac": "0" * 64}, 401),
    (lambda: {"shop": SHOP, "timestamp": str(int(time.time()))}, 401),
    (lambda: signed_query(shop=SHOP, timestamp=str(int(time.time()) - 2 * 86400)), 401),
    (lambda: signed_query(shop=SHOP, secret="another-apps-secret"), 401),
    (lambda: signed_query(shop="evil.example.com"), 400),
    (lambda: signed_query(shop="rosebud-tea.myshopify.com.evil.com"), 400),
    (lambda: signed_query(shop=SHOP, timestamp="soon"), 401),
], ids=["bad hmac", "missing hmac", "stale", "other secret", "not myshopify", "suffix trick", "bad timestamp"])
def test_a_bad_install_link_is_refused_with_a_page_and_writes_nothing(client, db, params, status):
    before = table_counts(db)
    response = client.get("/auth/install", query_string=params())
    assert response.status_code == status
    assert response.mimetype == "text/html" and "Cannot install" in response.get_data(as_text=True)
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none';"
    assert table_counts(db) == before


def test_a_repeated_shop_parameter_is_refused(client, db):
    before = table_counts(db)
    query = signed_query(shop=SHOP)
    response = client.get("/auth/install?" + "&".join(f"{k}={v}" for k, v in query.items()) + "&shop=x.myshopify.com")
    assert response.status_code in (400, 401)
    assert table_counts(db) == before


@responses.activate
def test_a_replayed_callback_is_refused_and_exchanges_no_second_code(client, db):
    responses.post(token_endpoint(), json=token_answer())
    state, _ = start_install(client)
    callback = signed_query(shop=SHOP, code="c0de", state=state)
    assert client.get("/auth/callback", query_string=callback).status_code == 302
    shops = table_counts(db)["shops"]
    replay = client.get("/auth/callback", query_string=callback)
    assert replay.status_code == 400 and "already" in replay.get_data(as_text=True)
    assert len(responses.calls) == 1 and table_counts(db)["shops"] == shops


@responses.activate
@pytest.mark.parametrize("tamper", ["missing", "other browser", "other shop", "made up"])
def test_a_callback_without_its_own_state_is_refused_and_writes_no_shop(client, db, tamper):
    responses.post(token_endpoint(), json=token_answer())
    responses.post(token_endpoint("other-store.myshopify.com"), json=token_answer())
    state, _ = start_install(client)
    query = {"missing": dict(shop=SHOP, code="c"), "other browser": dict(shop=SHOP, code="c", state=state),
             "other shop": dict(shop="other-store.myshopify.com", code="c", state=state),
             "made up": dict(shop=SHOP, code="c", state="invented")}[tamper]
    if tamper == "other browser":
        client.delete_cookie("loyalty_oauth_state", path="/auth")
    response = client.get("/auth/callback", query_string=signed_query(**query))
    assert response.status_code == 400
    assert len(responses.calls) == 0
    assert table_counts(db)["shops"] == 0


@responses.activate
def test_a_code_the_platform_refuses_gives_a_clear_page_and_no_shop(client, db):
    responses.post(token_endpoint(), status=400, json={"error": "invalid_request"})
    state, _ = start_install(client)
    response = client.get("/auth/callback", query_string=signed_query(shop=SHOP, code="expired", state=state))
    assert response.status_code == 400
    assert "did not accept this installation" in response.get_data(as_text=True)
    counts = table_counts(db)
    assert counts["shops"] == 0 and counts["oauth_states"] == 0


@responses.activate
def test_oauth_calls_go_to_the_configured_admin_origin(database):
    from plugin import create_app
    from tests.conftest import app_config

    app = create_app({**app_config(database, None), "SHOPIFY_ADMIN_ORIGIN": "http://127.0.0.1:9999/fake/{shop}"})
    client = app.test_client()
    responses.post(f"http://127.0.0.1:9999/fake/{SHOP}/admin/oauth/access_token", json=token_answer())
    redirect = client.get("/auth/install", query_string=signed_query(shop=SHOP))
    assert redirect.headers["Location"].startswith(f"http://127.0.0.1:9999/fake/{SHOP}/admin/oauth/authorize?")
    state = parse_qs(urlparse(redirect.headers["Location"]).query)["state"][0]
    assert client.get("/auth/callback", query_string=signed_query(shop=SHOP, code="c", state=state)).status_code == 302
    assert len(responses.calls) == 1
