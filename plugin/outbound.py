"""Calling URLs a merchant gave us, without letting them point the app at its own network.

A merchant's endpoint is checked when it is saved and again at every delivery: https only
(plain http only to loopback in development), and outside development no loopback,
private, link-local, multicast, reserved or unspecified address, nor an IPv6 address that
embeds or translates to one (IPv4-mapped, 6to4, Teredo, NAT64). The check at delivery
resolves the name once, checks every address the DNS answered, then connects to one of
those checked addresses itself (with the name kept for the Host header, SNI and the
certificate check), so a name that answers differently the second time (DNS rebinding)
cannot slip through between the check and the connection. Redirects are not followed.
"""
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from requests.certs import where as ca_bundle

MAX_URL_LENGTH = 2048
# Enough of an answer to show the merchant what their endpoint said.
MAX_ANSWER_BYTES = 500
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Refused whatever they embed: IPv4-compatible addresses (::a.b.c.d, deprecated by RFC 4291,
# so no public endpoint uses one, while a stack may still route them to IPv4) and the
# local-use NAT64 prefix (RFC 8215), which translates into the operator's own network and
# may place the IPv4 address at several offsets.
REFUSED_V6 = (ipaddress.IPv6Network("::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


class UnsafeURL(ValueError):
    """The URL may not be called: the message says why, for the merchant."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the connection goes to


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (tests replace this function, not the socket module)."""
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def check_url(url: str, development: bool) -> Target:
    """The URL's target once it passed every rule; UnsafeURL says which one it broke."""
    if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"must be an https URL of up to {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeURL("is not a valid URL") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeURL("must be an https URL, such as https://example.com/loyalty-events")
    if parts.username or parts.password:
        raise UnsafeURL("must not carry a user name or password")
    port = port or (443 if parts.scheme == "https" else 80)
    addresses = _addresses(parts.hostname, port)
    if parts.scheme == "http" and not (development and all(a.is_loopback for a in addresses)):
        raise UnsafeURL("must use https (plain http is allowed only to this machine, in development)")
    if not development:
        for address in addresses:
            if _internal(address):
                raise UnsafeURL(f"points at an internal address ({address}); use a public endpoint")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))


def _addresses(host: str, port: int) -> list:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = resolve(host, port)
    except (OSError, UnicodeError):
        found = []
    if not found:
        raise UnsafeURL(f"its host name {host} does not resolve")
    return [ipaddress.ip_address(address.split("%")[0]) for address in found]


def _internal(address) -> bool:
    """Whether the address, or an IPv4 address it embeds or is translated to, is not public."""
    if address.version == 6 and any(address in network for network in REFUSED_V6):
        return True
    if address.version == 6 and address in NAT64:
        # Python files the prefix under "reserved"; behind DNS64 (an IPv6-only host) every
        # public name answers in it, so it is judged by the IPv4 address it translates to.
        return _not_public(_embedded_v4(address)[-1])
    return any(_not_public(one) for one in (address, *_embedded_v4(address)))


def _not_public(address) -> bool:
    return (not address.is_global or address.is_multicast or address.is_private or address.is_loopback
            or address.is_link_local or address.is_reserved or address.is_unspecified)


def _embedded_v4(address) -> list:
    """The IPv4 addresses an IPv6 address carries, which a relay or translator on the way
    would deliver to: IPv4-mapped, 6to4 (2002::/16), Teredo (2001::/32: its server and its
    client, which Python unscrambles) and well-known NAT64 (64:ff9b::/96, the last 32 bits).
    A 6to4 address embedding 127.0.0.1 is itself "global" to Python, hence this check."""
    if address.version != 6:
        return []
    found = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if address in NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [one for one in found if one is not None]


def post(url: str, body: bytes, headers: dict, timeout: float, development: bool) -> Answer:
    """POST `body` to a checked address of `url`; UnsafeURL if it fails the rules now,
    urllib3's errors (timeouts, refused connections) as they come."""
    target = check_url(url, development)
    options = dict(timeout=urllib3.Timeout(total=timeout), retries=False, maxsize=1)
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(target.address, target.port, server_hostname=target.host,
                                           assert_hostname=target.host, cert_reqs="CERT_REQUIRED",
                                           ca_certs=ca_bundle(), **options)
    else:
        pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
    host_header = target.host if target.port in (80, 443) else f"{target.host}:{target.port}"
    try:
        response = pool.urlopen("POST", target.path, body=body, headers={**headers, "Host": host_header},
                                redirect=False, preload_content=False, assert_same_host=False)
        try:
            text = response.read(MAX_ANSWER_BYTES, decode_content=False).decode("utf-8", "replace")
        finally:
            response.release_conn()
        return Answer(response.status, text)
    finally:
        pool.close()
