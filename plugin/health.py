"""`GET /healthz`: does the database answer, does the queue, is anyone processing events?

503 when the database or Redis does not answer, when workers are expected (REDIS_URL set)
and none has sent a heartbeat for HEALTH_WORKER_SECONDS, or when a webhook event that is
due has waited more than HEALTH_PENDING_SECONDS: acknowledged webhooks are piling up.
"""
from datetime import timedelta

from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from plugin.db import engine, reading_session, utcnow
from plugin.models import EventStatus, WebhookEvent
from plugin.queue import heartbeat_key, redis_connection

bp = Blueprint("health", __name__)
HEALTHY = ("ok", "in-process")


@bp.get("/healthz")
def healthz():
    checks = {"database": _database(), "queue": _queue()}
    checks["workers"] = _workers() if checks["queue"] != "unreachable" else "unknown"
    checks["backlog"] = _backlog() if checks["database"] == "ok" else "unknown"
    healthy = all(state in HEALTHY for state in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", **checks), 200 if healthy else 503


def _database() -> str:
    try:
        # Read-only: a health check must not wait for SQLite's write lock behind a busy batch.
        with engine().connect().execution_options(loyalty_reads_only=True) as connection:
            connection.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError:
        return "unreachable"


def _queue() -> str:
    connection = redis_connection()
    if connection is None:
        return "in-process"
    try:
        connection.ping()
        return "ok"
    except RedisError:
        return "unreachable"


def _workers() -> str:
    connection = redis_connection()
    if connection is None:
        return "in-process"
    try:
        return "ok" if connection.exists(heartbeat_key()) else "silent"
    except RedisError:
        return "unknown"


def _backlog() -> str:
    """"ok", or how long the oldest due event has waited when that is too long."""
    session = reading_session()
    try:
        oldest = session.scalar(select(func.min(WebhookEvent.received_at)).where(
            WebhookEvent.status == EventStatus.PENDING, WebhookEvent.next_attempt_at <= utcnow()))
    finally:
        session.close()
    if oldest is None:
        return "ok"
    waited = utcnow() - oldest
    limit = timedelta(seconds=current_app.config["HEALTH_PENDING_SECONDS"])
    return "ok" if waited <= limit else f"oldest event waiting {int(waited.total_seconds())} s"
