"""The panel's pages as the server sends them: verified tokens only, CSP, App Bridge, no shop data.

What the pages do in a browser is in tests/browser/; these check the HTML answers.
"""
from urllib.parse import quote

import pytest
import responses

from tests.helpers import (
    API_KEY,
    OTHER_SHOP,
    SHOP,
    customer,
    session_token,
    signed_webhook,
    token_answer,
    token_endpoint,
)

PAGES = ["/", "/liability", "/settings", "/members", "/members/7001", "/rewards", "/operations", "/integrations", "/keys"]
CSP = f"frame-ancestors https://{SHOP} https://admin.shopify.com;"
HOST = "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvcm9zZWJ1ZC10ZWE"


@pytest.fixture(autouse=True)
def platform():
    """The platform's token endpoint, for the token exchange of a shop's first open."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(token_endpoint(), json=token_answer())
        yield mock


def open_page(client, path: str, shop: str = SHOP, **params):
    query = {"shop": shop, "host": HOST, "embedded": "1", "id_token": session_token(), **params}
    return client.get(path, query_string={k: v for k, v in query.items() if v is not None})


@pytest.mark.parametrize("path", PAGES)
def test_every_page_refuses_a_load_without_a_valid_id_token(client, path):
    missing = open_page(client, path, id_token=None)
    assert missing.status_code == 401 and missing.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    assert missing.headers["Content-Security-Policy"] == CSP
    forged = open_page(client, path, id_token=session_token(secret="not-our-secret-0123456789abcdef0123"))
    assert forged.status_code == 401 and "loyalty-id-token" not in forged.get_data(as_text=True)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_a_framed_shell_with_app_bridge_and_its_script(client, path):
    response = open_page(client, path)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Content-Security-Policy"] == CSP
    assert html.index(f'<meta name="shopify-api-key" content="{API_KEY}">') < html.index(
        '<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>') < html.index('type="module"')
    assert '<meta name="loyalty-id-token" content="ey' in html
    assert f'href="/settings?shop={SHOP}&amp;host={HOST}&amp;embedded=1"' in html
    script = html.split('type="module" src="')[1].split('"')[0]
    asset = client.get(script)
    assert asset.status_code == 200 and asset.mimetype == "text/javascript"


def test_a_page_speaks_for_the_tokens_shop_whatever_shop_the_url_names(client):
    html = open_page(client, "/members", shop=OTHER_SHOP).get_data(as_text=True)
    assert f'<meta name="loyalty-shop" content="{SHOP}">' in html and OTHER_SHOP not in html


def test_ids_and_params_put_in_a_url_come_back_escaped(client):
    response = open_page(client, "/members/" + quote('"><img src=x onerror=alert(1)>'), host='"><b>host')
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<img" not in html and "<b>" not in html
    assert 'data-customer-id="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in html


def test_the_member_page_holds_no_member_data_itself(client):
    signed_webhook(client, "customers/create", customer(7001, email="ada@example.com"))
    html = open_page(client, "/members/7001").get_data(as_text=True)
    assert "ada@example.com" not in html and "Lovelace" not in html
