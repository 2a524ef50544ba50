"""The OpenAPI 3.1 document of `/api`, generated from the app's URL map and the declarations
kept beside each route (`@documented`).

Paths, methods, path parameters (with their converters' types and bounds), the security each
route takes and the answers every route can give (401, 403, 429, 503) come from the URL map
and admin_ui/auth.py, so a route added later is in the document without anyone writing it
there. What the URL map cannot know (a summary, query parameters, the body's fields, the
answers of that route) is declared on the view with `@documented`, next to the code that
reads them. Input is parsed by the project's own parsers (plugin/loyalty/fields.py) into the
422 `{error, fields}` shape; libraries that derive a document from schemas (flask-openapi3,
spectree, flask-smorest) validate with pydantic or marshmallow and answer their own 422, and
apispec would only assemble the dictionaries written here, so none is used.
"""
import re

from flask import Flask
from werkzeug.routing import IntegerConverter, Rule

# Routes under /api that need no credentials: this document and its rendering.
OPEN_ROUTES = frozenset({"/api/openapi.json", "/api/docs"})
# Routes that take the panel's session token only (admin_ui/auth.py SESSION_ONLY).
SESSION_ONLY_PREFIX = "/api/keys"
WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
TYPES = {"string": {"type": "string"}, "integer": {"type": "integer"}, "boolean": {"type": "boolean"},
         "number": {"type": ["string", "number"], "description": "a decimal, as a string or a JSON number"},
         "strings": {"type": "array", "items": {"type": "string"}}, "object": {"type": "object"},
         "integer or null": {"type": ["integer", "null"]},
         "string or integer": {"type": ["string", "integer"]}, "string or null": {"type": ["string", "null"]},
         "date": {"type": "string", "format": "date"}, "date-time or null": {"type": ["string", "null"],
                                                                              "format": "date-time"}}
ERROR = {"$ref": "#/components/schemas/Error"}


def documented(summary: str, query: dict | None = None, body: dict | None = None, required: tuple = (),
               answers: dict | None = None):
    """Declare what the URL map cannot say about a route: `query` and `body` map each field to
    a TYPES name (or a JSON schema), `answers` each status to what it means."""

    def declare(view):
        view.openapi = {"summary": summary, "query": query or {}, "body": body, "required": required,
                        "answers": answers or {}}
        return view

    return declare


def document(app: Flask) -> dict:
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/") or rule.rule in OPEN_ROUTES:
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule), {})[method.lower()] = operation(rule, method, view)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Loyalty admin API", "version": "1",
                 "description": "The JSON API of the merchant's panel and of the merchant's own scripts. "
                                "Authenticate with the panel's session token or an API key (`lk_...`)."},
        "paths": paths,
        "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": {"Error": ERROR_SCHEMA}},
    }


def openapi_path(rule: Rule) -> str:
    """`/api/tiers/<tier_id>` -> `/api/tiers/{tier_id}` (converters included)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def operation(rule: Rule, method: str, view) -> dict:
    declared = getattr(view, "openapi", None) or {"summary": _summary(view), "query": {}, "body": None,
                                                  "required": (), "answers": {}}
    session_only = rule.rule.startswith(SESSION_ONLY_PREFIX)
    found = {
        "operationId": f"{rule.endpoint}.{method.lower()}",
        "summary": declared["summary"],
        "tags": [rule.rule.split("/")[2]],
        "security": [{"sessionToken": []}] if session_only else [{"sessionToken": []}, {"apiKey": []}],
        "parameters": [_path_parameter(rule, name) for name in sorted(rule.arguments)]
        + [{"name": name, "in": "query", "required": False, "schema": _schema(kind)}
           for name, kind in declared["query"].items()],
        "responses": _answers(method, declared, session_only),
    }
    if declared["body"] is not None:
        found["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "properties": {name: _schema(kind) for name, kind in declared["body"].items()},
            **({"required": list(declared["required"])} if declared["required"] else {})}}}}
    if not found["parameters"]:
        del found["parameters"]
    return found


def _summary(view) -> str:
    doc = (view.__doc__ or "").strip().split("\n")[0]
    return doc or view.__name__.replace("_", " ").capitalize()


def _path_parameter(rule: Rule, name: str) -> dict:
    converter = rule._converters.get(name)
    schema = {"type": "string"}
    if isinstance(converter, IntegerConverter):
        schema = {"type": "integer", **({"minimum": 0} if not converter.signed else {}),
                  **({"maximum": converter.max} if converter.max is not None else {})}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _schema(kind) -> dict:
    return kind if isinstance(kind, dict) else TYPES[kind]


def _answers(method: str, declared: dict, session_only: bool) -> dict:
    answers = {str(status): _answer(text, status) for status, text in declared["answers"].items()}
    answers.setdefault("200", _answer("the answer", 200))
    answers["401"] = _answer("no valid session token or API key; a revoked or unknown key", 401)
    if session_only:
        answers["403"] = _answer("an API key: keys cannot create, list or revoke keys", 403)
    elif method in WRITES:
        answers["403"] = _answer("a read-only API key", 403)
    if not session_only:
        answers["429"] = {**_answer("the API key is over its rate limit", 429), "headers": {"Retry-After": {
            "description": "seconds to wait", "schema": {"type": "integer"}}}}
    answers["503"] = _answer("the database was busy; nothing was changed, try again (Retry-After)", 503)
    return dict(sorted(answers.items()))


def _answer(text: str, status: int) -> dict:
    if status == 204:
        return {"description": text}
    schema = ERROR if status >= 400 else {"type": "object"}
    return {"description": text, "content": {"application/json": {"schema": schema}}}


SECURITY_SCHEMES = {
    "sessionToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                     "description": "The embedded panel's session token (App Bridge), valid one minute."},
    "apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "lk_...",
               "description": "An API key made in the panel (API keys page): `Authorization: Bearer lk_...`. "
                              "`read` keys may only GET. Rate-limited per key (429 with Retry-After)."},
}
ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "string"},
                   "fields": {"type": "object", "additionalProperties": {"type": "string"},
                              "description": "422: one message per bad field; `_body` for the body as a whole"}},
}
