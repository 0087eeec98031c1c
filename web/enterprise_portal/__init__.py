"""The Enterprise Billing Portal (corporate accounts and the vendor's reps): its app, areas,
templates and enterprise_portal client.

Build in-process with `create_app(PortalSettings(...))`; gunicorn uses wsgi.py. The areas to
come (contacts, purchase orders, quotes, invoices, payments, the rep console) each get a
blueprint in views/ and register below.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from billing.identity.v1 import identity_pb2
from web.common.app import create_portal_app
from web.common.portals import ENTERPRISE, PORTALS
from web.common.settings import PortalSettings
from web.enterprise_portal.backend import EnterprisePortal
from web.enterprise_portal.views import contacts, home, reauth

TEMPLATES = Path(__file__).resolve().parent / "templates"


def create_app(settings: PortalSettings | None = None) -> Flask:
    settings = settings or PortalSettings()
    app = create_portal_app(
        ENTERPRISE, settings,
        backend=EnterprisePortal(settings.enterprise_portal_target, settings.rpc_timeout,
                                 settings.credentials(PORTALS[ENTERPRISE].caller)),
        templates=TEMPLATES,
        blueprints=[home.bp, contacts.bp, reauth.bp],
    )
    app.jinja_env.globals["is_enterprise_contact"] = _is_enterprise_contact
    return app


def _is_enterprise_contact(principal: object) -> bool:
    return bool(principal is not None and getattr(principal, "role", None) == identity_pb2.ROLE_BILLING_CONTACT)
