"""Test set-up: a migrated database per run, the app, and the services of the second pass.

Without DATABASE_URL the suite runs on a fresh SQLite file with in-process jobs. With
DATABASE_URL (and REDIS_URL) it creates its own PostgreSQL database for the run, migrates
it, and starts real RQ workers as subprocesses; a service that cannot be reached fails the
run. Tests clean the tables after themselves instead of rolling back a wrapping
transaction, because the workers are other processes and must see committed rows.
"""
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from plugin import create_app, migrate
from plugin.config import database_url
from plugin.db import Base, transaction
from plugin.models import EventStatus, WebhookEvent
from tests.helpers import API_KEY, API_SECRET, ENCRYPTION_KEY

ROOT = Path(__file__).resolve().parent.parent
SERVICES = bool(os.environ.get("DATABASE_URL"))
# Queues of this run only: another run (CI, a colleague) may share the same Redis.
QUEUE_PREFIX = f"loyalty-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def database(tmp_path_factory):
    if not SERVICES:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        migrate.upgrade(url)
        yield url
        return
    base = make_url(database_url(os.environ["DATABASE_URL"]))
    name = f"loyalty_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def app_config(database: str, redis_url: str | None) -> dict:
    return {
        "DATABASE_URL": database, "REDIS_URL": redis_url, "TESTING": True, "QUEUE_PREFIX": QUEUE_PREFIX,
        "SHOPIFY_API_KEY": API_KEY, "SHOPIFY_API_SECRET": API_SECRET,
        "LOYALTY_ENCRYPTION_KEY": ENCRYPTION_KEY, "SWEEP_INTERVAL_SECONDS": 0,
        # Admin API backoff and throttle waits are recorded by the tests that check them.
        "ADMIN_API_SLEEP": lambda seconds: None,
    }


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("REDIS_URL")
    if url:
        Redis.from_url(url).ping()  # fails the run if the queue is unreachable
    return url


@pytest.fixture(scope="session")
def workers(database, redis_url):
    """Two real RQ workers on the test database, when the run has Redis."""
    if not redis_url:
        yield []
        return
    env = {**os.environ, "DATABASE_URL": database, "REDIS_URL": redis_url, "SHOPIFY_API_KEY": API_KEY,
           "SHOPIFY_API_SECRET": API_SECRET, "LOYALTY_ENCRYPTION_KEY": ENCRYPTION_KEY,
           "LOYALTY_SWEEP_INTERVAL": "0", "LOG_LEVEL": "WARNING", "LOYALTY_QUEUE_PREFIX": QUEUE_PREFIX}
    procs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "plugin", "worker"], cwd=ROOT, env=env)
             for _ in range(2)]
    yield procs
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def app(database, redis_url, workers):
    return create_app(app_config(database, redis_url))


@pytest.fixture
def inprocess_app(database):
    """The same database with jobs run in this process (for faults injected into handlers)."""
    return create_app(app_config(database, None))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    """A session for reading what the app wrote: each statement on its own (autocommit), so
    it sees every commit and never holds SQLite's write lock between statements."""
    from sqlalchemy.orm import Session

    from plugin.db import engine

    with app.app_context(), Session(engine().execution_options(isolation_level="AUTOCOMMIT")) as session:
        yield session


@pytest.fixture(autouse=True)
def clean_tables(request, database, redis_url):
    yield
    engine = create_engine(database)
    with engine.begin() as connection:
        names = ", ".join(table.name for table in Base.metadata.sorted_tables)
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
    engine.dispose()
    if redis_url:
        Redis.from_url(redis_url).delete(f"{QUEUE_PREFIX}:drain-scheduled")


@pytest.fixture
def settle(app):
    """Wait until no due event is pending (instant in-process; real workers take a moment)."""

    def wait(timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        with app.app_context():
            while True:
                with transaction() as session:
                    pending = session.scalar(select(func.count()).select_from(WebhookEvent).where(
                        WebhookEvent.status == EventStatus.PENDING))
                if not pending:
                    return
                if time.monotonic() > deadline:
                    raise AssertionError(f"{pending} webhook event(s) still pending after {timeout}s")
                time.sleep(0.05)

    return wait


@pytest.fixture
def live_server(app):
    """The app on a real loopback socket, threaded like a production server."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def send(client, settle):
    """Deliver a signed webhook, check it was accepted, and wait until it is processed."""
    from tests.helpers import signed_webhook

    def deliver(topic: str, payload: dict, **kwargs):
        response = signed_webhook(client, topic, payload, **kwargs)
        assert response.status_code == 200, response.get_json()
        settle()
        return response

    return deliver


@pytest.fixture
def installed(client):
    """SHOP and OTHER_SHOP installed through the real token exchange (tests.helpers.install):
    `/api` serves a shop only once it is known, and never after an uninstall."""
    from tests.helpers import OTHER_SHOP, SHOP, install

    for shop in (SHOP, OTHER_SHOP):
        install(client, shop)


@pytest.fixture
def platform(client):
    """The shop installed (token exchange mocked) and the Admin API mocked from here on."""
    import responses

    from tests.helpers import SHOP, session_token, token_answer, token_endpoint

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.post(token_endpoint(), json=token_answer("shpat_live"))
        assert client.get("/", query_string={"shop": SHOP, "id_token": session_token()}).status_code == 200
        yield mock
