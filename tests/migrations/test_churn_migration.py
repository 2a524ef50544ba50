"""Migration 0023 (churn risk): a subscription made with every kind before it gets
`member_at_risk` too; one that chose its kinds keeps them; going back removes the kind again."""
import json

from alembic import command
from sqlalchemy import create_engine, text

from plugin.migrate import alembic_config

EVERY_KIND_THEN = ["tier_changed", "points_expiring", "points_expired", "referral_completed", "birthday_bonus",
                   "reward_issued"]


def kinds_by_url(engine) -> dict:
    with engine.connect() as connection:
        return {url: json.loads(kinds) for url, kinds in
                connection.execute(text("SELECT url, kinds FROM event_subscriptions ORDER BY id"))}


def test_subscriptions_to_every_kind_get_member_at_risk_and_lose_it_on_the_way_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'churn.sqlite3'}"  # its own file: this test goes down and up again
    config = alembic_config(url)
    command.upgrade(config, "0023")
    command.downgrade(config, "-1")
    engine = create_engine(url)
    with engine.begin() as connection:
        for address, kinds in (("https://every.example", EVERY_KIND_THEN), ("https://tiers.example", ["tier_changed"])):
            connection.execute(text("INSERT INTO event_subscriptions (shop_id, url, kinds, secret, created_at) "
                                    "VALUES (1, :url, :kinds, 's', '2026-01-01 00:00:00')"),
                               {"url": address, "kinds": json.dumps(kinds)})
    command.upgrade(config, "0023")
    assert kinds_by_url(engine) == {"https://every.example": [*EVERY_KIND_THEN, "member_at_risk"],
                                    "https://tiers.example": ["tier_changed"]}
    command.downgrade(config, "-1")
    assert kinds_by_url(engine) == {"https://every.example": EVERY_KIND_THEN, "https://tiers.example": ["tier_changed"]}
    engine.dispose()
