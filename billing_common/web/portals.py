"""What distinguishes the two front doors, and what each portal plugs into the shared app.

There are exactly two portals and each must know the other (hand-off form, CSP form-action,
cookie names that do not collide on one host), so the facts about both live here once.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from billing.identity.v1 import identity_pb2

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


PORTALS: dict[int, PortalInfo] = {
    BILLING_CENTER: PortalInfo(BILLING_CENTER, "billing_center", _l("Billing Center"), "bc",
                               "billing_center_url"),
    ENTERPRISE: PortalInfo(ENTERPRISE, "enterprise", _l("Enterprise Billing Portal"), "ebp",
                           "enterprise_portal_url"),
}


def other(portal: int) -> PortalInfo:
    return PORTALS[ENTERPRISE if portal == BILLING_CENTER else BILLING_CENTER]


@dataclass(frozen=True)
class Backend:
    """The portal's own gRPC backend (backend-for-frontend)."""

    target_setting: str
    service_name: str
    # Read-only methods the channel may retry on UNAVAILABLE (S22).
    idempotent: tuple[tuple[str, str], ...]


# (backend channel, principal) -> (template name, template context). Called only for a billing
# contact of the portal's own kind of account; members and reps have shared pages.
ContactLanding = Callable[[Any, Any], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class PortalSpec:
    portal: int
    backend: Backend
    contact_landing: ContactLanding
    # Folder of the portal's own templates (its landing page), searched before the shared ones.
    template_folder: str | None = None

    @property
    def info(self) -> PortalInfo:
        return PORTALS[self.portal]
