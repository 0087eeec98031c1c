"""`python -m services.online_billing`: the online_billing gRPC server (configured by
ONLINE_BILLING_* and the common variables; see deploy/README.md), which also drains its mail
outbox and runs the billing run on a schedule; `... migrate` only migrates; `... renew
[--date YYYY-MM-DD] [--workers N]` runs one billing run and prints its summary.
"""
from __future__ import annotations

import sys

from billing_common.cli import service_main
from services.online_billing import bootstrap
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.billing_run import RENEW
from services.online_billing.entrypoints.grpc_server import serve


def main(argv: list[str] | None = None) -> int:
    return service_main("online_billing", OnlineBillingSettings, bootstrap.migrate, serve, argv,
                        commands={"renew": RENEW})


if __name__ == "__main__":
    sys.exit(main())
