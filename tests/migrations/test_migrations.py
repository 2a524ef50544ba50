"""The schema exists only through migrations: one head, and it matches the models."""
from alembic import command
from alembic.script import ScriptDirectory

from plugin.migrate import alembic_config


def test_there_is_exactly_one_migration_head(database):
    assert len(ScriptDirectory.from_config(alembic_config(database)).get_heads()) == 1


def test_the_migrated_schema_matches_the_models(database):
    command.check(alembic_config(database))  # raises if autogenerate would add anything
