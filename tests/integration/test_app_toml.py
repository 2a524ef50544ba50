"""shopify.app.toml subscribes exactly the topics that have a handler, each beside its module.

A topic is subscribed either under `topics` or, for the mandatory privacy webhooks, under
`compliance_topics`; the module that handles it is named on the same line or in the
comment lines just above it.
"""
import re
import tomllib

from tests.helpers import ROOT
from webhooks.handlers import HANDLERS

TOML = ROOT / "shopify.app.toml"


def test_every_handled_topic_is_subscribed_and_nothing_else():
    config = tomllib.loads(TOML.read_text())
    subscribed = [topic for sub in config["webhooks"]["subscriptions"]
                  for topic in sub.get("topics", []) + sub.get("compliance_topics", [])]
    assert sorted(subscribed) == sorted(HANDLERS)


def test_the_privacy_topics_are_compliance_subscriptions():
    config = tomllib.loads(TOML.read_text())
    compliance = [topic for sub in config["webhooks"]["subscriptions"] for topic in sub.get("compliance_topics", [])]
    assert sorted(compliance) == ["customers/data_request", "customers/redact", "shop/redact"]


def test_each_subscription_names_the_module_that_handles_it():
    lines = TOML.read_text().splitlines()
    for number, line in enumerate(lines):
        if line.strip().startswith(("topics = [", "compliance_topics = [")):
            described = line + "\n" + "\n".join(comments_above(lines, number))
            for topic in re.findall(r'"([^"]+)"', line.split("#")[0]):
                assert f"webhooks/handlers/{topic.replace('/', '_')}.py" in described, topic


def comments_above(lines: list[str], number: int) -> list[str]:
    above = []
    while number > 0 and lines[number - 1].strip().startswith("#"):
        number -= 1
        above.append(lines[number])
    return above


def test_the_store_sync_scope_is_asked_for():
    # plugin/loyalty/events/store_sync.py writes customer metafields and tags (SPEC "Member events").
    scopes = tomllib.loads(TOML.read_text())["access_scopes"]["scopes"].split(",")
    assert "write_customers" in scopes
