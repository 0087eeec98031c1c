"""The command line of every gRPC service: `python -m services.<name> [serve|migrate|...]`."""
from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from billing_common import logs
from billing_common.config import ConfigurationError, ServiceSettings, settings_or_exit

S = TypeVar("S", bound=ServiceSettings)


@dataclass(frozen=True)
class Command(Generic[S]):
    """A service's own command beside serve and migrate (online_billing's `renew`): its help,
    its arguments, and what it runs (answers the exit status)."""

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[S, argparse.Namespace], int]


def service_main(
    name: str,
    settings_type: Callable[[], S],
    migrate: Callable[[S], None],
    serve: Callable[[S], None],
    argv: list[str] | None = None,
    commands: Mapping[str, Command[S]] | None = None,
) -> int:
    """`serve` (the default) runs the server until SIGTERM; `migrate` upgrades the service's
    database to the newest migration and exits (operators' one-shot job); `commands` are the
    service's own. An environment that cannot run the command stops it with one line naming
    the variable, and status 1."""
    parser = argparse.ArgumentParser(prog=f"python -m services.{name}")
    sub = parser.add_subparsers(dest="command", metavar="{" + ",".join(["serve", "migrate", *(commands or {})]) + "}")
    sub.add_parser("serve", help="run the gRPC server (the default)")
    sub.add_parser("migrate", help="upgrade the database to the newest migration")
    for command_name, command in (commands or {}).items():
        command.add_arguments(sub.add_parser(command_name, help=command.help))
    args = parser.parse_args(argv)
    args.command = args.command or "serve"

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
    elif args.command != "serve":
        try:
            return (commands or {})[args.command].run(settings, args)
        except ConfigurationError as error:
            raise SystemExit(f"{name} {args.command}: {error}") from None
    else:
        try:
            serve(settings)
        except ConfigurationError as error:  # found while building the server (its callers' secrets)
            raise SystemExit(f"{name}: refusing to start: {error}") from None
    return 0
