"""The Billing Center web front door (online accounts): the shared portal, configured.

Build in-process with `create_app(PortalSettings(...))`; gunicorn uses wsgi.py.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from billing_common.web import Backend, PortalSettings, PortalSpec, create_portal_app
from billing_common.web.portals import BILLING_CENTER
from services.online_billing.web import backend

SPEC = PortalSpec(
    portal=BILLING_CENTER,
    backend=Backend(target_setting="online_billing_target", service_name=backend.SERVICE,
                    idempotent=backend.IDEMPOTENT),
    contact_landing=backend.contact_landing,
    template_folder=str(Path(__file__).resolve().parent / "templates"),
)


def create_app(settings: PortalSettings | None = None) -> Flask:
    return create_portal_app(SPEC, settings or PortalSettings())
