"""`python -m services.migrate`, run as compose's migrate service and the Kubernetes Job run it."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import inspect

from billing_common.db import make_engine
from services.enterprise_portal import bootstrap as enterprise_portal
from services.identity import bootstrap as identity
from services.online_billing import bootstrap as online_billing

ROOT = Path(__file__).resolve().parents[3]

DATABASES = {
    "IDENTITY": (identity.VERSION_TABLE, "users"),
    "ONLINE_BILLING": (online_billing.VERSION_TABLE, "subscriptions"),
    "ENTERPRISE_PORTAL": (enterprise_portal.VERSION_TABLE, "invoices"),
}


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "services.migrate"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_the_migrate_module_brings_every_service_database_to_its_newest_revision_and_can_run_again(
    database_url: Callable[[str], str]
) -> None:
    urls = {prefix: database_url(f"migrate_{prefix.lower()}") for prefix in DATABASES}
    env = {**os.environ, "BILLING_ENV": "prod", "LOG_FORMAT": "json",
           **{f"{prefix}_DATABASE_URL": url for prefix, url in urls.items()}}
    for _ in range(2):
        result = _run(env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "databases migrated" in result.stdout
        # json logs, one line per database, and no URL (with its password) printed.
        assert result.stdout.count('"event": "database migrated"') == 3
        assert not any(url in result.stdout + result.stderr for url in urls.values())
    for prefix, (version_table, table) in DATABASES.items():
        engine = make_engine(urls[prefix])
        try:
            assert {version_table, table} <= set(inspect(engine).get_table_names()), prefix
        finally:
            engine.dispose()
