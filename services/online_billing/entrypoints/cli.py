"""Operator commands: `python -m services.online_billing.entrypoints.cli migrate`."""
from __future__ import annotations

import argparse
import sys

from billing_common.logs import configure
from services.online_billing import bootstrap
from services.online_billing.config import OnlineBillingSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.online_billing.entrypoints.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="create or upgrade the database (ONLINE_BILLING_DATABASE_URL)")
    args = parser.parse_args(argv)
    settings = OnlineBillingSettings()
    configure("online_billing", settings.log_level, settings.log_format)
    if args.command == "migrate":
        bootstrap.migrate(settings)
        print("online_billing: database at the newest migration")
    return 0


if __name__ == "__main__":
    sys.exit(main())
