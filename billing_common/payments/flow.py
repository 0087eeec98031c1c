"""The steps every card charge of ours takes around the gateway (S19, S20), shared by
online_billing (changes, renewals) and enterprise_portal (invoice payments).

Each service first stores its payment PENDING with a gateway key in one transaction, then:
- `charge_by_key` calls the gateway outside any transaction with that key. A token the gateway
  no longer takes is a decline (nothing was charged); an answer that never came is UNKNOWN,
  never a failure (S20);
- the service settles the answer in one transaction (its own rules: what a success applies);
- `reconcile_by_key` later asks the gateway, by key, about the payments still in flight and
  settles them (the reconciler of S20).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

import structlog

from billing_common.money import Money
from billing_common.payments import messages
from billing_common.payments.cards import card_numbers_in
from billing_common.payments.gateway import (
    ChargeResult,
    ChargeStatus,
    Decline,
    GatewayUnavailable,
    IdempotencyKeyReused,
    InvalidToken,
    PaymentGateway,
)

log = structlog.get_logger()


def charge_metadata(payment_id: str, account_id: str) -> dict[str, str]:
    """What the gateway keeps with a charge: our payment id, and the account id unless it
    reads like a card number (account ids are not ours to make so, and the gateway would refuse
    the charge)."""
    if card_numbers_in(account_id):
        return {"payment_id": payment_id}
    return {"payment_id": payment_id, "account_id": account_id}


def charge_by_key(gateway: PaymentGateway, *, payment_id: str, token: str, amount: Money, gateway_key: str,
                  description: str, metadata: Mapping[str, str]) -> ChargeResult:
    """The gateway's answer to charging a stored payment under its key. InvalidToken (a card
    no longer usable) answers DECLINED: nothing was charged. Any other failure (a timeout, the
    gateway down, a bug) answers UNKNOWN: whether it charged is unknown, so the payment must
    neither fail nor be charged again under another key (S20). IdempotencyKeyReused is raised:
    it is our bug, and nothing was charged."""
    try:
        return gateway.charge(token=token, amount=amount, idempotency_key=gateway_key,
                              description=description, metadata=metadata)
    except InvalidToken:
        return ChargeResult(status=ChargeStatus.DECLINED, idempotency_key=gateway_key, amount=amount,
                            decline=Decline(messages.INVALID_TOKEN))
    except IdempotencyKeyReused:
        raise
    except Exception:  # a gateway down, a timeout, a bug: whether it charged is unknown (S20)
        log.warning("charge without an answer", payment_id=payment_id, exc_info=True)
        return ChargeResult(status=ChargeStatus.UNKNOWN, idempotency_key=gateway_key, amount=amount)


class _InFlight(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def gateway_key(self) -> str: ...


class _Settled(Protocol):
    @property
    def in_flight(self) -> bool: ...


PaymentT = TypeVar("PaymentT", bound=_InFlight)


@dataclass(frozen=True, slots=True)
class Reconciled:
    settled: int = 0
    still_unknown: int = 0


def reconcile_by_key(gateway: PaymentGateway, candidates: Iterable[PaymentT],
                     settle: Callable[[str, ChargeResult | None], _Settled]) -> Reconciled:
    """Asks the gateway about each payment by its key and settles it with the answer
    (`settle(payment_id, result)`). A gateway that does not answer, or answers UNKNOWN still,
    leaves the payment for the next run."""
    settled = unknown = 0
    for payment in candidates:
        try:
            result = gateway.retrieve(payment.gateway_key)
        except GatewayUnavailable:
            unknown += 1
            continue
        if settle(payment.id, result).in_flight:
            unknown += 1
        else:
            settled += 1
    return Reconciled(settled, unknown)
