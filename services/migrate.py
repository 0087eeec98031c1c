"""`python -m services.migrate`: create or upgrade every service's database, then exit 0.

What operators run before each rollout (the compose `migrate` service, the Kubernetes migrate
Job, `make migrate`), and what `make run` does before it starts the processes. It lives here,
not in services.devstack, because production runs it. Each service migrates its own database
(IDENTITY_DATABASE_URL, ONLINE_BILLING_DATABASE_URL, ENTERPRISE_PORTAL_DATABASE_URL) with its
own Alembic environment and version table; `python -m services.<name> migrate` does one.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import structlog

from billing_common import logs
from billing_common.config import CommonSettings, settings_or_exit
from services.enterprise_portal import bootstrap as enterprise_portal
from services.enterprise_portal.config import EnterprisePortalSettings
from services.identity import bootstrap as identity
from services.identity.config import IdentitySettings
from services.online_billing import bootstrap as online_billing
from services.online_billing.config import OnlineBillingSettings

log = structlog.get_logger()

# Settings are read when the migration runs, not at import, so a caller can set the
# environment first (the dev supervisor does).
MIGRATIONS: dict[str, Callable[[], None]] = {
    "identity": lambda: identity.migrate(IdentitySettings()),
    "online_billing": lambda: online_billing.migrate(OnlineBillingSettings()),
    "enterprise_portal": lambda: enterprise_portal.migrate(EnterprisePortalSettings()),
}


def migrate_all() -> None:
    """Every service's database at its newest revision; the first failure stops the rest."""
    for name, migrate in MIGRATIONS.items():
        migrate()
        log.info("database migrated", database=name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.migrate", description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    common = settings_or_exit("migrate", CommonSettings)
    # Every service's settings first: a missing database URL stops the job before it migrates any.
    for settings_type in (IdentitySettings, OnlineBillingSettings, EnterprisePortalSettings):
        settings_or_exit("migrate", settings_type)
    logs.configure("migrate", common.log_level, common.log_format)
    migrate_all()
    print("databases migrated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
