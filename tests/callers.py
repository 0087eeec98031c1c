"""Service-to-service credentials for tests that start servers and clients in-process
(billing_common.service_auth): one fixed secret per caller, the same on both sides."""
from __future__ import annotations

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
