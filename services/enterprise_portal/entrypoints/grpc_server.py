"""enterprise_portal's gRPC server: a thin servicer over the service layer, and `serve()`.

Only the read the Enterprise Billing Portal's landing page needs exists so far; purchase
orders, quotes, invoice history and online payments come in later issues.
"""
from __future__ import annotations

import grpc

from billing.enterprise_portal.v1 import enterprise_portal_pb2 as pb
from billing.enterprise_portal.v1 import enterprise_portal_pb2_grpc
from billing_common.grpc_server import GrpcServer
from billing_common.money_proto import to_proto
from billing_common.service import build_service
from billing_common.service_auth import ENTERPRISE_PORTAL_WEB, allow_list
from services.enterprise_portal import bootstrap
from services.enterprise_portal.adapters import orm
from services.enterprise_portal.config import EnterprisePortalSettings
from services.enterprise_portal.service_layer import services
from services.enterprise_portal.service_layer.dependencies import Dependencies

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["EnterprisePortalService"].full_name

# Who may call what (billing_common.service_auth): its own portal. A method missing here admits nobody.
ALLOWED_CALLERS = allow_list(SERVICE_NAME, {
    "GetOpenInvoiceSummary": {ENTERPRISE_PORTAL_WEB},
})


class EnterprisePortalServicer(enterprise_portal_pb2_grpc.EnterprisePortalServiceServicer):
    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    def GetOpenInvoiceSummary(self, request: pb.GetOpenInvoiceSummaryRequest, context: grpc.ServicerContext
                              ) -> pb.GetOpenInvoiceSummaryResponse:
        summary = services.get_open_invoice_summary(self.deps, request.account_id)
        return pb.GetOpenInvoiceSummaryResponse(open_count=summary.open_count, total_due=to_proto(summary.total_due))


def build(settings: EnterprisePortalSettings) -> GrpcServer:
    """The server, not started yet (bind "127.0.0.1:0" for a free port), with the outbox
    dispatcher already polling; `server.stop()` stops the dispatcher and closes the engine."""
    deps = bootstrap.build_dependencies(settings)
    servicer = EnterprisePortalServicer(deps)
    return build_service(
        settings,
        service_name=SERVICE_NAME,
        register=lambda s: enterprise_portal_pb2_grpc.add_EnterprisePortalServiceServicer_to_server(servicer, s),
        engine=deps.sql_engine,
        outbox=orm.outbox,
        on_stop=deps.close,
        allowed_callers=ALLOWED_CALLERS,
        # Every signed-in billing contact's landing page reads it: failures are still logged.
        quiet_methods=[f"/{SERVICE_NAME}/GetOpenInvoiceSummary"],
    )


def serve(settings: EnterprisePortalSettings) -> None:
    """Run until SIGTERM/SIGINT (health goes NOT_SERVING, in-flight calls finish)."""
    build(settings).start().serve_forever()
