"""`python -m services.identity` runs the identity gRPC server; `... migrate` only migrates."""
from __future__ import annotations

import sys

from billing_common.cli import service_main
from services.identity import bootstrap
from services.identity.config import IdentitySettings
from services.identity.entrypoints.grpc_server import serve


def main(argv: list[str] | None = None) -> int:
    return service_main("identity", IdentitySettings, bootstrap.migrate, serve, argv)


if __name__ == "__main__":
    sys.exit(main())
