"""The backends started exactly as compose and Kubernetes start them (`python -m services.X`),
checked with deploy/healthcheck.py, then stopped with SIGTERM."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from services.enterprise_portal import bootstrap as enterprise_bootstrap
from services.enterprise_portal.config import EnterprisePortalSettings
from services.online_billing import bootstrap as online_bootstrap
from services.online_billing.config import OnlineBillingSettings
from tests import callers

ROOT = Path(__file__).resolve().parents[3]

BACKENDS = {
    "online_billing": ("ONLINE_BILLING", "billing.online_billing.v1.OnlineBillingService",
                       lambda url: online_bootstrap.migrate(OnlineBillingSettings(database_url=url))),
    "enterprise_portal": ("ENTERPRISE_PORTAL", "billing.enterprise_portal.v1.EnterprisePortalService",
                          lambda url: enterprise_bootstrap.migrate(EnterprisePortalSettings(database_url=url))),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(target: str, service: str) -> bool:
    return subprocess.run([sys.executable, "deploy/healthcheck.py", target, service, "--timeout", "1"],
                          cwd=ROOT, capture_output=True, timeout=30).returncode == 0


@pytest.mark.parametrize("name", sorted(BACKENDS))
def test_the_backend_process_becomes_healthy_and_stops_cleanly_on_sigterm(
    name: str, database_url: Callable[[str], str]
) -> None:
    prefix, service, migrate = BACKENDS[name]
    url = database_url(name)
    migrate(url)
    target = f"127.0.0.1:{_free_port()}"
    # prod needs an SMTP relay; nothing is mailed here, so nothing needs to listen on it.
    env = {**os.environ, "BILLING_ENV": "prod", "LOG_FORMAT": "json", "SMTP_URL": f"smtp://127.0.0.1:{_free_port()}",
           f"{prefix}_DATABASE_URL": url, f"{prefix}_GRPC_BIND": target, f"{prefix}_SHUTDOWN_GRACE": "2",
           # online_billing charges cards and prints invoices: the gateway's and the vendor's settings.
           "SANDBOX_GATEWAY_SECRET": "s" * 40, "SANDBOX_GATEWAY_DATABASE_URL": database_url(f"{name}_gateway"),
           "VENDOR_NAME": "Meetings Example, Inc.",
           # online_billing asks identity whom to mail; nothing is mailed here, so nothing listens.
           "IDENTITY_TARGET": f"127.0.0.1:{_free_port()}",
           **callers.ENV}
    process = subprocess.Popen([sys.executable, "-m", f"services.{name}"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not _healthy(target, service):
            assert process.poll() is None, process.communicate()[0]
            assert time.monotonic() < deadline, "not healthy within 30 s"
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=20)[0]
        assert process.returncode == 0, output
        assert not _healthy(target, service)
        # json logs in prod, and the database URL (with its password) never printed.
        assert '"event": "serving"' in output and url not in output
        assert not any(secret in output for secret in callers.SECRETS.values())
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
