"""Every panel page at 480 px wide (a phone, the admin's side panel): nothing is cut off or
scrolls sideways, tables become cards of labelled lines, and a long name wraps between words,
never inside one."""
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from tests.helpers import auth, customer, order, signed_webhook

pytestmark = pytest.mark.browser

LONG = ("Bartholomew", "Featherstonehaughcholmondeley")
PAGES = ["/", "/members", "/members/7001", "/rewards", "/earning-rules", "/referrals", "/settings", "/operations",
         "/integrations", "/at-risk"]


@pytest.fixture
def narrow(panel, client, settle):
    panel.open("/", loaded=re.compile(".+"))  # installs the shop
    signed_webhook(client, "customers/create", customer(7001, "bartholomew.featherstonehaugh@example.com", *LONG))
    signed_webhook(client, "orders/paid", order(customer_id=7001, subtotal="1234.00"))
    settle()
    client.post("/api/members/7001/adjustments", json={"points": 5, "reason": "goodwill"}, headers=auth())
    panel.page.set_viewport_size({"width": 480, "height": 900})
    return panel


@pytest.mark.parametrize("path", PAGES)
def test_no_page_scrolls_sideways_at_480_px(narrow, path):
    narrow.open(path, loaded=re.compile(".+"))
    page = narrow.page
    page.wait_for_load_state("networkidle")
    assert page.evaluate("document.documentElement.scrollWidth") <= 480
    for table in page.locator("table.data-table").all():
        if table.is_visible():
            assert table.evaluate("node => node.getBoundingClientRect().right") <= 480
    narrow.screenshot(f"narrow{path.replace('/', '-') or '-dashboard'}")


def test_a_member_row_is_a_card_of_labelled_lines_and_names_wrap_between_words(narrow):
    narrow.open("/members", loaded="members::1")
    page = narrow.page
    row = page.locator("#members tr").first
    expect(page.locator("#members-table thead")).not_to_be_in_viewport()
    balance = row.locator("td").nth(2)
    assert balance.get_attribute("data-label") == "Balance"
    assert balance.evaluate("node => getComputedStyle(node, '::before').content") == '"Balance"'
    link = row.locator("td").first.locator("a")
    # Each word of the name stays on one line: its first and last letters share a line top.
    tops = link.evaluate("""node => {
        const text = node.firstChild, words = [];
        let at = 0;
        for (const word of text.textContent.split(" ")) {
            const first = document.createRange(), last = document.createRange();
            first.setStart(text, at); first.setEnd(text, at + 1);
            last.setStart(text, at + word.length - 1); last.setEnd(text, at + word.length);
            words.push([Math.round(first.getBoundingClientRect().top), Math.round(last.getBoundingClientRect().top)]);
            at += word.length + 1;
        }
        return words;
    }""")
    assert all(first == last for first, last in tops), tops
