"""The Integrations page and the failed deliveries on Operations, in a real browser: add an
endpoint (its secret shown once), send a sample event to a real loopback receiver, read
its deliveries, remove it; a failed delivery is retried from Operations."""
import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture says why
    expect = None

from tests.helpers import auth
from tests.plugin.loyalty.events.test_event_subscriptions import deliveries, wait_until
from tests.receivers import Receiver

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.close()


def test_adding_an_endpoint_shows_its_secret_once_and_a_sample_reaches_it(panel, client, receiver):
    panel.open("/integrations", loaded="subscriptions:0")
    page = panel.page
    expect(page.locator("#store_sync_enabled")).to_be_checked()
    # The kinds in words, not the API's keys ("tier_changed" was shown as is).
    expect(page.locator("#kinds label")).to_have_text(["Tier changed", "Points about to expire", "Points expired",
                                                       "Referral completed", "Birthday bonus", "Reward issued",
                                                       "Member at risk (no order for longer than usual)"])
    page.get_by_label("Points expired").uncheck()
    page.fill("#url", receiver.url)
    page.get_by_role("button", name="Add endpoint").click()
    panel.wait_loaded("subscriptions:1")
    secret = page.locator("#secret").inner_text()
    assert len(secret) >= 32
    row = page.locator("#subscriptions tr").first
    expect(row).to_contain_text(receiver.url)
    expect(row).to_contain_text("Tier changed, Points about to expire, Referral completed")
    assert "points_expired" not in client.get("/api/event-subscriptions", headers=auth()).get_json()[
        "subscriptions"][0]["kinds"]
    row.get_by_role("button", name="Send a sample event").click()
    [(headers, _body, _)] = receiver.wait_for(1)
    assert headers["X-Loyalty-Event-Id"].startswith("sample-")
    row.get_by_role("button", name="Deliveries").click()
    expect(page.locator("#deliveries tr").first).to_contain_text("succeeded")
    panel.screenshot("integrations")
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Remove").click()
    panel.wait_loaded("subscriptions:0")
    assert client.get("/api/event-subscriptions", headers=auth()).get_json()["subscriptions"] == []


def test_turning_the_store_sync_off_saves_the_setting(panel, client):
    panel.open("/integrations", loaded="subscriptions:0")
    panel.page.locator("#store_sync_enabled").uncheck()
    expect(panel.page.locator("#toasts")).to_contain_text("Store sync off")
    assert client.get("/api/program", headers=auth()).get_json()["store_sync_enabled"] is False


def test_a_failed_delivery_is_listed_on_operations_and_retry_sends_it(panel, app, client, receiver):
    from plugin.db import transaction
    from plugin.models import DeliveryStatus, EventDelivery

    panel.open("/operations", loaded="events:0")  # the first open installs the shop
    receiver.default = 500
    made = client.post("/api/event-subscriptions", json={"url": receiver.url}, headers=auth()).get_json()
    client.post(f"/api/event-subscriptions/{made['id']}/test", headers=auth())
    wait_until(lambda: [d for d in deliveries(client, made["id"]) if d["attempts"] == 1])
    with app.app_context(), transaction() as session:  # as if its day of tries were over
        session.query(EventDelivery).update({"status": DeliveryStatus.FAILED})
    receiver.default = 200
    page = panel.page
    page.locator("#refresh").click()
    expect(page.locator("body")).to_have_attribute("data-deliveries-loaded", "1")
    expect(page.locator("#deliveries tr").first).to_contain_text("HTTP 500")
    panel.screenshot("operations-deliveries")
    page.locator("#deliveries tr").first.get_by_role("button", name="Retry").click()
    expect(page.locator("body")).to_have_attribute("data-deliveries-loaded", "0")
    receiver.wait_for(2)
