"""`shop/update` keeps the shop's time zone and currency (the dashboard's currency, business dates)."""
import pytest

from tests.helpers import SHOP, auth, table_counts


def stats_currency(client):
    response = client.get("/api/stats", headers=auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()["currency"]


def shop_row(db):
    from sqlalchemy import select

    from plugin.models import Shop

    return db.execute(select(Shop.iana_timezone, Shop.currency).where(Shop.domain == SHOP)).one()


def test_shop_update_sets_the_zone_and_the_dashboards_currency(client, installed, send, db):
    assert stats_currency(client) is None
    send("shop/update", {"id": 1, "myshopify_domain": SHOP, "iana_timezone": "Europe/Paris", "currency": "EUR"})
    assert stats_currency(client) == "EUR" and tuple(shop_row(db)) == ("Europe/Paris", "EUR")
    send("shop/update", {"id": 1, "myshopify_domain": SHOP, "iana_timezone": "America/Toronto", "currency": "CAD"})
    assert tuple(shop_row(db)) == ("America/Toronto", "CAD")


@pytest.mark.parametrize("payload", [
    {"iana_timezone": "Mars/Olympus_Mons", "currency": "euros"},
    {"iana_timezone": None, "currency": None},
    {"iana_timezone": "../../etc/passwd", "currency": 12},
    {},
])
def test_values_we_cannot_use_keep_what_the_shop_had(client, installed, send, db, payload):
    send("shop/update", {"id": 1, "iana_timezone": "Europe/Paris", "currency": "EUR"})
    before = table_counts(db)
    send("shop/update", {"id": 1, **payload})
    assert tuple(shop_row(db)) == ("Europe/Paris", "EUR") and table_counts(db)["shops"] == before["shops"]


GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"


def run_shop_facts(app) -> int:
    from plugin.schedule import run_periodic

    with app.app_context():
        return run_periodic("shop-facts")


def test_an_installed_shop_is_asked_for_its_zone_and_currency_once(app, client, platform, db):
    platform.post(GRAPHQL, json={"data": {"shop": {"ianaTimezone": "Asia/Tokyo", "currencyCode": "JPY"}}})
    assert run_shop_facts(app) == 1
    assert tuple(shop_row(db)) == ("Asia/Tokyo", "JPY") and stats_currency(client) == "JPY"
    asked = len([c for c in platform.calls if c.request.url == GRAPHQL])
    assert run_shop_facts(app) == 0  # known now: not asked again
    assert len([c for c in platform.calls if c.request.url == GRAPHQL]) == asked == 1


def test_a_platform_that_does_not_answer_changes_nothing_and_is_asked_again_later(app, client, platform, db):
    platform.post(GRAPHQL, status=503)
    before = table_counts(db)
    assert run_shop_facts(app) == 0
    assert tuple(shop_row(db)) == (None, None) and table_counts(db) == before
    platform.replace("POST", GRAPHQL, json={"data": {"shop": {"ianaTimezone": "Asia/Tokyo", "currencyCode": "JPY"}}})
    assert run_shop_facts(app) == 1 and tuple(shop_row(db)) == ("Asia/Tokyo", "JPY")
