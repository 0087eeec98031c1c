"""gunicorn entry point: only builds the app (`gunicorn -c .../gunicorn.conf.py ...wsgi:app`)."""
from billing_common import logs
from billing_common.web import PortalSettings
from services.online_billing.web import create_app

settings = PortalSettings()
logs.configure("billing-center-web", settings.log_level, settings.log_format)
app = create_app(settings)
