"""Sending HTML as `application/liquid`, so the store renders it inside its own theme layout.

The store runs the answer through Liquid before it shows it: a reward name the merchant typed,
or a name a shopper gave, holding `{{ customer.email }}` or `{% raw %}` would run there
(the platform's APP_PROXY_LIQUID_INJECTION check). Our HTML comes from Jinja templates whose
own delimiters are consumed when they render, so any `{{` or `{%` left in the text came from a
value: its brace becomes the entity `&#123;`, which Liquid leaves alone and the browser shows
as `{`. A lone brace (CSS, a regex pattern) is no delimiter and is kept.
"""
import re

from flask import Response

from plugin.html import frame_policy

DELIMITER = re.compile(r"\{(?=[{%])")


def neutralised(html: str) -> str:
    """`html` with no Liquid delimiter left in it."""
    return DELIMITER.sub("&#123;", html)


def liquid_response(html: str, status: int = 200) -> Response:
    response = Response(neutralised(html), status=status, mimetype="application/liquid")
    response.headers["Content-Security-Policy"] = frame_policy(None)
    return response
