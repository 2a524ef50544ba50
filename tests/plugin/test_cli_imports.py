"""`flask --app plugin import-points`: a dry run keeps nothing, `--apply` applies."""
from tests.admin_ui.test_imports_api import BALANCES, ada, verify_ledger  # noqa: F401 (ada: a fixture)
from tests.helpers import SHOP, auth, balance, member, table_counts


def run(app, *args):
    return app.test_cli_runner().invoke(args=["import-points", *map(str, args)])


def test_a_dry_run_prints_the_preview_and_keeps_nothing(app, client, db, ada, tmp_path):
    path = tmp_path / "points.csv"
    path.write_bytes(BALANCES)
    before = table_counts(db)

    result = run(app, path, "--shop", SHOP)

    assert result.exit_code == 0, result.output
    assert "rows 2: members matched 1, new 1, points 420, errors 0" in result.output
    assert "dry run: nothing applied" in result.output
    assert table_counts(db) == before


def test_apply_imports_the_file_once(app, client, ada, tmp_path):
    path = tmp_path / "points.csv"
    path.write_bytes(BALANCES)

    result = run(app, path, "--shop", SHOP, "--apply")

    assert result.exit_code == 0, result.output
    assert "applied: 420 points to 2 members" in result.output
    assert balance(client) == 340 and balance(client, 7002) == 120
    imports = client.get("/api/imports", headers=auth()).get_json()["imports"]
    assert [i["status"] for i in imports] == ["applied"]
    again = run(app, path, "--shop", SHOP, "--apply")
    assert again.exit_code != 0 and "already imported" in again.output
    assert balance(client) == 340
    verify_ledger(app)


def test_a_history_with_errors_applies_nothing_and_names_the_rows(app, client, db, ada, tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(b"customer_id,points,created_at,external_id\n7001,5,2026-01-01,a\n7001,5,2026-01-02,a\n")
    before = table_counts(db)

    result = run(app, path, "--shop", SHOP, "--kind", "history", "--apply")

    assert result.exit_code != 0
    assert "row 3 external_id: the same external_id as row 2" in result.output
    assert table_counts(db) == before and member(client)["balance"] == 40


def test_a_file_that_is_not_csv_or_an_unknown_shop_is_refused(app, db, ada, tmp_path):
    path = tmp_path / "points.csv"
    path.write_bytes("customer_id,points\n7001,é\n".encode("latin-1"))
    before = table_counts(db)

    assert "row 2: the file is not UTF-8 text" in run(app, path, "--shop", SHOP).output
    assert "no shop nowhere.myshopify.com" in run(app, path, "--shop", "nowhere.myshopify.com").output
    assert table_counts(db) == before
