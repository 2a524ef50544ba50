"""The embedded entry (token exchange, CSP), expiring tokens, encryption at rest, uninstall."""
import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
import responses
from cryptography.fernet import Fernet

from plugin import create_app
from plugin.db import transaction, utcnow
from plugin.models import Member, Shop
from plugin.shopify.tokens import access_token, decrypt
from tests.conftest import app_config
from tests.helpers import (
    API_KEY,
    SHOP,
    all_at_once,
    balance,
    order,
    session_token,
    signed_query,
    signed_webhook,
    table_counts,
    token_answer,
    token_endpoint,
)

CSP = f"frame-ancestors https://{SHOP} https://admin.shopify.com;"


def open_app(client, **claims):
    return client.get("/", query_string={"shop": SHOP, "host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvcm9zZWJ1ZC10ZWE",
                                         "id_token": session_token(**claims)})


def shop_row(app) -> Shop:
    with app.app_context(), transaction() as session:
        return session.query(Shop).filter_by(domain=SHOP).one()


@responses.activate
def test_first_open_exchanges_the_id_token_for_an_offline_token(app, client):
    responses.post(token_endpoint(), json=token_answer("shpat_exchanged"))
    page = open_app(client)
    assert page.status_code == 200 and page.headers["Content-Security-Policy"] == CSP
    html = page.get_data(as_text=True)
    assert "https://cdn.shopify.com/shopifycloud/app-bridge.js" in html and f'content="{API_KEY}"' in html
    sent = parse_qs(responses.calls[0].request.body)
    assert sent["grant_type"] == ["urn:ietf:params:oauth:grant-type:token-exchange"]
    assert sent["requested_token_type"] == ["urn:shopify:params:oauth:token-type:offline-access-token"]
    assert sent["subject_token_type"] == ["urn:ietf:params:oauth:token-type:id_token"] and sent["expiring"] == ["1"]
    with app.app_context():
        assert decrypt(shop_row(app).access_token) == "shpat_exchanged"
    assert open_app(client).status_code == 200
    assert len(responses.calls) == 1  # a usable token is not exchanged again


@pytest.mark.parametrize("claims", [
    {"exp": int(time.time()) - 60, "nbf": int(time.time()) - 120},
    {"aud": "another-app"},
    {"secret": "not-our-secret-0123456789abcdef0123"},
], ids=["expired", "another app", "another secret"])
@responses.activate
def test_a_bad_id_token_gets_401_with_the_retry_header_and_writes_nothing(client, db, claims):
    before = table_counts(db)
    response = open_app(client, **claims)
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert response.headers["Content-Security-Policy"] == CSP
    assert len(responses.calls) == 0 and table_counts(db) == before


@responses.activate
def test_a_refused_token_exchange_stores_no_token(app, client):
    responses.post(token_endpoint(), status=400, json={"error": "invalid_subject_token"})
    response = open_app(client)
    assert response.status_code == 401
    with app.app_context(), transaction() as session:
        shop = session.query(Shop).filter_by(domain=SHOP).one_or_none()
        assert shop is None or shop.access_token is None


def test_a_signed_load_without_id_token_from_a_new_shop_goes_to_install(client):
    response = client.get("/", query_string=signed_query(shop=SHOP, host="abc"))
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/install?")
    unsigned = client.get("/", query_string={"shop": SHOP})
    assert unsigned.status_code == 401


@responses.activate
def test_a_token_about_to_expire_is_refreshed_and_the_new_pair_kept(app, client):
    responses.post(token_endpoint(), json=token_answer("shpat_old", "shprt_old", expires_in=60))
    open_app(client)
    responses.replace(responses.POST, token_endpoint(), json=token_answer("shpat_new", "shprt_new"))
    with app.app_context():
        assert access_token(shop_row(app).id) == "shpat_new"
        assert access_token(shop_row(app).id) == "shpat_new"
    assert len(responses.calls) == 2
    sent = parse_qs(responses.calls[1].request.body)
    assert sent["grant_type"] == ["refresh_token"] and sent["refresh_token"] == ["shprt_old"]
    with app.app_context():
        assert decrypt(shop_row(app).refresh_token) == "shprt_new"


@responses.activate
def test_an_expired_refresh_token_means_the_shop_must_open_the_app_again(app, client):
    from plugin.shopify.tokens import NotInstalled

    responses.post(token_endpoint(), json={**token_answer(expires_in=60), "refresh_token_expires_in": 1})
    open_app(client)
    with app.app_context(), transaction() as session:
        session.query(Shop).update({"refresh_token_expires_at": utcnow() - timedelta(seconds=5)})
    with app.app_context(), pytest.raises(NotInstalled):
        access_token(shop_row(app).id)
    responses.replace(responses.POST, token_endpoint(), json=token_answer("shpat_again"))
    assert open_app(client).status_code == 200  # the next open exchanges a fresh token
    with app.app_context():
        assert access_token(shop_row(app).id) == "shpat_again"


@responses.activate
def test_rotating_the_encryption_key_re_encrypts_every_token(app, client, database):
    responses.post(token_endpoint(), json=token_answer("shpat_kept"))
    open_app(client)
    before = shop_row(app).access_token
    new_key = Fernet.generate_key().decode()
    rotated = create_app({**app_config(database, None), "LOYALTY_ENCRYPTION_KEY": new_key,
                          "LOYALTY_ENCRYPTION_KEY_PREVIOUS": app.config["LOYALTY_ENCRYPTION_KEY"]})
    result = rotated.test_cli_runner().invoke(args=["rotate-encryption-key"])
    assert result.exit_code == 0 and "1 shop(s)" in result.output
    after = shop_row(app).access_token
    assert after != before
    assert Fernet(new_key.encode()).decrypt(after.encode()) == b"shpat_kept"
    only_new = create_app({**app_config(database, None), "LOYALTY_ENCRYPTION_KEY": new_key})
    with only_new.app_context():
        assert decrypt(after) == "shpat_kept"


@responses.activate
def test_uninstall_forgets_the_token_keeps_the_points_and_reinstall_brings_them_back(app, client, settle):
    responses.post(token_endpoint(), json=token_answer("shpat_one"))
    open_app(client)
    signed_webhook(client, "orders/paid", order(subtotal="42.00"))
    settle()
    assert signed_webhook(client, "app/uninstalled", {"id": 1, "myshopify_domain": SHOP}).status_code == 200
    settle()
    gone = shop_row(app)
    assert (gone.access_token, gone.refresh_token) == (None, None) and gone.uninstalled_at is not None
    # Data stays until shop/redact; /api refuses an uninstalled shop, so the row is read directly.
    with app.app_context(), transaction() as session:
        assert session.query(Member).filter_by(shop_id=gone.id, customer_id=7001).one().balance == 42
    responses.replace(responses.POST, token_endpoint(), json=token_answer("shpat_two"))
    assert open_app(client).status_code == 200
    back = shop_row(app)
    assert back.uninstalled_at is None and back.installed_at > gone.uninstalled_at
    with app.app_context():
        assert decrypt(back.access_token) == "shpat_two"
    assert balance(client) == 42


@responses.activate
def test_a_late_uninstall_from_before_a_reinstall_is_ignored(app, client, settle):
    responses.post(token_endpoint(), json=token_answer("shpat_current"))
    open_app(client)
    earlier = (utcnow() - timedelta(minutes=30)).isoformat()
    signed_webhook(client, "app/uninstalled", {"id": 1}, headers={"X-Shopify-Triggered-At": earlier})
    settle()
    shop = shop_row(app)
    assert shop.uninstalled_at is None
    with app.app_context():
        assert decrypt(shop.access_token) == "shpat_current"


@responses.activate
def test_concurrent_jobs_refresh_an_expiring_token_once(app, client):
    """Refresh tokens work once: eight jobs at once must not spend it twice (the refresh lease)."""
    responses.post(token_endpoint(), json=token_answer("shpat_old", "shprt_old", expires_in=60))
    open_app(client)
    responses.replace(responses.POST, token_endpoint(), json=token_answer("shpat_new", "shprt_new"))
    shop_id = shop_row(app).id

    def fetch(_n):
        with app.app_context():
            return access_token(shop_id)

    seen = all_at_once(8, fetch)
    assert seen == ["shpat_new"] * 8
    assert len(responses.calls) == 2  # the exchange, then exactly one refresh


@responses.activate
def test_a_refreshed_pair_is_kept_even_when_the_database_is_busy_at_first(app, client, monkeypatch):
    """The old refresh token is spent the moment the platform answers: the new pair must not be lost."""
    import sqlite3 as driver

    from sqlalchemy.exc import OperationalError

    from plugin.shopify import tokens

    responses.post(token_endpoint(), json=token_answer("shpat_old", "shprt_old", expires_in=60))
    open_app(client)
    responses.replace(responses.POST, token_endpoint(), json=token_answer("shpat_new", "shprt_new"))
    real_store, busy_once = tokens.store_grant, []

    def store_grant(shop, grant):
        if not busy_once:
            busy_once.append(True)
            raise OperationalError("UPDATE shops", {}, driver.OperationalError("database is locked"))
        real_store(shop, grant)

    monkeypatch.setattr(tokens, "store_grant", store_grant)
    with app.app_context():
        assert access_token(shop_row(app).id) == "shpat_new"
        assert decrypt(shop_row(app).refresh_token) == "shprt_new"
    assert busy_once and len(responses.calls) == 2  # the install, one refresh
