"""online_billing when its database cannot be reached (S15): calls answer UNAVAILABLE, health
turns NOT_SERVING for the service name (readiness) while "" stays SERVING (liveness), and it
is SERVING again once the database answers. The database is real: a URL whose port refuses,
and PostgreSQL behind a proxy that the test cuts and restores."""
from __future__ import annotations

import grpc
import pytest
from sqlalchemy.engine import make_url

from billing.online_billing.v1 import online_billing_pb2 as pb
from billing.online_billing.v1 import online_billing_pb2_grpc
from billing_common.grpc_client import health_status, make_channel, retry_after
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.entrypoints.grpc_server import SERVICE_NAME, build
from tests import callers
from tests.conftest import TEST_DATABASE_URL
from tests.faults import TcpProxy, refusing_url, wait_until


def _status(port: int, service: str = SERVICE_NAME) -> str:
    return health_status(f"127.0.0.1:{port}", service, timeout=2)


def _summary(port: int) -> grpc.RpcError | pb.GetSubscriptionSummaryResponse:
    with make_channel(f"127.0.0.1:{port}", default_timeout=10, credentials=callers.BILLING_CENTER) as channel:
        stub = online_billing_pb2_grpc.OnlineBillingServiceStub(channel)
        try:
            return stub.GetSubscriptionSummary(pb.GetSubscriptionSummaryRequest(account_id="acc-none"))
        except grpc.RpcError as error:
            return error


def test_a_backend_whose_database_refuses_answers_unavailable_and_is_not_ready(tmp_path):
    settings = OnlineBillingSettings(database_url=refusing_url(), grpc_bind="127.0.0.1:0", env="test",
                                     maildir=tmp_path / "mail", shutdown_grace=1.0, health_check_interval=0.1,
                                     **callers.ENV)
    server = build(settings).start()
    try:
        assert _status(server.port) == "NOT_SERVING"
        assert _status(server.port, "") == "SERVING"
        error = _summary(server.port)
        assert isinstance(error, grpc.RpcError) and error.code() == grpc.StatusCode.UNAVAILABLE
        assert retry_after(error) is None
    finally:
        server.stop()


@pytest.mark.skipif(not TEST_DATABASE_URL, reason="needs a PostgreSQL server (TEST_DATABASE_URL)")
def test_a_backend_is_ready_again_once_its_database_answers_again(settings, tmp_path):
    url = make_url(settings.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    server = build(settings.model_copy(update={"database_url": through_proxy, "health_check_interval": 0.1})).start()
    try:
        assert _status(server.port) == "SERVING"
        proxy.cut()
        assert wait_until(lambda: _status(server.port) == "NOT_SERVING")
        error = _summary(server.port)
        assert isinstance(error, grpc.RpcError) and error.code() == grpc.StatusCode.UNAVAILABLE
        proxy.restore()
        assert wait_until(lambda: _status(server.port) == "SERVING")
        error = _summary(server.port)
        assert isinstance(error, grpc.RpcError) and error.code() == grpc.StatusCode.NOT_FOUND
    finally:
        server.stop()
        proxy.cut()
