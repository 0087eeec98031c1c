"""Identity's settings: IDENTITY_* variables, plus the shared REDIS_URL and portal URLs."""
from __future__ import annotations

import os

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from billing_common.config import ConfigurationError, ServiceSettings, secret_key_for, sqlite_url


class IdentitySettings(ServiceSettings):
    """Everything the identity process reads from the environment, with local defaults.

    Timeouts and windows are seconds. Rate-limit windows and token lifetimes are judged
    against the injected clock's timestamps stored with the values; Redis TTLs only clean up.
    """

    model_config = SettingsConfigDict(env_prefix="IDENTITY_", extra="ignore", populate_by_name=True)

    database_url: str = sqlite_url("identity")
    grpc_bind: str = "127.0.0.1:50051"

    redis_url: str = Field("redis://127.0.0.1:6379/0", validation_alias="REDIS_URL")
    # Every key this service writes starts with this, so services (and tests) can share a Redis.
    redis_prefix: str = "identity:"

    # Reset links are built from these, never from a request's Host header (S8).
    billing_center_url: str = Field("http://127.0.0.1:8080", validation_alias="BILLING_CENTER_URL")
    enterprise_portal_url: str = Field("http://127.0.0.1:8081", validation_alias="ENTERPRISE_PORTAL_URL")
    support_email: str = Field("customer-care@meetings.example", validation_alias="SUPPORT_EMAIL")

    # argon2id, OWASP's minimum (S2): 19 MiB, 2 passes, 1 lane.
    argon2_memory_cost: int = 19456
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    # At most this many argon2id computations at once, and this many sign-ins waiting for a
    # turn; one more is answered UNAVAILABLE ("try again in a few seconds"). Unbounded, a burst
    # of sign-ins took every core and, once larger than the gRPC worker pool, every thread, and
    # each session check waited behind it (`make bench`). Each running or waiting sign-in holds
    # a worker, so by default they get half the pool: one hash per CPU (at most a quarter of the
    # workers), the rest queued. In a container, set the concurrency to the CPU limit.
    hash_concurrency: int | None = Field(None, ge=1)
    hash_queue: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _bound_hashing(self) -> IdentitySettings:
        workers = self.grpc_workers
        if self.hash_concurrency is None:
            self.hash_concurrency = max(1, min(len(os.sched_getaffinity(0)), workers // 4))
        if self.hash_queue is None:
            self.hash_queue = max(0, workers // 2 - self.hash_concurrency)
        if self.hash_concurrency + self.hash_queue >= workers:
            raise ValueError(
                f"hash_concurrency + hash_queue ({self.hash_concurrency} + {self.hash_queue}) must stay below "
                f"grpc_workers ({workers}): each sign-in hashing or waiting holds a worker, and session "
                "checks need some left"
            )
        return self

    def check_can_serve(self) -> None:
        super().check_can_serve()
        if self.env == "prod" and "redis_url" not in self.model_fields_set:
            raise ConfigurationError("REDIS_URL must be set when BILLING_ENV=prod (else identity would look for "
                                     "Redis on 127.0.0.1)")
        self.device_key()

    session_idle_timeout: float = 30 * 60
    session_absolute_timeout: float = 12 * 60 * 60
    reset_link_ttl: float = 30 * 60
    # The "create your password" link mailed to a billing contact someone added: they did not
    # ask for it and may read it later; a lapsed one is replaced by Reset/Create your password.
    welcome_link_ttl: float = 7 * 24 * 60 * 60
    handoff_ticket_ttl: float = 60

    # S4: once `login_max_failures` attempts that were no success fall within the window, the
    # next waits base x 2^(attempts - max) seconds after the newest, at most `login_max_delay`.
    # Only the window's attempts count, so an attacker slower than the budget makes nobody
    # wait: never a lockout. The budget is per user for clients without the user's device
    # token, and per device token for those with one (OWASP's device cookies).
    login_max_failures: int = Field(10, ge=1)
    login_failure_window: float = Field(15 * 60, gt=0)
    login_base_delay: float = Field(30, gt=0)
    login_max_delay: float = Field(15 * 60, gt=0)
    login_device_max_failures: int = Field(10, ge=1)
    # The same scheme per client address (an IPv6 /64 counts as one), for clients without a
    # device token, with a threshold that a shared NAT can live with.
    login_address_max_failures: int = Field(100, ge=1)
    # The device token a browser gets at each successful sign-in (renewed each time): signed
    # with this secret, required in prod (the same for every replica; a new one makes every
    # browser a new device once). Dev and test use a published placeholder.
    device_secret: SecretStr | None = None
    device_token_lifetime: float = Field(180 * 24 * 60 * 60, gt=0)

    def device_key(self) -> bytes:
        """The key device tokens are signed with: in prod a real one (ConfigurationError without
        it: the one shared rule of billing_common.config), elsewhere the public dev key."""
        secret = self.device_secret.get_secret_value() if self.device_secret else None
        return secret_key_for(self.env, secret, "IDENTITY_DEVICE_SECRET").encode()

    # Reset/Create requests accepted and waiting for their lookup and mail (in the database);
    # beyond this many, every request is refused ("try again in a minute") until they drain.
    reset_queue_limit: int = Field(1000, ge=1)
    # Seconds between looks at that queue for requests left by a restart, an outage or another
    # replica (a request accepted here is handled at once).
    reset_poll_interval: float = Field(5.0, gt=0)

    # S7: per hour.
    reset_requests_per_user: int = 5
    reset_requests_per_address: int = 20
    contact_admin_per_user: int = 3
    customer_care_per_address: int = 5
    rate_window: float = 60 * 60
