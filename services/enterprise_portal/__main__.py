"""`python -m services.enterprise_portal`: the enterprise_portal gRPC server (configured by
ENTERPRISE_PORTAL_* and the common variables; see deploy/README.md); `... migrate` only migrates."""
from __future__ import annotations

import sys

from billing_common.cli import service_main
from services.enterprise_portal import bootstrap
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.entrypoints.grpc_server import serve


def main(argv: list[str] | None = None) -> int:
    return service_main("enterprise_portal", EnterprisePortalSettings, bootstrap.migrate, serve, argv)


if __name__ == "__main__":
    sys.exit(main())
