"""The payment gateway port: what the portals and the services need from a card gateway.

Two halves, as real gateways split them (S18):

- `CardTokenizer`, used by the web tier only: it hands the typed card to the gateway and gets a
  token back. The card number and CVC go no further: services receive the token, brand, last 4
  and expiry. (With Stripe this half runs in the browser, Stripe.js/Elements, and the web tier
  receives only the token; see the README's "Payments" decision.)
- `PaymentGateway`, used by the services: verify a card when it is added, charge a token with an
  idempotency key, and retrieve a charge by that key for the reconciler (S19, S20).

Outcomes a person caused (a declined card, a bad card form) are values or InvalidArgument
errors carrying a stable code of messages.py; a lost answer is ChargeStatus.UNKNOWN, never an
exception and never a failure (S20).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from billing_common.errors import FailedPrecondition, InvalidArgument, Unavailable
from billing_common.limits import MAX_TOKEN, has_disallowed_characters
from billing_common.money import Money
from billing_common.payments import messages
from billing_common.payments.cards import CardProblem, card_numbers_in

# Stripe's limits, so whatever a caller sends one gateway another one accepts too.
MAX_IDEMPOTENCY_KEY = 255
MAX_AMOUNT_MINOR = 99_999_999
MAX_DESCRIPTION = 500
MAX_METADATA_KEYS = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500
_IDEMPOTENCY_KEY = re.compile(rf"[\x21-\x7e]{{1,{MAX_IDEMPOTENCY_KEY}}}")


@dataclass(frozen=True, slots=True)
class CardDetails:
    """The card as typed in the form. Only a tokenizer ever receives it; its repr hides the
    number and the CVC, so a stray log line or traceback cannot show them (S18, S25)."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)
    holder_name: str


@dataclass(frozen=True, slots=True)
class Card:
    """What may be kept about a card (S18): the gateway's reusable token and what a person needs
    to recognise the card."""

    token: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class Decline:
    """Why the gateway refused: a stable code of messages.py and its English message."""

    code: str

    @property
    def message(self) -> str:
        return messages.message(self.code)


@dataclass(frozen=True, slots=True)
class Verification:
    """The gateway's answer when a card is added. Keep `card.token`: a gateway may answer with a
    reusable token other than the one it was given (Stripe attaches the card to a customer)."""

    card: Card
    decline: Decline | None = None

    @property
    def succeeded(self) -> bool:
        return self.decline is None


class ChargeStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    # The request may or may not have charged the card: the answer was lost or timed out.
    # Never treat it as failed and never charge again under a new key: retrieve it (S20).
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class ChargeResult:
    status: ChargeStatus
    idempotency_key: str
    amount: Money
    # The gateway's id of the charge; None when the status is UNKNOWN.
    charge_id: str | None = None
    decline: Decline | None = None
    # True when the gateway answered with the first result stored under this key (S19).
    replayed: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status is ChargeStatus.SUCCEEDED

    @property
    def declined(self) -> bool:
        return self.status is ChargeStatus.DECLINED

    @property
    def unknown(self) -> bool:
        return self.status is ChargeStatus.UNKNOWN


class CardTokenizer(Protocol):
    def tokenize(self, card: CardDetails) -> Card:
        """The card as a token (with brand, last 4 and expiry) for the services to keep.

        Raises InvalidCard, naming the field, for a number that fails the Luhn check, an expiry
        in the past or a malformed CVC, before any call to the gateway; and for what the gateway
        itself refuses (a real card in the sandbox).
        """
        ...


class PaymentGateway(Protocol):
    def verify(self, token: str) -> Verification:
        """Checks a newly added card with its bank, charging nothing. A decline here is shown on
        the card form. Raises InvalidToken, or GatewayUnavailable when there is no answer."""
        ...

    def charge(
        self,
        *,
        token: str,
        amount: Money,
        idempotency_key: str,
        description: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> ChargeResult:
        """Charges `amount` to the card of `token`, once per `idempotency_key` (S19).

        The key must be stored by the caller before this call. The same key with the same
        parameters answers the first result without charging again; with other parameters it
        raises IdempotencyKeyReused. A lost or timed-out answer is ChargeStatus.UNKNOWN (S20).
        Raises InvalidArgument (naming the field) for bad parameters, InvalidToken for a token
        the gateway does not accept.
        """
        ...

    def retrieve(self, idempotency_key: str) -> ChargeResult | None:
        """The charge made under `idempotency_key`, as the gateway recorded it (SUCCEEDED or
        DECLINED), or None when no request with that key ever reached the gateway: the
        reconciler's question after an UNKNOWN (S20). Raises GatewayUnavailable."""
        ...


class InvalidCard(InvalidArgument):
    """The card form's input, refused: names the first field at fault; `problems` lists all."""

    def __init__(self, problems: list[CardProblem]) -> None:
        first = problems[0]
        super().__init__(first.message, field=first.field)
        self.reason = first.code
        self.problems = problems


class InvalidToken(InvalidArgument):
    """A token this gateway did not issue, or one altered since (a signature that fails)."""

    def __init__(self) -> None:
        super().__init__(messages.message(messages.INVALID_TOKEN), field="token")
        self.reason = messages.INVALID_TOKEN


class IdempotencyKeyReused(FailedPrecondition):
    """The key was used before for a charge with other parameters (S19): a caller's bug, since
    keys are made per charge; nothing was charged by this call."""

    def __init__(self) -> None:
        super().__init__(
            "idempotency_key was already used for a charge with other parameters", field="idempotency_key"
        )


class PaymentDeclined(FailedPrecondition):
    """A card the gateway declined (when added, or charged): FAILED_PRECONDITION with the
    people-facing message; `reason` is the stable code of messages.py, sent in the trailing
    metadata `x-error-reason` (billing_common.grpc_server) for the web tier to translate."""

    def __init__(self, code: str) -> None:
        super().__init__(messages.message(code))
        self.reason = code


class GatewayUnavailable(Unavailable):
    """The gateway did not answer a call that charges nothing (verify, retrieve): try later."""

    def __init__(self, message: str = "The payment gateway did not answer; try again later.") -> None:
        super().__init__(message, retry_after=5)


def check_token(token: str) -> str:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN or not token.isprintable():
        raise InvalidArgument(f"token must be a card token of at most {MAX_TOKEN} characters", field="token")
    return token


def check_idempotency_key(key: str) -> str:
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidArgument(
            f"idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters without spaces",
            field="idempotency_key",
        )
    return key


def check_charge(
    token: str, amount: Money, idempotency_key: str, description: str, metadata: Mapping[str, str]
) -> None:
    """The parameters of a charge as any gateway accepts them (Stripe's limits); raises
    InvalidArgument naming the field. Free text that holds a card number is refused, so a
    careless caller cannot make the gateway store one (S18)."""
    check_token(token)
    if not isinstance(amount, Money):
        raise InvalidArgument("amount must be Money (minor units and a currency)", field="amount")
    if not 0 < amount.amount_minor <= MAX_AMOUNT_MINOR:
        raise InvalidArgument(f"amount must be between 1 and {MAX_AMOUNT_MINOR} minor units", field="amount")
    check_idempotency_key(idempotency_key)
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION or has_disallowed_characters(
        description
    ):
        raise InvalidArgument(
            f"description must be text of at most {MAX_DESCRIPTION} characters", field="description"
        )
    if card_numbers_in(description):
        raise InvalidArgument("description must not contain a card number", field="description")
    if not isinstance(metadata, Mapping) or len(metadata) > MAX_METADATA_KEYS:
        raise InvalidArgument(f"metadata must have at most {MAX_METADATA_KEYS} entries", field="metadata")
    for key, value in metadata.items():
        if not (isinstance(key, str) and isinstance(value, str) and 0 < len(key) <= MAX_METADATA_KEY
                and len(value) <= MAX_METADATA_VALUE and not has_disallowed_characters(key + value)):
            raise InvalidArgument(
                f"metadata keys must be 1 to {MAX_METADATA_KEY} characters and values text of at most "
                f"{MAX_METADATA_VALUE}",
                field="metadata",
            )
        if card_numbers_in(key) or card_numbers_in(value):
            raise InvalidArgument("metadata must not contain a card number", field="metadata")
