"""The Billing Center's typed client of its backend (online_billing.v1)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import grpc
from flask_babel import gettext as _

from billing.online_billing.v1 import online_billing_pb2, online_billing_pb2_grpc
from billing_common.money import Money
from web.common.clients import GrpcClient, money, timestamp
from web.common.runtime import backend_as


@dataclass(frozen=True)
class SubscriptionView:
    plan_name: str
    seats: int
    interval: online_billing_pb2.BillingInterval.ValueType
    status: online_billing_pb2.SubscriptionStatus.ValueType
    renewal_amount: Money | None
    current_period_end: datetime | None
    cancel_at_period_end: bool

    @property
    def interval_label(self) -> str:
        return {
            online_billing_pb2.BILLING_INTERVAL_MONTHLY: _("Monthly"),
            online_billing_pb2.BILLING_INTERVAL_ANNUAL: _("Annual"),
        }.get(self.interval, _("Unknown"))

    @property
    def status_label(self) -> str:
        return {
            online_billing_pb2.SUBSCRIPTION_STATUS_ACTIVE: _("Active"),
            online_billing_pb2.SUBSCRIPTION_STATUS_PAST_DUE: _("Past due"),
            online_billing_pb2.SUBSCRIPTION_STATUS_CANCELED: _("Canceled"),
        }.get(self.status, _("Unknown"))


class OnlineBilling(GrpcClient[online_billing_pb2_grpc.OnlineBillingServiceStub]):
    service = online_billing_pb2.DESCRIPTOR.services_by_name["OnlineBillingService"].full_name
    stub_class = online_billing_pb2_grpc.OnlineBillingServiceStub
    idempotent = ("GetSubscriptionSummary",)

    def subscription_summary(self, account_id: str) -> SubscriptionView | None:
        """The account's subscription; None when it has none yet (NOT_FOUND)."""
        try:
            answer = self.stub.GetSubscriptionSummary(
                online_billing_pb2.GetSubscriptionSummaryRequest(account_id=account_id))
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:  # type: ignore[attr-defined]
                return None
            raise  # UNAVAILABLE and the rest: the app's one error handler decides
        s = answer.subscription
        return SubscriptionView(
            plan_name=s.plan_name, seats=s.seats, interval=s.interval, status=s.status,
            renewal_amount=money(s.renewal_amount) if s.HasField("renewal_amount") else None,
            current_period_end=timestamp(s.current_period_end) if s.HasField("current_period_end") else None,
            cancel_at_period_end=s.cancel_at_period_end,
        )


def online_billing() -> OnlineBilling:
    """This app's online_billing client (inside a request)."""
    return backend_as(OnlineBilling)
