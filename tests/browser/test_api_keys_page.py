"""The API keys page in a real browser: a key made is shown once with a copy button, works
as a bearer at once, is listed without its text, and a revoke ends it."""
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why
    expect = None

from tests.helpers import auth

pytestmark = pytest.mark.browser


def test_a_key_is_shown_once_works_and_a_revoke_ends_it(panel, client):
    panel.open("/keys", loaded="keys:0")
    page = panel.page
    page.fill("#name", "Nightly export")
    page.select_option("#scope", "read")
    page.get_by_role("button", name="Make key").click()
    panel.wait_loaded("keys:1")
    key = page.locator("#key").inner_text()
    assert key.startswith("lk_") and len(key) >= 35
    expect(page.get_by_role("button", name="Copy")).to_be_visible()
    assert client.get("/api/program", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    row = page.locator("#keys tr").first
    expect(row).to_contain_text("Nightly export")
    panel.screenshot("api-keys")
    panel.open("/keys", loaded="keys:1")
    assert key not in page.content()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#keys tr").first.get_by_role("button", name="Revoke").click()
    panel.wait_loaded("keys:0")
    assert client.get("/api/program", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert client.get("/api/keys", headers=auth()).get_json() == {"keys": []}


def test_a_key_without_a_name_shows_the_apis_message_and_makes_nothing(panel, client):
    panel.open("/keys", loaded="keys:0")
    panel.page.get_by_role("button", name="Make key").click()
    expect(panel.page.locator('[data-error-for="name"]')).to_contain_text("is required")
    assert client.get("/api/keys", headers=auth()).get_json() == {"keys": []}
