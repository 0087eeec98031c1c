"""Service-to-service credentials for tests that start servers and clients in-process
(billing_common.service_auth): one fixed secret per caller, the same on both sides."""
from __future__ import annotations

from typing import Any

import grpc

from billing_common.grpc_client import make_channel
from billing_common.service_auth import (
    BILLING_CENTER_WEB,
    CALLERS,
    ENTERPRISE_PORTAL_WEB,
    OPERATOR,
    CallerCredentials,
    Gatekeeper,
    secret_variable,
)

SECRETS = {caller: f"test-only-secret-of-{caller}-0123456789abcdef" for caller in CALLERS}
# As the settings objects read them: CALLER_SECRET_BILLING_CENTER_WEB=...
ENV = {secret_variable(caller): secret for caller, secret in SECRETS.items()}


def credentials(caller: str, acting_person: str = "") -> CallerCredentials:
    return CallerCredentials(caller, SECRETS[caller], acting_person)


def gate(allowed: dict[str, frozenset[str]]) -> Gatekeeper:
    """A server's gate knowing every test caller."""
    return Gatekeeper.build(SECRETS, allowed)


BILLING_CENTER = credentials(BILLING_CENTER_WEB)
ENTERPRISE = credentials(ENTERPRISE_PORTAL_WEB)
OPERATOR_TESTS = credentials(OPERATOR, acting_person="tests")


PROVISIONING = frozenset({"CreateAccount", "CreateUser", "AddMembership", "RemoveMembership", "AssignRep"})


# The proto value of PORTAL_ENTERPRISE in every service's Portal enum (identity.v1).
_ENTERPRISE_PORTAL = 2


class _AsEachCaller(grpc.UnaryUnaryClientInterceptor):
    def __init__(self, operator: bool) -> None:
        self.operator = operator

    def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        # A portal acts for itself only (identity checks it), so a call naming the Enterprise
        # portal goes as the Enterprise portal, the others as the Billing Center.
        if self.operator and details.method.rsplit("/", 1)[-1] in PROVISIONING:
            who = OPERATOR_TESTS
        elif getattr(request, "portal", None) == _ENTERPRISE_PORTAL:
            who = ENTERPRISE
        else:
            who = BILLING_CENTER
        metadata = [*(details.metadata or ()), *who.metadata()]
        return continuation(details._replace(metadata=metadata), request)


def channel_as_each_caller(target: str, **options: Any) -> grpc.Channel:
    """One channel for tests that play both sides of identity on one stub: its provisioning
    calls go as an operator command (acting person "tests"), the rest as the portal they name
    (the Billing Center when they name none).
    Who may call what is tested on its own (tests/integration/common/test_who_may_call_each_service.py)."""
    return grpc.intercept_channel(make_channel(target, **options), _AsEachCaller(operator=True))


def channel_as_the_portal(target: str, **options: Any) -> grpc.Channel:
    """A channel that calls as the portal each request names (the Billing Center when it names
    none), never as an operator: what the portals' side of identity looks like."""
    return grpc.intercept_channel(make_channel(target, **options), _AsEachCaller(operator=False))
