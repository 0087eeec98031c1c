"""enterprise_portal's mails end to end, on real servers: the enterprise_portal server (real
database) writes a PO notice in the invoice's transaction, its outbox asks the REAL identity
(as the caller "enterprise-portal") for the account's billing contacts and rep when it sends,
and a real SMTP server (aiosmtpd) receives one mail per language: Portuguese for the pt-BR
contact, English for the rep. A mail written while identity is down waits (deferred, retried)
and is addressed and delivered once identity answers."""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import Engine, select

from billing.common.v1 import money_pb2
from billing.enterprise_portal.v1 import enterprise_portal_pb2 as pb
from billing.enterprise_portal.v1 import enterprise_portal_pb2_grpc
from billing.identity.v1 import identity_pb2
from billing_common.grpc_client import make_channel
from billing_common.payments.settings import GatewaySettings
from services.enterprise_portal.adapters import orm
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.entrypoints.grpc_server import build
from tests import callers
from tests.faults import free_port
from tests.integration.online_billing.conftest import RunningIdentity, identity  # noqa: F401  (the fixture)
from tests.smtp_server import SmtpServer

URL = "http://portal.example"


def usd(minor: int) -> money_pb2.Money:
    return money_pb2.Money(amount_minor=minor, currency="USD")


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


class Running:
    """An enterprise_portal server sending to `smtp`, asking identity at `identity_target`."""

    def __init__(self, settings: EnterprisePortalSettings, gateway_settings: GatewaySettings, smtp: SmtpServer,
                 identity_target: str) -> None:
        live = settings.model_copy(update={"smtp_url": smtp.url, "outbox_poll_interval": 0.05, "jobs_interval": 0,
                                           "identity_target": identity_target, "portal_url": URL})
        self.server = build(live, gateway_settings=gateway_settings).start()
        self.channel = make_channel(f"127.0.0.1:{self.server.port}", credentials=callers.ENTERPRISE,
                                    default_timeout=10.0)
        self.stub = enterprise_portal_pb2_grpc.EnterprisePortalServiceStub(self.channel)

    def stop(self) -> None:
        self.channel.close()
        self.server.stop()


def _globex(identity: RunningIdentity, unique: Callable[[str], str]) -> tuple[str, str, str]:  # noqa: F811
    """An enterprise account with a contact reading Portuguese and a rep reading English."""
    account = identity.account("Globex", currency="USD", kind=identity_pb2.ACCOUNT_KIND_ENTERPRISE)
    ana = unique("ana") + "@globex.test"
    rita = unique("rita") + "@vendor.test"
    identity.person(account, ana, "Ana Souza", locale="pt-BR")
    identity.rep(account, rita, "Rita Rep", locale="en")
    return account, ana, rita


def _wait_for(smtp: SmtpServer, count: int, timeout: float = 30.0) -> list[EmailMessage]:
    deadline = time.monotonic() + timeout
    while len(smtp.received) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(smtp.received) >= count, f"{len(smtp.received)} of {count} mails arrived"
    return sorted(smtp.received, key=lambda m: str(m["To"]))


def _body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def test_a_po_notice_reaches_a_pt_br_contact_in_portuguese_and_the_rep_in_english_over_smtp(
        settings: EnterprisePortalSettings, gateway_settings: GatewaySettings, smtp: SmtpServer,
        identity: RunningIdentity, unique: Callable[[str], str]) -> None:  # noqa: F811
    account, ana, rita = _globex(identity, unique)
    running = Running(settings, gateway_settings, smtp, identity.target)
    try:
        today = dt.date.today()
        running.stub.CreatePurchaseOrder(pb.CreatePurchaseOrderRequest(
            account_id=account, number="PO-7781", amount=usd(100_000), valid_from=today.isoformat(),
            valid_to=(today + dt.timedelta(days=200)).isoformat()))
        running.stub.IssueInvoice(pb.IssueInvoiceRequest(account_id=account, po_number="PO-7781", lines=[
            pb.NewInvoiceLine(kind="custom", description="Seats", quantity=1, unit_price=usd(85_000))]))
        portuguese, english = _wait_for(smtp, 2)
    finally:
        running.stop()
    assert [(m["To"], m["Subject"]) for m in (portuguese, english)] == [
        (ana, "O pedido de compra PO-7781 está 80% utilizado"), (rita, "Purchase order PO-7781 is 80% used")]
    assert _body(portuguese) == ("US$\xa0850,00 do pedido de compra PO-7781 (US$\xa01.000,00) já foi faturado; "
                                 "restam US$\xa0150,00.\nhttp://portal.example/purchase-orders\n")
    assert _body(english) == ("$850.00 of purchase order PO-7781 ($1,000.00) has been invoiced; $150.00 remains.\n"
                              "http://portal.example/purchase-orders\n")
    assert len(smtp.received) == 2


def test_a_mail_written_while_identity_is_down_waits_and_is_delivered_once_identity_answers(
        settings: EnterprisePortalSettings, gateway_settings: GatewaySettings, smtp: SmtpServer, engine: Engine,
        identity: RunningIdentity, unique: Callable[[str], str]) -> None:  # noqa: F811
    account, ana, rita = _globex(identity, unique)
    # identity unreachable from this server: the flag of an invoice with no PO is written all the same.
    down = Running(settings, gateway_settings, smtp, f"127.0.0.1:{free_port()}")
    try:
        down.stub.IssueInvoice(pb.IssueInvoiceRequest(account_id=account, lines=[
            pb.NewInvoiceLine(kind="custom", description="Seats", quantity=1, unit_price=usd(5_000))]))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                [row] = conn.execute(select(orm.outbox)).all()
            if row.last_error:
                break
            time.sleep(0.05)
    finally:
        down.stop()
    assert row.deferred and not row.to_addrs and row.sent_at is None and "ContactsUnavailable" in row.last_error
    assert smtp.received == []
    # identity answers again (here: a server that can reach it): the mail is addressed and sent.
    up = Running(settings, gateway_settings, smtp, identity.target)
    try:
        portuguese, english = _wait_for(smtp, 2)
    finally:
        up.stop()
    assert [(m["To"], m["Subject"]) for m in (portuguese, english)] == [
        (ana, f"A fatura EP-{dt.date.today().year}-000001 precisa de um pedido de compra válido"),
        (rita, f"Invoice EP-{dt.date.today().year}-000001 needs a valid purchase order")]
    assert "ela não tem pedido de compra" in _body(portuguese)
