"""The Enterprise portal's adapter to its backend (enterprise_portal.v1): one read for the landing page."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import grpc

from billing.enterprise_portal.v1 import enterprise_portal_pb2, enterprise_portal_pb2_grpc
from billing_common.money import Money
from billing_common.web.clients import money

SERVICE = enterprise_portal_pb2.DESCRIPTOR.services_by_name["EnterprisePortalService"].full_name
IDEMPOTENT = ((SERVICE, "GetOpenInvoiceSummary"),)


@dataclass(frozen=True)
class OpenInvoicesView:
    open_count: int
    total_due: Money | None


def open_invoice_summary(channel: grpc.Channel, account_id: str) -> OpenInvoicesView:
    stub = enterprise_portal_pb2_grpc.EnterprisePortalServiceStub(channel)
    # An account without invoices is open_count 0, not NOT_FOUND; a failed call (UNAVAILABLE
    # and the rest) goes to the portal's one error handler.
    answer = stub.GetOpenInvoiceSummary(
        enterprise_portal_pb2.GetOpenInvoiceSummaryRequest(account_id=account_id))
    return OpenInvoicesView(
        open_count=answer.open_count,
        total_due=money(answer.total_due) if answer.HasField("total_due") else None,
    )


def contact_landing(channel: grpc.Channel, principal: Any) -> tuple[str, dict[str, Any]]:
    """A billing contact's home page: how many invoices are open and what is due."""
    return "landing_enterprise.html", {
        "invoices": open_invoice_summary(channel, principal.account.account_id),
    }
