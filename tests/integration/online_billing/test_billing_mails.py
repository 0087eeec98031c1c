"""online_billing's mails end to end, on real servers: identity answers the billing contacts,
the billing run writes the receipt in its batch's transaction (the PDF is not rendered there),
the server's outbox renders the invoice's PDF when it sends, and a real SMTP server (aiosmtpd)
receives it, in pt-BR for a pt-BR contact. Mails written while identity was down are addressed
when sent."""
from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from billing_common.clock import FakeClock
from billing_common.invoicing.profile import BillingProfile
from billing_common.payments.gateway import CardDetails
from billing_common.payments.settings import GatewaySettings, build_tokenizer
from services.online_billing import bootstrap
from services.online_billing.adapters import orm
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.grpc_server import build
from services.online_billing.service_layer import accounts, renewals
from services.online_billing.service_layer.dependencies import Dependencies
from tests.faults import free_port
from tests.integration.online_billing.conftest import RunningIdentity
from tests.smtp_server import SmtpServer
from tests.unit.online_billing.factories import subscription

START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
END = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def serving(settings: OnlineBillingSettings, gateway_settings: GatewaySettings, identity: RunningIdentity,
            smtp: SmtpServer) -> Iterator[OnlineBillingSettings]:
    """The online_billing server (its outbox sends to `smtp`, asks `identity`); no scheduled run."""
    live = settings.model_copy(update={"smtp_url": smtp.url, "outbox_poll_interval": 0.05, "renewal_interval": 0,
                                       "identity_target": identity.target})
    server = build(live, gateway_settings=gateway_settings)
    server.start()
    yield live
    server.stop()


def _deps(settings: OnlineBillingSettings, gateway_settings: GatewaySettings, identity_target: str
          ) -> Dependencies:
    return bootstrap.build_dependencies(settings.model_copy(update={"identity_target": identity_target}),
                                        gateway_settings=gateway_settings,
                                        clock=FakeClock((START + dt.timedelta(days=10)).timestamp()))


def _subscribe(deps: Dependencies, gateway_settings: GatewaySettings, account_id: str, number: str,
               invoice_emails: tuple[str, ...] = ()) -> None:
    with deps.uow() as uow:
        uow.subscriptions.add(subscription(account_id, start=START, currency="BRL"))
        uow.billing_profiles.put(account_id, BillingProfile(
            company_name="Padaria Pão Quente Ltda", address_line1="Rua Augusta, 100", city="São Paulo",
            country="BR", invoice_emails=invoice_emails), START)
        uow.commit()
    token = build_tokenizer(gateway_settings).tokenize(CardDetails(number, 12, 2030, "123", "Ana Souza")).token
    accounts.add_payment_method(deps, account_id, token)


def _wait_for(smtp: SmtpServer, count: int, timeout: float = 30.0) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while len(smtp.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(smtp.received) >= count, f"{len(smtp.received)} of {count} mails arrived"
    return list(smtp.received)


def _pdf_text(message: EmailMessage) -> tuple[str, str]:
    (part,) = list(message.iter_attachments())
    assert part.get_content_type() == "application/pdf"
    data = part.get_content()
    assert isinstance(data, bytes) and data.startswith(b"%PDF-")
    return part.get_filename() or "", "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_a_renewal_receipt_reaches_a_pt_br_contact_over_smtp_in_pt_br_with_the_invoice_pdf(
        serving: OnlineBillingSettings, gateway_settings: GatewaySettings, identity: RunningIdentity,
        smtp: SmtpServer, unique: Callable[[str], str]) -> None:
    account = identity.account("Padaria Pão Quente", locale="pt-BR", currency="BRL")
    ana = unique("ana") + "@padaria.test"
    identity.person(account, ana, "Ana Souza", locale="pt-BR")
    deps = _deps(serving, gateway_settings, identity.target)
    try:
        _subscribe(deps, gateway_settings, account, "4242424242424242", invoice_emails=("fin@padaria.test",))
        assert renewals.billing_run(deps, END).renewed == 1
        with deps.sql_engine.connect() as conn:
            (row,) = conn.execute(select(orm.outbox)).all()
        with deps.uow() as uow:
            (invoice,) = uow.invoices.page(account, 5, None)
        number, amount = invoice.number, invoice.total.format("pt-BR")
        assert row.deferred is None and row.attachment.startswith("invoice:pt-BR:")  # the PDF is not in the row
    finally:
        deps.close()
    (message,) = _wait_for(smtp, 1)
    assert message["To"] == f"{ana}, fin@padaria.test"
    assert message["Subject"] == f"Recibo da fatura {number}"
    body = message.get_body(("plain",))
    assert body is not None
    assert body.get_content().replace("\r\n", "\n") == (
        f"Obrigado: sua assinatura foi renovada e a fatura {number} de {amount} foi paga com seu cartão.\n\n"
        "Novo período: 1 de dezembro de 2026 a 1 de janeiro de 2027.\n"
        "A fatura segue anexa em PDF. Suas faturas: http://127.0.0.1:8080/invoices\n")
    filename, text = _pdf_text(message)
    assert filename == f"{number}.pdf"
    assert number in text and "Padaria Pão Quente Ltda" in text and "R$" in text


def test_a_dunning_mail_written_while_identity_was_down_is_addressed_and_sent_once_it_answers(
        serving: OnlineBillingSettings, gateway_settings: GatewaySettings, identity: RunningIdentity,
        smtp: SmtpServer, unique: Callable[[str], str]) -> None:
    account = identity.account("Padaria Dois", locale="pt-BR", currency="BRL")
    ana = unique("ana") + "@padaria.test"
    bob = unique("bob") + "@padaria.test"
    identity.person(account, ana, "Ana Souza", locale="pt-BR")
    identity.person(account, bob, "Bob Finance", locale="en")
    # The run's own process cannot reach identity; the server's outbox can.
    deps = _deps(serving, gateway_settings, f"127.0.0.1:{free_port()}")
    try:
        _subscribe(deps, gateway_settings, account, "4000000000000341")
        assert renewals.billing_run(deps, END).failed == 1
    finally:
        deps.close()
    messages = sorted(_wait_for(smtp, 2), key=lambda m: str(m["Subject"]))
    assert [(m["To"], m["Subject"]) for m in messages] == [
        (ana, messages[0]["Subject"]), (bob, messages[1]["Subject"])]
    assert str(messages[0]["Subject"]).startswith("Falha no pagamento da fatura BC-2026-")
    assert str(messages[1]["Subject"]).startswith("Payment failed for invoice BC-2026-")
    portuguese = messages[0].get_body(("plain",))
    assert portuguese is not None and "Seu cartão foi recusado." in portuguese.get_content()
    assert "http://127.0.0.1:8080/payment-methods" in portuguese.get_content()
