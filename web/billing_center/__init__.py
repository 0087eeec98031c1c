"""The Billing Center (online accounts): its app, areas, templates and online_billing client.

Build in-process with `create_app(PortalSettings(...))`; gunicorn uses wsgi.py. The areas to
come (subscription, plans, payment methods, invoices, billing profile, change requests) each
get a blueprint in views/ and register below.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from web.billing_center.backend import OnlineBilling
from web.billing_center.views import home, member
from web.common.app import create_portal_app
from web.common.portals import BILLING_CENTER, PORTALS
from web.common.settings import PortalSettings

TEMPLATES = Path(__file__).resolve().parent / "templates"


def create_app(settings: PortalSettings | None = None) -> Flask:
    settings = settings or PortalSettings()
    return create_portal_app(
        BILLING_CENTER, settings,
        backend=OnlineBilling(settings.online_billing_target, settings.rpc_timeout,
                              settings.credentials(PORTALS[BILLING_CENTER].caller)),
        templates=TEMPLATES,
        blueprints=[home.bp, member.bp],
    )
