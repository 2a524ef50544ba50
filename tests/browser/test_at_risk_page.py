"""The At-risk page and the Members "At risk" filter in a real browser (the members of
tests/admin_ui/test_at_risk_api.py: Ada at risk, Grace lapsed, Linus active, Mary at risk with
no points left)."""
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from tests.admin_ui.test_at_risk_api import ADA, GRACE, LINUS, MARY, days_ago
from tests.helpers import auth, customer, order

pytestmark = pytest.mark.browser


@pytest.fixture
def members(panel, client, send):
    panel.open("/at-risk", loaded="at-risk:all:balance:desc:1")  # installs the shop (token exchange)
    people = {ADA: ("ada@example.com", "Ada", "Lovelace", (100, 80, 60), "40.00"),
              GRACE: ("grace@example.com", "Grace", "Hopper", (200, 190), "50.00"),
              LINUS: ("linus@example.com", "Linus", "Torvalds", (10,), "40.00"),
              MARY: ("mary@example.com", "Mary", "Jackson", (50,), "40.00")}
    for customer_id, (email, first, last, ago, subtotal) in people.items():
        send("customers/create", customer(customer_id, email, first, last))
        for days in ago:
            send("orders/paid", order(customer_id=customer_id, subtotal=subtotal, email=email,
                                      processed_at=days_ago(days)))
    spent = client.post(f"/api/members/{MARY}/adjustments", json={"points": -40, "reason": "spent in store"},
                        headers=auth())
    assert spent.status_code == 201, spent.get_json()


def names(page) -> list[str]:
    return page.locator("#at-risk tr td:first-child").all_inner_texts()


def test_the_at_risk_page_lists_sorts_filters_and_downloads_the_win_back_list(panel, members):
    panel.open("/at-risk", loaded="at-risk:all:balance:desc:1")
    page = panel.page
    expect(page.locator("h1")).to_have_text("Members at risk")
    expect(page.locator('.nav-link[aria-current="page"]')).to_have_text("At risk")
    expect(page.locator("#at-risk tr")).to_have_count(2)
    assert names(page) == ["Ada Lovelace", "Grace Hopper"]
    first = page.locator("#at-risk tr").first.locator("td")
    expect(first.nth(2)).to_have_text("120")
    expect(first.nth(3)).to_have_text("60")
    expect(first.nth(4)).to_have_text("20")
    expect(first.nth(5)).to_have_text("At risk")
    expect(page.locator("#at-risk-count")).to_have_text("1–2 of 2 members")
    page.click("button.sort[data-sort=days_since]")
    panel.wait_loaded("at-risk:all:days_since:desc:1")
    assert names(page) == ["Grace Hopper", "Ada Lovelace"]
    expect(page.locator("th:has(button[data-sort=days_since])")).to_have_attribute("aria-sort", "descending")
    expect(page.locator("th:has(button[data-sort=balance])")).to_have_attribute("aria-sort", "none")
    page.click("button.sort[data-sort=days_since]")
    panel.wait_loaded("at-risk:all:days_since:asc:1")
    assert names(page) == ["Ada Lovelace", "Grace Hopper"]
    page.select_option("#status", "lapsed")
    panel.wait_loaded("at-risk:lapsed:days_since:asc:1")
    assert names(page) == ["Grace Hopper"]
    expect(page.locator("#at-risk tr td").nth(5)).to_have_text("Lapsed")
    with page.expect_download() as download:
        page.click("#download-csv")
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert download.value.suggested_filename.startswith("at-risk-") and len(lines) == 2
    assert lines[0].startswith("customer_id,first_name,last_name,email,balance") and lines[1].endswith(",lapsed")
    panel.screenshot("at-risk")


def test_the_members_page_filters_members_at_risk(panel, members):
    panel.open("/members", loaded="members::1")
    page = panel.page
    expect(page.locator("#members tr")).to_have_count(4)
    page.check("#at_risk")
    expect(page.locator("body")).to_have_attribute("data-listed", "newest:at_risk")
    expect(page.locator("#members tr")).to_have_count(2)
    assert sorted(page.locator("#members tr").evaluate_all("rows => rows.map(r => r.dataset.customerId)")) == [
        str(ADA), str(MARY)]
    page.uncheck("#at_risk")
    expect(page.locator("body")).to_have_attribute("data-listed", "newest")
    expect(page.locator("#members tr")).to_have_count(4)


def test_integrations_offer_the_member_at_risk_event_in_the_merchants_words(panel):
    panel.open("/integrations")
    expect(panel.page.locator("#kinds")).to_contain_text("Member at risk (no order for longer than usual)")
    expect(panel.page.locator("#kinds input[value=member_at_risk]")).to_be_checked()
