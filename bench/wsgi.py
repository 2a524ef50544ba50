"""The WSGI app gunicorn serves during the bench: the real app plus a bare route.

`gunicorn bench.wsgi:app` builds the product app with `plugin.create_app()` (configured by
the environment the bench gives the server: DATABASE_URL, REDIS_URL and the secrets) and
adds `/bench/bare`, which only answers 200. The bare route exists in this module only, never
in the product; it goes through the same server, Flask routing and app context as
`POST /webhooks`, so the ratio of the two isolates what intake itself costs.
"""
from plugin import create_app

app = create_app()


@app.route("/bench/bare", methods=["GET", "POST"])
def bench_bare():
    return "", 200
