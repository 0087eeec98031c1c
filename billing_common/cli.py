"""The command line of every gRPC service: `python -m services.<name> [serve|migrate]`."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

from billing_common import logs
from billing_common.config import ConfigurationError, ServiceSettings, settings_or_exit

S = TypeVar("S", bound=ServiceSettings)


def service_main(
    name: str,
    settings_type: Callable[[], S],
    migrate: Callable[[S], None],
    serve: Callable[[S], None],
    argv: list[str] | None = None,
) -> int:
    """`serve` (the default) runs the server until SIGTERM; `migrate` upgrades the service's
    database to the newest migration and exits (operators' one-shot job). An environment that
    cannot run the command stops it with one line naming the variable, and status 1."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{name}")
    parser.add_argument("command", nargs="?", choices=("serve", "migrate"), default="serve")
    args = parser.parse_args(argv)

    def settings_for_command() -> S:
        settings = settings_type()
        if args.command == "serve":
            settings.check_can_serve()
        return settings

    settings = settings_or_exit(name, settings_for_command, settings_type)
    logs.configure(name, settings.log_level, settings.log_format)
    if args.command == "migrate":
        migrate(settings)
        print(f"{name}: database at the newest migration")
    else:
        try:
            serve(settings)
        except ConfigurationError as error:  # found while building the server (its callers' secrets)
            raise SystemExit(f"{name}: refusing to start: {error}") from None
    return 0
