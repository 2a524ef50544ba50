"""Replaying recorded webhooks: read recordings, sign them, send them.

A recording is `{"topic", "shop", "webhook_id", "payload"}` (SPEC "CLI"); a `.jsonl` file
holds one per line, a directory is replayed in name order. A payload given as a string is
sent byte for byte, so malformed bodies can be recorded too. Without a URL the requests go
through the app in-process (the same endpoint, no socket).
"""
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import requests

from webhooks.verification import signature


@dataclass(frozen=True)
class Recording:
    topic: str
    shop: str
    webhook_id: str
    body: bytes
    event_id: str | None = None


def load_recordings(path: Path) -> list[Recording]:
    files = sorted(p for p in path.iterdir() if p.suffix in (".json", ".jsonl")) if path.is_dir() else [path]
    recordings = []
    for file in files:
        text = file.read_text()
        objects = [json.loads(line) for line in text.splitlines() if line.strip()] if file.suffix == ".jsonl" \
            else [json.loads(text)]
        recordings.extend(_recording(obj, file) for obj in objects)
    return recordings


def _recording(obj: dict, file: Path) -> Recording:
    missing = [key for key in ("topic", "shop", "webhook_id", "payload") if key not in obj]
    if missing:
        raise ValueError(f"{file}: a recording lacks {', '.join(missing)}")
    payload = obj["payload"]
    body = payload.encode() if isinstance(payload, str) else json.dumps(payload, separators=(",", ":")).encode()
    return Recording(obj["topic"], obj["shop"], str(obj["webhook_id"]), body, obj.get("event_id"))


def headers_for(recording: Recording, secret: str) -> dict:
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": recording.topic,
        "X-Shopify-Shop-Domain": recording.shop,
        "X-Shopify-Webhook-Id": recording.webhook_id,
        "X-Shopify-Hmac-Sha256": signature(secret, recording.body),
        "X-Shopify-Triggered-At": datetime.now(timezone.utc).isoformat(),
    }
    if recording.event_id:
        headers["X-Shopify-Event-Id"] = recording.event_id
    return headers


class HttpSender:
    """Sends to a running server; one pooled session per thread count."""

    def __init__(self, url: str, secret: str):
        self.url = url if url.rstrip("/").endswith("/webhooks") else url.rstrip("/") + "/webhooks"
        self.secret = secret
        self.session = requests.Session()
        self.session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=64))

    def __call__(self, recording: Recording) -> int:
        try:
            return self.session.post(self.url, data=recording.body, headers=headers_for(recording, self.secret),
                                     timeout=30).status_code
        except requests.RequestException:
            return 0  # counted as "no answer"


class InProcessSender:
    def __init__(self, app, secret: str):
        self.client = app.test_client()
        self.secret = secret

    def __call__(self, recording: Recording) -> int:
        return self.client.post("/webhooks", data=recording.body, headers=headers_for(recording, self.secret)).status_code


def replay(recordings: list[Recording], send, concurrency: int = 1, progress=None) -> Counter:
    """Send every recording; returns how many got each status code (0: no answer)."""
    answers = Counter()
    if concurrency <= 1:
        for recording in recordings:
            answers[send(recording)] += 1
            progress and progress(1)
        return answers
    with ThreadPoolExecutor(concurrency) as pool:
        for status in pool.map(send, recordings):
            answers[status] += 1
            progress and progress(1)
    return answers
