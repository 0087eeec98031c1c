"""The shared steps around a charge (billing_common.payments.flow): what a charge without an
answer, an unusable token and a reused key become (S19, S20), and the reconciler's counts."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from billing_common.money import Money
from billing_common.payments import messages
from billing_common.payments.flow import Reconciled, charge_by_key, charge_metadata, reconcile_by_key
from billing_common.payments.gateway import (
    ChargeResult,
    ChargeStatus,
    GatewayUnavailable,
    IdempotencyKeyReused,
    InvalidToken,
)

AMOUNT = Money(1_000, "USD")


class _Gateway:
    def __init__(self, raises: Exception | None = None, answers: dict[str, object] | None = None) -> None:
        self.raises, self.answers = raises, answers or {}

    def charge(self, **kwargs: object) -> ChargeResult:
        if self.raises is not None:
            raise self.raises
        return ChargeResult(ChargeStatus.SUCCEEDED, str(kwargs["idempotency_key"]), AMOUNT, charge_id="ch_1")

    def retrieve(self, key: str) -> object:
        answer = self.answers[key]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _charge(gateway: _Gateway) -> ChargeResult:
    return charge_by_key(gateway, payment_id="p-1", token="tok", amount=AMOUNT,  # type: ignore[arg-type]
                         gateway_key="svc-p-1", description="test", metadata={"payment_id": "p-1"})


def test_an_answered_charge_is_the_gateways_answer() -> None:
    assert _charge(_Gateway()).charge_id == "ch_1"


def test_a_charge_without_an_answer_is_unknown_never_failed() -> None:  # S20
    for error in (TimeoutError("read timed out"), GatewayUnavailable(), RuntimeError("bug")):
        result = _charge(_Gateway(raises=error))
        assert (result.status, result.idempotency_key, result.amount) == (ChargeStatus.UNKNOWN, "svc-p-1", AMOUNT)


def test_an_unusable_token_is_a_decline_and_a_reused_key_is_raised() -> None:  # S19
    declined = _charge(_Gateway(raises=InvalidToken()))
    assert declined.status is ChargeStatus.DECLINED and declined.decline is not None
    assert declined.decline.code == messages.INVALID_TOKEN
    with pytest.raises(IdempotencyKeyReused):
        _charge(_Gateway(raises=IdempotencyKeyReused()))


def test_the_metadata_leaves_out_an_account_id_that_reads_like_a_card_number() -> None:
    assert charge_metadata("p-1", "acct-1") == {"payment_id": "p-1", "account_id": "acct-1"}
    assert charge_metadata("p-1", "4242424242424242") == {"payment_id": "p-1"}


@dataclass
class _Payment:
    id: str
    gateway_key: str
    in_flight: bool = True


def test_reconcile_settles_what_the_gateway_answers_and_counts_what_stays_unknown() -> None:  # S20
    answered = ChargeResult(ChargeStatus.SUCCEEDED, "k-1", AMOUNT, charge_id="ch_1")
    gateway = _Gateway(answers={"k-1": answered, "k-2": GatewayUnavailable(), "k-3": None})
    settled: list[tuple[str, object]] = []

    def settle(payment_id: str, result: ChargeResult | None) -> _Payment:
        settled.append((payment_id, result))
        return _Payment(payment_id, "", in_flight=payment_id == "p-3")  # p-3: still unknown after

    candidates = [_Payment("p-1", "k-1"), _Payment("p-2", "k-2"), _Payment("p-3", "k-3")]
    assert reconcile_by_key(gateway, candidates, settle) == Reconciled(settled=1, still_unknown=2)  # type: ignore[arg-type]
    assert settled == [("p-1", answered), ("p-3", None)]
