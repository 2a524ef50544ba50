# The app's image: the web app (gunicorn), the workers and the migrations all run from it
# (compose.yaml). docs/docker.md says how to build and run it; tests/integration/test_dockerfile.py
# lints this file (hadolint) and checks it against the repository, so CI needs no Docker.
# The base is pinned to a patch release; pin it by digest too in your own registry.
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LOYALTY_ENV=production

WORKDIR /app

# Dependencies first, so a code change rebuilds only the layers below. The app runs as a user
# of its own (uid 10001), never as root.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin loyalty
COPY --chown=10001:10001 plugin ./plugin
COPY --chown=10001:10001 admin_ui ./admin_ui
COPY --chown=10001:10001 webhooks ./webhooks
COPY --chown=10001:10001 migrations ./migrations
COPY --chown=10001:10001 extensions ./extensions
COPY --chown=10001:10001 shopify.app.toml ./
USER 10001

EXPOSE 8080
# /healthz answers 503 when the database or Redis is down or no worker is alive (README "Deploying").
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# Threads: the intake answers webhooks while other requests wait on the database.
CMD ["gunicorn", "-k", "gthread", "-w", "2", "--threads", "8", "-b", "0.0.0.0:8080", "plugin:create_app()"]
