"""Typed settings from environment variables, with safe local defaults (pydantic-settings).

Each service subclasses ServiceSettings with its own env prefix, so one environment can
configure all five processes (IDENTITY_DATABASE_URL, ONLINE_BILLING_DATABASE_URL, ...).

The local defaults (SQLite files, a Maildir, the public dev key) are for dev and test only: with
BILLING_ENV=prod a process whose configuration would fall back to one refuses to start, naming
the variable, in one line (`settings_or_exit`).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from billing_common import service_auth

ROOT = Path(__file__).resolve().parent.parent
# Local state of the embedded default (SQLite files, Maildir, Redis socket); BILLING_VAR_DIR moves
# it, so the end-to-end tests can run a whole stack beside a developer's own `make run`.
VAR = Path(os.environ.get("BILLING_VAR_DIR") or ROOT / "var")

Environment = Literal["dev", "test", "prod"]

# What signs cookies and CSRF tokens when SECRET_KEY is unset in dev and test. It is public (it
# is right here), so a process in prod refuses it (`secret_key_for`).
DEV_SECRET_KEY = "dev-only-secret-key-not-for-production"


class ConfigurationError(ValueError):
    """The environment cannot run this process; the message names the variable."""


def secret_key_for(env: str, secret_key: str | None, variable: str = "SECRET_KEY") -> str:
    """The key a process signs with: in prod the configured one, at least 32 characters and
    never the public dev key; elsewhere the dev key when none is configured."""
    if env != "prod":
        return secret_key or DEV_SECRET_KEY
    if not secret_key:
        raise ConfigurationError(f"{variable} must be set when BILLING_ENV=prod")
    if secret_key == DEV_SECRET_KEY or len(secret_key) < 32:
        raise ConfigurationError(f"{variable} must be a random value of at least 32 characters in prod "
                                 "(not the public dev key)")
    return secret_key


def parse_bind(bind: str) -> tuple[str, int]:
    """("host", port) of "host:port" or "[v6]:port"; ValueError saying what is wrong."""
    host, sep, port = bind.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{bind!r} is not host:port (e.g. 127.0.0.1:9151 or 0.0.0.0:9100)")
    return host.removeprefix("[").removesuffix("]"), int(port)


class CommonSettings(BaseSettings):
    """Settings every process reads without a prefix."""

    model_config = SettingsConfigDict(extra="ignore")

    env: Environment = Field("dev", validation_alias="BILLING_ENV")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    # "console" for people in dev, "json" for log shippers.
    log_format: Literal["console", "json"] = Field("console", validation_alias="LOG_FORMAT")


class CallerSecretSettings(CommonSettings):
    """The per-caller secrets of service-to-service calls (billing_common.service_auth), one
    variable per caller. A service reads those of the callers it admits, a client process its
    own; the values never appear in logs or reprs (SecretStr)."""

    caller_secret_billing_center_web: SecretStr | None = Field(
        None, validation_alias=service_auth.secret_variable(service_auth.BILLING_CENTER_WEB))
    caller_secret_enterprise_portal_web: SecretStr | None = Field(
        None, validation_alias=service_auth.secret_variable(service_auth.ENTERPRISE_PORTAL_WEB))
    caller_secret_operator: SecretStr | None = Field(
        None, validation_alias=service_auth.secret_variable(service_auth.OPERATOR))
    caller_secret_online_billing: SecretStr | None = Field(
        None, validation_alias=service_auth.secret_variable(service_auth.ONLINE_BILLING))
    caller_secret_enterprise_portal: SecretStr | None = Field(
        None, validation_alias=service_auth.secret_variable(service_auth.ENTERPRISE_PORTAL))

    @model_validator(mode="after")
    def _check_caller_secrets(self) -> CallerSecretSettings:
        for caller, secret in self.caller_secrets().items():
            service_auth.check_secret(caller, secret, strict=self.env == "prod")
        return self

    def caller_secrets(self) -> dict[str, str]:
        """caller name -> secret, for the callers whose variable is set."""
        found = {caller: getattr(self, "caller_secret_" + caller.replace("-", "_"))
                 for caller in service_auth.CALLERS}
        return {caller: secret.get_secret_value() for caller, secret in found.items() if secret}

    def credentials(self, caller: str, acting_person: str = "") -> service_auth.CallerCredentials:
        """What this process sends as `caller`; ValueError naming the variable when it is unset."""
        secret = self.caller_secrets().get(caller)
        if not secret:
            raise ValueError(f"{service_auth.secret_variable(caller)} must be set: {caller} calls the "
                             "gRPC services with it")
        return service_auth.CallerCredentials(caller, secret, acting_person)


class MailSettings(BaseSettings):
    """Where outgoing mail goes: an SMTP relay when SMTP_URL is set, else a local Maildir."""

    model_config = SettingsConfigDict(extra="ignore")

    smtp_url: str | None = Field(None, validation_alias="SMTP_URL")
    maildir: Path = Field(VAR / "mail", validation_alias="MAILDIR")
    mail_from: str = Field("Billing <billing@meetings.example>", validation_alias="MAIL_FROM")
    # Seconds to reach the relay (and read its greeting), and for each later step of a message's
    # conversation: a relay that hangs is given up on for that attempt, and the message retried.
    smtp_connect_timeout: float = Field(5.0, gt=0, validation_alias="SMTP_CONNECT_TIMEOUT")
    smtp_timeout: float = Field(10.0, gt=0, validation_alias="SMTP_TIMEOUT")
    # The outbox's retries (billing_common.outbox): the delay doubles from 2 s up to
    # OUTBOX_MAX_DELAY seconds; a message is given up on at its first failure once it has
    # waited OUTBOX_GIVE_UP_AFTER seconds. A dispatcher's claim on a batch lasts
    # OUTBOX_CLAIM_LEASE seconds (a dispatcher that dies holding it: its mail is retried then).
    outbox_max_delay: float = Field(5 * 60.0, gt=0, validation_alias="OUTBOX_MAX_DELAY")
    outbox_give_up_after: float = Field(24 * 60 * 60.0, ge=0, validation_alias="OUTBOX_GIVE_UP_AFTER")
    outbox_claim_lease: float = Field(10 * 60.0, gt=0, validation_alias="OUTBOX_CLAIM_LEASE")
    # Seconds between the dispatcher's "outbox status" log lines (waiting, oldest, given up).
    outbox_status_interval: float = Field(60.0, gt=0, validation_alias="OUTBOX_STATUS_INTERVAL")


class ServiceSettings(CallerSecretSettings, MailSettings):
    """A gRPC service: where it listens and which database it owns.

    In prod the database URL must be given (else it would be a SQLite file inside the
    container); serving also needs SMTP_URL (`check_can_serve`), migrating does not.
    """

    grpc_bind: str = "127.0.0.1:0"
    database_url: str = "sqlite://"
    # Seconds the server waits for in-flight calls after SIGTERM (S23).
    shutdown_grace: float = 10.0
    grpc_workers: int = 16
    # Seconds between outbox dispatcher polls.
    outbox_poll_interval: float = 1.0
    # Seconds between readiness checks of the dependencies (SELECT 1, a Redis ping): health
    # turns NOT_SERVING within about this long of an outage, and SERVING after it.
    health_check_interval: float = Field(2.0, gt=0)
    # host:port of the Prometheus endpoint (/metrics, billing_common.metrics); unset or empty: no
    # endpoint. `make run` sets 127.0.0.1:9151..9153, compose and Kubernetes 0.0.0.0:9100.
    metrics_bind: str | None = None

    @field_validator("metrics_bind")
    @classmethod
    def _metrics_bind_is_host_and_port(cls, bind: str | None) -> str | None:
        if bind:
            parse_bind(bind)
        return bind or None

    @model_validator(mode="after")
    def _database_given_in_prod(self) -> ServiceSettings:
        if self.env == "prod" and "database_url" not in self.model_fields_set:
            raise ConfigurationError(f"{self.model_config.get('env_prefix', '')}DATABASE_URL must be set when "
                                     "BILLING_ENV=prod (else the service would use a local SQLite file)")
        return self

    def check_can_serve(self) -> None:
        """Raises ConfigurationError naming what serving lacks beyond what migrating needs."""
        if self.env == "prod" and not self.smtp_url:
            raise ConfigurationError("SMTP_URL must be set when BILLING_ENV=prod (else mail would go to a local "
                                     "Maildir nobody reads)")


def sqlite_url(name: str) -> str:
    return f"sqlite:///{VAR / 'data' / name}.db"


SettingsT = TypeVar("SettingsT")


def _variable(settings_type: Any, location: tuple[int | str, ...]) -> str:
    """The environment variable behind a validation error's location, else the location."""
    if not location:
        return ""
    name = str(location[0])
    field = settings_type.model_fields.get(name) if hasattr(settings_type, "model_fields") else None
    if field is not None:
        alias = field.validation_alias
        prefix = settings_type.model_config.get("env_prefix", "")
        name = alias if isinstance(alias, str) else f"{prefix}{name}".upper()
    return name


def describe(error: ValidationError, settings_type: Any = None) -> str:
    """One line for people: each problem with the variable it concerns, never the input values
    (they may hold passwords: pydantic's own text quotes them)."""
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        message = str(item["msg"]).removeprefix("Value error, ")
        variable = _variable(settings_type, tuple(item["loc"]))
        problems.append(f"{variable}: {message}" if variable else message)
    return "; ".join(problems).replace("\n", " ")


def settings_or_exit(process: str, build: Callable[[], SettingsT], settings_type: Any = None) -> SettingsT:
    """`build()`, or, when the environment cannot run this process, exit with status 1 and one
    line on stderr naming the variable ("identity: refusing to start: ...") instead of a
    traceback. `settings_type` names the variables of invalid values; it defaults to `build`."""
    try:
        return build()
    except ValidationError as error:
        message = describe(error, settings_type or build)
    except ConfigurationError as error:
        message = str(error)
    # SystemExit's message goes to stderr and the status is 1, even inside gunicorn's config.
    raise SystemExit(f"{process}: refusing to start: {message}")
