"""Install and uninstall edges: stale install nonces, tokens that outlive an uninstall or an
erasure, and redemptions in a store that no longer has the app.

Each refusal is checked twice: the answer, and that no table changed. After an uninstall
`/api` refuses, so balances are read from the database.
"""
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from sqlalchemy import update

from admin_ui.install import STATE_LIFETIME, purge_expired_oauth_states
from plugin.db import transaction, utcnow
from plugin.models import Member, OAuthState, Shop
from tests.helpers import (
    SHOP,
    auth,
    install,
    order,
    proxy_url,
    session_token,
    signed_query,
    table_counts,
    token_answer,
    token_endpoint,
)

ADA = 7001
# Every kind of /api call a panel or a merchant's script makes, reading and writing.
CALLS = [
    ("get", "/api/program", None),
    ("patch", "/api/program", {"signup_bonus": 500}),
    ("get", "/api/members", None),
    ("get", f"/api/members/{ADA}", None),
    ("post", f"/api/members/{ADA}/adjustments", {"points": 1000, "reason": "after the uninstall"}),
    ("get", "/api/rewards", None),
    ("post", "/api/rewards", {"name": "Late", "kind": "amount_off", "value": "5", "points_cost": 5}),
    ("post", f"/api/members/{ADA}/redemptions", {"reward_id": 1}),
    ("get", "/api/stats", None),
    ("get", "/api/events", None),
    ("get", "/api/data-requests", None),
]
CALL_IDS = [f"{method} {path}" for method, path, _ in CALLS]


def stored_balance(app, customer_id: int = ADA) -> int:
    with app.app_context(), transaction() as session:
        return session.query(Member).filter_by(customer_id=customer_id).one().balance


def five_off(client) -> int:
    rewards = client.get("/api/rewards", headers=auth()).get_json()["rewards"]
    return next(r["id"] for r in rewards if r["name"] == "5 off your order")


def installed_with_points(client, send, points: int = 650) -> None:
    install(client)
    send("orders/paid", order(customer_id=ADA, subtotal=f"{points}.00"))


def assert_refused_as_not_installed(response) -> None:
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert "not installed" in response.get_json()["error"]


# a. Install nonces


def start_install(client) -> str:
    response = client.get("/auth/install", query_string=signed_query(shop=SHOP))
    assert response.status_code == 302
    return parse_qs(urlparse(response.headers["Location"]).query)["state"][0]


def age_states(app, nonces: list[str], by: timedelta) -> None:
    with app.app_context(), transaction() as session:
        session.execute(update(OAuthState).where(OAuthState.nonce.in_(nonces))
                        .values(created_at=utcnow() - by))


def purge(app) -> int:
    with app.app_context(), transaction() as session:
        return purge_expired_oauth_states(session)


def test_replayed_install_links_leave_nonces_that_the_purge_removes_once_expired(app, client, db):
    nonces = [start_install(client) for _ in range(3)]  # the same signed link, opened three times
    assert table_counts(db)["oauth_states"] == 3
    age_states(app, nonces[:2], STATE_LIFETIME + timedelta(seconds=1))
    assert purge(app) == 2
    assert [state.nonce for state in db.query(OAuthState)] == [nonces[2]]
    assert purge(app) == 0


def test_the_hourly_periodic_job_purges_expired_nonces(app, client, db):
    from plugin.schedule import run_periodic

    stale, fresh = start_install(client), start_install(client)
    age_states(app, [stale], STATE_LIFETIME + timedelta(seconds=1))
    with app.app_context():
        assert run_periodic("install-nonces") == 1
    assert [state.nonce for state in db.query(OAuthState)] == [fresh]


def test_a_purge_with_nothing_expired_changes_nothing(app, client, db):
    start_install(client)
    age_states(app, [start_install(client)], STATE_LIFETIME - timedelta(minutes=1))
    before = table_counts(db)
    assert purge(app) == 0
    assert table_counts(db) == before


@responses.activate
def test_a_nonce_the_purge_keeps_still_completes_its_install(app, client, db):
    responses.post(token_endpoint(), json=token_answer())
    stale, fresh = start_install(client), start_install(client)
    age_states(app, [stale], STATE_LIFETIME * 2)
    assert purge(app) == 1
    done = client.get("/auth/callback", query_string=signed_query(shop=SHOP, code="c0de", state=fresh))
    assert done.status_code == 302
    assert table_counts(db)["oauth_states"] == 0 and table_counts(db)["shops"] == 1


# b. Session tokens issued before an uninstall


@pytest.mark.parametrize("method, path, body", CALLS, ids=CALL_IDS)
def test_after_uninstall_a_token_from_before_gets_401_and_changes_nothing(app, client, db, send, method, path,
                                                                          body):
    installed_with_points(client, send)
    token = session_token()  # issued while the app was installed, still within its lifetime
    send("app/uninstalled", {"id": 1, "myshopify_domain": SHOP})
    before = table_counts(db)
    response = getattr(client, method)(path, json=body, headers={"Authorization": f"Bearer {token}"})
    assert_refused_as_not_installed(response)
    assert table_counts(db) == before
    assert stored_balance(app) == 650
    assert db.query(Shop).one().program.signup_bonus == 0


@responses.activate
def test_a_token_exchange_after_uninstall_serves_the_api_again_with_the_points_kept(app, client, send):
    installed_with_points(client, send)
    send("app/uninstalled", {"id": 1, "myshopify_domain": SHOP})
    assert_refused_as_not_installed(client.get("/api/program", headers=auth()))
    responses.post(token_endpoint(), json=token_answer("shpat_back"))
    assert client.get("/", query_string={"shop": SHOP, "id_token": session_token()}).status_code == 200
    assert client.get(f"/api/members/{ADA}", headers=auth()).get_json()["balance"] == 650


@responses.activate
def test_an_oauth_install_after_uninstall_serves_the_api_again(app, client, send):
    installed_with_points(client, send)
    send("app/uninstalled", {"id": 1, "myshopify_domain": SHOP})
    responses.post(token_endpoint(), json=token_answer("shpat_back"))
    state = start_install(client)
    assert client.get("/auth/callback", query_string=signed_query(shop=SHOP, code="c", state=state)).status_code == 302
    assert client.get(f"/api/members/{ADA}", headers=auth()).get_json()["balance"] == 650


# c. Redemptions in a store without the app


def storefront_csrf(client) -> str:
    page = client.get(proxy_url("/proxy/")).get_data(as_text=True)
    return re.search(r"name=csrf value='([^']+)'", page).group(1)


@responses.activate  # no Admin API answer is registered: a call to the platform would fail the test
def test_a_storefront_redemption_after_uninstall_sends_the_shopper_back_and_spends_nothing(app, client, db, send):
    installed_with_points(client, send)
    reward, csrf = five_off(client), storefront_csrf(client)
    send("app/uninstalled", {"id": 1, "myshopify_domain": SHOP})
    before = table_counts(db)
    response = client.post(proxy_url("/proxy/redemptions"), data={"reward_id": reward, "csrf": csrf})
    assert response.status_code == 303 and response.headers["Location"] == "/apps/loyalty?notice=closed"
    assert table_counts(db) == before and stored_balance(app) == 650
    assert len(responses.calls) == 0
    page = client.get(proxy_url("/proxy/", extra=[("notice", "closed")])).get_data(as_text=True)
    assert "cannot be redeemed in this store right now" in page and "<span class=balance>650</span>" in page


@pytest.mark.parametrize("situation", ["known only from webhooks", "refresh token expired"])
@responses.activate
def test_an_admin_redemption_in_a_shop_without_a_usable_token_is_409_and_spends_nothing(app, client, db, send,
                                                                                          situation):
    if situation == "refresh token expired":
        install(client)
    send("orders/paid", order(customer_id=ADA, subtotal="650.00"))
    if situation == "refresh token expired":
        with app.app_context(), transaction() as session:
            session.execute(update(Shop).values(access_token_expires_at=utcnow() - timedelta(hours=1),
                                                refresh_token_expires_at=utcnow() - timedelta(seconds=1)))
    reward = five_off(client)
    before = table_counts(db)
    response = client.post(f"/api/members/{ADA}/redemptions", json={"reward_id": reward}, headers=auth())
    assert response.status_code == 409
    assert "not installed" in response.get_json()["error"] and "no points were spent" in response.get_json()["error"]
    assert table_counts(db) == before and stored_balance(app) == 650
    assert len(responses.calls) == 0


# d. Session tokens for a shop we do not know


@pytest.mark.parametrize("method, path, body", CALLS, ids=CALL_IDS)
def test_a_valid_token_for_a_shop_never_installed_gets_401_and_creates_nothing(client, db, method, path, body):
    before = table_counts(db)
    response = getattr(client, method)(path, json=body, headers=auth())
    assert_refused_as_not_installed(response)
    assert table_counts(db) == before


@responses.activate
def test_after_shop_redact_a_token_from_before_does_not_bring_the_shop_back(app, client, db, send):
    installed_with_points(client, send)
    token = {"Authorization": f"Bearer {session_token()}"}
    send("app/uninstalled", {"id": 1, "myshopify_domain": SHOP})
    send("shop/redact", {"shop_id": 954889, "shop_domain": SHOP})
    assert table_counts(db)["shops"] == 0
    before = table_counts(db)
    assert_refused_as_not_installed(client.get("/api/program", headers=token))
    assert_refused_as_not_installed(client.patch("/api/program", json={"signup_bonus": 5}, headers=token))
    assert table_counts(db) == before
    # The reload App Bridge makes on that 401 is the token exchange: a fresh shop, with nothing erased.
    responses.post(token_endpoint(), json=token_answer("shpat_new"))
    assert client.get("/", query_string={"shop": SHOP, "id_token": session_token()}).status_code == 200
    assert client.get("/api/program", headers=auth()).get_json()["signup_bonus"] == 0
    assert client.get(f"/api/members/{ADA}", headers=auth()).status_code == 404
