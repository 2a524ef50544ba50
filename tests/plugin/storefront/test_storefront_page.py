"""The shopper's page through the app proxy: plain HTML that works without JavaScript."""
import re
from datetime import date
from html.parser import HTMLParser

import liquid
import pytest
import responses

from plugin.loyalty.ledger.expiry_dates import add_months
from tests.helpers import (
    SHOP,
    auth,
    balance,
    member,
    order,
    proxy_url,
    session_token,
    signed_webhook,
    table_counts,
    token_answer,
    token_endpoint,
)
from tests.plugin.loyalty.rewards.test_redemptions import GRAPHQL, created

CREATED = created()  # the Admin API's answer to a code made (as in the redemption tests)


@pytest.fixture
def store(client, settle):
    """An installed shop whose customer 7001 holds 650 points; the Admin API mocked."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(token_endpoint(), json=token_answer())
        client.get("/", query_string={"shop": SHOP, "id_token": session_token()})
        signed_webhook(client, "orders/paid", order(subtotal="650.00"))
        settle()
        yield mock


def csrf_of(html: str) -> str:
    return re.search(r"name=csrf value='([^']+)'", html).group(1)


def five_off(client) -> int:
    return next(r["id"] for r in client.get("/api/rewards", headers=auth()).get_json()["rewards"]
                if r["name"] == "5 off your order")


def test_a_logged_out_shopper_sees_how_it_works_and_a_sign_in_link(client, store):
    response = client.get(proxy_url("/proxy/", customer_id=""))
    html = response.get_data(as_text=True)
    # Inside the store's theme: a fragment the store renders in its own layout.
    assert response.status_code == 200 and response.mimetype == "application/liquid"
    assert "<html" not in html and "<body" not in html and html.lstrip().startswith("<style>")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Earn 1 point for every 1.00 you spend" in html and "/account/login?return_url=/apps/loyalty" in html
    assert "5 off your order" in html and "<form" not in html and "<script" not in html


def test_a_shopper_sees_their_balance_and_can_afford_only_what_they_have_points_for(client, store):
    html = client.get(proxy_url("/proxy/")).get_data(as_text=True)
    assert "<span class=balance>650</span>" in html
    assert html.count("<button type=submit>Redeem</button>") == 2  # 400 and 500 points
    assert html.count("<button type=submit disabled>Redeem</button>") == 1  # 1000 points
    assert "action='/apps/loyalty/redemptions'" in html


def test_redeeming_from_the_page_takes_points_and_shows_a_code_to_apply(client, store):
    store.post(GRAPHQL, json=CREATED)
    page = client.get(proxy_url("/proxy/")).get_data(as_text=True)
    response = client.post(proxy_url("/proxy/redemptions"), data={"reward_id": five_off(client), "csrf": csrf_of(page)})
    assert response.status_code == 303 and response.headers["Location"] == "/apps/loyalty?notice=issued"
    assert balance(client) == 150
    code = member(client)["redemptions"][0]["code"]
    after = client.get(proxy_url("/proxy/", extra=[("notice", "issued")])).get_data(as_text=True)
    assert "Your code is ready" in after and f"<code>{code}</code>" in after
    assert f"href='/discount/{code}?redirect=/cart'" in after and "ready to use" in after


@pytest.mark.parametrize("csrf", [None, "", "123.abc", "forged"])
def test_a_redeem_without_the_pages_token_is_refused_and_spends_nothing(client, store, db, csrf):
    before = table_counts(db)
    form = {"reward_id": five_off(client)} if csrf is None else {"reward_id": five_off(client), "csrf": csrf}
    response = client.post(proxy_url("/proxy/redemptions"), data=form)
    assert response.status_code == 303 and response.headers["Location"].endswith("notice=expired-form")
    assert table_counts(db) == before and balance(client) == 650


def test_a_token_made_for_another_shopper_does_not_work(client, store, db):
    other_page = client.get(proxy_url("/proxy/", customer_id="7002")).get_data(as_text=True)
    before = table_counts(db)
    response = client.post(proxy_url("/proxy/redemptions"), data={"reward_id": five_off(client),
                                                                   "csrf": csrf_of(other_page)})
    assert response.headers["Location"].endswith("notice=expired-form") and table_counts(db) == before


def test_too_few_points_sends_the_shopper_back_with_a_notice(client, store, db):
    page = client.get(proxy_url("/proxy/")).get_data(as_text=True)
    expensive = next(r["id"] for r in client.get("/api/rewards", headers=auth()).get_json()["rewards"]
                     if r["points_cost"] == 1000)
    before = table_counts(db)
    response = client.post(proxy_url("/proxy/redemptions"), data={"reward_id": expensive, "csrf": csrf_of(page)})
    assert response.headers["Location"] == "/apps/loyalty?notice=insufficient"
    assert table_counts(db) == before
    assert "not have enough points" in client.get(proxy_url("/proxy/", extra=[("notice", "insufficient")])).get_data(
        as_text=True)


def test_merchant_text_is_shown_as_text_never_run_as_html_or_liquid(client, store):
    name = "<script>alert(1)</script> {{ customer.email }} {% raw %}{%- endraw -%}"
    client.post("/api/rewards", json={"name": name, "kind": "amount_off", "value": "1", "points_cost": 10},
                headers=auth())
    response = client.get(proxy_url("/proxy/", extra=[("notice", "<b>hi</b>")]))
    html = response.get_data(as_text=True)
    assert response.mimetype == "application/liquid"
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>hi</b>" not in html
    # The store renders the answer as Liquid, with the shopper's own data at hand: nothing we
    # printed runs, and the shopper reads the name as the merchant typed it.
    rendered = liquid.Template(html).render(customer={"email": "ada@example.com"})
    assert "ada@example.com" not in rendered
    assert name in PageText(rendered).cells


def test_the_standalone_page_is_for_the_development_store_only_when_asked(client, store):
    response = client.get(proxy_url("/proxy/", extra=[("format", "html")]))
    assert response.mimetype == "text/html" and response.get_data(as_text=True).startswith("<!doctype html>")
    assert "<span class=balance>650</span>" in response.get_data(as_text=True)


class PageText(HTMLParser):
    """The page as a browser parses it: its elements, and the text of each table cell."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.cells: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "td":
            self.cells.append("")

    def handle_endtag(self, tag):
        self.tags.append(f"/{tag}")

    def handle_data(self, data):
        if self.tags and self.tags[-1] == "td":
            self.cells[-1] += data


MARKUP_REWARD = "Tote \"bag\" & <b onmouseover='alert(1)'>'deal'</b> <script>alert(2)</script>"


def test_a_reward_name_with_markup_and_quotes_is_shown_as_text_in_the_catalog_and_the_codes(client, store):
    store.post(GRAPHQL, json=CREATED)
    created = client.post("/api/rewards", json={"name": MARKUP_REWARD, "kind": "amount_off", "value": "1",
                                                "points_cost": 10}, headers=auth())
    assert created.status_code == 201, created.get_json()
    page = client.get(proxy_url("/proxy/")).get_data(as_text=True)
    client.post(proxy_url("/proxy/redemptions"), data={"reward_id": created.get_json()["id"], "csrf": csrf_of(page)})
    parsed = PageText(client.get(proxy_url("/proxy/")).get_data(as_text=True))
    assert parsed.cells.count(MARKUP_REWARD) == 2  # the catalog's row and the code's row, each as typed
    assert "b" not in parsed.tags and "script" not in parsed.tags


def test_an_unsigned_page_request_is_refused(client, store):
    assert client.get("/proxy/?shop=rosebud-tea.myshopify.com&logged_in_customer_id=7001").status_code == 401


def test_the_page_shows_pending_points_and_when_points_expire(client, store, settle):
    html = client.get(proxy_url("/proxy/")).get_data(as_text=True)
    assert "class=pending" not in html and "class=expiry" not in html  # nothing pending, nothing expires
    changed = client.patch("/api/program", headers=auth(), json={
        "pending_days": 30, "expiry_policy": "fifo", "expiry_months": 12})
    assert changed.status_code == 200
    signed_webhook(client, "orders/paid", order(subtotal="80.00", processed_at="2099-01-01T10:00:00Z"))
    signed_webhook(client, "orders/paid", order(subtotal="20.00", processed_at="2099-01-01T10:00:00Z",
                                                customer_id=7002))
    settle()
    html = client.get(proxy_url("/proxy/")).get_data(as_text=True)
    assert "<span class=balance>650</span>" in html
    assert "80 points are on their way" in html
    earned = date.fromisoformat(member(client)["ledger"][-1]["created_at"][:10])  # the 650 points' award
    expires = add_months(earned, 12)
    assert f"650 points expire on {expires:%B} {expires.day}, {expires.year}" in html


def test_figures_are_shown_as_the_shop_shows_them(client, store, settle):
    signed_webhook(client, "shop/update", {"id": 1, "iana_timezone": "Europe/Paris", "currency": "EUR"})
    signed_webhook(client, "orders/paid", order(subtotal="768.00"))
    settle()
    html = client.get(proxy_url("/proxy/")).get_data(as_text=True)
    assert "<span class=balance>1,418</span>" in html
    assert "Earn 1 point for every €1.00 you spend" in html
    assert "<td>€5.00 off</td>" in html and "<td>10% off</td>" in html and "<td>Free shipping</td>" in html
    assert "<td>1,000 points</td>" in html
