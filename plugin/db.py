"""Database plumbing: the engine, sessions, the declarative base and the column types.

One engine per app. Services receive a `Session` and never commit; the request (see
`request_session`) or the job wrapper owns the transaction. The column types here exist
because SQLite, the embedded default, has no decimal and no time zone: money must come
back as the exact Decimal that went in, and every time as aware UTC.

SQLite has no row locks, so a transaction that reads a balance and then writes must hold
the database's write lock from its first read: every transaction begins with `BEGIN
IMMEDIATE` (SQLAlchemy's pysqlite recipe: pysqlite's own BEGIN comes only at the first
write, after the reads it should have covered). Only sessions that cannot write (GET
requests, see `request_session`) begin DEFERRED, so under WAL they read while a job
writes. A writer that waits past the busy timeout fails with `is_busy(error)`, which the
app answers with 503 and `Retry-After`, never a 500.
"""
import json
import os
import weakref
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal

from flask import current_app, g, has_request_context, request
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, Numeric, String, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")
# Points are 64-bit: a shop in IDR or VND passes 2**31 points at ordinary lifetime spend.
# (SQLite's INTEGER is 64-bit already.)
Points = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, also on SQLite, which stores them naive."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class ExactDecimal(TypeDecorator):
    """NUMERIC on PostgreSQL; on SQLite a string, since its REAL would round money."""

    impl = Numeric(18, 6)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(18, 6))

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return str(Decimal(value)) if dialect.name == "sqlite" else Decimal(value)

    def process_result_value(self, value, dialect):
        return None if value is None else plain_decimal(Decimal(value))


def plain_decimal(value: Decimal) -> Decimal:
    """Without trailing zeros, and without an exponent: 10, not 1E+1; 2.5, not 2.500000."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# How long a writer waits for a lock (SQLite's write lock, a PostgreSQL row lock) before
# giving up; a request that gives up answers 503 with Retry-After.
DEFAULT_LOCK_TIMEOUT_SECONDS = 10.0
# The longest a PostgreSQL statement, or a transaction left idle, may last.
DEFAULT_STATEMENT_TIMEOUT_SECONDS = 60.0
# Methods whose request session only reads (begins DEFERRED on SQLite).
READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# PostgreSQL: lock_not_available (lock_timeout), query_canceled (statement_timeout),
# deadlock_detected and serialization_failure. All mean "try again", not "this is wrong".
BUSY_SQLSTATES = frozenset({"55P03", "57014", "40P01", "40001"})


def make_engine(url: str, lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
                statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT_SECONDS) -> Engine:
    # hide_parameters: a failed statement's message must not carry a customer's email into a
    # log line or an event's stored error.
    if url.startswith("sqlite"):
        # SQLite's file connections are cheap, and the threaded server may run many requests.
        engine = create_engine(url, connect_args={"timeout": lock_timeout}, pool_size=10, max_overflow=30,
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    else:
        # No pre-ping: it would add a round trip to every webhook. A connection that died with a
        # database restart fails one request (the platform retries it) and is then replaced.
        # Every transaction is bounded, so a process that dies or hangs mid-batch cannot keep
        # its row locks: the server ends an idle transaction and cancels a stuck statement.
        options = (f"-c lock_timeout={int(lock_timeout * 1000)} "
                   f"-c statement_timeout={int(statement_timeout * 1000)} "
                   f"-c idle_in_transaction_session_timeout={int(statement_timeout * 1000)}")
        engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800, hide_parameters=True,
                               connect_args={"options": options})
    _forget_pool_in_forked_children(engine)
    return engine


def _forget_pool_in_forked_children(engine: Engine) -> None:
    """A forked child (RQ's scheduler, gunicorn's workers) must not use its parent's open
    connections: SQLAlchemy's documented pattern, `dispose(close=False)` in the child."""
    engine_ref = weakref.ref(engine)

    def after_fork_in_child():
        forked = engine_ref()
        if forked is not None:
            forked.dispose(close=False)

    os.register_at_fork(after_in_child=after_fork_in_child)


def _sqlite_pragmas(dbapi_connection, _record):
    # WAL lets the panel read while a job writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # We emit BEGIN ourselves (see `_sqlite_begin`); pysqlite must not add its own.
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Connection) -> None:
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return  # a single statement that is its own transaction (the webhook intake)
    connection.exec_driver_sql("BEGIN DEFERRED" if options.get("loyalty_reads_only") else "BEGIN IMMEDIATE")


def is_busy(error: BaseException) -> bool:
    """The database was too busy to serve this (lock wait timed out, deadlock): try again."""
    if not isinstance(error, DBAPIError):
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    message = str(original).lower()
    return type(original).__module__ == "sqlite3" and ("database is locked" in message or "busy" in message)


def insert_for(session_or_conn, table):
    """The dialect's INSERT, which knows ON CONFLICT, for the bind in use."""
    dialect = session_or_conn.get_bind().dialect.name if isinstance(session_or_conn, Session) else session_or_conn.dialect.name
    return dialect_insert(dialect)(table)


def dialect_insert(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_new(session: Session, table, rows: list[dict], returning) -> list:
    """INSERT many rows, skipping those a unique key already holds; `returning` of the new ones.

    On PostgreSQL the rows travel as ONE JSON parameter unpacked by `jsonb_to_recordset`: a
    multi-row VALUES of a 250-order batch has thousands of parameters, and psycopg parses
    such a statement anew each time (its cache keeps short ones), which cost more than the
    insert itself. SQLite takes SQLAlchemy's multi-row INSERT as it is.
    """
    if not rows:
        return []
    if session.get_bind().dialect.name != "postgresql":
        return list(session.scalars(insert_for(session, table).on_conflict_do_nothing().returning(returning), rows))
    columns = [column for column in table.columns if column.name in rows[0] or _client_default(column)]
    defaults = {column.name: _client_default(column) for column in columns if column.name not in rows[0]}
    records = [{**{name: make() for name, make in defaults.items()}, **row} for row in rows]
    dialect = session.get_bind().dialect
    names = ", ".join(column.name for column in columns)
    shape = ", ".join(f"{column.name} {column.type.compile(dialect=dialect)}" for column in columns)
    statement = text(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM jsonb_to_recordset(CAST(:rows AS jsonb)) "
                     f"AS r({shape}) ON CONFLICT DO NOTHING RETURNING {returning.name}")
    return list(session.scalars(statement, {"rows": json.dumps(records, default=_json_value)}))


def _client_default(column):
    """A function making the column's Python-side default, or None (no default, or the key)."""
    if column.primary_key or column.default is None:
        return None
    default = column.default
    return (lambda: default.arg(None)) if default.is_callable else (lambda: default.arg)


def _json_value(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, (Decimal, date)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def init_app(app) -> None:
    engine = make_engine(app.config["DATABASE_URL"], app.config["LOCK_TIMEOUT_SECONDS"],
                         app.config["STATEMENT_TIMEOUT_SECONDS"])
    app.extensions["engine"] = engine
    app.extensions["sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.extensions["reading_sessionmaker"] = sessionmaker(engine.execution_options(loyalty_reads_only=True),
                                                          expire_on_commit=False)
    # Closed after each request even when an outer app context (a CLI command, a test) lives
    # on: a session kept across requests would keep its snapshot, or SQLite's write lock.
    app.teardown_request(_close_request_session)
    app.teardown_appcontext(_close_request_session)


def engine() -> Engine:
    return current_app.extensions["engine"]


def new_session() -> Session:
    return current_app.extensions["sessionmaker"]()


def reading_session() -> Session:
    """A session that only reads: on SQLite it does not wait for, or hold, the write lock."""
    return current_app.extensions["reading_sessionmaker"]()


def request_session() -> Session:
    """The session of the current request or CLI command; closed when its context ends.

    A GET request's session only reads (DEFERRED on SQLite); a GET view that must write
    (an install, a first visit) does so in its own `transaction()`.
    """
    if "db_session" not in g:
        reading = has_request_context() and request.method in READING_METHODS
        g.db_session = reading_session() if reading else new_session()
    return g.db_session


def _close_request_session(_exc) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def transaction():
    """A session whose work is committed on success and rolled back on any error."""
    session = new_session()
    try:
        with session.begin():
            yield session
    finally:
        session.close()
