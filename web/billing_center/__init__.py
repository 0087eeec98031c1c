"""The Billing Center (online accounts): its app, areas, templates and online_billing client.

Build in-process with `create_app(PortalSettings(...))`; gunicorn uses wsgi.py. Each area
(subscription, plan change, payment methods and the password confirmation they need, invoices,
billing profile, members' change requests) is a blueprint in views/, registered below.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from billing_common.payments.settings import GatewaySettings
from web.billing_center.access import is_online_billing_contact
from web.billing_center.backend import OnlineBilling
from web.billing_center.views import (
    billing_profile,
    home,
    invoices,
    member,
    payment_methods,
    plan_change,
    reauth,
    requests,
    subscription,
)
from web.common.app import create_portal_app
from web.common.portals import BILLING_CENTER, PORTALS
from web.common.settings import PortalSettings

TEMPLATES = Path(__file__).resolve().parent / "templates"


def create_app(settings: PortalSettings | None = None, gateway: GatewaySettings | None = None) -> Flask:
    """`gateway`: the payment gateway's settings for the card form's tokenizer (S18); from the
    environment (PAYMENT_GATEWAY, SANDBOX_GATEWAY_SECRET) when not given."""
    settings = settings or PortalSettings()
    app = create_portal_app(
        BILLING_CENTER, settings,
        backend=OnlineBilling(settings.online_billing_target, settings.rpc_timeout,
                              settings.credentials(PORTALS[BILLING_CENTER].caller)),
        templates=TEMPLATES,
        blueprints=[home.bp, member.bp, subscription.bp, plan_change.bp, payment_methods.bp, reauth.bp,
                    invoices.bp, billing_profile.bp, requests.bp],
    )
    payment_methods.install_tokenizer(app, gateway)
    app.jinja_env.globals["is_online_billing_contact"] = is_online_billing_contact
    return app
