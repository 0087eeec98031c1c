"""online_billing's gRPC server: a thin servicer over the service layer, and `serve()`.

Only the read the Billing Center's landing page needs exists so far; the renewal worker
(billing runs, dunning) and the rest of the Billing Center's calls come in later issues.
"""
from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from billing.online_billing.v1 import online_billing_pb2 as pb
from billing.online_billing.v1 import online_billing_pb2_grpc
from billing_common.grpc_server import GrpcServer
from billing_common.money_proto import to_proto
from billing_common.service import build_service
from billing_common.service_auth import BILLING_CENTER_WEB, allow_list
from services.online_billing import bootstrap
from services.online_billing.adapters import orm
from services.online_billing.config import OnlineBillingSettings
from services.online_billing.domain.model import BillingInterval, Subscription, SubscriptionStatus
from services.online_billing.service_layer import services
from services.online_billing.service_layer.dependencies import Dependencies

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["OnlineBillingService"].full_name

# Who may call what (billing_common.service_auth): its own portal. A method missing here admits nobody.
ALLOWED_CALLERS = allow_list(SERVICE_NAME, {
    "GetSubscriptionSummary": {BILLING_CENTER_WEB},
})

_INTERVALS = {
    BillingInterval.MONTHLY: pb.BILLING_INTERVAL_MONTHLY,
    BillingInterval.ANNUAL: pb.BILLING_INTERVAL_ANNUAL,
}
_STATUSES = {
    SubscriptionStatus.ACTIVE: pb.SUBSCRIPTION_STATUS_ACTIVE,
    SubscriptionStatus.PAST_DUE: pb.SUBSCRIPTION_STATUS_PAST_DUE,
    SubscriptionStatus.CANCELED: pb.SUBSCRIPTION_STATUS_CANCELED,
}


class OnlineBillingServicer(online_billing_pb2_grpc.OnlineBillingServiceServicer):
    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    def GetSubscriptionSummary(self, request: pb.GetSubscriptionSummaryRequest, context: grpc.ServicerContext
                               ) -> pb.GetSubscriptionSummaryResponse:
        subscription = services.get_subscription_summary(self.deps, request.account_id)
        return pb.GetSubscriptionSummaryResponse(subscription=summary_message(subscription))


def summary_message(s: Subscription) -> pb.SubscriptionSummary:
    period_end = Timestamp()
    period_end.FromDatetime(s.current_period_end)
    renewal = s.renewal_amount()
    return pb.SubscriptionSummary(
        subscription_id=s.id,
        plan_code=s.plan.code,
        plan_name=s.plan.name,
        seats=s.seats,
        interval=_INTERVALS[s.interval],
        status=_STATUSES[s.status],
        renewal_amount=to_proto(renewal),
        current_period_end=period_end,
        cancel_at_period_end=s.cancel_at_period_end,
    )


def build(settings: OnlineBillingSettings) -> GrpcServer:
    """The server, not started yet (bind "127.0.0.1:0" for a free port), with the outbox
    dispatcher already polling; `server.stop()` stops the dispatcher and closes the engine."""
    deps = bootstrap.build_dependencies(settings)
    servicer = OnlineBillingServicer(deps)
    return build_service(
        settings,
        service_name=SERVICE_NAME,
        register=lambda s: online_billing_pb2_grpc.add_OnlineBillingServiceServicer_to_server(servicer, s),
        engine=deps.sql_engine,
        outbox=orm.outbox,
        on_stop=deps.close,
        allowed_callers=ALLOWED_CALLERS,
        # Every signed-in billing contact's landing page reads it: failures are still logged.
        quiet_methods=[f"/{SERVICE_NAME}/GetSubscriptionSummary"],
    )


def serve(settings: OnlineBillingSettings) -> None:
    """Run until SIGTERM/SIGINT (health goes NOT_SERVING, in-flight calls finish)."""
    build(settings).start().serve_forever()
