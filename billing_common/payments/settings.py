"""Which payment gateway a process uses, from the environment, and building it.

The web tier builds only the tokenizer (`build_tokenizer`: the signing secret, no store); the
services build the gateway (`build_gateway`: the secret and the sandbox's store). Both read the
same variables, so a token made by a portal is charged by any service.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from billing_common.clock import Clock
from billing_common.config import CommonSettings, ConfigurationError, secret_key_for, sqlite_url
from billing_common.payments.gateway import PaymentGateway
from billing_common.payments.sandbox import SandboxGateway, SandboxTokenizer, parse_latency


class GatewaySettings(CommonSettings):
    # The only adapter so far; a real one (Stripe) would add its name and its keys.
    payment_gateway: Literal["sandbox"] = Field("sandbox", validation_alias="PAYMENT_GATEWAY")
    # Signs the sandbox's card tokens; the same value in every web and service process.
    sandbox_gateway_secret: str | None = Field(None, validation_alias="SANDBOX_GATEWAY_SECRET")
    # The sandbox's own record of charges and idempotency keys, shared by every process.
    sandbox_gateway_database_url: str = Field(
        default_factory=lambda: sqlite_url("sandbox_gateway"), validation_alias="SANDBOX_GATEWAY_DATABASE_URL"
    )
    # Milliseconds each sandbox call takes: "0" (default), "80", or a range "50-200" (NoDecode:
    # the variable is that text, not the JSON pydantic-settings expects of a tuple).
    sandbox_gateway_latency_ms: Annotated[tuple[int, int], NoDecode] = Field(
        (0, 0), validation_alias="SANDBOX_GATEWAY_LATENCY_MS"
    )

    @field_validator("sandbox_gateway_latency_ms", mode="before")
    @classmethod
    def _latency(cls, value: object) -> object:
        return parse_latency(value) if isinstance(value, str | int) else value

    @model_validator(mode="after")
    def _secret_by_environment(self) -> GatewaySettings:
        # The shared rule: the public dev key in dev and test, a real one of 32+ characters in prod.
        self.sandbox_gateway_secret = secret_key_for(self.env, self.sandbox_gateway_secret, "SANDBOX_GATEWAY_SECRET")
        return self

    def check_can_charge(self) -> None:
        """Raises ConfigurationError naming what charging lacks beyond what tokenizing needs: in
        prod, the store's URL (else each container would keep its own SQLite file, and a charge
        made by one replica would be unknown to the others)."""
        if self.env == "prod" and "sandbox_gateway_database_url" not in self.model_fields_set:
            raise ConfigurationError("SANDBOX_GATEWAY_DATABASE_URL must be set when BILLING_ENV=prod (else the "
                                     "sandbox gateway would record charges in a local SQLite file)")

    @property
    def secret(self) -> str:
        assert self.sandbox_gateway_secret is not None  # set by the validator
        return self.sandbox_gateway_secret


def build_tokenizer(settings: GatewaySettings, clock: Clock | None = None) -> SandboxTokenizer:
    """The web tier's half (CardTokenizer)."""
    return SandboxTokenizer(settings.secret, clock=clock, latency_ms=settings.sandbox_gateway_latency_ms)


def build_gateway(settings: GatewaySettings, clock: Clock | None = None) -> SandboxGateway:
    """The services' half (PaymentGateway), with its store (the table made if missing)."""
    from billing_common.payments.sandbox_sql import SqlChargeStore  # SQL only where a store is needed

    settings.check_can_charge()

    store = SqlChargeStore.from_url(settings.sandbox_gateway_database_url)
    return SandboxGateway(settings.secret, store, clock=clock, latency_ms=settings.sandbox_gateway_latency_ms)


def gateway_or_built(gateway: PaymentGateway | None, settings: GatewaySettings | None, *,
                     clock: Clock | None, closers: list[Callable[[], None]]) -> PaymentGateway:
    """A billing service's bootstrap: `gateway` when a test passes one in, else one built from
    `settings` (else from PAYMENT_GATEWAY and SANDBOX_GATEWAY_*), whose `close` is appended to
    `closers` (it is the bootstrap's to release)."""
    if gateway is not None:
        return gateway
    built = build_gateway(settings or GatewaySettings(), clock=clock)
    closers.append(built.close)
    return built
