"""S18 for the Enterprise portal's card payments, as the Billing Center's card flows have it: a
payment paid and one declined through the pages leave no card number (a 13 to 19 digit run
passing the Luhn check) in any table of enterprise_portal's or the sandbox's database, any log
line, the Flask session, or any gRPC message any service received or answered; the payment
reaches enterprise_portal only as the gateway's token."""
from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog
from sqlalchemy import MetaData

from billing_common.db import make_engine
from billing_common.payments.cards import card_numbers_in
from tests.grpc_capture import GrpcCapture, capturing
from tests.integration.web.enterprise_world import EnterpriseWorld, ep_world  # noqa: F401
from tests.integration.web.test_enterprise_invoicing import _confirm, _preview
from tests.unit.web.helpers import text


@pytest.fixture
def grpc_seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[GrpcCapture]:
    """Requested before ep_world, so every server the world builds feeds it."""
    yield capturing(monkeypatch)


def _stored_text(*urls: str) -> str:
    rows = []
    for url in urls:
        engine = make_engine(url)
        try:
            meta = MetaData()
            meta.reflect(engine)
            with engine.connect() as conn:
                for table in meta.sorted_tables:
                    rows.extend(repr(tuple(row)) for row in conn.execute(table.select()))
        finally:
            engine.dispose()
    return "\n".join(rows)


def test_card_payments_leave_no_card_number_in_tables_logs_session_or_grpc_messages(  # S18
        grpc_seen: GrpcCapture, ep_world: EnterpriseWorld, caplog: pytest.LogCaptureFixture,  # noqa: F811
        capsys: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    a = ep_world.issue(10_000).invoice
    b = ep_world.issue(20_000).invoice
    client = ep_world.signed_in()
    with structlog.testing.capture_logs() as structured:
        paid = _confirm(client, _preview(client, [a.id], "100.00"), number="5555 5555 5555 4444")
        declined = _confirm(client, _preview(client, [b.id], "200.00"), number="4000 0000 0000 0002")
    assert paid.status_code == 200, text(paid)
    assert declined.status_code == 409 and "4000000000000002" not in text(declined)
    logged = "\n".join([caplog.text, *map(str, structured), *capsys.readouterr()])
    assert card_numbers_in(logged) == []
    with client.session_transaction() as flask_session:
        assert card_numbers_in(repr(dict(flask_session))) == []
    stored = _stored_text(ep_world.settings.database_url, ep_world.gateway.sandbox_gateway_database_url)
    assert "4444" in stored and card_numbers_in(stored) == []  # the last 4 are there, the number is not
    pays = [m for m in grpc_seen.of("/billing.enterprise_portal.v1.EnterprisePortalService/PayInvoices")
            if m.kind == "request"]
    assert len(pays) == 2 and all('token: "' in m.text for m in pays)
    assert card_numbers_in("\n".join(m.text for m in grpc_seen.messages)) == []
