"""The web front doors' shared code: one portal app, configured as the Billing Center or the
Enterprise Billing Portal (services/online_billing/web, services/enterprise_portal/web)."""
from billing_common.web.app import create_portal_app
from billing_common.web.portals import Backend, PortalSpec
from billing_common.web.settings import PortalSettings

__all__ = ["Backend", "PortalSettings", "PortalSpec", "create_portal_app"]
