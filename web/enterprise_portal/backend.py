"""The Enterprise portal's typed client of its backend (enterprise_portal.v1)."""
from __future__ import annotations

from dataclasses import dataclass

from billing.enterprise_portal.v1 import enterprise_portal_pb2, enterprise_portal_pb2_grpc
from billing_common.money import Money
from web.common.clients import GrpcClient, money
from web.common.runtime import backend_as


@dataclass(frozen=True)
class OpenInvoicesView:
    open_count: int
    total_due: Money | None


class EnterprisePortal(GrpcClient[enterprise_portal_pb2_grpc.EnterprisePortalServiceStub]):
    service = enterprise_portal_pb2.DESCRIPTOR.services_by_name["EnterprisePortalService"].full_name
    stub_class = enterprise_portal_pb2_grpc.EnterprisePortalServiceStub
    idempotent = ("GetOpenInvoiceSummary",)

    def open_invoice_summary(self, account_id: str) -> OpenInvoicesView:
        # An account without invoices is open_count 0, not NOT_FOUND; a failed call (UNAVAILABLE
        # and the rest) goes to the app's one error handler.
        answer = self.stub.GetOpenInvoiceSummary(
            enterprise_portal_pb2.GetOpenInvoiceSummaryRequest(account_id=account_id))
        return OpenInvoicesView(
            open_count=answer.open_count,
            total_due=money(answer.total_due) if answer.HasField("total_due") else None,
        )


def enterprise_portal() -> EnterprisePortal:
    """This app's enterprise_portal client (inside a request)."""
    return backend_as(EnterprisePortal)
