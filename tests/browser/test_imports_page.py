"""The Imports page in a real browser: upload, preview with before → after, apply and revert,
each after a confirmation."""
import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why: a skip locally, a failure in CI
    expect = None

from tests.helpers import auth, balance, customer, signed_webhook
from tests.webhooks.test_past_orders import store  # noqa: F401 (the `store` fixture: the Admin API mocked)

pytestmark = pytest.mark.browser


def test_a_file_is_previewed_applied_and_reverted_from_the_imports_page(panel, client, settle):
    panel.open("/", loaded=re.compile(".+"))  # installs the shop
    signed_webhook(client, "customers/create", customer(7001, "ada@example.com"))
    settle()
    panel.open("/imports", loaded="imports:0")
    page = panel.page
    expect(page.locator('.nav-link[aria-current="page"]')).to_have_text("Imports")
    page.set_input_files("#file", files=[{"name": "points.csv", "mimeType": "text/csv",
                                          "buffer": b"email,points\nada@example.com,250\n"}])
    page.locator("#preview-button").click()
    expect(page.locator("body")).to_have_attribute("data-loaded", re.compile(r"^preview:\d+$"))
    expect(page.locator('[data-total="points_total"] [data-value]')).to_have_text("250")
    expect(page.locator("#sample tr")).to_contain_text("0 → 250")
    assert balance(client) == 0  # a preview applies nothing
    panel.screenshot("imports-preview")

    confirmations = []
    page.on("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))
    page.locator("#apply-button").click()
    expect(page.locator("body")).to_have_attribute("data-imports", re.compile(r"^\d+:applied$"))
    assert balance(client) == 250
    assert "Apply 250 points to 1 members?" in confirmations[0]

    page.locator("[data-revert]").click()
    expect(page.locator("body")).to_have_attribute("data-imports", re.compile(r"^\d+:reverted$"))
    assert "points already spent stay spent" in confirmations[1]
    assert balance(client) == 0
    assert client.get("/api/imports", headers=auth()).get_json()["imports"][0]["status"] == "reverted"


def test_a_file_that_is_not_csv_is_refused_on_the_page(panel, client):
    panel.open("/", loaded=re.compile(".+"))
    panel.open("/imports", loaded="imports:0")
    page = panel.page
    page.set_input_files("#file", files=[{"name": "points.xlsx", "mimeType": "application/octet-stream",
                                          "buffer": b"PK\x03\x04\x14\x00\x06\x00\n"}])
    page.locator("#preview-button").click()
    expect(page.locator(".banner-critical")).to_contain_text("Row 1: the file holds binary data")
    assert client.get("/api/imports", headers=auth()).get_json()["imports"] == []


def test_a_large_import_shows_its_progress_until_the_job_applies_it(panel, client, app, settle, monkeypatch):
    monkeypatch.setattr("admin_ui.imports.INLINE_ROWS", 1)  # two rows count as large here
    monkeypatch.setattr("plugin.loyalty.imports.jobs.request_apply", lambda import_id: None)  # the job waits
    panel.open("/", loaded=re.compile(".+"))
    signed_webhook(client, "customers/create", customer(7001, "ada@example.com"))
    settle()
    panel.open("/imports", loaded="imports:0")
    page = panel.page
    page.set_input_files("#file", files=[{"name": "points.csv", "mimeType": "text/csv",
                                          "buffer": b"customer_id,points\n7001,250\n7002,40\n"}])
    page.locator("#preview-button").click()
    expect(page.locator("body")).to_have_attribute("data-loaded", re.compile(r"^preview:\d+$"))
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator("#apply-button").click()

    expect(page.locator("body")).to_have_attribute("data-imports", re.compile(r"^\d+:applying$"))
    bar = page.locator(".import-progress progress")
    expect(bar).to_have_attribute("max", "2")
    expect(bar).to_have_attribute("value", "0")
    expect(page.locator(".import-progress")).to_contain_text("0 / 2 rows")
    panel.screenshot("imports-applying")
    with app.app_context():  # what the job does once a worker takes it
        from plugin.loyalty.imports.jobs import apply_pending_imports
        assert apply_pending_imports() == 2
    expect(page.locator("body")).to_have_attribute("data-imports", re.compile(r"^\d+:applied$"))
    expect(page.locator(".import-progress")).to_have_count(0)
    assert balance(client) == 250 and balance(client, 7002) == 40


def test_past_orders_are_previewed_and_applied_from_the_imports_page(panel, client, app, store):
    from tests.webhooks.test_past_orders import run_job  # the job, as a worker would run it

    panel.open("/", loaded=re.compile(".+"))
    panel.open("/imports", loaded="imports:0")
    page = panel.page
    page.fill("#days", "30")
    page.locator("#orders-button").click()
    expect(page.locator("body")).to_have_attribute("data-imports", re.compile(r"^\d+:fetching$"))
    run_job(app)
    expect(page.locator("body")).to_have_attribute("data-loaded", re.compile(r"^preview:\d+$"))
    expect(page.locator('[data-total="points_total"] [data-value]')).to_have_text("85")
    confirmations = []
    page.on("dialog", lambda dialog: (confirmations.append(dialog.message), dialog.accept()))
    page.locator("#apply-button").click()
    expect(page.locator("body")).to_have_attribute("data-imports", re.compile(r"^\d+:applying$"))
    assert "Award 85 points for 3 past orders to 2 members" in confirmations[0]
    run_job(app)
    expect(page.locator("body")).to_have_attribute("data-imports", re.compile(r"^\d+:applied$"))
    assert balance(client, 7001) == 60 and balance(client, 7002) == 25
