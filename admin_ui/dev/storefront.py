"""The development store's storefront: `/apps/loyalty/...` played as the platform's app proxy.

On a real store the platform forwards `https://<shop>/apps/loyalty/...` to `/proxy/...` with
`shop`, `logged_in_customer_id`, `path_prefix`, `timestamp` and `signature` appended
(SHOPIFY.md 4). Here the browser is sent (307, so a redeem form's POST body goes along) to
that same signed `/proxy/...` URL, so the real proxy guard checks every request. Who is
"logged in" is a cookie set by the /dev page's "Open the storefront page as"; development
only, like every route of this package.
"""
import hashlib
import hmac
import time
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, request

from admin_ui.dev.guard import only_in_development
from plugin.dev_shop import dev_shop_domain
from plugin.ids import parse_id

PREFIX = "/apps/loyalty"  # shopify.app.toml [app_proxy] prefix and subpath
CUSTOMER_COOKIE = "dev_store_customer"
bp = Blueprint("dev_storefront", __name__, url_prefix=PREFIX)
bp.before_request(only_in_development)


def proxy_signature(params: list[tuple[str, str]], secret: str) -> str:
    """The app proxy's signature (SHOPIFY.md 4): sorted keys, a repeated key's values joined
    with commas, `key=value` pairs joined with nothing, HMAC-SHA256 with the app secret, hex."""
    values: dict[str, list[str]] = {}
    for key, value in params:
        values.setdefault(key, []).append(value)
    message = "".join(f"{key}={','.join(values[key])}" for key in sorted(values))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signed_proxy_url(path: str, customer_id: int | None, extra: list[tuple[str, str]] = ()) -> str:
    """`/proxy<path>` as the platform's proxy would forward a storefront request for the
    development shop: its parameters appended and signed, fresh (the guard allows 90 s)."""
    params = [*extra, ("shop", dev_shop_domain()),
              ("logged_in_customer_id", "" if customer_id is None else str(customer_id)),
              ("path_prefix", PREFIX), ("timestamp", str(int(time.time())))]
    signature = proxy_signature(params, current_app.config["SHOPIFY_API_SECRET"])
    return f"/proxy{path}?{urlencode([*params, ('signature', signature)])}"


def logged_in_customer() -> int | None:
    return parse_id(request.cookies.get(CUSTOMER_COOKIE, ""))


@bp.route("/", defaults={"path": ""}, methods=["GET", "POST"])
@bp.route("/<path:path>", methods=["GET", "POST"])
def forward(path: str):
    # Only the shopper's own query goes along; the proxy's parameters are always ours.
    extra = [(key, value) for key, value in request.args.items(multi=True)
             if key not in ("shop", "logged_in_customer_id", "path_prefix", "timestamp", "signature", "format")]
    if path == "":  # no theme here renders Liquid: the page comes as a standalone document
        extra.append(("format", "html"))
    return redirect(signed_proxy_url(f"/{path}", logged_in_customer(), extra), 307)
