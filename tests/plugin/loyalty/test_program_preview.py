"""`POST /api/program/preview`: what an order would earn under settings not yet saved.

Worked examples answered by the rules that award orders, bad fields named one by one, and
a preview that leaves every table (and the saved program) as it was.
"""
import pytest

from tests.helpers import auth, balance, order, table_counts

SAMPLE = {"points_per_currency_unit": "1", "exclude_gift_cards": False, "subtotal": "40.00", "gift_card_total": "0"}


def preview(client, **changes):
    return client.post("/api/program/preview", json={**SAMPLE, **changes}, headers=auth())


def answer(client, **changes) -> dict:
    response = preview(client, **changes)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("changes, points, eligible", [
    pytest.param({}, 40, "40.00", id="the default rate: one point per unit"),
    pytest.param({"points_per_currency_unit": "1.5"}, 60, "40.00", id="a rate of 1.5"),
    pytest.param({"points_per_currency_unit": "1.5", "subtotal": "100.00", "gift_card_total": "30.00",
                  "exclude_gift_cards": True}, 105, "70.00", id="a gift card excluded: 70 x 1.5"),
    pytest.param({"points_per_currency_unit": "1.5", "subtotal": "100.00", "gift_card_total": "30.00"},
                 150, "100.00", id="a gift card counted when gift cards are not excluded"),
    pytest.param({"subtotal": "25.00", "gift_card_total": "50.00", "exclude_gift_cards": True}, 0, "0",
                 id="gift cards past the subtotal leave nothing, not less"),
    pytest.param({"points_per_currency_unit": "0"}, 0, "40.00", id="a rate of zero"),
    pytest.param({"points_per_currency_unit": 1.5, "subtotal": 40}, 60, "40", id="JSON numbers, read exactly"),
])
def test_a_preview_answers_the_points_and_the_eligible_amount(client, installed, changes, points, eligible):
    assert answer(client, **changes) == {"points": points, "eligible": eligible}


@pytest.mark.parametrize("rate, subtotal, points", [
    ("0.333", "40.00", 13),  # 13.32
    ("1.5", "0.99", 1),  # 1.485
    ("0.999999", "1.00", 0),  # 0.999999: never rounded up to a point we would have to honour
    ("3", "33.33", 99),  # 99.99
])
def test_points_are_rounded_down_to_whole_points(client, installed, rate, subtotal, points):
    assert answer(client, points_per_currency_unit=rate, subtotal=subtotal)["points"] == points


def test_the_preview_says_what_a_paid_order_then_earns(client, installed, send):
    saved = client.patch("/api/program", json={"points_per_currency_unit": "0.333"}, headers=auth())
    assert saved.status_code == 200
    send("orders/paid", order(subtotal="40.00"))
    assert balance(client) == answer(client, points_per_currency_unit="0.333")["points"] == 13


@pytest.mark.parametrize("changes, field, message", [
    ({"points_per_currency_unit": "-1"}, "points_per_currency_unit", "must be zero or more"),
    ({"points_per_currency_unit": "a lot"}, "points_per_currency_unit", "must be a decimal number"),
    ({"points_per_currency_unit": "1001"}, "points_per_currency_unit", "must be at most 1000"),
    ({"points_per_currency_unit": "0.1234567"}, "points_per_currency_unit", "at most 6 decimal places"),
    ({"points_per_currency_unit": True}, "points_per_currency_unit", "must be a decimal number"),
    ({"exclude_gift_cards": "yes"}, "exclude_gift_cards", "must be true or false"),
    ({"subtotal": "forty"}, "subtotal", "must be an amount"),
    ({"subtotal": "-40.00"}, "subtotal", "must be zero or more"),
    ({"subtotal": "1e12"}, "subtotal", "must be less than 1,000,000,000,000"),
    ({"gift_card_total": "NaN"}, "gift_card_total", "must be zero or more"),
    ({"gift_card_total": "0.0000001"}, "gift_card_total", "at most 6 decimal places"),
    ({"gift_card_total": None}, "gift_card_total", "must be an amount"),
    ({"signup_bonus": 5}, "signup_bonus", "is not a preview field"),
])
def test_a_bad_field_is_422_naming_that_field_alone(client, installed, db, changes, field, message):
    before = table_counts(db)
    response = preview(client, **changes)
    assert response.status_code == 422
    fields = response.get_json()["fields"]
    assert list(fields) == [field] and message in fields[field]
    assert table_counts(db) == before


def test_a_missing_field_is_named_as_required(client, installed):
    response = client.post("/api/program/preview", json={"points_per_currency_unit": "1"}, headers=auth())
    assert response.status_code == 422
    assert response.get_json()["fields"] == {"exclude_gift_cards": "is required", "subtotal": "is required",
                                             "gift_card_total": "is required"}


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json", b""])
def test_a_body_that_is_not_an_object_is_422(client, installed, body):
    response = client.post("/api/program/preview", data=body, headers={**auth(), "Content-Type": "application/json"})
    assert response.status_code == 422 and list(response.get_json()["fields"]) == ["_body"]


def test_a_preview_saves_nothing(client, installed, db):
    saved = client.get("/api/program", headers=auth()).get_json()
    before = table_counts(db)
    answer(client, points_per_currency_unit="2.5", exclude_gift_cards=True, gift_card_total="10.00")
    assert table_counts(db) == before
    assert client.get("/api/program", headers=auth()).get_json() == saved  # updated_at included
