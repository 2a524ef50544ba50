"""Log filters that keep secrets and customer data out of log lines.

The development server logs each request line, query string included; the embedded page's
`id_token`, the OAuth `code` and the app proxy's `logged_in_customer_id` travel there.
"""
import logging
import re

SENSITIVE_QUERY = re.compile(r"((?:^|[?&])(?:id_token|code|logged_in_customer_id|hmac|signature|session|state)=)"
                             r"[^&\s\"]*")


def hide_query_values(text: str) -> str:
    return SENSITIVE_QUERY.sub(r"\1[hidden]", text)


class HideSensitiveQueryValues(logging.Filter):
    """Rewrites request lines in a record's arguments; the record is always kept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(hide_query_values(arg) if isinstance(arg, str) else arg for arg in record.args)
        elif isinstance(record.msg, str):
            record.msg = hide_query_values(record.msg)
        return True


def install() -> None:
    request_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, HideSensitiveQueryValues) for f in request_log.filters):
        request_log.addFilter(HideSensitiveQueryValues())
