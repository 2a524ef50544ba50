"""The development store's theme page (/dev/theme): the extension's Liquid rendered for the
signed-in customer of the development store, its assets served, and nothing of it in
production."""
import pytest

from plugin import create_app
from tests.conftest import app_config
from tests.dev_store import DEV_SHOP, dev_store_fixture  # noqa: F401 (the `dev_store` fixture)

ADA = 7100000001


def test_dev_links_to_the_theme_page(dev_store):
    assert "href='/dev/theme'" in dev_store.client().get("/dev").get_data(as_text=True)


@pytest.mark.parametrize("page, block", [("home", "data-loyalty-ways"), ("product", "data-loyalty-earn"),
                                         ("account", "loyalty-balance__signed-out")])
def test_each_page_has_its_block_and_the_launcher(dev_store, page, block):
    answer = dev_store.client().get(f"/dev/theme/{page}")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and block in text
    assert 'id="loyalty-launcher"' in text and "/dev/theme/assets/loyalty-launcher.js" in text


def test_a_signed_in_customer_gets_their_name_and_points(dev_store):
    client = dev_store.client()
    signed = client.get("/dev/theme/sign-in", query_string={"customer_id": ADA, "page": "account"})
    assert signed.status_code == 303 and signed.headers["Location"] == "/dev/theme/account"
    text = client.get("/dev/theme/account").get_data(as_text=True)
    assert "Welcome back, Ada" in text and 'data-loyalty-points="0"' in text  # not a member yet: 0
    client.get("/dev/theme/sign-in", query_string={"customer_id": "", "page": "elsewhere"})
    assert "loyalty-balance__signed-out" in client.get("/dev/theme/account").get_data(as_text=True)


def test_the_extensions_assets_are_served_and_nothing_else(dev_store):
    client = dev_store.client()
    script = client.get("/dev/theme/assets/loyalty-panel.js")
    assert script.status_code == 200 and "javascript" in script.mimetype
    assert client.get("/dev/theme/assets/../blocks/launcher.liquid").status_code == 404
    assert client.get("/dev/theme/nowhere").status_code == 404


def test_every_theme_route_is_404_in_production(dev_store, database):
    rules = [rule for rule in dev_store.app.url_map.iter_rules() if rule.endpoint.startswith("dev_theme.")]
    assert {r.rule for r in rules} == {"/dev/theme/", "/dev/theme/<page>", "/dev/theme/assets/<path:name>",
                                       "/dev/theme/sign-in"}
    production = create_app({**app_config(database, None), "LOYALTY_ENV": "production", "LOYALTY_DEV_SHOP": DEV_SHOP})
    for path in ("/dev/theme/", "/dev/theme/product", "/dev/theme/assets/loyalty.css", "/dev/theme/sign-in"):
        assert production.test_client().get(path).status_code == 404
    dev_store.app.config["LOYALTY_ENV"] = "production"
    try:
        assert dev_store.client().get("/dev/theme/product").status_code == 404
    finally:
        dev_store.app.config["LOYALTY_ENV"] = "development"


def test_apply_to_cart_and_the_referral_link_resolve_on_the_development_store(dev_store):
    from plugin.storefront.page import storefront_origin

    applied = dev_store.client().get("/discount/ROSEBUD-7QX2M9KD4HTP", query_string={"redirect": "/cart"})
    assert applied.status_code == 200 and "ROSEBUD-7QX2M9KD4HTP" in applied.get_data(as_text=True)
    with dev_store.app.app_context():
        # The development shop's storefront is this app (its /apps/loyalty plays the proxy).
        assert storefront_origin(DEV_SHOP) == dev_store.app.config["SHOPIFY_APP_URL"].rstrip("/")
        assert storefront_origin("rosebud-tea.myshopify.com") == "https://rosebud-tea.myshopify.com"
