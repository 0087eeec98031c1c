"""S24 for enterprise_portal: random requests to every RPC (invoices, payments, statement,
POs, quotes; built from the proto, so a new RPC is fuzzed too) over a real channel to the real
server on a seeded database (Globex's demo invoices and quotes) get a status the servicer
chose, never INTERNAL or a crash, and INVALID_ARGUMENT always names its field."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.enterprise_portal.v1 import enterprise_portal_pb2 as pb
from billing.enterprise_portal.v1 import enterprise_portal_pb2_grpc
from billing_common.clock import FakeClock
from billing_common.payments.settings import GatewaySettings
from services.devstack import demo_backends
from services.enterprise_portal import bootstrap
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.entrypoints.grpc_server import ALLOWED_CALLERS, build
from tests import callers, grpc_fuzz

ACCOUNTS = ["acct-globex", "acct-initech"]
KNOWN = [*ACCOUNTS, "u-rita", "NET 30", "NET 45", "NET 60", "EOM", "open", "draft", "accepted", "PO-1",
         "2026-01-01", "2027-12-31", "custom", "plan"]
SERVICE = pb.DESCRIPTOR.services_by_name["EnterprisePortalService"]


@pytest.fixture(scope="module")
def fuzz_world(database_url: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[tuple[Any, dict[str, list[str]]]]:
    s = EnterprisePortalSettings(database_url=database_url("enterprise_portal_fuzz"), grpc_bind="127.0.0.1:0",
                                 maildir=tmp_path_factory.mktemp("ep-fuzz-mail"), env="test", shutdown_grace=1.0,
                                 # No jobs or delivery during the run (make_msgid draws from the global random).
                                 jobs_interval=0.0, outbox_poll_interval=3600, **callers.ENV)
    bootstrap.migrate(s)
    demo_backends.seed_enterprise_portal(s, {"globex": "acct-globex"})
    gateway_settings = GatewaySettings(BILLING_ENV="test",
                                       SANDBOX_GATEWAY_DATABASE_URL=database_url("sandbox_gateway_ep_fuzz"))
    server = build(s, gateway_settings=gateway_settings, clock=FakeClock()).start()
    channel = grpc_fuzz.channel_as_admitted_callers(f"127.0.0.1:{server.port}", ALLOWED_CALLERS,
                                                    default_timeout=30.0)
    stub = enterprise_portal_pb2_grpc.EnterprisePortalServiceStub(channel)
    try:
        yield stub, _known_ids(stub)
    finally:
        channel.close()
        server.stop()


def _known_ids(stub: Any) -> dict[str, list[str]]:
    """The seeded objects' ids, so that requests reach past "no such object" to the rules."""
    invoices = stub.ListInvoices(pb.ListInvoicesRequest(account_id="acct-globex")).invoices
    quotes = stub.ListQuotes(pb.ListQuotesRequest(account_id="acct-globex", viewer=pb.QUOTE_VIEWER_REP)).quotes
    pos = stub.ListPurchaseOrders(pb.ListPurchaseOrdersRequest(account_id="acct-globex")).purchase_orders
    return {"invoice_id": [i.invoice_id for i in invoices[:5]], "invoice_ids": [i.invoice_id for i in invoices[:5]],
            "number": [q.number for q in quotes[:5]], "quote_number": [q.number for q in quotes[:5]],
            "po_id": [p.po_id for p in pos]}


@pytest.fixture(scope="module")
def fuzz_stub(fuzz_world):  # type: ignore[no-untyped-def]
    return fuzz_world[0]


def test_every_rpc_is_fuzzed_and_admits_a_caller() -> None:
    names = {m.name for m in SERVICE.methods}
    assert {"PayInvoices", "AcceptQuote", "GetStatement", "UpdatePurchaseOrder"} <= names
    assert all(f"/{SERVICE.full_name}/{name}" in ALLOWED_CALLERS for name in names)


def test_the_seeded_world_has_objects_to_aim_at(fuzz_world) -> None:  # type: ignore[no-untyped-def]
    _, ids = fuzz_world
    assert ids["invoice_id"] and ids["number"]


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(call=grpc_fuzz.requests(SERVICE, grpc_fuzz.text(KNOWN)))
def test_any_request_gets_a_clear_status_and_invalid_ones_name_their_field(fuzz_stub, call) -> None:  # type: ignore[no-untyped-def]
    grpc_fuzz.call(fuzz_stub, *call)


@settings(max_examples=300, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_requests_about_existing_objects_get_a_clear_status(fuzz_world, data) -> None:  # type: ignore[no-untyped-def]
    """The same with the account and the objects' ids drawn from what exists, so the checks
    past "no such object" (amounts, dates, terms, lines, POs, tokens, allocations) are fuzzed."""
    stub, ids = fuzz_world
    strings = grpc_fuzz.text(KNOWN)
    overrides = {"account_id": st.sampled_from(ACCOUNTS),
                 **{name: st.one_of(st.sampled_from(values), strings) for name, values in ids.items() if values},
                 "currency": st.one_of(st.sampled_from(["USD", "BRL", "EUR"]), strings)}
    grpc_fuzz.call(stub, *data.draw(grpc_fuzz.requests(SERVICE, strings, overrides=overrides)))
