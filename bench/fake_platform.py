"""A fake commerce platform on loopback for part (c): token endpoint and Admin GraphQL API.

The app is configured with SHOPIFY_ADMIN_ORIGIN="http://127.0.0.1:<port>/{shop}", so every
call it makes to the platform lands here:

- `POST /{shop}/admin/oauth/access_token`: token exchange (the session token is checked:
  HS256 with the app's secret, `aud` = API key, `dest` = this shop) and refresh-token grants
  answer an expiring offline token, shaped like tests/helpers.py `token_answer`;
- `POST /{shop}/admin/api/<version>/graphql.json`: `discountCodeBasicCreate` and
  `discountCodeFreeShippingCreate` answer a new `codeDiscountNode` id, `codeDiscountNodeByCode`
  looks a code up. A code seen before gets the platform's `TAKEN` user error.

Every call is answered `delay` seconds after its request line was read (50 ms by default),
the platform's own latency. The server counts calls by kind and TCP connections, and checks
each Admin API call's `X-Shopify-Access-Token` against the tokens it issued (401 otherwise,
as the platform does). It runs in the bench's process, in threads: while wrk drives the app
the bench process only waits, so nothing else competes for its GIL.
"""
import json
import re
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import jwt

ROUTE = re.compile(r"^/([a-z0-9][a-z0-9-]*\.myshopify\.com)/admin/(?:(oauth/access_token)|api/([^/]+)/graphql\.json)$")
OPERATIONS = ("discountCodeBasicCreate", "discountCodeFreeShippingCreate", "codeDiscountNodeByCode")
# The store sync's customer writes (part "events", bench/events.py): accepted and kept.
CUSTOMER_OPERATIONS = ("metafieldsSet", "metafieldsDelete", "tagsAdd", "tagsRemove")
OPERATION = re.compile(r"\b(" + "|".join(OPERATIONS + CUSTOMER_OPERATIONS) + r")\b")
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
SCOPES = "read_orders,read_customers,write_discounts"
TOKEN_LIFETIME = 3600  # an expiring offline token lasts an hour


class FakePlatform:
    def __init__(self, api_key: str, api_secret: str, delay: float = 0.05):
        self.api_key, self.api_secret, self.delay = api_key, api_secret, delay
        self.lock = threading.Lock()
        self.calls: Counter = Counter()  # by kind: token_exchange, refresh, and the GraphQL operations
        self.problems: Counter = Counter()  # bad_token, bad_client, duplicate_code, unknown ...
        self.connections = 0
        self.access_tokens: dict[str, set] = {}  # shop -> access tokens issued (all still valid)
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> shop (spent on use)
        self.codes: dict[str, str] = {}  # code -> node id
        self.metafields: dict[tuple, str] = {}  # (customer gid, namespace, key) -> value
        self.in_flight = 0
        self.max_in_flight = 0
        self.busy_seconds = 0.0  # summed duration of Admin API calls (for mean concurrency)
        self.durations: list[float] = []  # of each Admin API call, seconds
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler, bind_and_activate=False)
        self.server.daemon_threads = True
        self.server.request_queue_size = 512  # listen backlog: bursts of new connections must not be dropped
        self.server.allow_reuse_address = True
        self.server.server_bind()
        self.server.server_activate()
        self.server.platform = self
        self.thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def origin(self) -> str:
        """The app's SHOPIFY_ADMIN_ORIGIN: `{shop}` is filled in by the app."""
        return f"http://127.0.0.1:{self.port}/{{shop}}"

    def start(self) -> "FakePlatform":
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="fake-platform", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(timeout=5)
            self.thread = None
        self.server.server_close()

    def snapshot(self) -> dict:
        with self.lock:
            return {"calls": Counter(self.calls), "problems": Counter(self.problems), "connections": self.connections,
                    "busy_seconds": self.busy_seconds, "durations": len(self.durations),
                    "max_in_flight": self.max_in_flight}

    def reset_max_in_flight(self) -> None:
        with self.lock:
            self.max_in_flight = self.in_flight

    # -- what the handler calls -------------------------------------------------------------

    def issue(self, shop: str) -> dict:
        access, refresh = f"shpat_bench_{secrets.token_hex(12)}", f"shprt_bench_{secrets.token_hex(12)}"
        with self.lock:
            self.access_tokens.setdefault(shop, set()).add(access)
            self.refresh_tokens[refresh] = shop
        return {"access_token": access, "scope": SCOPES, "expires_in": TOKEN_LIFETIME, "refresh_token": refresh,
                "refresh_token_expires_in": 7776000}

    def token_request(self, shop: str, fields: dict) -> tuple[int, dict]:
        if fields.get("client_id") != self.api_key or fields.get("client_secret") != self.api_secret:
            return self._problem("bad_client", 400, {"error": "invalid_client"})
        grant = fields.get("grant_type")
        if grant == TOKEN_EXCHANGE:
            try:
                claims = jwt.decode(fields.get("subject_token", ""), self.api_secret, algorithms=["HS256"],
                                    audience=self.api_key, leeway=10)
            except jwt.PyJWTError:
                return self._problem("bad_subject_token", 400, {"error": "invalid_subject_token"})
            if urlparse(claims.get("dest", "")).hostname != shop:
                return self._problem("bad_subject_token", 400, {"error": "invalid_subject_token"})
            self._count("token_exchange")
            return 200, self.issue(shop)
        if grant == "refresh_token":
            with self.lock:
                owner = self.refresh_tokens.pop(fields.get("refresh_token", ""), None)
            if owner != shop:
                return self._problem("bad_refresh_token", 400, {"error": "invalid_grant"})
            self._count("refresh")
            return 200, self.issue(shop)
        return self._problem("unsupported_grant", 400, {"error": "unsupported_grant_type"})

    def graphql(self, shop: str, token: str | None, body: dict) -> tuple[int, dict]:
        with self.lock:
            known = token in self.access_tokens.get(shop, ())
        if not known:
            return self._problem("bad_token", 401, {"errors": "[API] Invalid API key or access token"})
        found = OPERATION.search(str(body.get("query", "")))
        if found is None:
            return self._problem("unknown_operation", 200, {"errors": [{"message": "unknown operation"}]})
        operation = found.group(1)
        self._count(operation)
        variables = body.get("variables") or {}
        if operation in CUSTOMER_OPERATIONS:
            return 200, self.customer_write(operation, variables)
        if operation == "codeDiscountNodeByCode":
            with self.lock:
                node = self.codes.get(str(variables.get("code", "")).upper())
            return 200, {"data": {operation: {"id": node} if node else None}}
        code = str(((variables.get("discount") or {}).get("code")) or "").upper()
        with self.lock:
            taken = code in self.codes or not code
            if not taken:
                self.codes[code] = node = f"gid://shopify/DiscountCodeNode/{len(self.codes) + 1}"
        if taken:
            self._problem("duplicate_code" if code else "missing_code", 200, {})
            return 200, {"data": {operation: {"codeDiscountNode": None, "userErrors": [
                {"field": ["code"], "message": "Code must be unique", "code": "TAKEN"}]}}}
        return 200, {"data": {operation: {"codeDiscountNode": {"id": node}, "userErrors": []}}}

    def customer_write(self, operation: str, variables: dict) -> dict:
        if operation == "metafieldsSet":
            with self.lock:
                for value in variables.get("metafields") or []:
                    self.metafields[(value["ownerId"], value["namespace"], value["key"])] = value["value"]
            return {"data": {operation: {"metafields": [], "userErrors": []}}}
        if operation == "metafieldsDelete":
            return {"data": {operation: {"deletedMetafields": [], "userErrors": []}}}
        return {"data": {operation: {"node": {"id": variables.get("id")}, "userErrors": []}}}

    def points_written(self) -> dict[int, int]:
        """customer id -> the last `loyalty.points` value set for it."""
        with self.lock:
            return {int(owner.rsplit("/", 1)[1]): int(value) for (owner, namespace, key), value
                    in self.metafields.items() if (namespace, key) == ("loyalty", "points")}

    def _count(self, kind: str) -> None:
        with self.lock:
            self.calls[kind] += 1

    def _problem(self, kind: str, status: int, answer: dict) -> tuple[int, dict]:
        with self.lock:
            self.problems[kind] += 1
        return status, answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, for a client that reuses its connection
    # The headers and the body leave in two writes: with Nagle on, the body waited for the
    # client's delayed ACK of the headers, adding ~25-40 ms to every call the real platform
    # does not add (it answers in one flight).
    disable_nagle_algorithm = True

    def handle(self):
        platform: FakePlatform = self.server.platform
        with platform.lock:
            platform.connections += 1
        super().handle()

    def log_message(self, format, *args):  # no per-request log lines
        pass

    def do_POST(self):
        started = time.monotonic()
        platform: FakePlatform = self.server.platform
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        route = ROUTE.match(urlparse(self.path).path)
        if route is None:
            self._answer(404, {"errors": "Not Found"}, started, platform.delay)
            return
        shop = route.group(1)
        if route.group(2):  # the token endpoint
            fields = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
            status, answer = platform.token_request(shop, fields)
            self._answer(status, answer, started, platform.delay)
            return
        with platform.lock:
            platform.in_flight += 1
            platform.max_in_flight = max(platform.max_in_flight, platform.in_flight)
        try:
            try:
                body = json.loads(raw)
            except ValueError:
                status, answer = platform._problem("bad_json", 400, {"errors": "bad JSON"})
            else:
                status, answer = platform.graphql(shop, self.headers.get("X-Shopify-Access-Token"), body)
            self._answer(status, answer, started, platform.delay)
        finally:
            took = time.monotonic() - started
            with platform.lock:
                platform.in_flight -= 1
                platform.busy_seconds += took
                platform.durations.append(took)

    def _answer(self, status: int, answer: dict, started: float, delay: float) -> None:
        payload = json.dumps(answer).encode()
        wait = started + delay - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
