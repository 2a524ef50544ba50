"""The development store (SPEC "Trying it without a store"): /dev, its platform, its storefront.

Everything starts where a newcomer starts: the /dev page's links and forms. The development
platform is reached the way the app reaches the real one (HTTP to SHOPIFY_ADMIN_ORIGIN's
stand-in), so these tests run on a real socket (tests/dev_store.py).
"""
import html
import re
from datetime import date, datetime, timezone
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from sqlalchemy import select

from plugin import create_app
from plugin.models import DevPlatformRecord, DevRecordKind, OrderRecord, Shop
from plugin.shopify.client import AdminClient
from plugin.shopify.grants import admin_origin
from plugin.shopify.products import fetch_products
from tests.conftest import app_config
from tests.dev_store import DEV_SHOP, dev_store_fixture  # noqa: F401 (the `dev_store` fixture)
from tests.helpers import API_KEY, API_SECRET, ENCRYPTION_KEY, OTHER_SHOP, SHOP, auth, session_token, table_counts

ADA, KATHERINE = 7100000001, 7100000003


def records(db, kind: DevRecordKind) -> list[DevPlatformRecord]:
    return list(db.scalars(select(DevPlatformRecord).where(DevPlatformRecord.kind == kind)))


def open_panel(client, path: str = "/"):
    """Follow /dev's "Open the admin panel" into the frame it shows."""
    framed = client.get("/dev/admin", query_string={"path": path})
    assert framed.status_code == 200
    frame = re.search(r"<iframe id=app-frame title='Loyalty' src='([^']+)'", framed.get_data(as_text=True))
    src = html.unescape(frame[1])
    return client.get(src)


def balance(client, customer_id: int) -> int:
    return client.get(f"/api/members/{customer_id}", headers=auth(DEV_SHOP)).get_json()["balance"]


def token(dev_store) -> str:
    """An access token from the development platform's token exchange, as the app gets one."""
    answer = requests.post(f"{dev_store.url}/dev/platform/{DEV_SHOP}/admin/oauth/access_token", data={
        "client_id": API_KEY, "client_secret": API_SECRET, "subject_token": session_token(DEV_SHOP),
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange", "expiring": "1",
        "subject_token_type": "urn:ietf:params:oauth:token-type:id_token",
        "requested_token_type": "urn:shopify:params:oauth:token-type:offline-access-token"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def graphql(dev_store, query: str, variables: dict, access: str):
    return requests.post(f"{dev_store.url}/dev/platform/{DEV_SHOP}/admin/api/2026-10/graphql.json",
                         json={"query": query, "variables": variables},
                         headers={"X-Shopify-Access-Token": access}, timeout=10)


# -- the panel ------------------------------------------------------------------------------

def test_opening_the_panel_from_dev_installs_the_shop_through_the_development_platform(dev_store, db):
    client = dev_store.client()
    assert "Not installed yet." in client.get("/dev").get_data(as_text=True)
    opened = open_panel(client)
    assert opened.status_code == 200, opened.get_data(as_text=True)
    # The real CSP, plus this app itself: the /dev page is the one framing it.
    assert opened.headers["Content-Security-Policy"] == \
        f"frame-ancestors https://{DEV_SHOP} https://admin.shopify.com 'self';"
    assert "app-bridge.js" not in opened.get_data(as_text=True)
    shop = db.scalar(select(Shop).where(Shop.domain == DEV_SHOP))
    assert shop.access_token is not None and not shop.access_token.startswith("shpat_")  # encrypted at rest
    assert len(records(db, DevRecordKind.ACCESS_TOKEN)) == 1
    assert all(not r.key.startswith("shpat") for r in records(db, DevRecordKind.ACCESS_TOKEN))  # kept as digests
    assert "Installed." in client.get("/dev").get_data(as_text=True)


def test_the_frame_src_carries_a_verified_id_token_for_the_development_shop_only(dev_store):
    framed = dev_store.client().get("/dev/admin", query_string={"path": "/members"})
    src = html.unescape(re.search(r"src='([^']+)'", framed.get_data(as_text=True))[1])
    assert urlparse(src).path == "/members"
    query = parse_qs(urlparse(src).query)
    assert query["shop"] == [DEV_SHOP] and query["embedded"] == ["1"]
    from plugin.shopify.session_tokens import shop_from_header
    assert shop_from_header(f"Bearer {query['id_token'][0]}", API_KEY, API_SECRET) == DEV_SHOP
    odd = dev_store.client().get("/dev/admin", query_string={"path": "https://evil.example/"})
    assert urlparse(html.unescape(re.search(r"src='([^']+)'", odd.get_data(as_text=True))[1])).path == "/"


# -- sample orders: a worked example ----------------------------------------------------------

def test_sample_orders_earn_refund_and_cancel_as_a_worked_example(dev_store, db):
    client = dev_store.client()
    open_panel(client)
    sent = client.post("/dev/orders", data={"count": "10"})
    # 5 customers, 10 orders, 1 refund, 1 cancellation: every one accepted by the intake.
    assert sent.headers["Location"] == "/dev?notice=orders&count=17&accepted=17"
    # Ada: oolongs 2 × 42 = 84 + teapots 3 × 145 = 435, less one refunded oolong (42): 477.
    assert balance(client, ADA) == 477
    # Grace: whisks 2 × 28.50 = 57, oolong 42: 99.
    assert balance(client, 7100000002) == 99
    # Katherine: teapots 435, whisks 57 (the gift card earns nothing): 492.
    assert balance(client, KATHERINE) == 492
    # Alan: oolong 42 (and a gift card), teapots 435: 477.
    assert balance(client, 7100000004) == 477
    # Edsger: whisks 57, an oolong 42 that was cancelled: 57.
    assert balance(client, 7100000005) == 57
    stats = client.get("/api/stats", headers=auth(DEV_SHOP)).get_json()
    assert stats["members"] == 5
    # Sent in one go, placed over four weeks: the orders chart shows them on their own days (9 paid, 1 cancelled).
    days = [day["date"] for day in stats["series"] if day["orders"]]
    assert sum(day["orders"] for day in stats["series"]) == 9 and len(days) == 9
    assert (date.fromisoformat(stats["to"]) - date.fromisoformat(days[0])).days == 27  # the oldest, 27 days ago
    notice = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Sent 17 webhooks through the intake (17 accepted)." in notice
    # Sent again: the customers are duplicates the intake drops, the orders are new ones.
    client.post("/dev/orders", data={"count": "1"})
    assert balance(client, ADA) == 477 + 84 - 42  # two more oolongs, and one of them refunded


def test_the_recordings_replay_into_the_development_shop(dev_store, db):
    client = dev_store.client()
    replayed = client.post("/dev/recordings")
    location = replayed.headers["Location"]
    count = int(parse_qs(urlparse(location).query)["count"][0])
    assert count > 10 and location.endswith(f"accepted={count}")
    assert client.get("/api/stats", headers=auth(DEV_SHOP)).get_json()["members"] >= 1


# -- a shopper redeems, the code appears on /dev, an order uses it ------------------------------

def test_a_shopper_redeems_on_the_storefront_sees_the_code_on_dev_and_an_order_uses_it(dev_store, db):
    client = dev_store.client()
    open_panel(client)
    client.post("/dev/orders", data={"count": "10"})
    page = client.get("/dev/storefront", query_string={"customer_id": ADA}, follow_redirects=True)
    text = page.get_data(as_text=True)
    assert page.request.path == "/proxy/" and "signature=" in page.request.query_string.decode()
    assert "Your points: <span class=balance>477</span>" in text
    csrf = re.search(r"name=csrf value='([^']+)'", text)[1]
    free_shipping = re.search(r"<td>Free shipping</td>\s*<td>400 points</td>\s*<td>\s*<form[^>]*>\s*"
                              r"<input type=hidden name=reward_id value='(\d+)'", text)[1]
    redeemed = client.post("/apps/loyalty/redemptions", data={"reward_id": free_shipping, "csrf": csrf},
                           follow_redirects=True)
    assert "Your code is ready" in redeemed.get_data(as_text=True)
    assert balance(client, ADA) == 77
    code = re.search(r"<code>([A-Z0-9-]+)</code>", redeemed.get_data(as_text=True))[1]
    kept = records(db, DevRecordKind.DISCOUNT_CODE)
    assert [r.key for r in kept] == [code]
    assert kept[0].data["input"]["context"] == {"customers": {"add": [f"gid://shopify/Customer/{ADA}"]}}
    dev_page = client.get("/dev").get_data(as_text=True)
    assert f"<tr data-code='{code}'>" in dev_page and "not used" in dev_page
    used = client.post("/dev/orders/with-code", data={"code": code})
    assert used.headers["Location"] == "/dev?notice=code-used&count=1&accepted=1"
    member = client.get(f"/api/members/{ADA}", headers=auth(DEV_SHOP)).get_json()
    assert [(r["code"], r["status"]) for r in member["redemptions"]] == [(code, "used")]
    assert member["balance"] == 77 + 145  # the teapot order, free shipping taking nothing off the subtotal
    assert "used by order" in client.get("/dev").get_data(as_text=True)


def test_using_an_unknown_code_sends_nothing(dev_store, db):
    client = dev_store.client()
    open_panel(client)
    before = table_counts(db)
    answer = client.post("/dev/orders/with-code", data={"code": "NOT-A-CODE"})
    assert answer.headers["Location"] == "/dev?notice=no-code"
    assert table_counts(db) == before


def test_a_post_from_another_origin_is_refused_and_sends_nothing(dev_store, db):
    before = table_counts(db)
    answer = dev_store.client().post("/dev/orders", data={"count": "5"}, headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403
    assert table_counts(db) == before


# -- the development platform ----------------------------------------------------------------

def test_the_platform_answers_discount_codes_taken_and_the_look_up(dev_store, db):
    access = token(dev_store)
    document = ("mutation($discount: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $discount)"
                " { codeDiscountNode { id } userErrors { field message code } } }")
    discount = {"title": "t", "code": "dev-ABC", "startsAt": "2026-11-29T00:00:00Z",
                "context": {"customers": {"add": [f"gid://shopify/Customer/{ADA}"]}},
                "customerGets": {"value": {"percentage": 0.1}, "items": {"all": True}}}
    first = graphql(dev_store, document, {"discount": discount}, access).json()
    assert first["data"]["discountCodeBasicCreate"]["userErrors"] == [], first
    node = first["data"]["discountCodeBasicCreate"]["codeDiscountNode"]["id"]
    assert node.startswith("gid://shopify/DiscountCodeNode/")
    assert first["extensions"]["cost"]["requestedQueryCost"] == 10
    throttle = first["extensions"]["cost"]["throttleStatus"]
    assert set(throttle) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}
    again = graphql(dev_store, document, {"discount": discount}, access).json()
    assert again["data"]["discountCodeBasicCreate"]["userErrors"][0]["code"] == "TAKEN"
    found = graphql(dev_store, "query($code: String!) { codeDiscountNodeByCode(code: $code) { id } }",
                    {"code": "DEV-ABC"}, access).json()
    assert found["data"]["codeDiscountNodeByCode"] == {"id": node}
    percent = graphql(dev_store, document, {"discount": {**discount, "code": "OTHER",
                      "customerGets": {"value": {"percentage": 10}, "items": {"all": True}}}}, access).json()
    assert percent["data"]["discountCodeBasicCreate"]["userErrors"][0]["code"] == "VALUE_OUTSIDE_RANGE"
    assert [r.key for r in records(db, DevRecordKind.DISCOUNT_CODE)] == ["DEV-ABC"]


def test_the_platform_keeps_metafields_and_tags_and_shows_them_on_dev(dev_store, db):
    access = token(dev_store)
    owner = f"gid://shopify/Customer/{ADA}"
    fields = [{"ownerId": owner, "namespace": "loyalty", "key": "points", "type": "number_integer", "value": "435"},
              {"ownerId": owner, "namespace": "loyalty", "key": "tier", "type": "single_line_text_field",
               "value": "Gold"}]
    document = ("mutation($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $metafields) "
                "{ metafields { id } userErrors { field message code } } }")
    written = graphql(dev_store, document, {"metafields": fields}, access).json()["data"]["metafieldsSet"]
    assert written["userErrors"] == [] and len(written["metafields"]) == 2
    fields[0]["value"] = "500"
    graphql(dev_store, document, {"metafields": fields[:1]}, access)
    too_many = graphql(dev_store, document, {"metafields": fields[:1] * 26}, access).json()
    assert too_many["data"]["metafieldsSet"]["userErrors"]
    tags = ("mutation($a: ID!, $t: [String!]!, $b: ID!, $u: [String!]!) { add: tagsAdd(id: $a, tags: $t) "
            "{ node { id } userErrors { field message } } drop: tagsRemove(id: $b, tags: $u) { node { id } } }")
    changed = graphql(dev_store, tags, {"a": owner, "t": ["loyalty-tier-gold", "vip"], "b": owner, "u": ["vip"]},
                      access).json()
    # (The fake answers a payload's every field, whatever the selection asked for.)
    assert changed["data"] == {"add": {"node": {"id": owner}, "userErrors": []},
                               "drop": {"node": {"id": owner}, "userErrors": []}}
    assert changed["extensions"]["cost"]["requestedQueryCost"] == 20
    kept = {r.data["key"]: r.data["value"] for r in records(db, DevRecordKind.METAFIELD)}
    assert kept == {"points": "500", "tier": "Gold"}
    assert [r.data["tags"] for r in records(db, DevRecordKind.CUSTOMER_TAGS)] == [["loyalty-tier-gold"]]
    page = dev_store.client().get("/dev").get_data(as_text=True)
    assert "loyalty.points" in page and "500" in page and "loyalty-tier-gold" in page


def test_product_look_ups_answer_the_stores_catalogue_through_the_apps_own_client(dev_store, db):
    open_panel(dev_store.client())
    with dev_store.app.app_context():
        shop_id = db.scalar(select(Shop.id).where(Shop.domain == DEV_SHOP))
        found = fetch_products(AdminClient(shop_id, DEV_SHOP), {8100000003, 8100000004, 999})
    assert set(found) == {8100000003, 8100000004}  # 999 is not in the store: null, left out
    teapot = found[8100000003]
    assert (teapot.product_type, teapot.tags, teapot.collection_ids) == ("Teaware", ("gift-idea",),
                                                                         (4100000002, 4100000003))


def test_the_platform_refuses_unknown_tokens_and_spent_refresh_tokens(dev_store, db):
    bad = graphql(dev_store, "query($code: String!) { codeDiscountNodeByCode(code: $code) { id } }",
                  {"code": "X"}, "shpat_made_up")
    assert bad.status_code == 401
    endpoint = f"{dev_store.url}/dev/platform/{DEV_SHOP}/admin/oauth/access_token"
    wrong_secret = requests.post(endpoint, data={"client_id": API_KEY, "client_secret": "nope",
                                                 "grant_type": "refresh_token", "refresh_token": "x"}, timeout=10)
    assert (wrong_secret.status_code, wrong_secret.json()) == (400, {"error": "invalid_client"})
    open_panel(dev_store.client())
    with dev_store.app.app_context():
        from plugin.shopify.tokens import decrypt
        refresh = decrypt(db.scalar(select(Shop.refresh_token).where(Shop.domain == DEV_SHOP)))
    fields = {"client_id": API_KEY, "client_secret": API_SECRET, "grant_type": "refresh_token",
              "refresh_token": refresh}
    assert requests.post(endpoint, data=fields, timeout=10).status_code == 200
    assert requests.post(endpoint, data=fields, timeout=10).json() == {"error": "invalid_grant"}  # spent
    foreign = requests.post(endpoint, data={**fields, "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
                                            "subject_token": session_token(OTHER_SHOP),
                                            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token"},
                            timeout=10)
    assert foreign.json() == {"error": "invalid_subject_token"}  # an id token of another shop


# -- only the development shop, only in development -------------------------------------------

def test_the_development_platform_is_404_for_every_other_shop_and_keeps_nothing(dev_store, db):
    before = table_counts(db)
    for shop in (OTHER_SHOP, SHOP):
        answer = requests.post(f"{dev_store.url}/dev/platform/{shop}/admin/oauth/access_token", data={
            "client_id": API_KEY, "client_secret": API_SECRET, "subject_token": session_token(shop),
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token"}, timeout=10)
        assert answer.status_code == 404
        assert requests.post(f"{dev_store.url}/dev/platform/{shop}/admin/api/2026-10/graphql.json",
                             json={"query": "{ shop { id } }"}, timeout=10).status_code == 404
    assert table_counts(db) == before


def test_one_function_decides_the_origin_and_only_the_dev_shop_in_development_gets_the_fake(dev_store, database):
    with dev_store.app.app_context():
        assert admin_origin(DEV_SHOP) == f"{dev_store.url}/dev/platform/{DEV_SHOP}"
        assert admin_origin(OTHER_SHOP) == f"https://{OTHER_SHOP}"
        assert admin_origin("dev-store.myshopify.com.evil.example") == "https://dev-store.myshopify.com.evil.example"
    production = create_app({**app_config(database, None), "LOYALTY_ENV": "production", "LOYALTY_DEV_SHOP": DEV_SHOP})
    with production.app_context():
        assert admin_origin(DEV_SHOP) == f"https://{DEV_SHOP}"


def test_another_shop_installed_in_development_talks_to_its_own_store_only(dev_store, db):
    with responses.RequestsMock() as platform:  # any call to the development platform would fail here
        platform.post(f"https://{SHOP}/admin/oauth/access_token", json={"access_token": "shpat_real", "scope": ""})
        opened = dev_store.client().get("/", query_string={"shop": SHOP, "id_token": session_token(SHOP)})
        assert opened.status_code == 200
        assert len(platform.calls) == 1
        assert "'self'" not in opened.headers["Content-Security-Policy"]
    assert records(db, DevRecordKind.ACCESS_TOKEN) == []


def _sample_path(rule) -> str:
    """The rule's path with its arguments filled (the development shop for `shop`)."""
    return rule.build({name: DEV_SHOP if name == "shop" else "x" for name in rule.arguments})[1]


def test_every_dev_route_is_404_in_production(dev_store, database):
    """Walk the development app's URL map: every route it adds is absent from production."""
    development = dev_store.app
    # Every blueprint admin_ui/dev registers, found from the app, not listed by hand.
    dev_blueprints = {name for name, blueprint in development.blueprints.items()
                      if blueprint.import_name.startswith("admin_ui.dev")}
    dev_rules = [rule for rule in development.url_map.iter_rules() if rule.endpoint.split(".")[0] in dev_blueprints]
    assert {r.rule for r in dev_rules} >= {"/dev", "/dev/admin", "/dev/orders", "/apps/loyalty/", "/dev/theme/",
                                           "/discount/<code>", "/dev/platform/<shop>/admin/oauth/access_token"}
    production = create_app({**app_config(database, None), "LOYALTY_ENV": "production", "LOYALTY_DEV_SHOP": DEV_SHOP})
    client = production.test_client()
    for rule in dev_rules:
        path = _sample_path(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert client.open(path, method=method).status_code == 404, (method, path)
    assert development.test_client().get("/dev").status_code == 200


@pytest.mark.parametrize("path", ["/dev", "/dev/admin", "/apps/loyalty/"])
def test_the_dev_routes_also_refuse_when_the_app_turns_production_after_registering(dev_store, path):
    dev_store.app.config["LOYALTY_ENV"] = "production"
    try:
        assert dev_store.client().get(path).status_code == 404
    finally:
        dev_store.app.config["LOYALTY_ENV"] = "development"


def test_what_the_platform_keeps_survives_a_restart(dev_store, database, db):
    access = token(dev_store)
    document = ("mutation($discount: DiscountCodeFreeShippingInput!) { discountCodeFreeShippingCreate("
                "freeShippingCodeDiscount: $discount) { codeDiscountNode { id } userErrors { field message code } } }")
    discount = {"title": "t", "code": "KEEP-ME", "startsAt": "2026-11-29T00:00:00Z", "destination": {"all": True}}
    made = graphql(dev_store, document, {"discount": discount}, access).json()
    assert made["data"]["discountCodeFreeShippingCreate"]["userErrors"] == []
    restarted = create_app({**app_config(database, None), "LOYALTY_ENV": "development", "LOYALTY_DEV_SHOP": DEV_SHOP,
                            "SHOPIFY_APP_URL": dev_store.url})
    assert "<tr data-code='KEEP-ME'>" in restarted.test_client().get("/dev").get_data(as_text=True)
    again = restarted.test_client().post(
        f"/dev/platform/{DEV_SHOP}/admin/api/2026-10/graphql.json", headers={"X-Shopify-Access-Token": access},
        json={"query": "query($code: String!) { codeDiscountNodeByCode(code: $code) { id } }",
              "variables": {"code": "KEEP-ME"}})
    assert again.get_json()["data"]["codeDiscountNodeByCode"] == made["data"]["discountCodeFreeShippingCreate"][
        "codeDiscountNode"]


def test_an_unknown_token_or_an_unread_document_changes_nothing(dev_store, db):
    access = token(dev_store)
    before = table_counts(db)
    create = ("mutation($discount: DiscountCodeBasicInput!) { discountCodeBasicCreate(basicCodeDiscount: $discount)"
              " { codeDiscountNode { id } } }")
    variables = {"discount": {"title": "t", "code": "NOPE", "startsAt": "2026-11-29T00:00:00Z",
                              "customerGets": {"value": {"percentage": 0.1}, "items": {"all": True}}}}
    assert graphql(dev_store, create, variables, "shpat_made_up").status_code == 401
    inline = graphql(dev_store, 'mutation { tagsAdd(id: "gid://shopify/Customer/1", tags: ["x"]) { node { id } } }',
                     {}, access).json()
    assert "must be given as a variable" in inline["errors"][0]["message"]
    unknown = graphql(dev_store, "{ shop { name } }", {}, access).json()
    assert unknown["errors"] and "cost" in unknown["extensions"]
    blank = graphql(dev_store, create, {"discount": {"code": "NOPE"}}, access).json()
    assert {e["code"] for e in blank["data"]["discountCodeBasicCreate"]["userErrors"]} == {"BLANK"}
    assert table_counts(db) == before


def test_variables_of_the_wrong_shape_are_a_graphql_error_and_keep_nothing(dev_store, db):
    access = token(dev_store)
    owner = f"gid://shopify/Customer/{ADA}"
    before = table_counts(db)
    # The first field would write; the second's variables are wrong, so the document runs nothing.
    document = ("mutation($a: ID!, $t: [String!]!, $m: [MetafieldsSetInput!]!) { tagsAdd(id: $a, tags: $t) "
                "{ node { id } } metafieldsSet(metafields: $m) { metafields { id } } }")
    refused = graphql(dev_store, document, {"a": owner, "t": ["vip"], "m": ["not an object"]}, access)
    assert refused.status_code == 200 and "wrong shape" in refused.json()["errors"][0]["message"]
    assert graphql(dev_store, "{ x }", ["not", "an", "object"], access).status_code == 400
    assert table_counts(db) == before


def test_serve_prints_the_dev_address_and_its_dev_shop_calls_come_back_to_it(database):
    """`make run`'s `serve`: the first line names /dev, and the served address is the one the
    development shop's calls go to (no SHOPIFY_APP_URL given)."""
    import os
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {key: value for key, value in os.environ.items() if key not in ("SHOPIFY_APP_URL", "REDIS_URL")}
    env.update(DATABASE_URL=database, SHOPIFY_API_KEY=API_KEY, SHOPIFY_API_SECRET=API_SECRET,
               LOYALTY_ENCRYPTION_KEY=ENCRYPTION_KEY, LOYALTY_ENV="development", LOYALTY_SWEEP_INTERVAL="0")
    server = subprocess.Popen([sys.executable, "-m", "flask", "--app", "plugin", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout.readline().strip() == f"Try it without a store: http://127.0.0.1:{port}/dev"
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                framed = requests.get(f"{base}/dev/admin", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        src = html.unescape(re.search(r"src='([^']+)'", framed.text)[1])
        assert requests.get(base + src, timeout=20).status_code == 200  # installed through its own platform
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_platform_answers_the_shop_settings_query_the_app_keeps(dev_store):
    from plugin.shopify.shop import SHOP_SETTINGS

    answer = graphql(dev_store, SHOP_SETTINGS, {}, token(dev_store)).json()
    assert answer["data"] == {"shop": {"ianaTimezone": "America/New_York", "currencyCode": "USD"}}
    assert "cost" in answer["extensions"]


# -- orders and refunds of the merchant's choosing ------------------------------------------------

def test_an_order_of_chosen_products_by_a_chosen_customer_earns_and_a_chosen_refund_takes_back_part(dev_store, db):
    client = dev_store.client()
    open_panel(client)
    placed = client.post("/dev/orders/chosen", data={"customer_id": str(KATHERINE), "quantity-8100000001": "3",
                                                    "quantity-8100000004": "1", "days_ago": "10"})
    assert placed.headers["Location"] == "/dev?notice=order&count=2&accepted=2"
    assert balance(client, KATHERINE) == 126  # oolongs 3 × 42; the gift card earns nothing
    page = client.get("/dev").get_data(as_text=True)
    order_id = int(re.search(r"<tr data-order='(\d+)'><td>[^<]*</td><td>Katherine</td>", page)[1])
    assert "Oolong tin (3 left)" in page
    line_id = next(line["id"] for line in [r.data for r in records(db, DevRecordKind.ORDER)
                                           if int(r.key) == order_id][0]["line_items"] if line["sku"] == "OOLONG")
    refunded = client.post(f"/dev/orders/{order_id}/refund", data={"line_id": str(line_id), "quantity": "2"})
    assert refunded.headers["Location"] == "/dev?notice=refund&count=1&accepted=1"
    assert balance(client, KATHERINE) == 42  # two of the three oolongs given back
    assert "Oolong tin (1 left)" in client.get("/dev").get_data(as_text=True)
    # Placed ten days ago: the order counts on that day of the store's zone (its own time, not today).
    placed_at = datetime.fromisoformat([r.data for r in records(db, DevRecordKind.ORDER)][0]["processed_at"])
    assert (datetime.now(timezone.utc) - placed_at).days == 10
    day = db.scalar(select(OrderRecord.tier_day).where(OrderRecord.order_id == order_id))
    assert day == placed_at.astimezone(ZoneInfo("America/New_York")).date()


@pytest.mark.parametrize("form", [
    {"customer_id": str(ADA)},  # no product
    {"customer_id": str(ADA), "quantity-8100000001": "0"},
    {"customer_id": str(ADA), "quantity-8100000001": "-2"},
    {"customer_id": str(ADA), "quantity-8100000001": "lots"},
])
def test_an_order_without_products_sends_nothing(dev_store, db, form):
    client = dev_store.client()
    open_panel(client)
    before = table_counts(db)
    answer = client.post("/dev/orders/chosen", data=form)
    assert answer.headers["Location"] == "/dev?notice=no-products"
    assert table_counts(db) == before


def test_a_refund_of_more_than_is_left_or_of_an_unknown_order_sends_nothing(dev_store, db):
    client = dev_store.client()
    open_panel(client)
    client.post("/dev/orders/chosen", data={"customer_id": str(ADA), "quantity-8100000002": "1"})
    [kept] = [r.data for r in records(db, DevRecordKind.ORDER)]
    line_id = kept["line_items"][0]["id"]
    before = table_counts(db)
    for path, form in [(f"/dev/orders/{kept['id']}/refund", {"line_id": str(line_id), "quantity": "2"}),
                       (f"/dev/orders/{kept['id']}/refund", {"line_id": "123", "quantity": "1"}),
                       (f"/dev/orders/{kept['id']}/refund", {"line_id": str(line_id), "quantity": "0"}),
                       ("/dev/orders/999/refund", {"line_id": str(line_id), "quantity": "1"})]:
        assert client.post(path, data=form).headers["Location"] == "/dev?notice=no-refund"
    assert table_counts(db) == before and balance(client, ADA) == 28


# -- a farmed welcome code at the store's checkout ----------------------------------------------

def test_a_welcome_code_is_refused_at_checkout_for_a_customer_who_has_ordered(dev_store, db):
    from tests.helpers import proxy_url

    client = dev_store.client()
    open_panel(client)
    client.post("/dev/orders", data={"count": "5"})  # every catalogue customer has ordered
    rewards = client.get("/api/rewards", headers=auth(DEV_SHOP)).get_json()["rewards"]
    five_off = next(r["id"] for r in rewards if r["name"] == "5 off your order")
    assert client.patch("/api/program", json={"referral_points": 50, "referral_reward_id": five_off},
                        headers=auth(DEV_SHOP)).status_code == 200
    link = client.get(f"/api/members/{ADA}", headers=auth(DEV_SHOP)).get_json()["referral_code"]
    # Anyone may ask with a made-up email: Katherine, who has ordered, farms a code for herself.
    asked = client.post(proxy_url(f"/proxy/r/{link}", shop=DEV_SHOP, customer_id=""),
                        data={"email": "not-really-a-friend@example.com"})
    assert asked.status_code == 201, asked.get_data(as_text=True)
    code = re.search(r"<code>([A-Z0-9-]+)</code>", asked.get_data(as_text=True))[1]
    [segment] = records(db, DevRecordKind.SEGMENT)
    assert segment.data["query"] == "number_of_orders = 0"
    [kept] = [r for r in records(db, DevRecordKind.DISCOUNT_CODE) if r.key == code]
    assert kept.data["input"]["context"] == {"customerSegments": {"add": [segment.data["id"]]}}
    before = table_counts(db)
    refused = client.post("/dev/orders/with-code", data={"code": code, "customer_id": str(KATHERINE)})
    assert refused.headers["Location"] == "/dev?notice=refused-not-new"
    assert table_counts(db) == before  # checkout refused it: no order, no points
    assert balance(client, ADA) == 42  # Ada's two oolongs, one refunded: no referral paid
    used = client.post("/dev/orders/with-code", data={"code": code})  # a new customer: accepted
    assert used.headers["Location"] == "/dev?notice=code-used&count=1&accepted=1"
    assert balance(client, ADA) == 42 + 50
