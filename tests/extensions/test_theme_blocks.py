"""Every block of the theme app extension, rendered through python-liquid as the store
renders it, for the shoppers a store has: logged out, a member with points, a member in a
tier, a member with pending and expiring points; and Liquid or markup in their data."""
import json
import re
from html.parser import HTMLParser

import pytest

from tests.extensions.theme_liquid import CDN, blocks, locale, render_block

ADA = {"id": 7001, "first_name": "Ada", "email": "ada@example.com"}
PRODUCT = {"id": 42, "title": "Sencha", "price": 1250, "type": "Tea", "vendor": "Rosebud",
           "tags": ["green", "loose leaf"], "collections": [{"id": 7}, {"id": 9}],
           "selected_or_first_available_variant": {"id": 4201, "price": 1100}}


def member(points: int | None = None, tier: str | None = None, **fields) -> dict:
    """A logged-in customer with the metafields the store sync writes (none for a new member)."""
    loyalty = {}
    if points is not None:
        loyalty["points"] = {"value": points}
    if tier is not None:
        loyalty["tier"] = {"value": tier}
    return {**ADA, **fields, "metafields": {"loyalty": loyalty}}


SHOPPERS = {
    "logged out": None,
    "member with points": member(points=1418),
    "member in a tier": member(points=2500, tier="Gold"),
    # Pending points and the next expiry are the app's to know: the block reserves their line.
    "member with pending and expiring points": member(points=100),
    # After customers/redact: no name or email, and the store sync removed the metafields.
    "redacted member": {**member(), "first_name": None, "last_name": None, "email": None, "metafields": {}},
}


class Parsed(HTMLParser):
    """The markup as a browser reads it: elements with their attributes, and the text a
    shopper sees (not the scripts' JSON)."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text = ""
        self.in_script = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self.in_script = tag == "script"

    def handle_endtag(self, tag):
        self.in_script = False

    def handle_data(self, data):
        if not self.in_script:
            self.text += data

    def find(self, tag: str, **attrs) -> list[dict]:
        """Elements with these attributes (None: present without a value)."""
        return [a for t, a in self.elements if t == tag and all(k in a and a[k] == v for k, v in attrs.items())]


def words(html: str) -> dict:
    """The launcher's words the page carries (data-loyalty-strings), merged as the script does."""
    found = re.findall(r"<script type=\"application/json\" data-loyalty-strings>(.*?)</script>", html, re.S)
    merged = {}
    for blob in found:
        merged.update(json.loads(blob))
    return merged


@pytest.mark.parametrize("shopper", list(SHOPPERS))
@pytest.mark.parametrize("block", blocks())
def test_every_block_renders_for_every_shopper(block, shopper):
    html = render_block(block, customer=SHOPPERS[shopper], product=PRODUCT)
    tag, attrs = Parsed(html).elements[0]
    assert tag == "div" and attrs["class"].startswith("loyalty-")
    assert "ada@example.com" not in html  # no block prints an email


def test_the_launcher_is_a_button_and_an_empty_panel_whatever_the_shopper():
    """The panel's script and data load on first open; the page carries only the button."""
    for customer in SHOPPERS.values():
        parsed = Parsed(render_block("launcher", customer=customer))
        [button] = parsed.find("button", **{"aria-controls": "loyalty-panel", "aria-expanded": "false"})
        [panel] = parsed.find("div", id="loyalty-panel", role="dialog")
        assert "hidden" in panel and "Rewards" in parsed.text
        [root] = parsed.find("div", id="loyalty-launcher")
        assert root["data-proxy"] == "/apps/loyalty"  # the app proxy, never the app's own host
        assert root["data-panel-src"] == CDN + "loyalty-panel.js"
        assert root["data-show"].split() == ["tier", "rewards", "codes", "referral", "birthday", "history"]
        assert not parsed.find("script", src=CDN + "loyalty-panel.js")  # not loaded with the page


def test_the_launcher_carries_every_word_of_the_panel_from_the_locales():
    html = render_block("launcher")
    assert words(html) == locale()["loyalty"]["panel"]


def test_the_launchers_merchant_settings_shape_it():
    parsed = Parsed(render_block("launcher", label="Perks", position="left", accent_color="#aa0000",
                                 show_history=False, show_referral=False))
    [root] = parsed.find("div", id="loyalty-launcher")
    assert "loyalty-launcher--left" in root["class"] and "--loyalty-accent: #aa0000" in root["style"]
    assert root["data-show"].split() == ["tier", "rewards", "codes", "birthday"]
    assert "Perks" in parsed.text


def test_the_balance_block_asks_a_logged_out_shopper_to_sign_in():
    parsed = Parsed(render_block("points-balance"))
    assert parsed.find("a", href="/account/login") and "Sign in to see your points" in parsed.text
    assert not parsed.find("div", **{"data-loyalty-live": None})


def test_the_balance_block_shows_a_members_points_and_greets_them():
    parsed = Parsed(render_block("points-balance", customer=member(points=1418)))
    [figure] = parsed.find("strong", **{"data-loyalty-points": "1418"})
    assert "1418 points" in parsed.text and "Welcome back, Ada" in parsed.text
    assert "Your tier" not in parsed.text


@pytest.mark.parametrize("points, shown", [(1, "1 point"), (0, "0 points"), (None, "0 points")])
def test_the_balance_block_says_one_point_and_many_points(points, shown):
    assert shown in Parsed(render_block("points-balance", customer=member(points=points))).text


@pytest.mark.parametrize("first_name", [None, ""])
def test_a_member_without_a_first_name_or_a_tier_gets_no_empty_greeting_or_tier(first_name):
    text = Parsed(render_block("points-balance", customer=member(points=3, tier="", first_name=first_name))).text
    assert "Welcome back" not in text and "Your tier" not in text


def test_a_redacted_member_sees_no_name_no_tier_and_no_points_of_before():
    html = render_block("points-balance", customer=SHOPPERS["redacted member"], product=PRODUCT)
    text = " ".join(Parsed(html).text.split())
    assert "Ada" not in text and "Gold" not in text and "0 points" in text


def test_the_balance_block_shows_the_tier_unless_the_merchant_hides_it():
    assert "Your tier: Gold" in Parsed(render_block("points-balance", customer=member(2500, "Gold"))).text
    hidden = Parsed(render_block("points-balance", customer=member(2500, "Gold"), show_tier=False))
    assert "Gold" not in hidden.text


def test_the_balance_block_reserves_the_live_line_for_pending_and_expiring_points():
    html = render_block("points-balance", customer=member(points=100))
    [live] = Parsed(html).find("div", **{"data-loyalty-live": None})
    assert live["data-proxy"] == "/apps/loyalty" and live["aria-live"] == "polite"
    assert {"pending", "expiry", "tier_goal", "nearest"} <= set(words(html))
    without = render_block("points-balance", customer=member(points=100), show_progress=False)
    assert not Parsed(without).find("div", **{"data-loyalty-live": None})


def test_the_product_block_sends_the_products_facts_to_price_it():
    parsed = Parsed(render_block("product-points", customer=member(points=10), product=PRODUCT))
    [block] = parsed.find("div", **{"data-loyalty-earn": None})
    assert (block["data-product-id"], block["data-price"]) == ("42", "1100")  # the selected variant's price
    assert (block["data-type"], block["data-vendor"], block["data-tags"]) == ("Tea", "Rosebud", "green,loose leaf")
    assert block["data-collections"] == "7,9" and "Points for this purchase" in parsed.text
    assert not parsed.find("a", href="/account/login")


def test_the_product_block_invites_a_logged_out_shopper_or_stays_away_if_the_merchant_says_so():
    parsed = Parsed(render_block("product-points", product=PRODUCT))
    assert parsed.find("a", href="/account/login")
    assert render_block("product-points", product=PRODUCT, show_signed_out=False).strip() == ""
    assert render_block("product-points", customer=member(points=10)).strip() == ""  # not a product page


def test_the_ways_block_prints_the_merchants_words_and_invites_a_logged_out_shopper_to_join():
    parsed = Parsed(render_block("ways-to-earn", heading="Tea points", intro="Sip.\nEarn."))
    assert "Tea points" in parsed.text and "Sip.\nEarn." in parsed.text
    assert parsed.find("a", href="/account/register") and parsed.find("a", href="/account/login")
    assert parsed.find("div", **{"data-loyalty-ways": None, "data-show-rewards": "true"})
    member_view = Parsed(render_block("ways-to-earn", customer=member(points=5)))
    assert not member_view.find("a", href="/account/register")


LIQUID_IN_DATA = ["{{ customer.email }}", "{% raw %}{{ customer.email }}{% endraw %}", "{% raw %}",
                  "<script>alert(1)</script>", "\"'><img src=x onerror=alert(1)>"]


@pytest.mark.parametrize("text", LIQUID_IN_DATA)
@pytest.mark.parametrize("block", blocks())
def test_liquid_or_markup_in_a_customers_name_email_or_tier_renders_as_text(block, text):
    customer = member(points=5, tier=text, first_name=text, last_name=text, email=f"{text}@example.com")
    product = {**PRODUCT, "title": text, "type": text, "vendor": text, "tags": [text]}
    html = render_block(block, customer=customer, product=product, heading=text, label=text, intro=text)
    parsed = Parsed(html)
    assert "ada@example.com" not in html  # nothing in the data ran as Liquid
    assert not parsed.find("img") and "<script>alert" not in html
    assert all(attrs == {"type": "application/json", "data-loyalty-strings": None} for attrs in parsed.find("script"))
    if block == "points-balance":
        assert parsed.text.count(text) >= 2  # the greeting and the tier, each as typed
