"""Manual adjustments a merchant cannot hurt themselves with: large or below-zero changes are
confirmed first, any adjustment can be undone by a reversing entry, and the dashboard's
"issued" is not moved by corrections. Worked through the API with a real session token,
stating the balance and lifetime after every step, with `verify-ledger` clean at the end.
"""
import pytest

from tests.helpers import OTHER_SHOP, auth, member, order, signed_webhook, table_counts

ADA = 7001


def adjust(client, points: int, reason: str = "typed in the panel", customer_id: int = ADA, **extra):
    return client.post(f"/api/members/{customer_id}/adjustments", headers=auth(),
                       json={"points": points, "reason": reason, **extra})


def undo(client, entry_id, customer_id: int = ADA, shop=None):
    headers = auth() if shop is None else auth(shop)
    return client.post(f"/api/members/{customer_id}/adjustments/{entry_id}/reversal", headers=headers)


def figures(client) -> tuple[int, int]:
    body = member(client, ADA)
    return body["balance"], body["lifetime_earned"]


def last_adjustment(client) -> int:
    return next(e["id"] for e in member(client, ADA)["ledger"] if e["kind"] == "adjustment")


def issued_today(client) -> int:
    return client.get("/api/stats", headers=auth()).get_json()["points_issued"]


def verify(app) -> None:
    result = app.test_cli_runner().invoke(args=["verify-ledger"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def ada(client, settle):
    """Ada with 1,148 points from one order: her balance and lifetime are both 1,148."""
    signed_webhook(client, "orders/paid", order(customer_id=ADA, subtotal="1148.00"))
    settle()
    assert figures(client) == (1148, 1148)


def test_a_slip_of_minus_99999_is_asked_about_then_undone_without_moving_lifetime_or_issued(app, client, db, ada):
    issued = issued_today(client)
    before = table_counts(db)
    asked = adjust(client, -99_999)
    assert asked.status_code == 422
    body = asked.get_json()
    assert body["error"] == "this adjustment must be confirmed"
    assert body["risks"] == ["it would take the balance from 1,148 to -98,851 points, below zero",
                             "it moves 99,999 points, more than 10,000"]
    assert "confirm" in body["fields"]
    assert table_counts(db) == before and figures(client) == (1148, 1148)

    made = adjust(client, -99_999, confirm=True)
    assert made.status_code == 201 and (made.get_json()["balance"], made.get_json()["lifetime_earned"]) == (
        -98_851, 1148)
    mistake = last_adjustment(client)

    undone = undo(client, mistake)
    assert undone.status_code == 201
    assert figures(client) == (1148, 1148)  # lifetime never moved: a debit's undo adds nothing to it
    [reversal] = [e for e in undone.get_json()["ledger"] if e["kind"] == "adjustment_reversal"]
    assert (reversal["delta"], reversal["source"]) == (99_999, {"type": "adjustment", "id": str(mistake)})
    assert issued_today(client) == issued == 1148  # corrections are not "issued"
    verify(app)


def test_a_mistaken_credit_undone_takes_its_points_out_of_lifetime_too(app, client, ada):
    assert adjust(client, 50_000).status_code == 422  # over the threshold: asked first
    assert adjust(client, 50_000, confirm=True).status_code == 201
    assert figures(client) == (51_148, 51_148)
    assert undo(client, last_adjustment(client)).status_code == 201
    assert figures(client) == (1148, 1148)
    verify(app)


def test_an_ordinary_adjustment_needs_no_confirmation(client, ada):
    assert adjust(client, -148).status_code == 201
    assert adjust(client, 10_000).status_code == 201  # the threshold itself is not "more than"
    assert figures(client) == (11_000, 11_148)


def test_undoing_twice_is_409_and_changes_nothing(client, db, ada):
    adjust(client, 25)
    entry = last_adjustment(client)
    assert undo(client, entry).status_code == 201
    before = table_counts(db)
    again = undo(client, entry)
    assert again.status_code == 409 and again.get_json()["error"] == "this adjustment was reversed already"
    assert table_counts(db) == before and figures(client) == (1148, 1148)


@pytest.mark.parametrize("target", ["an order's entry", "another member's adjustment", "not a number", "unknown"])
def test_only_this_members_own_adjustments_can_be_undone(client, db, settle, ada, target):
    signed_webhook(client, "orders/paid", order(customer_id=7002, subtotal="10.00"))
    settle()
    client.post("/api/members/7002/adjustments", headers=auth(), json={"points": 5, "reason": "goodwill"})
    ledger = {m: client.get(f"/api/members/{m}", headers=auth()).get_json()["ledger"] for m in (ADA, 7002)}
    entry_id = {"an order's entry": ledger[ADA][0]["id"],
                "another member's adjustment": next(e["id"] for e in ledger[7002] if e["kind"] == "adjustment"),
                "not a number": "abc", "unknown": 999_999_999}[target]
    before = table_counts(db)
    refused = undo(client, entry_id)
    assert refused.status_code == 404
    assert table_counts(db) == before and figures(client) == (1148, 1148)


def test_another_shop_cannot_undo_this_shops_adjustment(client, db, installed, ada):
    adjust(client, 25)
    entry = last_adjustment(client)
    before = table_counts(db)
    assert undo(client, entry, shop=OTHER_SHOP).status_code == 404
    assert table_counts(db) == before and figures(client) == (1173, 1173)


@pytest.mark.parametrize("confirm", ["yes", 1, None, {"really": True}])
def test_a_confirm_that_is_not_true_or_false_is_422_and_moves_nothing(client, db, ada, confirm):
    before = table_counts(db)
    response = adjust(client, -99_999, confirm=confirm)
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"confirm": "must be true or false"}
    assert table_counts(db) == before and figures(client) == (1148, 1148)


def test_confirm_false_is_the_same_as_no_confirm(client, db, ada):
    before = table_counts(db)
    response = adjust(client, -2_000, confirm=False)
    assert response.status_code == 422 and response.get_json()["risks"] == [
        "it would take the balance from 1,148 to -852 points, below zero"]
    assert table_counts(db) == before
