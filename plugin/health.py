"""`GET /healthz`: does the database answer, and does the queue (if any)?"""
from flask import Blueprint, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from plugin.db import engine
from plugin.jobs import redis_connection

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    checks = {"database": _database(), "queue": _queue()}
    healthy = all(state in ("ok", "in-process") for state in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", **checks), 200 if healthy else 503


def _database() -> str:
    try:
        with engine().connect() as connection:
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
