"""Large imports are applied by the apply-imports job: the request answers 202 at once, the
progress (`rows_done` / `rows`) is polled until the import is applied; the CLI applies a
batch per transaction and prints a progress line. Real workers when the run has Redis, the
in-process thread otherwise."""
import time

import pytest

from tests.admin_ui.test_imports_api import act, ada, points_of, previewed, verify_ledger  # noqa: F401 (ada)
from tests.helpers import SHOP, auth, balance

HISTORY = (b"customer_id,points,created_at,external_id\n"
           b"7001,100,2026-01-02,a\n7002,50,2026-01-03,b\n7001,-30,2026-02-01,c\n7003,7,2026-02-02,d\n")


@pytest.fixture
def small_inline(monkeypatch):
    """Files past 2 rows count as large here (the job takes them)."""
    monkeypatch.setattr("admin_ui.imports.INLINE_ROWS", 2)


def wait_applied(client, import_id: int, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = client.get(f"/api/imports/{import_id}", headers=auth()).get_json()
        if found["status"] != "applying":
            return found
        assert time.monotonic() < deadline, f"still applying after {timeout}s: {found}"
        time.sleep(0.05)


def test_a_large_file_is_applied_by_the_job_with_progress(app, client, ada, small_inline):
    found = previewed(client, HISTORY, kind="history")
    assert found["rows_done"] == 0

    response = act(client, found["id"], "apply")

    assert response.status_code == 202, response.get_json()
    assert response.get_json()["status"] in ("applying", "applied")  # the job may be quick
    done = wait_applied(client, found["id"])
    assert (done["status"], done["rows_done"], done["rows"]) == ("applied", 4, 4)
    assert done["applied_at"] is not None
    assert balance(client) == 40 + 70 and balance(client, 7002) == 50 and balance(client, 7003) == 7
    verify_ledger(app)


def test_applying_again_while_or_after_the_job_runs_changes_nothing(app, client, ada, small_inline):
    found = previewed(client, HISTORY, kind="history")
    first = act(client, found["id"], "apply")
    again = act(client, found["id"], "apply")

    assert first.status_code == 202 and again.status_code in (200, 202)
    wait_applied(client, found["id"])
    assert act(client, found["id"], "apply").status_code == 200
    assert balance(client) == 110 and balance(client, 7002) == 50
    verify_ledger(app)


def test_a_revert_waits_for_the_apply_to_finish(app, client, db, ada, small_inline, monkeypatch):
    # The job is never asked: the import stays `applying`, as when a worker is lost.
    monkeypatch.setattr("plugin.loyalty.imports.jobs.request_apply", lambda import_id: None)
    found = previewed(client, HISTORY, kind="history")
    assert act(client, found["id"], "apply").status_code == 202
    before = points_of(db)

    refused = act(client, found["id"], "revert")

    assert refused.status_code == 422 and "only an applied import" in refused.get_json()["error"]
    assert points_of(db) == before
    assert client.get(f"/api/imports/{found['id']}", headers=auth()).get_json()["status"] == "applying"
    # The periodic "imports" job finishes what was left.
    with app.app_context():
        from plugin.schedule import run_periodic
        assert run_periodic("imports") == 4
    assert wait_applied(client, found["id"])["status"] == "applied"
    assert balance(client) == 110
    verify_ledger(app)


def test_the_cli_prints_a_progress_line_per_batch(app, client, ada, tmp_path, monkeypatch):
    monkeypatch.setattr("plugin.loyalty.imports.applying.BATCH", 1)  # one customer per batch
    path = tmp_path / "history.csv"
    path.write_bytes(HISTORY)

    result = app.test_cli_runner().invoke(args=["import-points", str(path), "--shop", SHOP, "--kind", "history",
                                                "--apply"])

    assert result.exit_code == 0, result.output
    assert "\rapplied 2 / 4 rows\rapplied 3 / 4 rows\rapplied 4 / 4 rows\rapplied 4 / 4 rows" in result.output
    assert "applied: 127 points to 3 members" in result.output
    assert balance(client) == 110 and balance(client, 7003) == 7
    verify_ledger(app)
