"""The one email normaliser, by properties (hypothesis) and by the issue's examples.

Canonical addresses (lower case, no `+tag`, no dots in a Gmail local part, an ASCII or
A-label domain) are their own key, so two different canonical addresses never share a key;
every alias built from one (case, full-width forms, a trailing dot, quotes, `+tags`,
surrounding spaces, Gmail dots and Googlemail) has that address's key.
"""
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.loyalty.emails import MAX_EMAIL, email_key

LOCAL_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_-"
LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
UNICODE_LOCAL = st.text(alphabet=st.characters(categories=["Ll", "Lo", "Nd"]), min_size=1, max_size=8).filter(
    lambda s: unicodedata.normalize("NFKC", s.casefold()) == s)


@st.composite
def canonical(draw) -> str:
    """An address already in key form."""
    gmail = draw(st.booleans())
    local = draw(st.one_of(st.text(alphabet=LOCAL_CHARS, min_size=1, max_size=20), UNICODE_LOCAL))
    if not gmail and draw(st.booleans()):
        local = f"{local}.{draw(st.text(alphabet=LOCAL_CHARS, min_size=1, max_size=8))}"
    domain = "gmail.com" if gmail else ".".join(draw(st.lists(LABEL, min_size=2, max_size=4)))
    return f"{local}@{domain}"


def full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@st.composite
def alias(draw, address: str) -> str:
    """Another way of writing `address` that reaches the same mailbox."""
    local, _, domain = address.rpartition("@")
    if domain == "gmail.com":
        cuts = sorted(draw(st.lists(st.integers(1, max(len(local) - 1, 1)), max_size=3)))
        for cut in reversed(cuts):
            local = local[:cut] + "." + local[cut:]
        domain = draw(st.sampled_from(["gmail.com", "googlemail.com"]))
    if draw(st.booleans()):
        local += "+" + draw(st.text(alphabet=LOCAL_CHARS + ".+", max_size=10))
    if draw(st.booleans()):
        local = "".join(ch.upper() if draw(st.booleans()) and ch.isascii() else ch for ch in local)
        domain = domain.upper() if draw(st.booleans()) else domain
    if draw(st.booleans()):
        local = f'"{local}"'
    domain += "." * draw(st.integers(0, 2))
    written = f"{local}@{domain}"
    if draw(st.booleans()):
        written = full_width(written)
    return draw(st.sampled_from(["", " ", "\t"])) + written + draw(st.sampled_from(["", " ", "\n"]))


@given(canonical())
def test_a_canonical_address_is_its_own_key(address):
    assert email_key(address) == address


@given(st.data(), canonical())
def test_every_alias_of_an_address_has_its_key(data, address):
    assert email_key(data.draw(alias(address))) == email_key(address)


@given(canonical(), canonical())
def test_different_addresses_never_share_a_key(first, second):
    if first != second:
        assert email_key(first) != email_key(second)


@given(st.text(max_size=300))
def test_a_key_is_its_own_key_and_never_longer_than_rfc_5321_allows(text):
    key = email_key(text)
    if key is not None:
        assert email_key(key) == key and len(key) <= MAX_EMAIL


@pytest.mark.parametrize("written", [
    "John.Doe+shop@gmail.com", "johndoe@gmail.com.", "ｊｏｈｎｄｏｅ@gmail.com", '"johndoe"@gmail.com',
    " JOHNDOE@GoogleMail.com ", "j.o.h.n.d.o.e+x+y@gmail.com", "johndoe＠ｇｍａｉｌ．ｃｏｍ",
])
def test_the_issues_aliases_are_one_person(written):
    assert email_key(written) == "johndoe@gmail.com"


def test_an_internationalised_domain_and_its_a_label_are_one_domain():
    assert email_key("Anna@Bücher.de") == email_key("anna@xn--bcher-kva.de") == "anna@xn--bcher-kva.de"


@pytest.mark.parametrize("written", [
    "not-an-email", "a@b", "@example.com", "ada@", "+tag@example.com", "a b@example.com", "ada@exa mple.com",
    "ada@-bad-.com", "a" * 243 + "@example.com", None, 42,
])
def test_what_is_not_an_address_of_up_to_254_characters_has_no_key(written):
    assert email_key(written) is None


def test_the_254th_character_is_allowed_and_the_255th_is_not():
    assert email_key("a" * 242 + "@example.com") is not None  # 254 characters
    assert email_key("a" * 243 + "@example.com") is None
