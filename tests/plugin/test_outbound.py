"""The outbound guard over every class of address a merchant's URL may resolve to.

Production (development=False) refuses any address that is not public, and any IPv6 address
that embeds or translates to one that is not; public addresses, and IPv6 addresses that embed
public ones, are accepted. The name's resolution is replaced, never the socket.
"""
import pytest

import plugin.outbound
from plugin.outbound import UnsafeURL, check_url

PUBLIC_V4 = "93.184.216.34"

ADDRESSES = [
    # (class, address, refused)
    ("public IPv4", PUBLIC_V4, False),
    ("public IPv6", "2606:2800:220:1:248:1893:25c8:1946", False),
    ("loopback IPv4", "127.0.0.1", True),
    ("private IPv4", "10.0.0.1", True),
    ("link-local IPv4 (cloud metadata)", "169.254.169.254", True),
    ("shared address space", "100.64.0.1", True),
    ("unspecified IPv4", "0.0.0.0", True),
    ("multicast IPv4", "224.0.0.1", True),
    ("loopback IPv6", "::1", True),
    ("unspecified IPv6", "::", True),
    ("unique-local IPv6", "fd00::1", True),
    ("link-local IPv6", "fe80::1", True),
    ("IPv4-mapped loopback", "::ffff:127.0.0.1", True),
    ("IPv4-mapped private", "::ffff:10.0.0.1", True),
    ("IPv4-mapped public", f"::ffff:{PUBLIC_V4}", True),  # not global to Python: refused too
    ("IPv4-compatible loopback", "::127.0.0.1", True),
    ("IPv4-compatible public (deprecated)", f"::{PUBLIC_V4}", True),
    ("6to4 embedding 127.0.0.1", "2002:7f00:1::", True),
    ("6to4 embedding 10.0.0.1", "2002:a00:1::1", True),
    ("6to4 embedding 169.254.169.254", "2002:a9fe:a9fe::1", True),
    ("6to4 embedding a public address", "2002:5db8:d822::1", False),
    ("Teredo with a loopback client", "2001:0:5db8:d822:0:0:80ff:fffe", True),
    ("Teredo with a public server and client", "2001:0:4136:e378:8000:63bf:3fff:fdd2", True),
    ("NAT64 of 127.0.0.1", "64:ff9b::7f00:1", True),
    ("NAT64 of 10.0.0.1", "64:ff9b::a00:1", True),
    ("NAT64 of 192.168.1.1", "64:ff9b::c0a8:101", True),
    ("NAT64 of a public address", "64:ff9b::5db8:d822", False),
    ("local-use NAT64", "64:ff9b:1::a00:1", True),
    ("local-use NAT64 of a public address", "64:ff9b:1:5db8:d822::", True),
]


@pytest.mark.parametrize("kind, address, refused", ADDRESSES, ids=[row[0] for row in ADDRESSES])
def test_each_address_class_is_refused_or_accepted_literal_and_by_name(monkeypatch, kind, address, refused):
    monkeypatch.setattr(plugin.outbound, "resolve", lambda host, port: [address])
    literal = f"https://[{address}]:8443/x" if ":" in address else f"https://{address}:8443/x"
    for url in (literal, "https://hooks.example.com/x"):
        if refused:
            with pytest.raises(UnsafeURL, match="internal address"):
                check_url(url, development=False)
        else:
            assert check_url(url, development=False).address == address


def test_one_embedded_internal_address_among_public_answers_refuses_the_name(monkeypatch):
    monkeypatch.setattr(plugin.outbound, "resolve", lambda host, port: [PUBLIC_V4, "2002:7f00:1::"])
    with pytest.raises(UnsafeURL, match=r"internal address \(2002:7f00:1::\)"):
        check_url("https://hooks.example.com/x", development=False)
