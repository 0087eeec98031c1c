"""`python -m services.online_billing`: the online_billing gRPC server (configured by
ONLINE_BILLING_* and the common variables; see deploy/README.md).

For now it serves GetSubscriptionSummary and drains its mail outbox; the renewal worker
(set-based billing runs and dunning, ARCHITECTURE.md "Renewals") comes in a later issue.
"""
from __future__ import annotations

from billing_common.logs import configure
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.grpc_server import serve


def main() -> None:
    settings = OnlineBillingSettings()
    configure("online_billing", settings.log_level, settings.log_format)
    serve(settings)


if __name__ == "__main__":
    main()
