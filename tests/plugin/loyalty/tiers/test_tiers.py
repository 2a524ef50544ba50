"""VIP tiers: worked examples through signed webhooks, the API and `tick --now`, with the
balance and the tier after every step (SPEC "Tiers")."""
import json
import uuid

import pytest
from sqlalchemy import select

from plugin.db import transaction
from plugin.models import EventStatus, MemberEvent, WebhookEvent
from tests.helpers import OTHER_SHOP, SHOP, all_at_once, auth, member, order, refund, table_counts


def tick(app, now: str) -> str:
    result = app.test_cli_runner().invoke(args=["tick", "--now", now])
    assert result.exit_code == 0, result.output
    return result.output


def add_tier(client, shop: str = SHOP, **fields) -> dict:
    response = client.post("/api/tiers", json=fields, headers=auth(shop))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def set_program(client, **fields) -> None:
    response = client.patch("/api/program", json=fields, headers=auth())
    assert response.status_code == 200, response.get_json()


def paid(subtotal: str, at: str, customer_id: int = 7001, **fields) -> dict:
    return order(subtotal=subtotal, processed_at=at, customer_id=customer_id, **fields)


def standing(client, customer_id: int = 7001) -> tuple[int, str | None]:
    found = member(client, customer_id)
    return found["balance"], found["tier"] and found["tier"]["name"]


def tier_events(db) -> list[dict]:
    return [e.data for e in db.scalars(select(MemberEvent).order_by(MemberEvent.id))]


@pytest.fixture
def ladder(client, installed):
    """Silver at 100 points (× 2), Gold at 300 (× 3); calendar-year window, points basis."""
    return {"silver": add_tier(client, name="Silver", threshold=100, multiplier="2", perks="Free shipping"),
            "gold": add_tier(client, name="Gold", threshold=300, multiplier="3")}


def test_the_crossing_order_earns_at_the_old_multiplier_and_the_next_at_the_new(client, send, ladder, db):
    send("orders/paid", paid("60.00", "2026-03-01T10:00:00Z"))
    assert standing(client) == (60, None)
    assert member(client)["tier_progress"] == {"basis": "points_earned", "qualifying": 60, "remaining": 40,
                                               "next_tier": {"id": ladder["silver"]["id"], "name": "Silver",
                                                             "threshold": 100}}
    send("orders/paid", paid("40.00", "2026-03-02T10:00:00Z"))  # exactly the threshold: promoted, at × 1
    assert standing(client) == (100, "Silver")
    assert member(client)["tier"]["since"].startswith("2026-03-02T10:00:00")
    send("orders/paid", paid("10.00", "2026-03-03T10:00:00Z"))  # × 2 now
    assert standing(client) == (120, "Silver")
    award = next(e for e in member(client)["ledger"] if e["kind"] == "order_award")
    assert award["breakdown"] == [{"rule_id": None, "label": "Base rate", "points": 10},
                                  {"rule_id": None, "label": "Silver tier", "points": 10}]
    assert member(client)["tier_progress"]["remaining"] == 180
    assert tier_events(db) == [{"from": None, "to": "Silver", "direction": "up", "at": "2026-03-02T10:00:00+00:00"}]


def test_a_refund_below_the_threshold_demotes_only_at_tick_and_takes_back_at_the_multiplier_earned(
        client, send, ladder, db):
    first = paid("100.00", "2026-03-01T10:00:00Z")
    send("orders/paid", first)
    second = paid("50.00", "2026-03-05T10:00:00Z")
    send("orders/paid", second)
    assert standing(client) == (200, "Silver")  # 100 at × 1, then 50 at × 2
    send("refunds/create", refund(first["id"], "30.00"))
    assert standing(client) == (170, "Silver")  # the refund never demotes on the spot
    send("refunds/create", refund(second["id"], "50.00"))
    assert standing(client) == (70, "Silver")  # the second order's 100 points go back: 50 × 2
    assert member(client)["tier_progress"]["qualifying"] == 70
    assert "tiers_reviewed 1" in tick(app_of(client), "2026-03-10T00:00:00Z")
    assert standing(client) == (70, None)
    assert tier_events(db)[-1] == {"from": "Silver", "to": None, "direction": "down", "at": "2026-03-10T00:00:00+00:00"}
    assert "tiers_reviewed 0" in tick(app_of(client), "2026-03-10T00:00:00Z")  # twice changes nothing
    assert len(tier_events(db)) == 2


def app_of(client):
    return client.application


def test_calendar_year_status_lasts_through_the_next_year_and_is_lost_the_year_after(client, send, ladder, db):
    send("orders/paid", paid("300.00", "2025-06-01T10:00:00Z"))
    assert standing(client) == (300, "Gold")
    assert "tiers_reviewed 0" in tick(app_of(client), "2026-12-31T12:00:00Z")
    assert standing(client) == (300, "Gold")
    assert "tiers_reviewed 1" in tick(app_of(client), "2027-01-01T00:00:01Z")
    assert standing(client) == (300, None)
    assert [e["to"] for e in tier_events(db)] == ["Gold", None]


def test_the_rolling_window_slides_an_order_and_its_refund_out(client, send, ladder):
    set_program(client, tier_window="rolling_12_months")
    early = paid("250.00", "2026-01-10T10:00:00Z")
    send("orders/paid", early)
    send("refunds/create", refund(early["id"], "100.00"))
    assert standing(client) == (150, "Silver")
    send("orders/paid", paid("30.00", "2026-06-01T10:00:00Z"))
    assert standing(client) == (210, "Silver")  # 250 - 100, then 30 at × 2
    assert "tiers_reviewed 0" in tick(app_of(client), "2027-01-09T12:00:00Z")  # 150 + 60 still in the window
    assert "tiers_reviewed 1" in tick(app_of(client), "2027-01-10T12:00:00Z")  # only June's 60 is left
    assert standing(client) == (210, None)


def test_a_paid_tier_outlives_a_lower_earned_tier(client, send, ladder, db):
    vip = add_tier(client, name="VIP", threshold=10000, multiplier="4", product_id="gid://shopify/Product/555")
    send("orders/paid", paid("150.00", "2026-02-01T10:00:00Z"))
    assert standing(client) == (150, "Silver")
    line = {"id": 1, "product_id": 555, "quantity": 1, "price": "20.00", "gift_card": False,
            "price_set": {"shop_money": {"amount": "20.00", "currency_code": "USD"}}, "discount_allocations": []}
    send("orders/paid", paid("20.00", "2026-02-02T10:00:00Z", line_items=[line]))
    assert standing(client) == (190, "VIP")  # bought at Silver's × 2
    assert member(client)["tier"]["paid_until"].startswith("2027-02-02T10:00:00")
    assert member(client)["tier"]["id"] == vip["id"]
    assert "tiers_reviewed 0" in tick(app_of(client), "2027-02-01T10:00:00Z")
    assert standing(client) == (190, "VIP")
    assert "tiers_reviewed 1" in tick(app_of(client), "2027-02-02T10:00:01Z")  # the year is over
    assert standing(client) == (190, "Silver")  # 2026's points keep Silver through 2027
    assert [(e["from"], e["to"], e["direction"]) for e in tier_events(db)] == [
        (None, "Silver", "up"), ("Silver", "VIP", "up"), ("VIP", "Silver", "down")]


def test_a_new_tier_a_changed_threshold_and_a_deleted_tier_reach_members_at_the_next_tick(client, send, ladder, db):
    send("orders/paid", paid("150.00", "2026-02-01T10:00:00Z"))
    assert standing(client) == (150, "Silver")
    client.patch(f"/api/tiers/{ladder['gold']['id']}", json={"threshold": 150}, headers=auth())
    assert standing(client) == (150, "Silver")  # never silently
    assert "tiers_reviewed 1" in tick(app_of(client), "2026-02-02T00:00:00Z")
    assert standing(client) == (150, "Gold")
    assert client.delete(f"/api/tiers/{ladder['gold']['id']}", headers=auth()).status_code == 200
    assert standing(client) == (150, "Gold")  # held until the tick moves it, never dangling
    assert "tiers_reviewed 1" in tick(app_of(client), "2026-02-03T00:00:00Z")
    assert standing(client) == (150, "Silver")
    add_tier(client, name="Bronze", threshold=0)
    assert "tiers_reviewed 0" in tick(app_of(client), "2026-02-04T00:00:00Z")
    assert [(e["from"], e["to"], e["direction"]) for e in tier_events(db)] == [
        (None, "Silver", "up"), ("Silver", "Gold", "up"), ("Gold", "Silver", "down")]


def test_orders_of_one_batch_the_crossing_one_at_the_old_multiplier_a_later_one_at_the_new(app, client, ladder):
    from webhooks.processing import drain_due_events

    payloads = [paid("80.00", "2026-04-01T10:00:00Z"), paid("30.00", "2026-04-02T10:00:00Z"),
                paid("10.00", "2026-04-03T10:00:00Z")]
    with app.app_context():
        with transaction() as session:
            session.add_all(WebhookEvent(shop_domain=SHOP, topic="orders/paid", webhook_id=str(uuid.uuid4()),
                                         payload=json.dumps(p), status=EventStatus.PENDING) for p in payloads)
        assert drain_due_events() == 3
    assert standing(client) == (130, "Silver")  # 80, then 30 at × 1 (crossing), then 10 at × 2


def test_amount_spent_basis_counts_money_less_refunds(client, send, installed):
    set_program(client, tier_basis="amount_spent")
    add_tier(client, name="Silver", threshold="99.50", multiplier="1.5")
    placed = paid("100.00", "2026-05-01T10:00:00Z")
    send("orders/paid", placed)
    assert standing(client) == (100, "Silver")
    assert member(client)["tier_progress"]["qualifying"] == "100.00"
    send("refunds/create", refund(placed["id"], "0.75"))
    assert member(client)["tier_progress"]["qualifying"] == "99.25"
    assert standing(client) == (100, "Silver")
    assert "tiers_reviewed 1" in tick(app_of(client), "2026-05-02T00:00:00Z")
    assert standing(client) == (100, None)
    assert member(client)["tier_progress"]["remaining"] == "0.25"


def test_verify_ledger_checks_the_qualifying_figures(app, client, send, ladder, db):
    placed = paid("120.00", "2026-05-01T10:00:00Z")
    send("orders/paid", placed)
    send("refunds/create", refund(placed["id"], "20.00"))
    result = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert result.exit_code == 0, result.output
    db.execute(MemberTierTotalTable.update().values(points=MemberTierTotalTable.c.points + 1)
               .where(MemberTierTotalTable.c.grain == "day"))
    result = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert result.exit_code != 0 and "tier" in result.output


from plugin.models import MemberTierTotal  # noqa: E402

MemberTierTotalTable = MemberTierTotal.__table__


@pytest.mark.parametrize("fields, field", [
    ({"name": "Silver", "threshold": 100}, "threshold"),  # the ladder's Silver has it already
    ({"name": "Neg", "threshold": -1}, "threshold"),
    ({"name": "Low", "threshold": 50, "multiplier": "0.5"}, "multiplier"),
    ({"name": "Money", "threshold": "49.99"}, "threshold"),  # money on a points basis
    ({"name": "Paid", "threshold": 50, "product_id": "shirt-1"}, "product_id"),
    ({"threshold": 50}, "name"),
    ({"name": "Odd", "threshold": 50, "colour": "red"}, "colour"),
])
def test_a_bad_tier_is_refused_naming_the_field_and_changes_nothing(client, ladder, db, fields, field):
    before = table_counts(db)
    response = client.post("/api/tiers", json=fields, headers=auth())
    assert response.status_code == 422 and field in response.get_json()["fields"]
    assert table_counts(db) == before
    if field != "name":  # the same bad field in a change of Gold
        changes = {k: v for k, v in fields.items() if k != "name"}
        response = client.patch(f"/api/tiers/{ladder['gold']['id']}", json=changes, headers=auth())
        assert response.status_code == 422 and field in response.get_json()["fields"]
        assert table_counts(db) == before
        assert client.get("/api/tiers", headers=auth()).get_json()["tiers"][1] == ladder["gold"]


@pytest.mark.parametrize("multiplier", ["-2", "0", "0.5", "100.5", "abc"])
def test_a_tier_multiplier_outside_its_rule_is_refused_with_the_rule(client, ladder, db, multiplier):
    before = table_counts(db)
    response = client.post("/api/tiers", json={"name": "Odd", "threshold": 50, "multiplier": multiplier},
                           headers=auth())
    assert response.status_code == 422
    assert response.get_json()["fields"]["multiplier"] == 'must be a decimal number from 1 to 100, such as "1.5"'
    assert table_counts(db) == before


def test_another_shops_tier_is_not_found(client, ladder, db):
    theirs = add_tier(client, OTHER_SHOP, name="Theirs", threshold=5)
    before = table_counts(db)
    assert client.patch(f"/api/tiers/{theirs['id']}", json={"name": "Mine"}, headers=auth()).status_code == 404
    assert client.delete(f"/api/tiers/{theirs['id']}", headers=auth()).status_code == 404
    assert table_counts(db) == before
    assert [t["name"] for t in client.get("/api/tiers", headers=auth(OTHER_SHOP)).get_json()["tiers"]] == ["Theirs"]


def test_a_bad_program_tier_setting_is_refused(client, installed):
    response = client.patch("/api/program", json={"tier_basis": "visits", "tier_window": "weekly"}, headers=auth())
    assert response.status_code == 422 and set(response.get_json()["fields"]) == {"tier_basis", "tier_window"}
    assert client.get("/api/program", headers=auth()).get_json()["tier_window"] == "calendar_year"


def test_replaying_the_same_webhooks_into_a_fresh_shop_gives_the_same_tiers(app, client, settle, installed, tmp_path):
    for shop in (SHOP, OTHER_SHOP):
        add_tier(client, shop, name="Silver", threshold=100, multiplier="2")
        add_tier(client, shop, name="Gold", threshold=300, multiplier="3")
    first, second = paid("120.00", "2025-03-01T10:00:00Z"), paid("90.00", "2025-04-01T10:00:00Z", customer_id=7002)
    history = [("orders/paid", first), ("orders/paid", second),
               ("orders/paid", paid("100.00", "2025-05-01T10:00:00Z")),  # × 2: Gold for 7001
               ("refunds/create", refund(first["id"], "10.00")),  # still Gold: 310
               ("orders/paid", paid("120.00", "2026-01-05T10:00:00Z", customer_id=7002)),  # crosses Silver in 2026
               ("orders/cancelled", {**second, "cancelled_at": "2026-01-06T10:00:00Z"})]

    def recordings(shop: str, only: int | None = None) -> str:
        path = tmp_path / f"{shop}-{only}.jsonl"
        path.write_text("\n".join(json.dumps({"topic": topic, "shop": shop, "webhook_id": f"{shop}-{n}",
                                              "payload": payload}) for n, (topic, payload) in enumerate(history)
                                   if only in (None, n)))
        return str(path)

    def outcome(shop: str) -> list:
        found = [client.get(f"/api/members/{c}", headers=auth(shop)).get_json() for c in (7001, 7002)]
        events = client.get("/api/member-events?kind=tier_changed", headers=auth(shop)).get_json()["events"]
        return [(m["balance"], m["tier"] and (m["tier"]["name"], m["tier"]["since"])) for m in found] + \
            sorted((e["customer_id"], e["data"]["to"], e["data"]["at"]) for e in events)

    # One at a time, each processed before the next: with several workers, two orders of one
    # customer in flight at once are priced in whichever order the workers reach them (README).
    for shop in (SHOP, OTHER_SHOP):
        for n in range(len(history)):
            assert app.test_cli_runner().invoke(args=["replay", recordings(shop, n)]).exit_code == 0
            settle()
    assert outcome(SHOP) == outcome(OTHER_SHOP) == [
        (310, ("Gold", "2025-05-01T10:00:00+00:00")), (120, ("Silver", "2026-01-05T10:00:00+00:00")),
        ("7001", "Gold", "2025-05-01T10:00:00+00:00"), ("7001", "Silver", "2025-03-01T10:00:00+00:00"),
        ("7002", "Silver", "2026-01-05T10:00:00+00:00")]
    assert app.test_cli_runner().invoke(args=["replay", recordings(SHOP)]).exit_code == 0
    settle()
    assert outcome(SHOP) == outcome(OTHER_SHOP)
    assert "every tier figure" in app.test_cli_runner().invoke(args=["verify-ledger"]).output


def test_members_list_filters_by_tier_and_the_dashboard_counts_members_per_tier(client, send, ladder):
    send("orders/paid", paid("150.00", "2026-02-01T10:00:00Z"))
    send("orders/paid", paid("20.00", "2026-02-01T10:00:00Z", customer_id=7002))
    silver = ladder["silver"]["id"]
    listed = client.get(f"/api/members?tier={silver}", headers=auth()).get_json()
    assert [(m["customer_id"], m["tier"]["name"]) for m in listed["members"]] == [("7001", "Silver")]
    assert listed["total"] == 1
    everyone = client.get("/api/members", headers=auth()).get_json()["members"]
    assert {m["customer_id"]: m["tier_progress"]["remaining"] for m in everyone} == {"7001": 150, "7002": 80}
    bad = client.get("/api/members?tier=gold", headers=auth())
    assert bad.status_code == 422 and "tier" in bad.get_json()["fields"]
    stats = client.get("/api/stats", headers=auth()).get_json()
    assert stats["members_per_tier"] == [{"id": None, "name": None, "members": 1},
                                         {"id": silver, "name": "Silver", "members": 1},
                                         {"id": ladder["gold"]["id"], "name": "Gold", "members": 0}]


def test_the_preview_counts_where_members_would_land_from_their_figures(client, send, ladder, db):
    send("orders/paid", paid("150.00", "2026-02-01T10:00:00Z"))
    send("orders/paid", paid("20.00", "2026-02-01T10:00:00Z", customer_id=7002))
    send("orders/paid", paid("400.00", "2026-02-01T10:00:00Z", customer_id=7003))
    saved = client.post("/api/tiers/preview", json={}, headers=auth()).get_json()
    assert (saved["no_tier"], [t["members"] for t in saved["tiers"]]) == (1, [1, 1])
    before = table_counts(db)
    proposed = client.post("/api/tiers/preview", json={"thresholds": [0, 20, 400]}, headers=auth()).get_json()
    assert proposed["no_tier"] == 0 and proposed["tiers"] == [
        {"threshold": 0, "members": 0}, {"threshold": 20, "members": 2}, {"threshold": 400, "members": 1}]
    bad = client.post("/api/tiers/preview", json={"thresholds": [10, "10"]}, headers=auth())
    assert bad.status_code == 422 and "thresholds" in bad.get_json()["fields"]
    assert table_counts(db) == before


def test_the_storefront_page_says_the_tier_and_how_far_the_next_one_is(client, send, ladder):
    from tests.helpers import proxy_url

    send("orders/paid", paid("180.00", "2026-02-01T10:00:00Z"))
    page = client.get(proxy_url("/proxy/")).get_data(as_text=True)
    assert "Your tier: <strong>Silver</strong> (Free shipping)." in page
    assert "120 points to Gold." in page
    assert client.get(proxy_url()).get_json()["tier"] == {"name": "Silver", "multiplier": "2"}


def test_the_launcher_names_the_tier_held_until_the_tick_moves_it_even_once_deleted(client, send, ladder):
    from tests.helpers import proxy_url

    send("orders/paid", paid("350.00", "2026-02-01T10:00:00Z"))
    assert client.get(proxy_url()).get_json()["tier"] == {"name": "Gold", "multiplier": "3"}
    assert client.delete(f"/api/tiers/{ladder['gold']['id']}", headers=auth()).status_code == 200
    launcher = client.get(proxy_url()).get_json()
    assert (launcher["balance"], launcher["tier"]) == (350, {"name": "Gold", "multiplier": "3"})
    assert member(client)["tier"]["name"] == "Gold"  # as the member answer names it
    assert "tiers_reviewed 1" in tick(app_of(client), "2026-02-02T00:00:00Z")
    assert client.get(proxy_url()).get_json()["tier"] == {"name": "Silver", "multiplier": "2"}
    assert client.get(proxy_url(shop=OTHER_SHOP)).get_json()["tier"] is None  # the same customer id elsewhere


def test_every_member_answer_and_the_data_export_carry_the_tier(client, send, ladder):
    send("orders/paid", paid("180.00", "2026-02-01T10:00:00Z"))
    adjusted = client.post("/api/members/7001/adjustments", json={"points": 5, "reason": "thanks"}, headers=auth())
    assert adjusted.status_code == 201 and adjusted.get_json()["tier"]["name"] == "Silver"
    birthday = client.patch("/api/members/7001", json={"birthday": "05-01"}, headers=auth())
    assert birthday.status_code == 200 and birthday.get_json()["tier"]["name"] == "Silver"
    assert birthday.get_json()["tier_progress"]["next_tier"]["name"] == "Gold"
    send("customers/data_request", {"shop_id": 1, "shop_domain": SHOP, "orders_requested": [],
                                    "customer": {"id": 7001, "email": "ada@example.com"},
                                    "data_request": {"id": 9001}})
    [listed] = client.get("/api/data-requests", headers=auth()).get_json()["data_requests"]
    exported = client.get(f"/api/data-requests/{listed['id']}", headers=auth()).get_json()["export"]
    assert exported["member"]["tier"]["name"] == "Silver"


def test_a_refund_and_a_cancellation_that_arrive_before_their_orders_leave_exact_figures(app, client, send, ladder):
    early = paid("150.00", "2026-03-01T10:00:00Z")
    send("refunds/create", refund(early["id"], "40.00"))  # before its order
    send("orders/cancelled", {**paid("500.00", "2026-03-02T10:00:00Z", id=4242), "cancelled_at": "2026-03-03"})
    assert member(client) is None  # nothing earned yet
    send("orders/paid", early)
    assert standing(client) == (110, "Silver")
    assert member(client)["tier_progress"]["qualifying"] == 110
    send("orders/paid", paid("500.00", "2026-03-02T10:00:00Z", id=4242))  # cancelled already: earns nothing
    assert standing(client) == (110, "Silver")  # counted net of its cancellation (tests/integration/test_seams.py)
    assert member(client)["tier_progress"]["qualifying"] == 110
    assert "tiers_reviewed 0" in tick(app, "2026-03-04T00:00:00Z")  # nothing to correct
    assert standing(client) == (110, "Silver")
    verify = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert verify.exit_code == 0, verify.output


def test_switching_the_basis_after_launch_moves_members_at_the_next_tick(app, client, send, installed, db):
    add_tier(client, name="Silver", threshold=100, multiplier="2")
    send("orders/paid", paid("120.00", "2026-03-01T10:00:00Z"))
    send("orders/paid", paid("50.00", "2026-03-02T10:00:00Z", customer_id=7002))
    set_program(client, points_per_currency_unit="3")
    send("orders/paid", paid("40.00", "2026-03-03T10:00:00Z", customer_id=7002))  # 120 points for 40.00
    assert [standing(client, c) for c in (7001, 7002)] == [(120, "Silver"), (170, "Silver")]
    set_program(client, tier_basis="amount_spent")
    assert "tiers_reviewed 1" in tick(app, "2026-03-04T00:00:00Z")  # 7002 spent 90.00: below 100
    assert [standing(client, c) for c in (7001, 7002)] == [(120, "Silver"), (170, None)]
    assert member(client, 7002)["tier_progress"] == {"basis": "amount_spent", "qualifying": "90.00",
                                                     "remaining": "10.00", "next_tier": {
                                                         "id": member(client)["tier"]["id"], "name": "Silver",
                                                         "threshold": "100"}}


def test_a_tick_running_beside_an_order_batch_moves_each_member_once(app, client, ladder, db):
    """Really committed, in two threads: the tick and the batch both write members' tiers."""
    from datetime import datetime, timezone

    from plugin.loyalty.tick import run_tick
    from webhooks.processing import drain_due_events

    with app.app_context(), transaction() as session:
        session.add_all(WebhookEvent(shop_domain=SHOP, topic="orders/paid", webhook_id=str(uuid.uuid4()),
                                     payload=json.dumps(paid("350.00", "2026-04-01T10:00:00Z", customer_id=8000 + n)),
                                     status=EventStatus.PENDING) for n in range(40))

    april = datetime(2026, 4, 2, tzinfo=timezone.utc)

    def work(n):
        with app.app_context():
            return drain_due_events() if n == 0 else run_tick(april)

    all_at_once(2, work)
    with app.app_context():
        drain_due_events()
        assert run_tick(april)["tiers_reviewed"] == 0
    listed = client.get("/api/members", headers=auth()).get_json()["members"]
    assert len(listed) == 40 and {m["tier"]["name"] for m in listed} == {"Gold"}
    assert {m["balance"] for m in listed} == {350}
    assert len(tier_events(db)) == 40  # one move per member: None -> Gold, told once
    verify = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert verify.exit_code == 0, verify.output


def test_two_tiers_with_one_threshold_sent_at_once_one_is_refused_with_422(client, installed, live_server):
    import requests

    def create(n: int) -> int:
        return requests.post(f"{live_server}/api/tiers", json={"name": f"Tier {n}", "threshold": 100},
                             headers=auth(), timeout=30).status_code

    for _ in range(3):
        assert sorted(all_at_once(2, create)) == [201, 422]
        assert len(client.get("/api/tiers", headers=auth()).get_json()["tiers"]) == 1
        tier = client.get("/api/tiers", headers=auth()).get_json()["tiers"][0]
        assert client.delete(f"/api/tiers/{tier['id']}", headers=auth()).status_code == 200
