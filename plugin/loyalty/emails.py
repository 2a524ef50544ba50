"""The one email normaliser: the key under which two ways of writing an address are one person.

Every comparison of emails in the app goes through `email_key` (referrals today: a friend
against the referrer, against members who already ordered, against friends already invited).
The key is built so that what reaches the same mailbox compares equal:

- Unicode NFKC first, so full-width `ｊｏｈｎ` or a ligature is the ASCII it stands for;
- surrounding spaces go, and the domain's trailing dots (`gmail.com.` is the same host);
- a quoted local part (`"john"@x`) is its content, backslash escapes undone;
- case goes (casefold: what a provider ignores in practice, whatever RFC 5321 allows);
- a `+tag` goes, and for Gmail and Googlemail the dots of the local part, the domain
  becoming `gmail.com`;
- an internationalised domain becomes its IDNA A-label (`bücher.de` is `xn--bcher-kva.de`).

RFC 5321 bounds an address at 254 characters: longer input, or a key that grows past it
(an IDNA domain written out), is no email at all here, so the form that took it answers 422.
"""
import re
import unicodedata

import idna

MAX_EMAIL = 254
GMAIL = ("gmail.com", "googlemail.com")
# What a domain written in ASCII may hold; anything else goes through IDNA.
ASCII_DOMAIN = re.compile(r"[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)+")
ESCAPED = re.compile(r"\\(.)")


def email_key(email) -> str | None:
    """The normalised address, or None when `email` is not an email address of up to 254 characters."""
    if not isinstance(email, str):
        return None
    text = unicodedata.normalize("NFKC", email).strip()
    if not text or len(text) > MAX_EMAIL:
        return None
    local, at, domain = text.rpartition("@")
    local, domain = _local(local), _domain(domain)
    if not at or local is None or domain is None:
        return None
    local = local.split("+", 1)[0]
    if domain in GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    key = f"{local}@{domain}"
    return key if local and len(key) <= MAX_EMAIL else None


def _local(local: str) -> str | None:
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        local = ESCAPED.sub(r"\1", local[1:-1])
    local = unicodedata.normalize("NFKC", local.casefold())
    if not local or any(ch.isspace() or not ch.isprintable() or ch == "@" for ch in local):
        return None
    return local


def _domain(domain: str) -> str | None:
    domain = domain.rstrip(".").casefold()
    if ASCII_DOMAIN.fullmatch(domain):
        return domain
    try:
        ascii_form = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    return ascii_form if ASCII_DOMAIN.fullmatch(ascii_form) else None


def domain_forms(domain: str) -> tuple[str, ...]:
    """The ways a key's domain may be stored as written: its A-label and, for an IDNA domain,
    its Unicode form; both Gmail domains for `gmail.com`."""
    if domain == "gmail.com":
        return GMAIL
    try:
        unicode_form = idna.decode(domain)
    except (idna.IDNAError, UnicodeError):
        unicode_form = domain
    return tuple(dict.fromkeys((domain, unicode_form)))
