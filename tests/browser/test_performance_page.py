"""The Performance page in a real browser: members against other customers, the rates, and the cohorts' heat table."""
from datetime import timedelta

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from plugin.db import utcnow
from tests.helpers import auth, customer, order, signed_webhook

pytestmark = pytest.mark.browser


def test_the_performance_page_compares_members_and_draws_the_cohorts(panel, client, settle):
    panel.open("/performance", loaded="performance")  # the first open installs the app (token exchange)
    signed_webhook(client, "customers/create", customer(7001))
    saved = client.patch("/api/program", json={"excluded_order_tags": ["wholesale"]}, headers=auth())
    assert saved.status_code == 200, saved.get_json()
    placed = (utcnow() - timedelta(days=2)).isoformat()
    for subtotal in ("40.00", "60.00"):
        signed_webhook(client, "orders/paid", order(customer_id=7001, subtotal=subtotal, processed_at=placed))
    signed_webhook(client, "orders/paid", order(customer_id=7002, subtotal="30.00", tags="wholesale",
                                                processed_at=placed))
    settle()
    panel.open("/performance", loaded="performance")
    page = panel.page
    expect(page.locator("h1")).to_have_text("Program performance")
    expect(page.locator('.nav-link[aria-current="page"]')).to_have_text("Performance")
    members = page.locator('#groups tr[data-group="members"] td')
    expect(members.nth(1)).to_have_text("1")  # customers
    expect(members.nth(2)).to_have_text("2")  # orders
    expect(members.nth(4)).to_have_text("100.0 %")  # repeat purchase rate
    expect(page.locator('#groups tr[data-group="non_members"] td').nth(4)).to_have_text("0.0 %")
    expect(page.locator('[data-stat="membership_rate"] [data-value]')).to_have_text("50.0 %")
    expect(page.locator('[data-stat="order_earning_rate"] [data-value]')).to_have_text("66.7 %")
    expect(page.locator("#headline")).to_contain_text("Members bought again at 100.0 %, other customers at 0.0 %")
    expect(page.locator("#cohorts tr")).to_have_count(12)
    this_month = page.locator("#cohorts tr").last
    expect(this_month.locator("td").nth(1)).to_have_text("1")  # Ada joined this month (7002 earned nothing)
    expect(this_month.locator("td.heat-5")).to_have_count(1)  # and ordered in it: 100 %
    expect(page.locator("#enrolment tr")).to_have_count(2)
    panel.screenshot("performance")
