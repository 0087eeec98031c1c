"""online_billing's settings: ONLINE_BILLING_* variables plus the common ones (BILLING_ENV,
LOG_LEVEL, LOG_FORMAT, SMTP_URL, MAILDIR, MAIL_FROM)."""
from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from billing_common.config import ServiceSettings, sqlite_url


class OnlineBillingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONLINE_BILLING_", extra="ignore")

    database_url: str = sqlite_url("online_billing")
    grpc_bind: str = "127.0.0.1:50052"
