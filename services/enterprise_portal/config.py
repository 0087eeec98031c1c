"""enterprise_portal's settings: ENTERPRISE_PORTAL_* variables plus the common ones
(BILLING_ENV, LOG_LEVEL, LOG_FORMAT, SMTP_URL, MAILDIR, MAIL_FROM)."""
from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from billing_common.config import ServiceSettings, sqlite_url


class EnterprisePortalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ENTERPRISE_PORTAL_", extra="ignore")

    database_url: str = sqlite_url("enterprise_portal")
    grpc_bind: str = "127.0.0.1:50053"
