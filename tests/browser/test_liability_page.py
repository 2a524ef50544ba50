"""The Liability page in a real browser: the statement's chart and rows, and its CSV download."""
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from tests.helpers import customer, order, signed_webhook

pytestmark = pytest.mark.browser


def test_the_liability_page_draws_the_statement_and_downloads_it_as_csv(panel, client, settle):
    signed_webhook(client, "customers/create", customer(7001))
    signed_webhook(client, "orders/paid", order(subtotal="40.00"))
    settle()
    panel.open("/liability", loaded="statement")
    page = panel.page
    expect(page.locator("h1")).to_have_text("Points liability")
    expect(page.locator('.nav-link[aria-current="page"]')).to_have_text("Liability")
    expect(page.locator("#chart-liability svg")).to_have_count(1)
    expect(page.locator("#rows tr")).to_have_count(30)
    last = page.locator("#rows tr").last
    expect(last.locator("td").nth(2)).to_have_text("40")  # earned today
    expect(last.locator("td").nth(9)).to_have_text("40")  # closing
    expect(page.locator("#headline")).to_contain_text("40 points owed")
    with page.expect_download() as download:
        page.click("#download-csv")
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0].startswith("date,opening,earned,reversed,redeemed,returned,expired,adjusted,imported,closing")
    assert len(lines) == 31 and lines[-1].split(",")[9] == "40"
    first, last_day = page.input_value("#from"), page.input_value("#to")
    page.select_option("#by", "month")
    expect(page.locator("#rows tr")).to_have_count(1 if first[:7] == last_day[:7] else 2)  # 30 days: 1 or 2 months
    panel.screenshot("liability")
