"""The Enterprise Billing Portal (corporate accounts and the vendor's reps): its app, areas,
templates and enterprise_portal client.

Build in-process with `create_app(PortalSettings(...))`; gunicorn uses wsgi.py. The areas to
come (contacts, purchase orders, quotes, invoices, payments, the rep console) each get a
blueprint in views/ and register below.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from web.common.app import create_portal_app
from web.common.portals import ENTERPRISE, PORTALS
from web.common.settings import PortalSettings
from web.enterprise_portal.access import is_enterprise_contact
from web.enterprise_portal.backend import EnterprisePortal
from web.enterprise_portal.views import home, quotes, rep_quotes

TEMPLATES = Path(__file__).resolve().parent / "templates"


def create_app(settings: PortalSettings | None = None) -> Flask:
    settings = settings or PortalSettings()
    app = create_portal_app(
        ENTERPRISE, settings,
        backend=EnterprisePortal(settings.enterprise_portal_target, settings.rpc_timeout,
                                 settings.credentials(PORTALS[ENTERPRISE].caller)),
        templates=TEMPLATES,
        blueprints=[home.bp, quotes.bp, rep_quotes.bp],
    )
    app.jinja_env.globals["is_enterprise_contact"] = is_enterprise_contact
    return app
