"""The Billing Center's RPCs of online_billing against the real server in-process on port 0,
the real database (PostgreSQL with TEST_DATABASE_URL) and the sandbox gateway on its own
database: the demo accounts, changes with their preview and invoice, idempotency under 20
parallel applies (S19), the lost answer and its reconciliation (S20), S13, PDFs."""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from billing.online_billing.v1 import online_billing_pb2 as pb
from billing.online_billing.v1 import online_billing_pb2_grpc
from billing_common.clock import FakeClock
from billing_common.grpc_client import error_field, error_reason, make_channel
from billing_common.payments.gateway import CardDetails
from billing_common.payments.settings import GatewaySettings, build_gateway, build_tokenizer
from services.devstack import demo_backends
from services.online_billing import bootstrap
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.grpc_server import build
from services.online_billing.service_layer import subscriptions
from tests import callers
from tests.grpc_capture import assert_no_card_numbers, capturing

NOV_16_2026 = 1_794_787_200.0  # 2026-11-16 00:00 UTC: half of November left


@pytest.fixture
def stub(settings: OnlineBillingSettings, gateway_settings: GatewaySettings, monkeypatch: pytest.MonkeyPatch
         ) -> Iterator[online_billing_pb2_grpc.OnlineBillingServiceStub]:
    capture = capturing(monkeypatch)  # every message, scanned for card numbers at the end (S18)
    clock = FakeClock(NOV_16_2026)
    demo_backends.seed_online_billing(settings, {"acme": "acct-acme", "padaria": "acct-padaria"}, clock=clock,
                                      gateway_settings=gateway_settings)
    server = build(settings, gateway_settings=gateway_settings, clock=clock).start()
    channel = make_channel(f"127.0.0.1:{server.port}", credentials=callers.BILLING_CENTER, default_timeout=30.0)
    try:
        yield online_billing_pb2_grpc.OnlineBillingServiceStub(channel)
    finally:
        channel.close()
        server.stop()
    assert capture.of("/billing.online_billing.")  # the capture saw the test's calls
    assert_no_card_numbers(capture)


def _token(gateway_settings: GatewaySettings, number: str) -> str:
    card = CardDetails(number, 12, 2030, "123", "Olivia Martin")
    return build_tokenizer(gateway_settings).tokenize(card).token


def _change(sub_id: str, plan: str, seats: int, interval: int = pb.BILLING_INTERVAL_MONTHLY,
            account: str = "acct-acme") -> pb.ChangeRequest:
    return pb.ChangeRequest(account_id=account, subscription_id=sub_id, plan_code=plan, seats=seats, interval=interval)


def _acme(stub) -> pb.Subscription:  # type: ignore[no-untyped-def]
    return stub.GetSubscription(pb.GetSubscriptionRequest(account_id="acct-acme")).subscription


def test_the_demo_accounts_have_their_subscription_card_profile_and_gapless_invoice_history(stub) -> None:  # type: ignore[no-untyped-def]
    s = _acme(stub)
    assert (s.current.plan_code, s.current.seats, s.status) == ("business", 10, pb.SUBSCRIPTION_STATUS_ACTIVE)
    assert (s.next_renewal_amount.amount_minor, s.next_renewal_amount.currency) == (16_000, "USD")
    assert (s.default_payment_method.brand, s.default_payment_method.last4) == ("visa", "4242") or \
        s.default_payment_method.last4 == "4242"
    invoices = stub.ListInvoices(pb.ListInvoicesRequest(account_id="acct-acme", page_size=100)).invoices
    assert len(invoices) == 10 and all(i.status == pb.INVOICE_STATUS_PAID for i in invoices)
    assert [i.issued_at.ToDatetime() for i in invoices] == sorted((i.issued_at.ToDatetime() for i in invoices),
                                                                  reverse=True)
    padaria = stub.ListInvoices(pb.ListInvoicesRequest(account_id="acct-padaria")).invoices
    numbers = sorted(i.number for i in [*invoices, *padaria])
    by_year: dict[str, list[int]] = {}
    for number in numbers:
        series, counter = number.rsplit("-", 1)
        by_year.setdefault(series, []).append(int(counter))
    assert all(counters == list(range(1, len(counters) + 1)) for counters in by_year.values())
    plans = stub.ListPlans(pb.ListPlansRequest(account_id="acct-padaria"))
    assert plans.currency == "BRL" and [p.code for p in plans.plans] == ["starter", "business", "enterprise"]


def test_an_upgrade_is_invoiced_exactly_as_previewed_and_its_pdf_prints(stub) -> None:  # type: ignore[no-untyped-def]
    sub_id = _acme(stub).subscription_id
    preview = stub.PreviewChange(pb.PreviewChangeRequest(change=_change(sub_id, "business", 12))).preview
    assert preview.timing == pb.CHANGE_TIMING_IMMEDIATE and preview.amount_due.amount_minor == 1_600
    applied = stub.ApplyChange(pb.ApplyChangeRequest(change=_change(sub_id, "business", 12),
                                                     idempotency_key=str(uuid.uuid4())))
    assert applied.outcome == pb.CHANGE_OUTCOME_APPLIED
    assert list(applied.invoice.lines) == list(preview.lines) and applied.invoice.total == preview.amount_due
    assert applied.subscription.current.seats == 12
    got = stub.GetInvoice(pb.GetInvoiceRequest(account_id="acct-acme", invoice_id=applied.invoice.invoice_id)).invoice
    assert got.number == applied.invoice.number and got.buyer.company_name == "Acme Online, Inc."
    pdf = stub.GetInvoicePdf(pb.GetInvoicePdfRequest(account_id="acct-acme", invoice_id=got.invoice_id,
                                                     language="pt-BR"))
    assert pdf.pdf.startswith(b"%PDF") and pdf.filename == f"{got.number}.pdf"


def test_twenty_parallel_identical_applies_charge_once_and_make_one_invoice(stub, settings, gateway_settings) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    sub_id = _acme(stub).subscription_id
    request = pb.ApplyChangeRequest(change=_change(sub_id, "enterprise", 10), idempotency_key="double-submit-1")
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: stub.ApplyChange(request), range(20)))
    assert {a.invoice.invoice_id for a in answers} == {answers[0].invoice.invoice_id}
    assert all(a.outcome == pb.CHANGE_OUTCOME_APPLIED for a in answers)
    invoices = stub.ListInvoices(pb.ListInvoicesRequest(account_id="acct-acme", page_size=100)).invoices
    assert sum(i.kind == pb.INVOICE_KIND_PRORATION for i in invoices) == 1
    gateway = build_gateway(gateway_settings)
    try:
        [payment_key] = _gateway_keys(settings)
        assert gateway.retrieve(payment_key) is not None  # one charge under the one key
    finally:
        gateway.close()
    with pytest.raises(grpc.RpcError) as caught:  # the same key with another request
        stub.ApplyChange(pb.ApplyChangeRequest(change=_change(sub_id, "enterprise", 11),
                                               idempotency_key="double-submit-1"))
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION and error_field(caught.value) == "idempotency_key"


def _gateway_keys(settings: OnlineBillingSettings) -> list[str]:
    from sqlalchemy import select

    from billing_common.db import make_engine
    from services.online_billing.adapters import orm

    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            return [row[0] for row in conn.execute(select(orm.payments.c.gateway_key))]
    finally:
        engine.dispose()


def test_a_declined_upgrade_answers_failed_precondition_with_the_decline_code_and_changes_nothing(  # type: ignore[no-untyped-def]
        stub, gateway_settings) -> None:
    card = stub.AddPaymentMethod(pb.AddPaymentMethodRequest(
        account_id="acct-acme", token=_token(gateway_settings, "4000000000000341"), make_default=True)).payment_method
    assert card.is_default
    sub_id = _acme(stub).subscription_id
    with pytest.raises(grpc.RpcError) as caught:
        stub.ApplyChange(pb.ApplyChangeRequest(change=_change(sub_id, "enterprise", 10), idempotency_key="d-1"))
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(caught.value) == "card_declined" and caught.value.details() == "Your card was declined."
    assert _acme(stub).current.plan_code == "business"


def test_a_card_declined_when_added_answers_its_code(stub, gateway_settings) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        stub.AddPaymentMethod(pb.AddPaymentMethodRequest(account_id="acct-acme",
                                                         token=_token(gateway_settings, "4000000000000127")))
    assert error_reason(caught.value) == "incorrect_cvc"


def test_a_lost_answer_is_payment_pending_until_reconcile_applies_it(stub, settings, gateway_settings) -> None:  # type: ignore[no-untyped-def]  # noqa: E501
    stub.AddPaymentMethod(pb.AddPaymentMethodRequest(
        account_id="acct-acme", token=_token(gateway_settings, "4000000000000408"), make_default=True))
    sub_id = _acme(stub).subscription_id
    answer = stub.ApplyChange(pb.ApplyChangeRequest(change=_change(sub_id, "enterprise", 10), idempotency_key="l-1"))
    assert answer.outcome == pb.CHANGE_OUTCOME_PAYMENT_PENDING and _acme(stub).current.plan_code == "business"
    # Shown on every read until settled, not only in the answer to the action.
    assert _acme(stub).payment_pending
    assert stub.ListInvoices(pb.ListInvoicesRequest(account_id="acct-acme")).payment_pending
    deps = bootstrap.build_dependencies(settings, gateway_settings=gateway_settings, clock=FakeClock(NOV_16_2026))
    try:
        assert subscriptions.reconcile(deps) == subscriptions.Reconciled(settled=1, still_unknown=0)
    finally:
        deps.close()
    assert _acme(stub).current.plan_code == "enterprise" and not _acme(stub).payment_pending
    assert not stub.ListInvoices(pb.ListInvoicesRequest(account_id="acct-acme")).payment_pending
    replay = stub.ApplyChange(pb.ApplyChangeRequest(change=_change(sub_id, "enterprise", 10), idempotency_key="l-1"))
    assert replay.outcome == pb.CHANGE_OUTCOME_APPLIED and replay.invoice.total.amount_minor == 4_000


def test_cancel_undo_and_a_scheduled_downgrade_over_grpc(stub) -> None:  # type: ignore[no-untyped-def]
    sub_id = _acme(stub).subscription_id
    scheduled = stub.ApplyChange(pb.ApplyChangeRequest(change=_change(sub_id, "starter", 4), idempotency_key="s-1"))
    assert scheduled.outcome == pb.CHANGE_OUTCOME_SCHEDULED
    assert scheduled.subscription.scheduled_change.plan_code == "starter"
    assert scheduled.subscription.next_renewal_amount.amount_minor == 2_400
    undone = stub.UndoScheduledChange(pb.UndoScheduledChangeRequest(account_id="acct-acme", subscription_id=sub_id))
    assert not undone.subscription.HasField("scheduled_change")
    cancelled = stub.CancelSubscription(pb.CancelSubscriptionRequest(account_id="acct-acme", subscription_id=sub_id,
                                                                     reason="trying another tool")).subscription
    assert cancelled.status == pb.SUBSCRIPTION_STATUS_PENDING_CANCELLATION
    assert cancelled.ends_at == cancelled.current_period_end and not cancelled.HasField("next_renewal_at")
    back = stub.UndoCancellation(pb.UndoCancellationRequest(account_id="acct-acme", subscription_id=sub_id))
    assert back.subscription.status == pb.SUBSCRIPTION_STATUS_ACTIVE


def test_payment_methods_list_set_default_and_never_remove_the_last(stub, gateway_settings) -> None:  # type: ignore[no-untyped-def]
    [demo] = stub.ListPaymentMethods(pb.ListPaymentMethodsRequest(account_id="acct-acme")).payment_methods
    with pytest.raises(grpc.RpcError) as caught:
        stub.RemovePaymentMethod(pb.RemovePaymentMethodRequest(account_id="acct-acme",
                                                               payment_method_id=demo.payment_method_id))
    assert caught.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    added = stub.AddPaymentMethod(pb.AddPaymentMethodRequest(
        account_id="acct-acme", token=_token(gateway_settings, "5555555555554444"))).payment_method
    methods = stub.SetDefaultPaymentMethod(pb.SetDefaultPaymentMethodRequest(
        account_id="acct-acme", payment_method_id=added.payment_method_id)).payment_methods
    assert methods[0].payment_method_id == added.payment_method_id and methods[0].is_default
    left = stub.RemovePaymentMethod(pb.RemovePaymentMethodRequest(
        account_id="acct-acme", payment_method_id=demo.payment_method_id)).payment_methods
    assert [m.last4 for m in left] == ["4444"]


def test_the_billing_profile_is_validated_and_snapshotted_onto_later_invoices(stub) -> None:  # type: ignore[no-untyped-def]
    bad = pb.BillingProfile(company_name="Padaria", address_line1="Rua A, 1", city="São Paulo", country="BR",
                            postal_code="01310-100", tax_id="11.111.111/1111-11")
    with pytest.raises(grpc.RpcError) as caught:
        stub.UpdateBillingProfile(pb.UpdateBillingProfileRequest(account_id="acct-padaria", profile=bad))
    assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT and error_field(caught.value) == "tax_id"
    good = pb.BillingProfile(company_name="Padaria Nova", address_line1="Rua A, 1", city="São Paulo", country="BR",
                             postal_code="01310100", invoice_emails=["Fin@Padaria.test"])
    saved = stub.UpdateBillingProfile(pb.UpdateBillingProfileRequest(account_id="acct-padaria", profile=good)).profile
    assert (saved.postal_code, list(saved.invoice_emails)) == ("01310-100", ["fin@padaria.test"])
    assert stub.GetBillingProfile(pb.GetBillingProfileRequest(account_id="acct-padaria")).profile == saved


def test_another_accounts_subscription_invoice_and_card_are_not_found(stub) -> None:  # type: ignore[no-untyped-def]  # S13
    acme = _acme(stub)
    invoice = stub.ListInvoices(pb.ListInvoicesRequest(account_id="acct-acme", page_size=1)).invoices[0]
    calls = [
        lambda: stub.PreviewChange(pb.PreviewChangeRequest(
            change=_change(acme.subscription_id, "enterprise", 10, account="acct-padaria"))),
        lambda: stub.CancelSubscription(pb.CancelSubscriptionRequest(account_id="acct-padaria",
                                                                     subscription_id=acme.subscription_id)),
        lambda: stub.GetInvoice(pb.GetInvoiceRequest(account_id="acct-padaria", invoice_id=invoice.invoice_id)),
        lambda: stub.GetInvoicePdf(pb.GetInvoicePdfRequest(account_id="acct-padaria", invoice_id=invoice.invoice_id)),
        lambda: stub.SetDefaultPaymentMethod(pb.SetDefaultPaymentMethodRequest(
            account_id="acct-padaria", payment_method_id=acme.default_payment_method.payment_method_id)),
    ]
    for call in calls:
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() is grpc.StatusCode.NOT_FOUND


def test_invoices_page_newest_first_and_bad_input_names_the_field(stub) -> None:  # type: ignore[no-untyped-def]
    first = stub.ListInvoices(pb.ListInvoicesRequest(account_id="acct-acme", page_size=4))
    second = stub.ListInvoices(pb.ListInvoicesRequest(account_id="acct-acme", page_size=4,
                                                      page_token=first.next_page_token))
    assert len(first.invoices) == 4
    assert first.invoices[-1].issued_at.ToDatetime() > second.invoices[0].issued_at.ToDatetime()
    for request, field in [(pb.ListInvoicesRequest(account_id="acct-acme", page_size=101), "page_size"),
                           (pb.ListInvoicesRequest(account_id="acct-acme", page_token="garbage!"), "page_token")]:
        with pytest.raises(grpc.RpcError) as caught:
            stub.ListInvoices(request)
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT and error_field(caught.value) == field
    sub_id = _acme(stub).subscription_id
    for change, field in [(_change(sub_id, "business", 0), "seats"), (_change(sub_id, "gold", 3), "plan_code"),
                          (_change(sub_id, "business", 3, interval=0), "interval")]:
        with pytest.raises(grpc.RpcError) as caught:
            stub.PreviewChange(pb.PreviewChangeRequest(change=change))
        assert caught.value.code() is grpc.StatusCode.INVALID_ARGUMENT and error_field(caught.value) == field
