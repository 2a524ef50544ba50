"""The docs say what the code does: the API reference is what the routes generate today, and
the README's command-line walk-through runs as written against a served app.

`docs/api-reference.md` is written by `flask --app plugin api-reference --output
docs/api-reference.md`; after changing a route, run that and commit the file. The README's
"Try it from the command line" block is run line by line by bash against `flask serve` on a
free port and a fresh SQLite file; each `# -> text` comment in it is output the block must
print."""
import os
import re
import socket
import subprocess
import sys
import time

import pytest

from admin_ui.api_reference import markdown
from admin_ui.openapi import document
from plugin import create_app
from tests.conftest import app_config
from tests.helpers import API_KEY, API_SECRET, ENCRYPTION_KEY, ROOT

WALK_THROUGH = "## Try it from the command line"


def test_the_committed_api_reference_is_what_the_routes_generate(tmp_path):
    app = create_app(app_config(f"sqlite:///{tmp_path}/url-map-only.sqlite3", None))
    committed = (ROOT / "docs" / "api-reference.md").read_text()
    assert committed == markdown(document(app)), (
        "docs/api-reference.md is stale: run `flask --app plugin api-reference --output docs/api-reference.md`")


def readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(heading):]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """`flask serve` on a fresh SQLite file, as `make run` starts it; its port and environment."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/readme.sqlite3", "SHOPIFY_API_KEY": API_KEY,
           "SHOPIFY_API_SECRET": API_SECRET, "LOYALTY_ENCRYPTION_KEY": ENCRYPTION_KEY,
           "SHOPIFY_APP_URL": f"http://127.0.0.1:{port}", "LOYALTY_ENV": "development"}
    env.pop("REDIS_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "plugin"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    server = subprocess.Popen([*flask, "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail("flask serve did not start listening within 30 s")
    yield port, env
    server.terminate()
    server.wait(timeout=20)


def test_the_readme_command_line_walk_through_runs_as_written(served):
    port, env = served
    block = readme_block(WALK_THROUGH)
    expected = [line.split("# -> ", 1)[1].strip() for line in block.splitlines() if "# -> " in line]
    script = block.replace("http://127.0.0.1:8080", f"http://127.0.0.1:{port}").replace(
        ".venv/bin/flask", f"{sys.executable} -m flask")
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert expected and all(text in result.stdout for text in expected), (expected, result.stdout[-3000:])
