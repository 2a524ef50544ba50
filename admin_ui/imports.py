"""The admin API for imports from another loyalty app (SPEC "Moving in ... (imports)").

A file that is not a CSV table we can read (not UTF-8, binary, a line past the limit, a
missing column) is answered 422 with its `errors` and nothing is kept; a readable file is
a previewed import (201), whose row errors are listed and block the apply.
"""
from flask import Blueprint, Response, g, jsonify, request, stream_with_context
from sqlalchemy import event as orm_event
from sqlalchemy.exc import IntegrityError

from admin_ui.api import error
from admin_ui.auth import committing
from admin_ui.openapi import documented
from plugin.db import request_session
from plugin.ids import parse_id
from plugin.loyalty.fields import InvalidFields
from plugin.loyalty.imports.applying import ALREADY as ALREADY_CODE
from plugin.loyalty.imports.applying import ImportRefused, apply_import, find_import, revert_import, start_apply
from plugin.loyalty.imports.export import balances_csv
from plugin.loyalty.imports.formats import FORMATS
from plugin.loyalty.imports.history_export import history_csv, parse_span
from plugin.loyalty.imports.jobs import INLINE_ROWS, apply_after_commit
from plugin.loyalty.imports.listing import import_json, import_sample, recent_imports
from plugin.loyalty.imports.past_orders import start_past_orders
from plugin.loyalty.imports.previews import preview_import
from plugin.loyalty.imports.reading import FileRefused
from plugin.loyalty.imports.rows import KINDS
from plugin.loyalty.imports.store_lookup import store_search
from plugin.models import ImportStatus
from plugin.queue import request as request_job

bp = Blueprint("imports_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py
# The app's limit is 1 MB (webhooks); a points export of a large store is far bigger. The
# upload is spooled to disk by Werkzeug past 500 KB and read line by line from there.
MAX_UPLOAD = 256 * 1024 * 1024
ALREADY = "this file was already imported in this shop"


@bp.post("/imports")
@documented("Preview a CSV of balances or history (multipart: `file`, `kind`, `format`); nothing is applied",
            answers={201: "the preview, with its errors per row", 422: "a file, kind or format that cannot be read"})
@committing
def upload():
    request.max_content_length = MAX_UPLOAD
    fields = _upload_fields()
    if isinstance(fields, dict):
        return error(422, "invalid import", fields=fields)
    file, kind, fmt = fields
    try:
        imported = preview_import(request_session(), g.shop, file.stream, kind, fmt,
                                  store_search(g.shop.id, g.shop.domain))
    except FileRefused as refused:
        request_session().rollback()
        return error(422, "the file cannot be imported", errors=[refused.problem.json()])
    return jsonify({**import_json(request_session(), imported),
                    "sample": import_sample(request_session(), imported)}), 201


def _upload_fields():
    file, kind, fmt = request.files.get("file"), request.form.get("kind", "balances"), \
        request.form.get("format", "generic")
    problems = {}
    if file is None:
        problems["file"] = "a CSV file is required (multipart field `file`)"
    if kind not in KINDS:
        problems["kind"] = f"must be one of {', '.join(KINDS)}"
    if fmt not in FORMATS:
        problems["format"] = f"must be one of {', '.join(FORMATS)}"
    return problems or (file, kind, fmt)


@bp.post("/imports/orders")
@documented("Start from the store's past: preview points for the orders of the last `days` days (up to 60 "
            "without read_all_orders), read by the store's bulk operation in the background",
            body={"days": "integer"}, required=("days",),
            answers={202: "the import, `fetching`; poll it until `previewed`", 422: "a bad number of days"})
@committing
def past_orders():
    body = request.get_json(silent=True)
    try:
        imported = start_past_orders(request_session(), g.shop, (body or {}).get("days") if isinstance(body, dict)
                                     else None)
    except InvalidFields as invalid:
        request_session().rollback()
        return error(422, "invalid days", fields=invalid.fields)
    after_commit(request_session(), lambda: request_job("past-orders", job_id=f"past-orders-{imported.id}"))
    return jsonify(import_json(request_session(), imported)), 202


def after_commit(session, ask) -> None:
    """Ask for a job once the request's transaction commits (the job must find the rows)."""
    orm_event.listen(session, "after_commit", lambda _: ask(), once=True)


@bp.get("/members/export")
@documented("Every member's balance as CSV, in the generic import format",
            answers={200: "the CSV, streamed"})
def export_members():
    """Every member's balance in the generic import format (plugin/loyalty/imports/export.py)."""
    session, shop_id = request_session(), g.shop.id
    return Response(stream_with_context(balances_csv(session, shop_id)), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="members.csv"'})


@bp.get("/ledger/export")
@documented("The points history as CSV, in the generic import format (`kind=history`)",
            query={"from": "date", "to": "date"},
            answers={200: "the CSV, streamed", 422: "a bad period"})
def export_ledger():
    """Every entry that moved points in the period (plugin/loyalty/imports/history_export.py)."""
    session, shop_id = request_session(), g.shop.id
    try:
        span = parse_span(session, shop_id, request.args.get("from"), request.args.get("to"))
    except InvalidFields as invalid:
        return error(422, "invalid period", fields=invalid.fields)
    return Response(stream_with_context(history_csv(session, shop_id, span)), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="ledger.csv"'})


@bp.get("/imports")
@documented("The shop's imports, newest first", answers={200: "the imports"})
def list_imports():
    session = request_session()
    return jsonify(imports=[import_json(session, i) for i in recent_imports(session, g.shop.id)])


@bp.get("/imports/<import_id>")
@documented("One import", answers={200: "the import", 404: "no such import in this shop"})
def read_import(import_id: str):
    imported = _find(import_id)
    if imported is None:
        return error(404, "no such import in this shop")
    return jsonify({**import_json(request_session(), imported), "sample": import_sample(request_session(), imported)})


@bp.post("/imports/<import_id>/apply")
@documented("Apply a previewed import that has no errors; a large one is applied by a job (202, then poll "
            "`rows_done` / `rows`)",
            answers={200: "the import, applied", 202: "the import, `applying` in the background",
                     404: "no such import", 409: "the same file applied already",
                     422: "the preview has errors, or the import was reverted"})
@committing
def apply(import_id: str):
    return _change(import_id, _apply)


def _apply(session, imported):
    """Small files are applied here; a large one, or past orders, go to a job (202)."""
    if imported.kind == "orders":
        if start_apply(session, imported) or imported.status is ImportStatus.APPLYING:
            after_commit(session, lambda: request_job("past-orders", job_id=f"past-orders-{imported.id}-apply"))
            return 202
        return 200
    if imported.rows <= INLINE_ROWS:
        apply_import(session, imported)
        return 200
    if start_apply(session, imported) or imported.status is ImportStatus.APPLYING:
        apply_after_commit(session, imported.id)
        return 202
    return 200


@bp.post("/imports/<import_id>/revert")
@documented("Take back what an applied import's points still hold",
            answers={200: "the import, reverted, with what could not be taken back", 404: "no such import"})
@committing
def revert(import_id: str):
    return _change(import_id, revert_import)


def _change(import_id: str, change):
    imported = _find(import_id, lock=True)
    if imported is None:
        return error(404, "no such import in this shop")
    try:
        status = change(request_session(), imported)
    except ImportRefused as refused:
        request_session().rollback()
        if refused.code == ALREADY_CODE:
            return error(409, str(refused), code=refused.code)
        return error(422, str(refused))
    except IntegrityError:  # the same bytes applied by a concurrent request first
        request_session().rollback()
        return error(409, ALREADY, code="already_imported")
    return jsonify(import_json(request_session(), imported)), status if isinstance(status, int) else 200


def _find(import_id: str, lock: bool = False):
    number = parse_id(import_id)
    return None if number is None else find_import(request_session(), g.shop.id, number, lock)
