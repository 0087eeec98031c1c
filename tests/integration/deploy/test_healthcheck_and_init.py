"""deploy/healthcheck.py against a real gRPC server, and the PostgreSQL init script against
the test PostgreSQL server (when TEST_DATABASE_URL is set)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from billing_common.db import normalise_url
from billing_common.grpc_server import GrpcServer, build_server

ROOT = Path(__file__).resolve().parents[3]
HEALTHCHECK = ROOT / "deploy" / "healthcheck.py"
SERVICE = "billing.example.v1.ExampleService"


def run_healthcheck(*args: str) -> subprocess.CompletedProcess[str]:
    """Exactly as the compose healthcheck runs it: a fresh interpreter, the script by path."""
    return subprocess.run([sys.executable, str(HEALTHCHECK), *args], capture_output=True, text=True,
                          timeout=30, cwd=ROOT)


@pytest.fixture
def server() -> Iterator[GrpcServer]:
    s = build_server("127.0.0.1:0", lambda _server: None, [SERVICE], grace=0.5).start()
    yield s
    s.stop()


def test_a_serving_service_passes_the_health_check(server: GrpcServer) -> None:
    result = run_healthcheck(f"127.0.0.1:{server.port}", SERVICE)
    assert result.returncode == 0, result.stderr
    assert "SERVING" in result.stdout


def test_a_service_that_is_not_serving_fails_the_health_check(server: GrpcServer) -> None:
    server.health.set(SERVICE, health_pb2.HealthCheckResponse.NOT_SERVING)
    result = run_healthcheck(f"127.0.0.1:{server.port}", SERVICE)
    assert result.returncode == 1
    assert "NOT_SERVING" in result.stderr


def test_a_service_name_the_server_does_not_know_fails_the_health_check(server: GrpcServer) -> None:
    result = run_healthcheck(f"127.0.0.1:{server.port}", "billing.nothing.v1.Nope")
    assert result.returncode == 1
    assert "NOT_FOUND" in result.stderr


def test_an_unreachable_server_fails_the_health_check_within_its_deadline() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_healthcheck(f"127.0.0.1:{port}", SERVICE, "--timeout", "1")
    assert result.returncode == 1
    assert "UNAVAILABLE" in result.stderr or "DEADLINE_EXCEEDED" in result.stderr


def test_a_server_shutting_down_fails_the_health_check(server: GrpcServer) -> None:
    server.health.enter_graceful_shutdown()
    assert run_healthcheck(f"127.0.0.1:{server.port}", SERVICE).returncode == 1


TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


@pytest.mark.skipif(not TEST_DATABASE_URL or not shutil.which("psql"),
                    reason="needs TEST_DATABASE_URL (a PostgreSQL server) and psql")
def test_the_init_script_gives_each_service_its_own_role_and_database() -> None:
    assert TEST_DATABASE_URL is not None
    url = make_url(normalise_url(TEST_DATABASE_URL))
    names = [f"test_init_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("a", "b")]
    env = {**os.environ, "PGHOST": url.host or "127.0.0.1", "PGPORT": str(url.port or 5432),
           "POSTGRES_USER": url.username or "postgres", "BILLING_DB_PASSWORD": "it's-a-test",
           "BILLING_DATABASES": " ".join(names)}
    if url.password:
        env["PGPASSWORD"] = url.password
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        result = subprocess.run(["sh", str(ROOT / "deploy" / "postgres" / "init-databases.sh")], env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        with admin.connect() as conn:
            owners = dict(conn.execute(text(
                "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname = ANY(:names)"),
                {"names": names}).all())
        assert owners == {name: name for name in names}
    finally:
        with admin.connect() as conn:
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'DROP ROLE IF EXISTS "{name}"'))
        admin.dispose()
