"""Small HTML answers (install errors, the embedded shell) and the frame-ancestors CSP.

Every HTML response says who may frame it: the shop's admin for embedded pages, nobody for
the rest (SHOPIFY.md 7). The shop put in the header must already be validated.
"""
from html import escape

from flask import Response

from plugin.dev_shop import is_dev_shop


def frame_policy(shop: str | None) -> str:
    if shop is None:
        return "frame-ancestors 'none';"
    # In development the /dev page, served by this app, plays the admin for the development shop.
    local = " 'self'" if is_dev_shop(shop) else ""
    return f"frame-ancestors https://{shop} https://admin.shopify.com{local};"


def message_page(title: str, message: str, status: int, shop: str | None = None) -> Response:
    body = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title></head>"
            f"<body style=\"font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;line-height:1.5\">"
            f"<h1>{escape(title)}</h1><p>{escape(message)}</p></body></html>")
    return html_response(body, status, shop)


def private_no_store(response):
    """`after_request` hook for answers about one shopper or one shop's customers."""
    response.headers["Cache-Control"] = "private, no-store"
    return response


def html_response(body: str, status: int = 200, shop: str | None = None) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = frame_policy(shop)
    response.headers["Cache-Control"] = "no-store"
    return response
