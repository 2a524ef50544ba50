"""The per-key rate limit (`LOYALTY_API_KEY_RATE`): past the burst a key gets 429 with
`Retry-After`, and is served again once its bucket refills. With Redis the bucket is shared
by every process of the deployment: a second process finds it already spent."""
import json
import os
import subprocess
import sys
import time

import pytest

from plugin.api_keys.rate import RateError, parse_rate
from plugin.config import ConfigError, load_config
from tests.conftest import SERVICES
from tests.helpers import API_KEY, API_SECRET, ENCRYPTION_KEY, ROOT, auth, table_counts


@pytest.fixture
def slow_rate(app, monkeypatch):
    """A token every 5 seconds, a burst of three: slow enough that a loaded machine cannot
    refill the bucket between a test's quick requests."""
    monkeypatch.setitem(app.config, "API_KEY_RATE", (0.2, 3))


def make_key(client, scope="write") -> str:
    made = client.post("/api/keys", headers=auth(), json={"name": "script", "scope": scope})
    assert made.status_code == 201
    return made.get_json()["key"]


def test_past_its_burst_a_key_gets_429_with_retry_after_then_is_served_again(client, installed, slow_rate, db):
    key = {"Authorization": f"Bearer {make_key(client)}"}
    assert [client.get("/api/program", headers=key).status_code for _ in range(3)] == [200] * 3
    before = table_counts(db)
    refused = client.post("/api/members/7001/adjustments", headers=key, json={"points": 5, "reason": "x"})
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 5
    assert refused.get_json() == {"error": f"this API key is over its rate limit; try again in {wait} s"}
    assert table_counts(db) == before
    # The panel's session token is not a key: it is never limited.
    assert client.get("/api/program", headers=auth()).status_code == 200
    time.sleep(wait)
    assert client.get("/api/program", headers=key).status_code == 200
    assert client.get("/api/program", headers=key).status_code == 429


def test_each_key_has_its_own_bucket(client, installed, slow_rate):
    one = {"Authorization": f"Bearer {make_key(client)}"}
    other = client.post("/api/keys", headers=auth(), json={"name": "other", "scope": "read"}).get_json()["key"]
    for _ in range(3):
        client.get("/api/program", headers=one)
    assert client.get("/api/program", headers=one).status_code == 429
    assert client.get("/api/program", headers={"Authorization": f"Bearer {other}"}).status_code == 200


@pytest.mark.skipif(not SERVICES, reason="the embedded default keeps buckets per process (README: API keys)")
def test_with_redis_a_second_process_draws_from_the_same_bucket(app, client, installed, database, redis_url,
                                                                  monkeypatch):
    # Refilling once a minute: the second process takes seconds to start, and must not find a refill.
    monkeypatch.setitem(app.config, "API_KEY_RATE", (1 / 60, 3))
    key = make_key(client)
    headers = {"Authorization": f"Bearer {key}"}
    assert [client.get("/api/program", headers=headers).status_code for _ in range(2)] == [200] * 2
    assert other_process_statuses(app, database, redis_url, key, 2) == [200, 429]
    refused = client.get("/api/program", headers=headers)
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60


def other_process_statuses(app, database: str, redis_url: str, key: str, count: int) -> list[int]:
    """GET /api/program `count` times from a fresh Python process with its own app."""
    script = ("import json, sys; from plugin import create_app; c = create_app().test_client(); "
              "key = {'Authorization': 'Bearer ' + sys.argv[1]}; "
              f"print(json.dumps([c.get('/api/program', headers=key).status_code for _ in range({count})]))")
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url,
           "LOYALTY_QUEUE_PREFIX": app.config["QUEUE_PREFIX"],
           "SHOPIFY_API_KEY": API_KEY, "SHOPIFY_API_SECRET": API_SECRET, "LOYALTY_ENCRYPTION_KEY": ENCRYPTION_KEY,
           "LOYALTY_API_KEY_RATE": f"{1 / 60}/3", "LOYALTY_SWEEP_INTERVAL": "0", "LOG_LEVEL": "WARNING"}
    done = subprocess.run([sys.executable, "-c", script, key], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("value, expected", [("10/40", (10.0, 40)), ("0.5/1", (0.5, 1))])
def test_the_rate_setting_reads_per_second_and_burst(value, expected):
    assert parse_rate(value) == expected


@pytest.mark.parametrize("value", ["10", "10/", "/40", "0/40", "10/0", "ten/40", "nan/4", "inf/4", "10/4.5"])
def test_a_bad_rate_setting_stops_the_app_from_starting(tmp_path, value):
    with pytest.raises(RateError):
        parse_rate(value)
    with pytest.raises(ConfigError, match="LOYALTY_API_KEY_RATE"):
        load_config(str(tmp_path), {"LOYALTY_API_KEY_RATE": value})
