"""Each process started as compose and Kubernetes start it, in prod with a configuration that
would fall back to a local default: it stops at once, with one line naming the variable and a
non-zero status, not a traceback (and never prints the values it was given)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from billing_common.config import DEV_SECRET_KEY
from tests import callers

ROOT = Path(__file__).resolve().parents[3]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
DATABASE_PASSWORD = "db-password-that-must-not-be-printed"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prod(**variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.endswith(("_DATABASE_URL", "_BIND"))
           and k not in ("SMTP_URL", "REDIS_URL", "SECRET_KEY", "IDENTITY_DEVICE_SECRET")}
    return {**env, "BILLING_ENV": "prod", "LOG_FORMAT": "json", **variables}


def _refused(argv: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert DATABASE_PASSWORD not in result.stderr and DEV_SECRET_KEY not in result.stderr
    return lines[0]


def _url(name: str) -> str:
    return f"postgresql://{name}:{DATABASE_PASSWORD}@127.0.0.1:{_free_port()}/{name}"


@pytest.mark.parametrize("name", ["identity", "online_billing", "enterprise_portal"])
def test_a_service_in_prod_without_its_database_url_refuses_to_start_naming_it(name: str) -> None:
    line = _refused([sys.executable, "-m", f"services.{name}"], _prod(SMTP_URL="smtp://127.0.0.1:25"))
    assert line.startswith(f"{name}: refusing to start: {name.upper()}_DATABASE_URL must be set when BILLING_ENV=prod")


@pytest.mark.parametrize("name", ["identity", "online_billing", "enterprise_portal"])
def test_a_service_in_prod_without_smtp_url_refuses_to_start_naming_it(name: str) -> None:
    env = _prod(**{f"{name.upper()}_DATABASE_URL": _url(name), "REDIS_URL": "redis://127.0.0.1:1/0"})
    line = _refused([sys.executable, "-m", f"services.{name}"], env)
    assert line.startswith(f"{name}: refusing to start: SMTP_URL must be set when BILLING_ENV=prod")


def test_identity_in_prod_without_redis_url_refuses_to_start_naming_it() -> None:
    env = _prod(IDENTITY_DATABASE_URL=_url("identity"), SMTP_URL="smtp://127.0.0.1:25")
    line = _refused([sys.executable, "-m", "services.identity"], env)
    assert line.startswith("identity: refusing to start: REDIS_URL must be set when BILLING_ENV=prod")


@pytest.mark.parametrize("secret", [None, DEV_SECRET_KEY])
def test_identity_in_prod_without_a_real_device_secret_refuses_to_start_naming_it(secret: str | None) -> None:
    env = _prod(IDENTITY_DATABASE_URL=_url("identity"), SMTP_URL="smtp://127.0.0.1:25", REDIS_URL="redis://127.0.0.1:1/0",
                **({"IDENTITY_DEVICE_SECRET": secret} if secret else {}))
    line = _refused([sys.executable, "-m", "services.identity"], env)
    assert line.startswith("identity: refusing to start: IDENTITY_DEVICE_SECRET must be")


def test_online_billing_in_prod_without_identity_target_refuses_to_start_naming_it() -> None:
    # Whom its mails go to: the billing contacts identity knows (README "Billing mails").
    env = _prod(ONLINE_BILLING_DATABASE_URL=_url("online_billing"), SMTP_URL="smtp://127.0.0.1:25",
                SANDBOX_GATEWAY_SECRET="s" * 40, SANDBOX_GATEWAY_DATABASE_URL=_url("sandbox_gateway"),
                VENDOR_NAME="Meetings Example, Inc.", **callers.ENV)
    env.pop("IDENTITY_TARGET", None)
    line = _refused([sys.executable, "-m", "services.online_billing"], env)
    assert line.startswith("online_billing: refusing to start: IDENTITY_TARGET must be set when BILLING_ENV=prod")


def test_enterprise_portal_in_prod_without_identity_target_refuses_to_start_naming_it() -> None:
    # Whom its mails go to: the contacts and reps identity knows (README "Enterprise mails").
    env = _prod(ENTERPRISE_PORTAL_DATABASE_URL=_url("enterprise_portal"), SMTP_URL="smtp://127.0.0.1:25",
                SANDBOX_GATEWAY_SECRET="s" * 40, SANDBOX_GATEWAY_DATABASE_URL=_url("sandbox_gateway"),
                VENDOR_NAME="Meetings Example, Inc.", **callers.ENV)
    env.pop("IDENTITY_TARGET", None)
    line = _refused([sys.executable, "-m", "services.enterprise_portal"], env)
    assert line.startswith("enterprise_portal: refusing to start: IDENTITY_TARGET must be set when BILLING_ENV=prod")


def test_the_migrate_job_in_prod_without_a_database_url_migrates_nothing_and_names_it() -> None:
    env = _prod(IDENTITY_DATABASE_URL=_url("identity"), ONLINE_BILLING_DATABASE_URL=_url("online_billing"))
    line = _refused([sys.executable, "-m", "services.migrate"], env)
    assert line.startswith("migrate: refusing to start: ENTERPRISE_PORTAL_DATABASE_URL must be set")


@pytest.mark.parametrize("door", ["billing_center", "enterprise_portal"])
@pytest.mark.parametrize("secret", [None, DEV_SECRET_KEY], ids=["no key", "the dev key"])
def test_a_portal_in_prod_without_a_real_secret_key_refuses_to_start_naming_it(door: str, secret: str | None) -> None:
    env = _prod(**{f"{door.upper()}_BIND": f"127.0.0.1:{_free_port()}"}, **({"SECRET_KEY": secret} if secret else {}))
    line = _refused([GUNICORN, "-c", f"web/{door}/gunicorn.conf.py", f"web.{door}.wsgi:app"], env)
    assert line.startswith(f"{door.replace('_', '-')}-web: refusing to start: SECRET_KEY must ")


def test_the_billing_center_web_in_prod_without_the_gateway_secret_refuses_to_start_naming_it() -> None:
    # Its card form is tokenized in the web tier (S18), with the secret online_billing verifies.
    env = _prod(BILLING_CENTER_BIND=f"127.0.0.1:{_free_port()}", SECRET_KEY="s" * 40,
                CALLER_SECRET_BILLING_CENTER_WEB="c" * 40)
    env.pop("SANDBOX_GATEWAY_SECRET", None)
    line = _refused([GUNICORN, "-c", "web/billing_center/gunicorn.conf.py", "web.billing_center.wsgi:app"], env)
    assert line.startswith("billing-center-web: refusing to start: SANDBOX_GATEWAY_SECRET")
