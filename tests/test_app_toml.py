"""shopify.app.toml subscribes exactly the topics that have a handler, each beside its module."""
import tomllib
from pathlib import Path

from webhooks.handlers import HANDLERS

TOML = Path(__file__).resolve().parent.parent / "shopify.app.toml"


def test_every_handled_topic_is_subscribed_and_nothing_else():
    config = tomllib.loads(TOML.read_text())
    subscribed = [topic for sub in config["webhooks"]["subscriptions"] for topic in sub["topics"]]
    assert sorted(subscribed) == sorted(HANDLERS)


def test_each_subscription_names_the_module_that_handles_it():
    for line in TOML.read_text().splitlines():
        if line.strip().startswith("topics = ["):
            topic = line.split('"')[1]
            assert f"webhooks/handlers/{topic.replace('/', '_')}.py" in line
