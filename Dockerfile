# The service image. Build: `docker build -t integration-api .`, or without a daemon
# `buildah bud --isolation chroot --format docker -t integration-api .` (PYTHON_IMAGE, a build
# argument, names another base). `scripts/check-image` builds it and runs it as deployed in CI.
#
# It runs with ENV=production, which needs an external PostgreSQL (its data must outlive the
# container), SECRET (random, at least 32 bytes) and INTEGRATION_CRYPTO_KEY (`integration-api
# keys generate`): nothing is invented inside a container, and a start without them stops with
# one line. As deploy/ runs it (uid 10001, read-only root, memory-backed /tmp; Redis optional):
#   docker run --read-only --tmpfs /tmp -p 9004:9004 -p 9464:9464 \
#     -e SECRET=... -e INTEGRATION_CRYPTO_KEY=... \
#     -e POSTGRES__HOST=db.example.com -e POSTGRES__AUTH__PASSWORD=... \
#     -e POSTGRES__SSL_MODE=verify-full \
#     -e POSTGRES__SSL_ROOT_CERT=/etc/integration-api/tls/postgres/ca.crt \
#     -v "$PWD/postgres-ca.crt:/etc/integration-api/tls/postgres/ca.crt:ro" \
#     -e REDIS__HOST=redis.example.com -e REDIS__AUTH__PASSWORD=... \
#     integration-api
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
WORKDIR /build
# Only what the package is built from: the dependencies are pinned in pyproject.toml, and the
# generated contract code (gen/) ships inside the package.
COPY pyproject.toml constraints.txt ./
COPY src ./src
COPY gen ./gen
# Every transitive dependency at the version the tests ran with.
RUN /opt/venv/bin/pip install -c constraints.txt .
# The service's user and data directory are made here too, in a tree copied over the runtime
# stage, so that stage runs no command: whatever a build mounts into its RUN steps (a package
# index, its CA bundle) leaves no trace in the image, not even an empty mount point.
RUN groupadd --gid 10001 integration-api \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /var/lib/integration-api \
        --shell /usr/sbin/nologin integration-api \
    && mkdir -p /staging/etc \
    && cp -a /etc/passwd /etc/group /etc/shadow /etc/gshadow /staging/etc/ \
    && install -d -o 10001 -g 10001 -m 0700 /staging/var/lib/integration-api

FROM ${PYTHON_IMAGE} AS runtime
ENV ENV=production \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DATA_DIR=/var/lib/integration-api
COPY --from=builder /staging/ /
COPY --from=builder /opt/venv /opt/venv
# deploy/ runs the pods as this uid with a read-only root file system (PYTHONDONTWRITEBYTECODE:
# the bytecode is compiled at install time) and a memory-backed /tmp.
USER 10001:10001
WORKDIR /var/lib/integration-api
# gRPC, then Prometheus metrics (the OAuth callback, 9005, only where OAUTH_CALLBACK_URL is set).
EXPOSE 9004 9464
# Shell form so that a PORT given at run time is probed too.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD integration-api health-probe --address "127.0.0.1:${PORT:-9004}" || exit 1
ENTRYPOINT ["integration-api"]
CMD ["serve"]
