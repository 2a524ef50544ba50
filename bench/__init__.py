"""The loyalty app's benchmark, run by `make bench` (`python -m bench`).

It measures, in one run against PostgreSQL and Redis on loopback:

(a) webhook intake served by gunicorn (requests/s, p50/p99 under 32 connections, driven by
    wrk) beside a bare endpoint on the same server, and their ratio;
(b) orders/paid events turned into ledger entries per second by one worker process, with the
    SQL statements each order costs and a ledger consistency check;
(c) redemptions (`POST /api/members/<id>/redemptions`) served by gunicorn against a fake
    platform on loopback that answers every Admin API call in 50 ms: redemptions/s beside
    the ideal (clients / 50 ms), latency, Admin API calls per redemption, ledger checks;
the dashboard figures at scale (`stats`, bench/stats.py, when present);
and pgbench's TPC-B tps on the same server as a baseline to read the figures against.

Modules: `__main__` (orchestration and the summary), `wsgi` (the app gunicorn serves, plus
the bench-only bare route), `services` (scratch databases, Redis, wrk, pgbench), `payloads`
(platform-shaped orders/paid bodies and the order mix), `intake` (gunicorn + wrk), `cpu`
(CPU time per request from /proc), `probe` (what one intake request costs PostgreSQL and
Redis, counted in-process), `drain` (the worker throughput run), `redemptions` (part (c)),
`fake_platform` (the platform part (c) talks to) and `report` (formatting).

Nothing here is part of the product; the bench only reads the app's code and never changes it.
"""
