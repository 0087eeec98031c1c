"""S19 for the Billing Center's changes: a charge whose answer was lost, then a retry with the
same key before the reconciler ran (the user pressing Confirm again on the same form), charges
once; the change is applied once, with one invoice, whoever settles it."""
from __future__ import annotations

from services.online_billing.service_layer import accounts, subscriptions
from services.online_billing.service_layer.subscriptions import Result
from tests.unit.online_billing.test_changes import World

LOST = "4000000000000408"


def test_a_lost_answer_then_a_retry_with_the_same_key_charges_once() -> None:
    w = World(LOST)
    first = w.apply("enterprise", 12, key="k-lost")
    assert first.result is Result.PAYMENT_PENDING
    retry = w.apply("enterprise", 12, key="k-lost")  # before the reconciler: the same charge again
    assert retry.result in (Result.PAYMENT_PENDING, Result.APPLIED)
    assert len(w.store.records) == 1  # one charge at the gateway, however many times it was sent
    subscriptions.reconcile(w.deps)
    again = w.apply("enterprise", 12, key="k-lost")
    assert again.result is Result.APPLIED and len(w.store.records) == 1
    assert (w.current().plan.code, w.current().seats) == ("enterprise", 12)
    assert len(accounts.list_invoices(w.deps, "acct-a").invoices) == 1
    assert len(w.uow.data.payments) == 1
