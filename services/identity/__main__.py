"""`python -m services.identity` runs the identity gRPC server; `... migrate` only migrates."""
from __future__ import annotations

import sys

from billing_common import logs
from services.identity.config import IdentitySettings


def main(argv: list[str]) -> None:
    settings = IdentitySettings()
    logs.configure("identity", settings.log_level, settings.log_format)
    from services.identity import bootstrap
    from services.identity.entrypoints.grpc_server import serve

    if argv[:1] == ["migrate"]:
        bootstrap.migrate(settings)
        return
    serve(settings)


if __name__ == "__main__":
    main(sys.argv[1:])
