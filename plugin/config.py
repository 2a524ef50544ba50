"""Configuration read from the environment, as SPEC.md's "Configuration" table lists it.

Development generates the app's secrets once and keeps them under `instance/`, so
`make run` works on a fresh machine; production refuses to start without them, because a
secret generated on one host would silently differ on the next one.
"""
import json
import os
import secrets
import tomllib
from pathlib import Path

from cryptography.fernet import Fernet

DEFAULT_API_VERSION = "2026-10"
MAX_WEBHOOK_BYTES = 1024 * 1024
APP_TOML = Path(__file__).resolve().parent.parent / "shopify.app.toml"


class ConfigError(RuntimeError):
    """The environment does not describe an app that can start."""


def database_url(raw: str) -> str:
    """Pick the psycopg 3 driver for PostgreSQL URLs, whichever spelling the host gave."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def app_toml_scopes() -> str:
    """The scopes the app asks for at install: the ones declared in shopify.app.toml."""
    return tomllib.loads(APP_TOML.read_text())["access_scopes"]["scopes"]


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config dict: environment first, then `overrides` (tests, scripts)."""
    env = {**os.environ, **{k: v for k, v in (overrides or {}).items() if isinstance(v, str)}}
    mode = env.get("LOYALTY_ENV", "development")
    if mode not in ("development", "production"):
        raise ConfigError("LOYALTY_ENV must be 'development' or 'production'")
    instance = Path(instance_path)
    config = {
        "LOYALTY_ENV": mode,
        "DATABASE_URL": database_url(
            env.get("DATABASE_URL") or f"sqlite:///{instance / 'loyalty.sqlite3'}"
        ),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "QUEUE_PREFIX": env.get("LOYALTY_QUEUE_PREFIX", "loyalty"),
        "SHOPIFY_API_VERSION": env.get("SHOPIFY_API_VERSION", DEFAULT_API_VERSION),
        "SHOPIFY_APP_URL": env.get("SHOPIFY_APP_URL", "http://127.0.0.1:8080"),
        "SHOPIFY_ADMIN_ORIGIN": env.get("SHOPIFY_ADMIN_ORIGIN", "https://{shop}"),
        # The shop `/dev` plays in development (plugin/dev_shop.py); never used in production.
        "LOYALTY_DEV_SHOP": env.get("LOYALTY_DEV_SHOP", "dev-store.myshopify.com"),
        "SHOPIFY_API_SECRET_PREVIOUS": env.get("SHOPIFY_API_SECRET_PREVIOUS") or None,
        "LOYALTY_ENCRYPTION_KEY_PREVIOUS": env.get("LOYALTY_ENCRYPTION_KEY_PREVIOUS") or None,
        "SHOPIFY_SCOPES": app_toml_scopes(),
        # How often workers look for events whose enqueue was lost; 0 turns the sweeper off.
        "SWEEP_INTERVAL_SECONDS": float(env.get("LOYALTY_SWEEP_INTERVAL", "10")),
        "MAX_CONTENT_LENGTH": MAX_WEBHOOK_BYTES,
        # How long a write waits for a lock before the request answers 503 (Retry-After).
        "LOCK_TIMEOUT_SECONDS": float(env.get("LOYALTY_LOCK_TIMEOUT", "10")),
        # /healthz answers 503 past these: no worker heard from (with Redis), or an event
        # waiting this long to be processed.
        "HEALTH_WORKER_SECONDS": float(env.get("LOYALTY_HEALTH_WORKER_SECONDS", "60")),
        "HEALTH_PENDING_SECONDS": float(env.get("LOYALTY_HEALTH_PENDING_SECONDS", "300")),
        # Processed webhook payloads (raw JSON with customers' data) are blanked after this.
        "PAYLOAD_RETENTION_DAYS": float(env.get("LOYALTY_PAYLOAD_RETENTION_DAYS", "30")),
        # PostgreSQL: the longest statement, and the longest a transaction may sit idle.
        "STATEMENT_TIMEOUT_SECONDS": float(env.get("LOYALTY_STATEMENT_TIMEOUT", "60")),
        # Reverse proxies of this app's own in front of it, each appending to X-Forwarded-For:
        # the shopper's address is the entry the platform's app proxy wrote before theirs.
        "PROXY_HOPS": _hops(env.get("LOYALTY_PROXY_HOPS", "0")),
        # Per API key: requests per second and burst (plugin/api_keys/rate.py).
        "API_KEY_RATE": _api_key_rate(env.get("LOYALTY_API_KEY_RATE", "10/40")),
    }
    config.update(_secrets(env, mode, instance))
    config.update(overrides or {})
    config["DATABASE_URL"] = database_url(config["DATABASE_URL"])
    return config


def _hops(value: str) -> int:
    if not value.isdigit() or int(value) > 10:
        raise ConfigError("LOYALTY_PROXY_HOPS must be a whole number from 0 to 10")
    return int(value)


def _api_key_rate(value: str) -> tuple[float, int]:
    from plugin.api_keys.rate import RateError, parse_rate

    try:
        return parse_rate(value)
    except RateError as error:
        raise ConfigError(str(error)) from None


def _secrets(env: dict, mode: str, instance: Path) -> dict:
    names = ("SHOPIFY_API_KEY", "SHOPIFY_API_SECRET", "LOYALTY_ENCRYPTION_KEY")
    given = {name: env.get(name) for name in names if env.get(name)}
    if len(given) == len(names):
        return given
    if mode == "production":
        missing = ", ".join(name for name in names if name not in given)
        raise ConfigError(f"production needs {missing} in the environment")
    return {**_development_secrets(instance), **given}


def _development_secrets(instance: Path) -> dict:
    """Secrets made once per checkout, so tokens and encrypted rows survive restarts."""
    path = instance / "development-secrets.json"
    if path.exists():
        return json.loads(path.read_text())
    instance.mkdir(parents=True, exist_ok=True)
    made = {
        "SHOPIFY_API_KEY": secrets.token_hex(16),
        "SHOPIFY_API_SECRET": secrets.token_hex(32),
        "LOYALTY_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    path.write_text(json.dumps(made, indent=2))
    path.chmod(0o600)
    return made
