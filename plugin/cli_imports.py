"""`flask --app plugin import-points FILE --shop DOMAIN`: the import use case from a terminal.

A dry run (no `--apply`) previews in a transaction that is rolled back: it prints what the
import would do and keeps nothing; a file with errors leaves nothing behind either. With
`--apply` the preview is committed as an `applying` import, then applied here a batch at a
time (plugin/loyalty/imports/jobs.py), each batch committed, with a progress line
(`applied 20000 / 1000000 rows`). Stopped half-way, the periodic "imports" job of a worker
finishes it.
"""
import click
from flask.cli import with_appcontext

from plugin.db import new_session
from plugin.loyalty.imports.applying import ImportRefused, start_apply
from plugin.loyalty.imports.formats import FORMATS
from plugin.loyalty.imports.jobs import apply_in_batches
from plugin.loyalty.imports.previews import preview_import
from plugin.loyalty.imports.reading import FileRefused
from plugin.loyalty.imports.rows import KINDS
from plugin.loyalty.imports.store_lookup import store_search
from plugin.loyalty.shops import find_shop


@click.command("import-points")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--shop", "domain", required=True, help="The shop's myshopify domain.")
@click.option("--kind", type=click.Choice(KINDS), default="balances", show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="generic", show_default=True)
@click.option("--apply", "apply", is_flag=True, help="Apply the import (without it: a dry run).")
def import_points(path: str, domain: str, kind: str, fmt: str, apply: bool):
    """Import points from another loyalty app's CSV export (a dry run unless --apply)."""
    session = new_session()
    try:
        with session.begin():
            shop = find_shop(session, domain)
            if shop is None:
                raise click.ClickException(f"no shop {domain} is installed")
            with open(path, "rb") as stream:
                imported = _preview(session, shop, stream, kind, fmt)
            _report(imported)
            if imported.errors_total:
                raise click.ClickException(f"{imported.errors_total} row(s) cannot be imported: nothing applied")
            if not apply:
                click.echo("dry run: nothing applied (add --apply to apply)")
                session.rollback()
                return
            _start(session, imported)
            import_id, rows = imported.id, imported.rows
            summary = f"{imported.points_total} points to {imported.members_matched + imported.members_new} members"
    finally:
        session.close()
    apply_in_batches(import_id, lambda done: click.echo(f"\rapplied {done.rows_done} / {rows} rows", nl=False))
    click.echo(f"\nimport {import_id} applied: {summary}")


def _preview(session, shop, stream, kind: str, fmt: str):
    try:
        return preview_import(session, shop, stream, kind, fmt, store_search(shop.id, shop.domain))
    except FileRefused as refused:
        problem = refused.problem
        raise click.ClickException(f"row {problem.row}: {problem.message}") from None


def _report(imported) -> None:
    click.echo(f"rows {imported.rows}: members matched {imported.members_matched}, new {imported.members_new}, "
               f"points {imported.points_total}, errors {imported.errors_total}")
    for problem in imported.errors[:20]:
        click.echo(f"  row {problem['row']} {problem['field'] or ''}: {problem['message']}")


def _start(session, imported) -> None:
    try:
        start_apply(session, imported)
    except ImportRefused as refused:
        raise click.ClickException(str(refused)) from None
    click.echo(f"import {imported.id}: applying")
