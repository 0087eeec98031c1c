"""Typed settings from environment variables, with safe local defaults (pydantic-settings).

Each service subclasses ServiceSettings with its own env prefix, so one environment can
configure all five processes (IDENTITY_DATABASE_URL, ONLINE_BILLING_DATABASE_URL, ...).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

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


class ServiceSettings(CommonSettings, MailSettings):
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
