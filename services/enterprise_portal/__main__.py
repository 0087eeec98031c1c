"""`python -m services.enterprise_portal`: the enterprise_portal gRPC server (configured by
ENTERPRISE_PORTAL_* and the common variables; see deploy/README.md)."""
from __future__ import annotations

from billing_common.logs import configure
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.entrypoints.grpc_server import serve


def main() -> None:
    settings = EnterprisePortalSettings()
    configure("enterprise_portal", settings.log_level, settings.log_format)
    serve(settings)


if __name__ == "__main__":
    main()
