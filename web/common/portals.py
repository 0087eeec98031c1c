"""What distinguishes the two front doors.

There are exactly two portals and each must know the other (hand-off form, CSP form-action,
cookie names that do not collide on one host), so the facts about both live here once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from billing.identity.v1 import identity_pb2
from billing_common import service_auth

BILLING_CENTER = identity_pb2.PORTAL_BILLING_CENTER
ENTERPRISE = identity_pb2.PORTAL_ENTERPRISE


@dataclass(frozen=True)
class PortalInfo:
    portal: int
    key: str
    name: Any  # a lazy string: translated at render time
    # Cookies ignore ports, and both portals run on 127.0.0.1 in dev: distinct names.
    cookie_stem: str
    url_setting: str
    # Who this door is on its gRPC calls (billing_common.service_auth).
    caller: str


PORTALS: dict[int, PortalInfo] = {
    BILLING_CENTER: PortalInfo(BILLING_CENTER, "billing_center", _l("Billing Center"), "bc",
                               "billing_center_url", service_auth.BILLING_CENTER_WEB),
    ENTERPRISE: PortalInfo(ENTERPRISE, "enterprise", _l("Enterprise Billing Portal"), "ebp",
                           "enterprise_portal_url", service_auth.ENTERPRISE_PORTAL_WEB),
}


def other(portal: int) -> PortalInfo:
    return PORTALS[ENTERPRISE if portal == BILLING_CENTER else BILLING_CENTER]
