"""The HMAC on the admin's query strings (install links, OAuth callbacks, app loads).

Computed by ShopifyAPI's `Session.validate_params` (sorted `k=v` pairs, hex HMAC-SHA256,
constant-time compare, at most a day old). It reads the secret from a class attribute, so
each check uses a throwaway subclass instead of `Session.setup`, which would set it for the
whole process.
"""
from shopify import Session
from werkzeug.datastructures import MultiDict


def signed_params(args: MultiDict) -> dict | None:
    """The query as ShopifyAPI expects it, or None if a plain parameter is repeated."""
    params = {}
    for key, values in args.lists():
        if key.endswith("[]"):
            params[key] = values
        elif len(values) != 1:
            return None  # a repeated parameter could make the signed value ambiguous
        else:
            params[key] = values[0]
    return params


def is_signed_by_platform(args: MultiDict, secrets: list[str | None]) -> bool:
    params = signed_params(args)
    if params is None or "hmac" not in params:
        return False
    try:
        int(params.get("timestamp", ""))
    except ValueError:
        return False
    verdicts = [type("AppSession", (Session,), {"secret": secret}).validate_params(params)
                for secret in secrets if secret]
    return any(verdicts)
