"""Birthdays: saved once by the shopper (or by the merchant), a bonus from `tick` on the day.

Birthdays are saved now (the real clock); `flask --app plugin tick --now` then plays the
days that follow. Each worked example states the balance after every tick.
"""
import re
from datetime import date, datetime, timedelta, timezone

import pytest

from plugin.db import utcnow
from tests.helpers import SHOP, auth, balance, customer, member, proxy_url, table_counts

BONUS = 100


@pytest.fixture
def ada(client, installed, send):
    """Birthday bonus 100; Ada (customer 7001) is a member with no points."""
    response = client.patch("/api/program", json={"birthday_bonus": BONUS}, headers=auth())
    assert response.status_code == 200, response.get_json()
    send("customers/create", customer(7001, "ada@example.com"))


def csrf(client, customer_id: str = "7001") -> str:
    page = client.get(proxy_url("/proxy/", customer_id=customer_id)).get_data(as_text=True)
    return re.search(r"name=csrf value='([^']+)'", page).group(1)


def save(client, birthday, customer_id: str = "7001", token: str | None = None):
    form = {"csrf": token if token is not None else csrf(client, customer_id)}
    if birthday is not None:
        form["birthday"] = birthday
    return client.post(proxy_url("/proxy/birthday", customer_id=customer_id), data=form)


def tick(app, day: date, hour: int = 12) -> str:
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)
    result = app.test_cli_runner().invoke(args=["tick", "--now", moment.isoformat()])
    assert result.exit_code == 0, result.output
    return result.output


def in_days(days: int) -> date:
    return (utcnow() + timedelta(days=days)).date()


def month_day(day: date) -> str:
    return f"{day.month:02d}-{day.day:02d}"


def verified(app) -> bool:
    return app.test_cli_runner().invoke(args=["verify-ledger"]).exit_code == 0


def test_a_shopper_saves_a_birthday_once_and_sees_it_on_the_page(client, ada, db):
    assert "Save my birthday" in client.get(proxy_url("/proxy/")).get_data(as_text=True)
    response = save(client, "05-21")
    assert response.status_code == 303 and response.headers["Location"] == "/apps/loyalty?notice=birthday-saved"
    assert member(client)["birthday"] == "05-21"
    page = client.get(proxy_url("/proxy/", extra=[("notice", "birthday-saved")])).get_data(as_text=True)
    assert "Your birthday: 05-21" in page and "Save my birthday" not in page and "Your birthday is saved" in page
    before = table_counts(db)
    second = save(client, "06-01")
    assert second.status_code == 409 and "already saved" in second.get_data(as_text=True)
    assert member(client)["birthday"] == "05-21" and table_counts(db) == before


@pytest.mark.parametrize("value", ["02-30", "13-01", "1990-05-01", "my birthday", "5-1", "00-10", "04-31", "", None])
def test_a_birthday_that_is_not_a_day_of_the_year_is_refused_and_changes_nothing(client, ada, db, value):
    before = table_counts(db)
    response = save(client, value)
    assert response.status_code == 422 and "Birthday not saved" in response.get_data(as_text=True)
    assert table_counts(db) == before and member(client)["birthday"] is None


def test_the_page_asks_for_the_birthday_with_two_selects_and_saves_what_they_say(client, ada, db):
    page = client.get(proxy_url("/proxy/")).get_data(as_text=True)
    assert "<select id=birthday-month name=month required>" in page and "<option value='02'>February</option>" in page
    assert "<option value='31'>31</option>" in page and "30 days before it" in page
    before = table_counts(db)
    half = client.post(proxy_url("/proxy/birthday"), data={"month": "02", "csrf": csrf(client)})
    assert half.status_code == 422 and table_counts(db) == before
    assert member(client)["birthday"] is None
    saved = client.post(proxy_url("/proxy/birthday"), data={"month": "02", "day": "29", "csrf": csrf(client)})
    assert saved.status_code == 303 and member(client)["birthday"] == "02-29"


def test_a_birthday_needs_a_signed_in_shopper_the_pages_token_and_a_signature(client, ada, db):
    before = table_counts(db)
    assert client.post(proxy_url("/proxy/birthday", customer_id=""), data={"birthday": "05-21"}).status_code == 401
    assert save(client, "05-21", token="123.forged").status_code == 403
    assert save(client, "05-21", token=csrf(client, "7002")).status_code == 403  # another shopper's page
    unsigned = proxy_url("/proxy/birthday").replace("signature=", "signature=0")
    assert client.post(unsigned, data={"birthday": "05-21", "csrf": csrf(client)}).status_code == 401
    assert table_counts(db) == before and member(client)["birthday"] is None


def test_a_customer_who_is_not_a_member_yet_becomes_one_with_their_birthday(client, ada):
    assert save(client, "07-04", customer_id="7002").status_code == 303
    assert member(client, 7002)["birthday"] == "07-04" and member(client, 7002)["balance"] == 0


def test_the_bonus_comes_on_the_birthday_not_the_day_before_and_once_a_year(app, client, ada):
    birthday = in_days(40)
    assert save(client, month_day(birthday)).status_code == 303
    assert "birthday_bonuses 0" in tick(app, birthday - timedelta(days=1))
    assert balance(client) == 0  # the day before
    assert "birthday_bonuses 1" in tick(app, birthday)
    assert balance(client) == 100
    assert "birthday_bonuses 0" in tick(app, birthday, hour=20)  # the same day again
    assert balance(client) == 100
    [entry] = member(client)["ledger"]
    assert entry["kind"] == "birthday_bonus" and entry["delta"] == 100
    assert entry["source"] == {"type": "birthday", "id": f"7001-{birthday.year}"}
    events = client.get("/api/member-events", query_string={"kind": "birthday_bonus"}, headers=auth()).get_json()
    assert [e["data"] for e in events["events"]] == [{"points": 100}]
    next_year = birthday.replace(year=birthday.year + 1)
    tick(app, next_year)
    assert balance(client) == 200 and member(client)["lifetime_earned"] == 200
    assert verified(app)


def test_a_birthday_moved_later_in_the_same_year_gets_no_second_bonus(app, client, ada):
    birthday = in_days(40)
    save(client, month_day(birthday))
    tick(app, birthday)
    assert balance(client) == 100
    later = birthday + timedelta(days=5)
    assert client.patch("/api/members/7001", json={"birthday": month_day(later)}, headers=auth()).status_code == 200
    if later.year == birthday.year:
        tick(app, later + timedelta(days=30))  # also past the 30 days since the change
        tick(app, later)
    assert balance(client) == 100


def test_the_29th_of_february_is_celebrated_on_the_28th_in_other_years(app, client, ada):
    save(client, "02-29")
    first = next(year for year in range(utcnow().year + 1, utcnow().year + 9) if year % 4 != 0)
    assert "birthday_bonuses 1" in tick(app, date(first, 2, 28))
    assert balance(client) == 100
    tick(app, date(first, 3, 1))
    assert balance(client) == 100
    leap = next(year for year in range(first, first + 8) if year % 4 == 0)
    tick(app, date(leap, 2, 28))
    assert balance(client) == 100  # a leap year has its own 29th
    tick(app, date(leap, 2, 29))
    assert balance(client) == 200


def test_a_birthday_saved_ten_days_before_gets_no_bonus_that_year(app, client, ada):
    birthday = in_days(10)
    save(client, month_day(birthday))
    assert "birthday_bonuses 0" in tick(app, birthday)
    assert balance(client) == 0
    tick(app, birthday.replace(year=birthday.year + 1))
    assert balance(client) == 100


def test_the_birthday_is_read_in_the_shops_time_zone(app, client, ada, send):
    send("shop/update", {"id": 1, "myshopify_domain": SHOP, "iana_timezone": "Pacific/Auckland", "currency": "NZD"})
    birthday = in_days(40)
    save(client, month_day(birthday))
    tick(app, birthday - timedelta(days=1), hour=9)  # 22:00 in Auckland: still the day before
    assert balance(client) == 0
    tick(app, birthday - timedelta(days=1), hour=12)  # 01:00 the next morning in Auckland: the birthday
    assert balance(client) == 100
    tick(app, birthday, hour=12)  # the birthday in UTC is the day after in Auckland
    assert balance(client) == 100


def test_no_bonus_when_the_program_has_none(app, client, ada):
    client.patch("/api/program", json={"birthday_bonus": 0}, headers=auth())
    birthday = in_days(40)
    save(client, month_day(birthday))
    tick(app, birthday)
    assert balance(client) == 0


def test_the_merchant_sets_and_clears_a_birthday(client, ada):
    response = client.patch("/api/members/7001", json={"birthday": "12-24"}, headers=auth())
    assert response.status_code == 200 and response.get_json()["birthday"] == "12-24"
    assert member(client)["birthday"] == "12-24"
    assert client.patch("/api/members/7001", json={"birthday": None}, headers=auth()).get_json()["birthday"] is None
    assert save(client, "01-02").status_code == 303  # cleared: the shopper may set it again


@pytest.mark.parametrize("body", [{"birthday": "02-30"}, {"birthday": "13-01"}, {"birthday": "1990-05-01"},
                                  {"birthday": "soon"}, {"birthday": 501}, {"balance": 10}, ["05-01"]])
def test_a_bad_member_change_is_a_422_and_changes_nothing(client, ada, db, body):
    client.patch("/api/members/7001", json={"birthday": "05-01"}, headers=auth())
    before = table_counts(db)
    response = client.patch("/api/members/7001", json=body, headers=auth())
    assert response.status_code == 422 and response.get_json()["fields"]
    assert table_counts(db) == before and member(client)["birthday"] == "05-01"


def test_another_shops_member_is_not_found(client, ada):
    from tests.helpers import OTHER_SHOP

    assert client.patch("/api/members/7001", json={"birthday": "05-01"}, headers=auth(OTHER_SHOP)).status_code == 404


def test_the_page_offers_the_birthday_field_only_while_the_program_gives_a_bonus(client, ada):
    assert "get 100 points on the day" in client.get(proxy_url("/proxy/")).get_data(as_text=True)
    client.patch("/api/program", json={"birthday_bonus": 0}, headers=auth())
    assert "Save my birthday" not in client.get(proxy_url("/proxy/")).get_data(as_text=True)
