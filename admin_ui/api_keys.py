"""`/api/keys`: the merchant makes, lists and revokes API keys for their scripts (SPEC
"Merchants' scripts"); `/api/keys/writes` is the trail of what keys wrote. A session token
only: admin_ui/auth.py refuses keys here, so a leaked key cannot make more."""
from flask import Blueprint, g, jsonify

from admin_ui.api import error, json_body
from admin_ui.auth import committing
from admin_ui.openapi import documented
from plugin.api_keys.store import (
    create_key,
    key_json,
    live_keys,
    parse_key_request,
    recent_writes,
    revoke_key,
    write_json,
)
from plugin.db import request_session
from plugin.loyalty.fields import InvalidFields

bp = Blueprint("api_keys_api", __name__)  # under /api, authenticated there: admin_ui/api_root.py
ID = "int(max=9223372036854775807)"


@bp.get("/keys")
@documented("The shop's API keys (never their text)", answers={200: "`{keys}`"})
def list_keys():
    return jsonify(keys=[key_json(key) for key in live_keys(request_session(), g.shop.id)])


@bp.post("/keys")
@documented("Make an API key; its text is in this answer only",
            body={"name": "string", "scope": {"enum": ["read", "write"]}}, required=("name", "scope"),
            answers={201: "the key and its `key` text", 422: "a bad or missing name or scope"})
@committing
def add_key():
    session = request_session()
    try:
        key, plain = create_key(session, g.shop.id, *parse_key_request(json_body()))
    except InvalidFields as invalid:
        session.rollback()
        return error(422, "invalid API key", fields=invalid.fields)
    # The only time the key is readable: only its hash is stored.
    return jsonify({**key_json(key), "key": plain}), 201


@bp.delete(f"/keys/<{ID}:key_id>")
@documented("Revoke an API key", answers={200: "`{revoked}`", 404: "no such API key in this shop"})
@committing
def remove_key(key_id: int):
    if not revoke_key(request_session(), g.shop.id, key_id):
        return error(404, "no such API key in this shop")
    return jsonify(revoked=key_id)


@bp.get("/keys/writes")
@documented("The last 100 writes API keys made, with each key's name", answers={200: "`{writes}`"})
def list_writes():
    return jsonify(writes=[write_json(write) for write in recent_writes(request_session(), g.shop.id)])
