"""Webhook signatures: base64 HMAC-SHA256 of the raw body with the app's secret.

Checked on the bytes as received, before any parsing, in constant time. During a secret
rotation the platform may sign with the previous secret for up to an hour, so that one is
accepted too while it is configured (SHOPIFY.md 1.2).
"""
import base64
import hashlib
import hmac


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def is_authentic(body: bytes, header: str | None, secrets: list[str]) -> bool:
    if not header:
        return False
    given = header.strip().encode()
    # Every secret is compared, so the timing does not tell which one matched.
    matches = [hmac.compare_digest(signature(secret, body).encode(), given) for secret in secrets if secret]
    return any(matches)
