"""A member's change request whose approval charge lost its answer (S20) is finished by the
reconciler once the charge settles: approved (by the contact who approved), the member mailed
once, with no second approval needed and no second charge (S19)."""
from __future__ import annotations

import pytest

from billing_common.payments.gateway import PaymentDeclined
from services.online_billing.domain.requests import RequestStatus
from services.online_billing.service_layer import change_requests, subscriptions
from services.online_billing.service_layer.subscriptions import Result
from tests.unit.online_billing.test_change_requests import World

LOST = "4000000000000408"


def _to_mark(w: World) -> list[str]:
    return [m.subject for m in w.mails if m.to == ("mark@acme.test",)]


def test_the_reconciler_finishes_a_request_whose_answer_was_lost_and_mails_the_member_once() -> None:
    w = World(LOST)
    request = w.ask()
    pending, outcome = w.approve(request, key="k-1")
    assert outcome.result is Result.PAYMENT_PENDING and pending.is_pending and _to_mark(w) == []
    assert subscriptions.reconcile(w.deps).settled == 1
    done = change_requests.get_change_request(w.deps, "acct-a", request.id)
    assert (done.status, done.decided_by, done.scheduled) == (RequestStatus.APPROVED, "u-olivia", False)
    assert done.invoice_id is not None and done.decided_at is not None
    assert _to_mark(w) == ["Your change request was approved"]
    assert w.current().seats == 12 and w.gateway.calls["charge"] == 1
    # A contact approving again afterwards (a stale page) changes nothing and mails nobody.
    again, outcome = w.approve(request, key="k-2")
    assert again.status is RequestStatus.APPROVED and outcome.result is Result.APPLIED
    assert outcome.invoice is not None and outcome.invoice.id == done.invoice_id
    assert _to_mark(w) == ["Your change request was approved"] and w.gateway.calls["charge"] == 1
    assert subscriptions.reconcile(w.deps).settled == 0


def test_an_approval_answered_at_once_mails_the_member_once() -> None:
    w = World()
    done, outcome = w.approve(w.ask())
    assert done.status is RequestStatus.APPROVED and outcome.result is Result.APPLIED
    assert done.decided_by == "u-olivia" and done.invoice_id == outcome.invoice.id  # type: ignore[union-attr]
    assert _to_mark(w) == ["Your change request was approved"]


def test_a_declined_approval_forgets_who_was_approving() -> None:
    w = World("4000000000000341")  # added, then every charge declined
    request = w.ask()
    with pytest.raises(PaymentDeclined):
        w.approve(request)
    after = change_requests.get_change_request(w.deps, "acct-a", request.id)
    assert after.is_pending and (after.approval_key, after.decided_by) == (None, None)

