"""Date arithmetic on DATE values in SQL, the same on PostgreSQL and SQLite.

SQLite keeps a DATE as 'YYYY-MM-DD' text and has no date type of its own, so each
expression is compiled for each database: the number of days between two dates, and the
first day of a date's month (as text, 'YYYY-MM-01', comparable and exact on both).
"""
from sqlalchemy import Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class days_between(FunctionElement):
    """`later - earlier` in whole days, for two DATE expressions."""

    type = Integer()
    inherit_cache = True


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return f"(CAST({compiler.process(later, **kw)} AS DATE) - CAST({compiler.process(earlier, **kw)} AS DATE))"


@compiles(days_between)
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (f"CAST(ROUND(julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}))"
            f" AS INTEGER)")


class month_of(FunctionElement):
    """The month of a DATE expression, as the text 'YYYY-MM'."""

    type = String()
    inherit_cache = True


@compiles(month_of, "postgresql")
def _month_of_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


@compiles(month_of)
def _month_of_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"
