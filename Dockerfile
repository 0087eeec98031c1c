# syntax=docker/dockerfile:1
# One image for all five processes; the command chooses which one runs:
#   python -m services.identity | services.online_billing | services.enterprise_portal
#   gunicorn -c web/billing_center/gunicorn.conf.py web.billing_center.wsgi:app
#   gunicorn -c web/enterprise_portal/gunicorn.conf.py web.enterprise_portal.wsgi:app
# See deploy/README.md for the environment each one reads.

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# --- runtime dependencies, pinned, in their own virtual environment --------------------------
FROM base AS runtime-deps
COPY requirements.txt /tmp/requirements.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install -r /tmp/requirements.txt

# --- build: generated gRPC code and compiled translations (build tools stay in this stage) ---
FROM runtime-deps AS build
WORKDIR /src
COPY requirements-dev.txt /tmp/requirements-dev.txt
# Only the code generator from the dev pins; playwright, pytest & co. are not needed here.
RUN grep -E '^grpcio-tools==' /tmp/requirements-dev.txt > /tmp/build-tools.txt \
 && python -m venv /opt/build-tools \
 && /opt/build-tools/bin/pip install -r /tmp/requirements.txt -r /tmp/build-tools.txt
COPY protos/ protos/
# The same protoc call as `make protos` (minus the .pyi stubs, which only type checkers read).
RUN mkdir gen \
 && /opt/build-tools/bin/python -m grpc_tools.protoc -I protos --python_out=gen --grpc_python_out=gen \
        $(find protos -name '*.proto')
COPY billing_common/ billing_common/
COPY services/ services/
COPY web/ web/
COPY deploy/ deploy/
COPY pyproject.toml ./
RUN PYTHONPATH=/src:/src/gen /opt/venv/bin/python -m web.common.catalogue compile

# --- the image ---------------------------------------------------------------------------------
FROM base AS app
RUN groupadd --system --gid 10001 billing \
 && useradd --system --uid 10001 --gid billing --home-dir /app --no-create-home --shell /usr/sbin/nologin billing
COPY --from=runtime-deps /opt/venv /opt/venv
WORKDIR /app
# Code and generated files stay owned by root: the processes can read them, not change them.
COPY --from=build /src /app
# var/ is the only place a process may write (the dev-default SQLite files and Maildir; in
# compose and Kubernetes the databases and SMTP are external, so it stays nearly empty).
RUN mkdir -p /app/var && chown billing:billing /app/var
# BILLING_ENV unset would mean dev (the public dev key, cookies without Secure, gRPC reflection).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app:/app/gen \
    BILLING_ENV=prod \
    LOG_FORMAT=json
USER billing:billing
EXPOSE 50051 50052 50053 8080 8081 9100
CMD ["python", "-m", "services.identity"]
