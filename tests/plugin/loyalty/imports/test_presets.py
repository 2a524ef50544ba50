"""The presets (plugin/loyalty/imports/formats.py): each vendor's fixture file, written from
its documented layout (sources in the README), imports through `/api/imports`."""
import pytest

from tests.admin_ui.test_imports_api import applied, verify_ledger
from tests.helpers import ROOT, auth, customer, member

FIXTURES = ROOT / "tests" / "fixtures" / "imports"


@pytest.fixture
def members(client, send, installed):
    send("customers/create", customer(7001, "ada@example.com"))
    send("customers/create", customer(7002, "grace@example.com", first_name="Grace", last_name="Hopper"))
    assert client.post("/api/tiers", json={"name": "Gold", "threshold": 5000}, headers=auth()).status_code == 201


@pytest.mark.parametrize("fmt, birthday", [("smile", "05-21"), ("loyaltylion", "05-21"), ("yotpo", "05-21"),
                                           ("rivo", "05-21"), ("growave", "05-21")])
def test_a_vendors_balances_export_imports_balances_tiers_and_birthdays(app, client, members, fmt, birthday):
    result = applied(client, (FIXTURES / f"{fmt}.csv").read_bytes(), fmt=fmt)

    assert result["errors"] == [] and result["rows"] == 2 and result["members_matched"] == 2
    ada, grace = member(client, 7001), member(client, 7002)
    assert (ada["balance"], grace["balance"]) == (1250, 300)
    assert ada["birthday"] == birthday
    if fmt != "growave":  # Growave's import layout has no tier column
        assert ada["tier"]["name"] == "Gold"
    assert ada["ledger"][0]["reason"] == f"Imported from {fmt}"
    verify_ledger(app)


def test_a_yotpo_birthday_with_a_year_is_read_as_month_and_day(client, members):
    applied(client, (FIXTURES / "yotpo.csv").read_bytes(), fmt="yotpo")
    assert member(client, 7002)["birthday"] == "12-09"


def test_rivos_points_logs_import_as_a_history(app, client, members):
    result = applied(client, (FIXTURES / "rivo_points_logs.csv").read_bytes(), fmt="rivo", kind="history")

    assert result["errors"] == [] and result["points_total"] == 1550
    ledger = member(client, 7001)["ledger"]
    assert sorted(e["delta"] for e in ledger) == [250, 1000]
    assert member(client, 7001)["balance"] == 1250
    verify_ledger(app)


def test_a_preset_still_refuses_a_file_without_its_points_column(client, members):
    from tests.admin_ui.test_imports_api import upload

    response = upload(client, b"Email,Balance\nada@example.com,10\n", fmt="smile")
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["message"] == "the header has no column points balance"
