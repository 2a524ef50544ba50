"""Configuration from the environment, and `/healthz`."""
import pytest

from plugin import create_app
from plugin.config import ConfigError, database_url, load_config
from tests.conftest import app_config


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


def test_healthz_says_the_database_and_queue_answer(client, redis_url):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "queue": "ok" if redis_url else "in-process"}


def test_healthz_is_503_when_the_queue_is_down(database):
    down = create_app(app_config(database, "redis://127.0.0.1:1/0")).test_client()
    response = down.get("/healthz")
    assert response.status_code == 503 and response.get_json()["queue"] == "unreachable"


def test_healthz_is_503_when_the_database_is_down(tmp_path):
    down = create_app(app_config("postgresql+psycopg://nobody@127.0.0.1:1/none", None)).test_client()
    response = down.get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"
