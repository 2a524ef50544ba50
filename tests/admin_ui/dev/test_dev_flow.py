"""Shopify Flow in the development store: /dev plays Flow (a signed lifecycle callback, a
signed "Adjust points" run) and lists the triggers the app fired at its platform."""
import time

from sqlalchemy import select

from plugin.models import DevPlatformRecord, DevRecordKind, FlowTrigger, TriggerStatus
from tests.admin_ui.dev.test_dev_store import ADA, balance, open_panel
from tests.dev_store import dev_store_fixture  # noqa: F401 (the `dev_store` fixture)
from tests.helpers import table_counts


def fired(db, timeout: float = 20) -> list[dict]:
    """The trigger calls the development platform kept, once the app's sender has made them all."""
    deadline = time.monotonic() + timeout
    while any(row.status is TriggerStatus.PENDING for row in db.scalars(select(FlowTrigger))):
        assert time.monotonic() < deadline, "trigger calls still pending"
        time.sleep(0.05)
    return [r.data for r in db.scalars(select(DevPlatformRecord).where(
        DevPlatformRecord.kind == DevRecordKind.FLOW_TRIGGER))]


def test_dev_turns_the_triggers_on_shows_what_was_fired_and_runs_the_action(dev_store, db):
    client = dev_store.client()
    open_panel(client)
    assert "None yet: use the triggers" in client.get("/dev").get_data(as_text=True)
    on = client.post("/dev/flow/triggers")
    assert on.headers["Location"] == "/dev?notice=flow-on&count=4&accepted=4"
    client.post("/dev/orders", data={"count": "1"})  # one paid order, by Ada
    [call] = fired(db)
    assert call["handle"] == "loyalty-points-earned"
    assert call["payload"]["customer_id"] == ADA and call["payload"]["Source"] == "order"
    page = client.get("/dev").get_data(as_text=True)
    assert "loyalty-points-earned" in page and f"{ADA}" in page
    before = balance(client, ADA)
    ran = client.post("/dev/flow/adjust-points", data={"customer_id": str(ADA), "points": "50", "reason": "Survey"})
    assert ran.headers["Location"] == "/dev?notice=flow-run&status=200"
    assert 'answered HTTP 200' in client.get(ran.headers["Location"]).get_data(as_text=True)
    assert balance(client, ADA) == before + 50
    assert len(fired(db)) == 1  # an adjustment is not "earned": no trigger for it


def test_a_trigger_handle_the_app_does_not_have_is_refused_and_kept_nowhere(dev_store, db):
    from tests.admin_ui.dev.test_dev_store import graphql, token

    access = token(dev_store)
    before = table_counts(db)
    answer = graphql(dev_store, "mutation($handle: String!, $payload: JSON!) { flowTriggerReceive(handle: $handle, "
                                "payload: $payload) { userErrors { field message } } }",
                     {"handle": "someone-elses", "payload": {"customer_id": 1}}, access).json()
    assert answer["data"]["flowTriggerReceive"]["userErrors"][0]["field"] == ["handle"]
    assert table_counts(db) == before


def test_the_flow_forms_are_404_in_production(dev_store):
    dev_store.app.config["LOYALTY_ENV"] = "production"
    try:
        assert dev_store.client().post("/dev/flow/triggers").status_code == 404
        assert dev_store.client().post("/dev/flow/adjust-points", data={"points": "5"}).status_code == 404
    finally:
        dev_store.app.config["LOYALTY_ENV"] = "development"
