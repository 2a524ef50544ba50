"""Configuration from the environment, and `/healthz`."""
import time
from datetime import timedelta

import pytest

from plugin import create_app
from plugin.config import ConfigError, database_url, load_config
from plugin.db import transaction, utcnow
from plugin.models import WebhookEvent
from tests.conftest import app_config
from tests.helpers import SHOP


@pytest.mark.parametrize("given, used", [
    ("postgres://u:p@db:5432/loyalty", "postgresql+psycopg://u:p@db:5432/loyalty"),
    ("postgresql://u@db/loyalty", "postgresql+psycopg://u@db/loyalty"),
    ("sqlite:///x.sqlite3", "sqlite:///x.sqlite3"),
])
def test_database_urls_work_as_given(given, used):
    assert database_url(given) == used


def test_production_refuses_to_start_without_its_secrets(tmp_path, monkeypatch):
    for name in ("SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "LOYALTY_ENCRYPTION_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LOYALTY_ENV", "production")
    with pytest.raises(ConfigError, match="SHOPIFY_API_KEY, SHOPIFY_API_SECRET, LOYALTY_ENCRYPTION_KEY"):
        load_config(str(tmp_path))
    assert not (tmp_path / "development-secrets.json").exists()


def test_development_generates_secrets_once_and_keeps_them(tmp_path, monkeypatch):
    for name in ("SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "LOYALTY_ENCRYPTION_KEY", "LOYALTY_ENV", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    first, second = load_config(str(tmp_path)), load_config(str(tmp_path))
    assert first["SHOPIFY_API_SECRET"] == second["SHOPIFY_API_SECRET"] and len(first["SHOPIFY_API_SECRET"]) == 64
    assert (tmp_path / "development-secrets.json").stat().st_mode & 0o077 == 0
    assert first["DATABASE_URL"] == f"sqlite:///{tmp_path / 'loyalty.sqlite3'}"


def test_healthz_says_the_database_and_queue_answer_and_workers_are_alive(client, redis_url):
    deadline = time.monotonic() + 30  # the services pass's workers send their first heartbeat as they start
    while (response := client.get("/healthz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert response.status_code == 200
    expected = "ok" if redis_url else "in-process"
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": expected, "workers": expected,
                                   "backlog": "ok"}


def test_healthz_is_503_when_no_worker_has_sent_a_heartbeat(database, redis_url):
    if not redis_url:
        pytest.skip("needs Redis: runs in the services pass of .ci/run")
    unattended = create_app({**app_config(database, redis_url), "QUEUE_PREFIX": "nobody-works-here"})
    response = unattended.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["workers"] == "silent"


def test_healthz_is_503_when_an_acknowledged_webhook_has_waited_too_long(app, database):
    with app.app_context(), transaction() as session:
        long_ago = utcnow() - timedelta(minutes=10)
        session.add(WebhookEvent(shop_domain=SHOP, topic="orders/paid", webhook_id="stuck", payload="{}",
                                 received_at=long_ago, next_attempt_at=long_ago))
    strict = create_app({**app_config(database, None), "HEALTH_PENDING_SECONDS": 300})
    response = strict.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["backlog"].startswith("oldest event waiting 6")  # 600 s, give or take


def test_healthz_is_503_when_the_queue_is_down(database):
    down = create_app(app_config(database, "redis://127.0.0.1:1/0")).test_client()
    response = down.get("/healthz")
    assert response.status_code == 503 and response.get_json()["queue"] == "unreachable"


def test_healthz_is_503_when_the_database_is_down(tmp_path):
    down = create_app(app_config("postgresql+psycopg://nobody@127.0.0.1:1/none", None)).test_client()
    response = down.get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"


def test_healthz_answers_while_a_writer_holds_sqlites_write_lock(app, client, database):
    if not database.startswith("sqlite"):
        pytest.skip("SQLite's database-wide write lock; PostgreSQL has no such lock")
    import sqlite3

    holder = sqlite3.connect(database.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        response = client.get("/healthz")
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 200 and response.get_json()["database"] == "ok" and waited < 2
