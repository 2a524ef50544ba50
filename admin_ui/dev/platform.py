"""The development platform's HTTP face: `/dev/platform/<shop>/admin/...`.

`admin_origin` (plugin/shopify/grants.py, decided in plugin/dev_shop.py) sends the
development shop's OAuth and Admin API calls here, in development only. It answers like
the platform (SHOPIFY.md 3.2, 3.3, 6): the token endpoint grants expiring offline tokens by
token exchange (the id token verified as the platform would) and by refresh (each refresh
token works once), and GraphQL checks `X-Shopify-Access-Token` against the tokens it
issued (401 otherwise). Every other shop is 404 here, whatever it sends.
"""
from flask import Blueprint, Response, abort, current_app, jsonify, request

from admin_ui.dev import bulk_orders, graphql, records
from admin_ui.dev.guard import only_in_development
from plugin.db import transaction
from plugin.dev_shop import is_dev_shop
from plugin.shopify.grants import ID_TOKEN, TOKEN_EXCHANGE
from plugin.shopify.session_tokens import InvalidSessionToken, shop_from_header

bp = Blueprint("dev_platform", __name__, url_prefix="/dev/platform/<shop>")
bp.before_request(only_in_development)
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
REFRESH_TOKEN_SECONDS = int(records.REFRESH_LIFETIME.total_seconds())


@bp.url_value_preprocessor
def only_the_development_shop(endpoint, values):
    if not is_dev_shop((values or {}).get("shop")):
        abort(404)


@bp.post("/admin/oauth/access_token")
def access_token(shop: str):
    fields = request.form if request.form else (request.get_json(silent=True) or {})
    config = current_app.config
    client = (fields.get("client_id"), fields.get("client_secret"))
    if client != (config["SHOPIFY_API_KEY"], config["SHOPIFY_API_SECRET"]):
        return _oauth_error("invalid_client")
    grant = fields.get("grant_type")
    with transaction() as session:
        if grant == TOKEN_EXCHANGE:
            if fields.get("subject_token_type") != ID_TOKEN or not _id_token_names(shop, fields.get("subject_token")):
                return _oauth_error("invalid_subject_token")
        elif grant == "refresh_token":
            if not records.spend_refresh_token(session, shop, str(fields.get("refresh_token") or "")):
                return _oauth_error("invalid_grant")
        else:
            # No authorize page here, so no authorization code was ever issued to trade in.
            return _oauth_error("invalid_grant" if fields.get("code") else "unsupported_grant_type")
        access, refresh = records.issue_tokens(session, shop)
    return jsonify(access_token=access, scope=config["SHOPIFY_SCOPES"],
                   expires_in=int(records.ACCESS_LIFETIME.total_seconds()), refresh_token=refresh,
                   refresh_token_expires_in=REFRESH_TOKEN_SECONDS)


def _id_token_names(shop: str, id_token) -> bool:
    config = current_app.config
    try:
        return shop_from_header(f"Bearer {id_token}", config["SHOPIFY_API_KEY"], config["SHOPIFY_API_SECRET"]) == shop
    except InvalidSessionToken:
        return False


def _oauth_error(code: str):
    return jsonify(error=code), 400


@bp.post("/admin/api/<version>/graphql.json")
def graphql_endpoint(shop: str, version: str):
    parsed = _graphql_body()
    try:
        with transaction() as session:
            if not records.access_token_valid(session, shop, request.headers.get("X-Shopify-Access-Token")):
                return jsonify(errors=INVALID_TOKEN), 401
            if parsed is None:
                return jsonify(errors={"query": "Required parameter missing or invalid"}), 400
            return jsonify(graphql.run(session, shop, *parsed))
    except graphql.UnsupportedDocument as refused:  # raised out of the transaction: nothing is kept
        return jsonify(graphql.answer(errors=[{"message": str(refused)}]))


@bp.get("/bulk/<seconds>.jsonl")
def bulk_result(shop: str, seconds: str):
    """A bulk operation's result (bulk_orders.py); like the platform's, it needs no token."""
    if not seconds.isdigit() or len(seconds) > 12:
        abort(404)
    with transaction() as session:
        body = "".join(bulk_orders.result_lines(session, shop, int(seconds)))
    return Response(body, mimetype="application/jsonl")


def _graphql_body() -> tuple[str, dict] | None:
    """(query, variables) from `{"query": ..., "variables": {...}}`, or None."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return None
    variables = body.get("variables") or {}
    return (body["query"], variables) if isinstance(variables, dict) else None
