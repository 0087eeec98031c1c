"""The Enterprise Billing Portal (corporate accounts and the vendor's reps): its app, areas,
templates and enterprise_portal client.

Build in-process with `create_app(PortalSettings(...))`; gunicorn uses wsgi.py. The invoicing
areas (views/billing.py) are registered twice: a billing contact's own account at /invoices,
/pay, /statement, /purchase-orders, and the rep console's account at /accounts/<account_id>/...
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_babel import lazy_gettext as _l

from billing_common.payments.settings import GatewaySettings
from web.common.app import create_portal_app
from web.common.cards import install_tokenizer
from web.common.portals import ENTERPRISE, PORTALS
from web.common.reauth import reauth_blueprint
from web.common.security import signed_in
from web.common.settings import PortalSettings
from web.enterprise_portal.access import is_contact, is_rep
from web.enterprise_portal.backend import EnterprisePortal
from web.enterprise_portal.views import billing, contacts, home, quotes, rep_quotes

TEMPLATES = Path(__file__).resolve().parent / "templates"


def create_app(settings: PortalSettings | None = None, gateway: GatewaySettings | None = None) -> Flask:
    """`gateway`: the payment gateway's settings for the card form's tokenizer (S18); from the
    environment (PAYMENT_GATEWAY, SANDBOX_GATEWAY_SECRET) when not given."""
    settings = settings or PortalSettings()
    reauth = reauth_blueprint(
        signed_in, "home.landing",
        _l("For your security, payments and changes to billing contacts need a sign-in within the last 15 "
           "minutes. Enter your password to continue."))
    app = create_portal_app(
        ENTERPRISE, settings,
        backend=EnterprisePortal(settings.enterprise_portal_target, settings.rpc_timeout,
                                 settings.credentials(PORTALS[ENTERPRISE].caller)),
        templates=TEMPLATES,
        blueprints=[home.bp, billing.bp, contacts.bp, reauth, quotes.bp, rep_quotes.bp],
    )
    # The rep console: the same pages of one of the rep's accounts (access.account_user checks it).
    app.register_blueprint(billing.bp, name="rep", url_prefix="/accounts/<account_id>")
    install_tokenizer(app, gateway)
    app.jinja_env.globals.update(is_enterprise_contact=is_contact, is_rep=is_rep)
    return app
