"""Confirm your password (S17) in the Billing Center: web.common.reauth with its access check
and why it asks (adding or removing a card)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from web.billing_center.access import billing_contact
from web.common.reauth import reauth_blueprint

bp = reauth_blueprint(
    billing_contact, "subscription.subscription_page",
    _l("For your security, changes to your payment methods need a sign-in within the last 15 minutes. "
       "Enter your password to continue."))
