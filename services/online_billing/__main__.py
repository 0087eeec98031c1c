"""`python -m services.online_billing`: the online_billing gRPC server (configured by
ONLINE_BILLING_* and the common variables; see deploy/README.md); `... migrate` only migrates.

For now it serves GetSubscriptionSummary and drains its mail outbox; the renewal worker
(set-based billing runs and dunning, ARCHITECTURE.md "Renewals") comes in a later issue.
"""
from __future__ import annotations

import sys

from billing_common.cli import service_main
from services.online_billing import bootstrap
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.grpc_server import serve


def main(argv: list[str] | None = None) -> int:
    return service_main("online_billing", OnlineBillingSettings, bootstrap.migrate, serve, argv)


if __name__ == "__main__":
    sys.exit(main())
