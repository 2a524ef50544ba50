"""`GET /api/openapi.json` and `GET /api/docs`: the API's OpenAPI document and a page that
renders it (SPEC "Merchants' scripts"). Open, with no credentials: they describe the API,
never a shop's data. Registered on the app itself, not under the `/api` blueprint whose
guard asks every child for credentials (tests/admin_ui/test_api_guard.py lists them as its
exceptions). The page is rendered here from the document, with no script and nothing
fetched from elsewhere: a merchant's network may not reach a CDN, and neither may the tests.
"""
import json

from flask import Blueprint, current_app, jsonify, render_template

from admin_ui.openapi import document
from plugin.html import html_response

bp = Blueprint("api_docs", __name__, url_prefix="/api", template_folder="templates")


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(_document())


@bp.get("/docs")
def docs():
    spec = _document()
    operations = [(path, method.upper(), op) for path, methods in spec["paths"].items()
                  for method, op in methods.items()]
    return html_response(render_template("api_docs.html", spec=spec, operations=operations, as_json=_schema_text))


def _document() -> dict:
    """Built once per app: the URL map does not change after start."""
    app = current_app._get_current_object()
    if "openapi" not in app.extensions:
        app.extensions["openapi"] = document(app)
    return app.extensions["openapi"]


def _schema_text(schema: dict) -> str:
    return json.dumps(schema, separators=(", ", ": "))
