"""gunicorn entry point: only builds the app (`gunicorn -c .../gunicorn.conf.py ...wsgi:app`)."""
from billing_common import logs
from web.common.settings import PortalSettings
from web.enterprise_portal import create_app

settings = PortalSettings()
logs.configure("enterprise-portal-web", settings.log_level, settings.log_format)
app = create_app(settings)
