# syntax=docker/dockerfile:1
# Snapline's image: dependencies from the pinned lock file in a build stage, then a slim
# runtime stage with the code, templates, static files and migrations, run as a non-root
# user. Migrations run once per deploy (`python -m service migrate`), not in every replica.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements.lock ./
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-deps --require-hashes -r requirements.lock

FROM python:3.11-slim-bookworm
# A fixed numeric uid/gid: USER below names the ids, so runtimes that check "runAsNonRoot"
# can verify them without reading /etc/passwd.
RUN groupadd --system --gid 10001 snapline \
    && useradd --system --uid 10001 --gid snapline --no-create-home --home-dir /app snapline
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY alembic.ini settings.toml ./
COPY migrations ./migrations
COPY templates ./templates
COPY service ./service
RUN mkdir -p /app/var && chown snapline:snapline /app/var
USER 10001:10001
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SNAPLINE_APP_ENV=production \
    SNAPLINE_SERVER_HOST=0.0.0.0 \
    SNAPLINE_SERVER_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
# Exec form: SIGTERM reaches Python, which stops taking requests and finishes within its
# 15 s shutdown timeout (below compose's 30 s stop grace period).
CMD ["python", "-m", "service", "serve", "--no-migrate"]
