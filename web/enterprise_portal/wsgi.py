"""gunicorn entry point: only builds the app (`gunicorn -c .../gunicorn.conf.py ...wsgi:app`)."""
from billing_common import logs
from billing_common.config import settings_or_exit
from web.common.settings import PortalSettings
from web.enterprise_portal import create_app

settings = settings_or_exit("enterprise-portal-web", PortalSettings)
logs.configure("enterprise-portal-web", settings.log_level, settings.log_format)
app = create_app(settings)
