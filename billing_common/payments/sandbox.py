"""The sandbox gateway: a real gateway's test mode, offline, shared by every process.

- Tokens carry their card's test behaviour, signed with HMAC-SHA256 under SANDBOX_GATEWAY_SECRET
  (`tok_sandbox_<payload>.<signature>`, the payload base64url of brand, last 4, expiry, behaviour
  and a nonce; never the number or the CVC, S18). Any process configured with the same secret can
  verify and charge a token another process created; an altered token is refused.
- Charges are recorded under their idempotency key in a store the sandbox owns (ChargeStore: the
  SQL one in sandbox_sql.py for every process of a deployment, the in-memory one for unit tests).
  The outcome of a charge depends only on its token, so a charge is one insert of its finished
  record: whoever inserts first made the charge, everybody else is answered what it recorded (S19).
- Only the test numbers of TEST_CARDS are accepted; any other number that passes the Luhn check
  is refused as a real card.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import structlog

from billing_common.clock import Clock, SystemClock, utc
from billing_common.money import Money
from billing_common.payments import messages
from billing_common.payments.cards import CardProblem, brand_of, card_problems, digits_of, is_expired
from billing_common.payments.gateway import (
    Card,
    CardDetails,
    ChargeResult,
    ChargeStatus,
    Decline,
    GatewayUnavailable,
    IdempotencyKeyReused,
    InvalidCard,
    InvalidToken,
    Verification,
    check_charge,
    check_idempotency_key,
    check_token,
)

TOKEN_PREFIX = "tok_sandbox_"
CHARGE_PREFIX = "ch_sandbox_"


@dataclass(frozen=True, slots=True)
class Behaviour:
    """What a test card does: its decline when added, its decline when charged, and whether
    the gateway charges it but loses the answer."""

    on_add: str | None = None
    on_charge: str | None = None
    loses_answer: bool = False


# Behaviour codes (carried in tokens) and what they do.
BEHAVIOURS: dict[str, Behaviour] = {
    "ok": Behaviour(),
    "declined": Behaviour(messages.CARD_DECLINED, messages.CARD_DECLINED),
    "insufficient_funds": Behaviour(messages.INSUFFICIENT_FUNDS, messages.INSUFFICIENT_FUNDS),
    "expired_card": Behaviour(messages.EXPIRED_CARD, messages.EXPIRED_CARD),
    "incorrect_cvc": Behaviour(messages.INCORRECT_CVC, messages.INCORRECT_CVC),
    "processing_error": Behaviour(messages.PROCESSING_ERROR, messages.PROCESSING_ERROR),
    # Accepted when added, declined at every charge afterwards (dunning).
    "charges_declined": Behaviour(on_charge=messages.CARD_DECLINED),
    # The charge is made and recorded, but its answer never reaches the caller (S19, S20).
    "answer_lost": Behaviour(loses_answer=True),
}

# The test numbers (Stripe's, where Stripe has one) and their behaviour codes.
TEST_CARDS: dict[str, str] = {
    "4242424242424242": "ok",
    "5555555555554444": "ok",
    "378282246310005": "ok",
    "4000000000000002": "declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card",
    "4000000000000127": "incorrect_cvc",
    "4000000000000119": "processing_error",
    "4000000000000341": "charges_declined",
    # Ours: Stripe has no number for a lost answer.
    "4000000000000408": "answer_lost",
}


@dataclass(frozen=True, slots=True)
class TokenContents:
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    behaviour: str


class SandboxTokens:
    """Signs and reads sandbox tokens. The secret is the only thing processes share for this."""

    def __init__(self, secret: str | bytes) -> None:
        if not secret:
            raise ValueError("the sandbox gateway needs a secret to sign its tokens")
        self._secret = secret.encode() if isinstance(secret, str) else secret

    def _signature(self, payload: str) -> str:
        digest = hmac.new(self._secret, b"sandbox-token|" + payload.encode(), hashlib.sha256).digest()
        return _b64(digest)

    def issue(self, contents: TokenContents) -> str:
        fields = ["1", contents.brand, contents.last4, str(contents.exp_month), str(contents.exp_year),
                  contents.behaviour, secrets.token_hex(8)]
        payload = _b64("|".join(fields).encode())
        return f"{TOKEN_PREFIX}{payload}.{self._signature(payload)}"

    def read(self, token: str) -> TokenContents:
        """The token's contents, or InvalidToken when this secret did not sign exactly this."""
        if not token.startswith(TOKEN_PREFIX) or token.count(".") != 1:
            raise InvalidToken()
        payload, signature = token[len(TOKEN_PREFIX):].split(".")
        # As bytes: compare_digest refuses str holding anything but ASCII (a forged token might).
        if not hmac.compare_digest(signature.encode(), self._signature(payload).encode()):
            raise InvalidToken()
        try:
            version, brand, last4, month, year, behaviour, _nonce = _unb64(payload).decode().split("|")
            contents = TokenContents(brand, last4, int(month), int(year), behaviour)
        except (ValueError, UnicodeDecodeError, binascii.Error) as error:
            raise InvalidToken() from error
        if version != "1" or behaviour not in BEHAVIOURS:
            raise InvalidToken()
        return contents


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class ChargeRecord:
    """One charge as the sandbox keeps it: what a gateway's dashboard would show, no card data."""

    idempotency_key: str
    request_hash: str
    charge_id: str
    status: ChargeStatus
    amount: Money
    decline_code: str | None
    brand: str
    last4: str
    description: str
    metadata: dict[str, str] = field(default_factory=dict)
    created_at: float = 0.0


class StoreUnavailable(Exception):
    """The sandbox's store did not answer: to callers, the gateway did not answer."""


class ChargeStore(Protocol):
    def add(self, record: ChargeRecord) -> tuple[ChargeRecord, bool]:
        """Stores `record` unless its idempotency key is taken. Returns the record stored under
        the key and whether it is this one. Atomic across threads and processes."""
        ...

    def get(self, idempotency_key: str) -> ChargeRecord | None: ...


class InMemoryChargeStore:
    """The store's in-memory twin: one process only (unit tests)."""

    def __init__(self) -> None:
        self.records: dict[str, ChargeRecord] = {}
        self._lock = threading.Lock()

    def add(self, record: ChargeRecord) -> tuple[ChargeRecord, bool]:
        with self._lock:
            stored = self.records.setdefault(record.idempotency_key, record)
            return stored, stored is record

    def get(self, idempotency_key: str) -> ChargeRecord | None:
        return self.records.get(idempotency_key)


def parse_latency(value: str | int) -> tuple[int, int]:
    """"80" -> (80, 80), "50-200" -> (50, 200): milliseconds each gateway call takes."""
    text = str(value).strip()
    low, _, high = text.partition("-")
    try:
        bounds = (int(low), int(high or low))
    except ValueError as error:
        raise ValueError(f"latency must be N or N-M milliseconds, got {value!r}") from error
    if not 0 <= bounds[0] <= bounds[1] <= 60_000:
        raise ValueError(f"latency must be 0 <= N <= M <= 60000 milliseconds, got {value!r}")
    return bounds


class _Remote:
    """What makes a sandbox call look like a network call: latency, and a count of the calls
    made (what a real gateway would log and bill; tests read it)."""

    def __init__(self, latency_ms: tuple[int, int], sleep: Callable[[float], None]) -> None:
        self.latency_ms = latency_ms
        self._sleep = sleep
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def call(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1
        low, high = self.latency_ms
        if high:
            self._sleep(random.uniform(low, high) / 1000)


class SandboxTokenizer:
    """CardTokenizer of the sandbox: what the web tier uses. Needs only the signing secret, no
    store, so the web tier holds no database connection."""

    def __init__(
        self,
        secret: str | bytes,
        *,
        clock: Clock | None = None,
        latency_ms: tuple[int, int] = (0, 0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._tokens = SandboxTokens(secret)
        self._clock = clock or SystemClock()
        self._remote = _Remote(latency_ms, sleep)
        self._log = structlog.get_logger("billing_common.payments.sandbox")

    @property
    def calls(self) -> Counter[str]:
        return self._remote.calls

    def tokenize(self, card: CardDetails) -> Card:
        today = utc(self._clock.now()).date()
        problems = card_problems(card.number, card.exp_month, card.exp_year, card.cvc, card.holder_name, today)
        if problems:
            raise InvalidCard(problems)  # before any call: the card never left the web tier
        self._remote.call("tokenize")
        digits = digits_of(card.number)
        behaviour = TEST_CARDS.get(digits)
        if behaviour is None:
            self._log.info("sandbox refused a real card", brand=brand_of(digits))
            raise InvalidCard([CardProblem("number", messages.LIVE_CARD)])
        contents = TokenContents(brand_of(digits), digits[-4:], card.exp_month, card.exp_year, behaviour)
        self._log.info("sandbox card tokenized", brand=contents.brand, last4=contents.last4)
        return Card(self._tokens.issue(contents), contents.brand, contents.last4, card.exp_month, card.exp_year)


class SandboxGateway:
    """PaymentGateway of the sandbox: what the services use."""

    def __init__(
        self,
        secret: str | bytes,
        store: ChargeStore,
        *,
        clock: Clock | None = None,
        latency_ms: tuple[int, int] = (0, 0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._tokens = SandboxTokens(secret)
        self.store = store
        self._clock = clock or SystemClock()
        self._remote = _Remote(latency_ms, sleep)
        self._log = structlog.get_logger("billing_common.payments.sandbox")

    @property
    def calls(self) -> Counter[str]:
        return self._remote.calls

    def _card(self, token: str) -> tuple[Card, Behaviour, bool]:
        """The token's card, its behaviour, and whether it has expired by now."""
        contents = self._tokens.read(token)
        card = Card(token, contents.brand, contents.last4, contents.exp_month, contents.exp_year)
        expired = is_expired(contents.exp_month, contents.exp_year, utc(self._clock.now()).date())
        return card, BEHAVIOURS[contents.behaviour], expired

    def verify(self, token: str) -> Verification:
        check_token(token)
        self._remote.call("verify")
        card, behaviour, expired = self._card(token)
        code = messages.EXPIRED_CARD if expired else behaviour.on_add
        self._log.info("sandbox card verified", brand=card.brand, last4=card.last4, decline_code=code)
        return Verification(card, Decline(code) if code else None)

    def charge(
        self,
        *,
        token: str,
        amount: Money,
        idempotency_key: str,
        description: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> ChargeResult:
        metadata = {} if metadata is None else metadata
        check_charge(token, amount, idempotency_key, description, metadata)
        metadata = dict(metadata)
        self._remote.call("charge")
        card, behaviour, expired = self._card(token)
        code = messages.EXPIRED_CARD if expired else behaviour.on_charge
        record = ChargeRecord(
            idempotency_key=idempotency_key,
            request_hash=request_hash(token, amount, description, metadata),
            charge_id=CHARGE_PREFIX + secrets.token_hex(10),
            status=ChargeStatus.DECLINED if code else ChargeStatus.SUCCEEDED,
            amount=amount,
            decline_code=code,
            brand=card.brand,
            last4=card.last4,
            description=description,
            metadata=metadata,
            created_at=self._clock.now(),
        )
        try:
            stored, created = self.store.add(record)
        except StoreUnavailable:
            # Whether the insert committed is unknown, as with a real gateway that timed out.
            self._log.warning("sandbox charge answer unknown: store unavailable", idempotency_key=idempotency_key)
            return ChargeResult(ChargeStatus.UNKNOWN, idempotency_key, amount)
        if stored.request_hash != record.request_hash:
            self._log.warning("sandbox idempotency key reused with other parameters", idempotency_key=idempotency_key)
            raise IdempotencyKeyReused()
        # Debug: a real gateway logs its charges on its side (its dashboard is the store's
        # table); a line per charge in ours was a tenth of the billing run's CPU.
        self._log.debug(
            "sandbox charge", idempotency_key=idempotency_key, charge_id=stored.charge_id, status=str(stored.status),
            amount_minor=amount.amount_minor, currency=amount.currency, decline_code=stored.decline_code,
            replayed=not created,
        )
        if created and behaviour.loses_answer:
            self._log.warning("sandbox lost the answer of a charge it made", idempotency_key=idempotency_key)
            return ChargeResult(ChargeStatus.UNKNOWN, idempotency_key, amount)
        return _result(stored, replayed=not created)

    def retrieve(self, idempotency_key: str) -> ChargeResult | None:
        check_idempotency_key(idempotency_key)
        self._remote.call("retrieve")
        try:
            stored = self.store.get(idempotency_key)
        except StoreUnavailable as error:
            raise GatewayUnavailable() from error
        return None if stored is None else _result(stored, replayed=False)

    def close(self) -> None:
        """Releases the store's connections (a store without any has no `close`)."""
        close = getattr(self.store, "close", None)
        if close is not None:
            close()


def request_hash(token: str, amount: Money, description: str, metadata: Mapping[str, str]) -> str:
    """What makes two charges "the same parameters" (S19)."""
    canonical = json.dumps(
        [token, amount.amount_minor, amount.currency, description, sorted(metadata.items())],
        separators=(",", ":"), ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _result(record: ChargeRecord, *, replayed: bool) -> ChargeResult:
    return ChargeResult(
        status=record.status,
        idempotency_key=record.idempotency_key,
        amount=record.amount,
        charge_id=record.charge_id,
        decline=Decline(record.decline_code) if record.decline_code else None,
        replayed=replayed,
    )
