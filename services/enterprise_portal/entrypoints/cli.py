"""Operator commands: `python -m services.enterprise_portal.entrypoints.cli migrate`."""
from __future__ import annotations

import argparse
import sys

from billing_common.logs import configure
from services.enterprise_portal import bootstrap
from services.enterprise_portal.config import EnterprisePortalSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.enterprise_portal.entrypoints.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade the database (ENTERPRISE_PORTAL_DATABASE_URL)")
    args = parser.parse_args(argv)
    settings = EnterprisePortalSettings()
    configure("enterprise_portal", settings.log_level, settings.log_format)
    if args.command == "migrate":
        bootstrap.migrate(settings)
        print("enterprise_portal: database at the newest migration")
    return 0


if __name__ == "__main__":
    sys.exit(main())
