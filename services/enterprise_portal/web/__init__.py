"""The Enterprise Billing Portal web front door (corporate accounts and reps): the shared
portal, configured. Build in-process with `create_app(PortalSettings(...))`; gunicorn uses wsgi.py.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from billing_common.web import Backend, PortalSettings, PortalSpec, create_portal_app
from billing_common.web.portals import ENTERPRISE
from services.enterprise_portal.web import backend

SPEC = PortalSpec(
    portal=ENTERPRISE,
    backend=Backend(target_setting="enterprise_portal_target", service_name=backend.SERVICE,
                    idempotent=backend.IDEMPOTENT),
    contact_landing=backend.contact_landing,
    template_folder=str(Path(__file__).resolve().parent / "templates"),
)


def create_app(settings: PortalSettings | None = None) -> Flask:
    return create_portal_app(SPEC, settings or PortalSettings())
