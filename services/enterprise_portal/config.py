"""enterprise_portal's settings: ENTERPRISE_PORTAL_* variables plus the common ones
(BILLING_ENV, LOG_LEVEL, LOG_FORMAT, SMTP_URL, MAILDIR, MAIL_FROM)."""
from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from billing_common.config import ServiceSettings, sqlite_url


class EnterprisePortalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ENTERPRISE_PORTAL_", extra="ignore")

    database_url: str = sqlite_url("enterprise_portal")
    grpc_bind: str = "127.0.0.1:50053"
    # How often the server settles lost card answers (S20) and mails PO expiry notices
    # (seconds; 0: never, e.g. when tests or a CronJob do it).
    jobs_interval: float = Field(300.0, ge=0)
    # Linked from the invoicing mails.
    portal_url: str = Field("http://127.0.0.1:8081", validation_alias="ENTERPRISE_PORTAL_URL")
    # Identity, asked for the accounts' billing contacts and reps (whom the mails go to, each in
    # their language), as the caller "enterprise-portal" (CALLER_SECRET_ENTERPRISE_PORTAL), when
    # a mail is sent. Unset: nobody is mailed (dev and tests of other things; required in prod).
    # Each call's deadline in seconds.
    identity_target: str | None = Field(None, validation_alias="IDENTITY_TARGET")
    identity_timeout: float = Field(2.0, gt=0, le=60)
