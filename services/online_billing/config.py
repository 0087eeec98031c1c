"""online_billing's settings: ONLINE_BILLING_* variables plus the common ones (BILLING_ENV,
LOG_LEVEL, LOG_FORMAT, SMTP_URL, MAILDIR, MAIL_FROM)."""
from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from billing_common.config import ServiceSettings, sqlite_url
from services.online_billing.domain.renewals import DunningSchedule


class OnlineBillingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONLINE_BILLING_", extra="ignore")

    database_url: str = sqlite_url("online_billing")
    grpc_bind: str = "127.0.0.1:50052"
    # The billing run (README "Renewals and dunning"): how often the server runs it by itself
    # (seconds; 0: never, e.g. when a CronJob runs `renew`), subscriptions claimed per
    # transaction, gateway calls at once per batch, batches claimed at once (threads).
    renewal_interval: float = Field(3600.0, ge=0)
    renewal_batch_size: int = Field(200, ge=1, le=10_000)
    renewal_charge_concurrency: int = Field(8, ge=1, le=256)
    renewal_workers: int = Field(1, ge=1, le=64)
    # Days after a renewal's first failed charge on which it is retried (JSON: [1, 3, 5]).
    dunning_retry_days: tuple[int, ...] = (1, 3, 5)
    # Linked from the billing run's mails (update the card, reactivate).
    billing_center_url: str = Field("http://127.0.0.1:8080", validation_alias="BILLING_CENTER_URL")
    # Identity, asked for the accounts' billing contacts (whom the billing mails go to), as the
    # caller "online-billing" (CALLER_SECRET_ONLINE_BILLING). Unset: nobody is a contact and the
    # mails go to the billing profiles' invoice recipients alone (dev and test only; required in
    # prod). Each call's deadline in seconds.
    identity_target: str | None = Field(None, validation_alias="IDENTITY_TARGET")
    identity_timeout: float = Field(2.0, gt=0, le=60)

    @field_validator("dunning_retry_days")
    @classmethod
    def _schedule(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        DunningSchedule(days)  # raises ValueError saying what is wrong
        return days

    def dunning_schedule(self) -> DunningSchedule:
        return DunningSchedule(self.dunning_retry_days)
