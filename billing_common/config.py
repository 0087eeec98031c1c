"""Typed settings from environment variables, with safe local defaults (pydantic-settings).

Each service subclasses ServiceSettings with its own env prefix, so one environment can
configure all five processes (IDENTITY_DATABASE_URL, ONLINE_BILLING_DATABASE_URL, ...).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from billing_common import service_auth

ROOT = Path(__file__).resolve().parent.parent
# Local state of the embedded default (SQLite files, Maildir, Redis socket); BILLING_VAR_DIR moves
# it, so the end-to-end tests can run a whole stack beside a developer's own `make run`.
VAR = Path(os.environ.get("BILLING_VAR_DIR") or ROOT / "var")

Environment = Literal["dev", "test", "prod"]


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


class ServiceSettings(CallerSecretSettings, MailSettings):
    """A gRPC service: where it listens and which database it owns."""

    grpc_bind: str = "127.0.0.1:0"
    database_url: str = "sqlite://"
    # Seconds the server waits for in-flight calls after SIGTERM (S23).
    shutdown_grace: float = 10.0
    grpc_workers: int = 16
    # Seconds between outbox dispatcher polls.
    outbox_poll_interval: float = 1.0


def sqlite_url(name: str) -> str:
    return f"sqlite:///{VAR / 'data' / name}.db"
