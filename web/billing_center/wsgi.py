"""gunicorn entry point: only builds the app (`gunicorn -c .../gunicorn.conf.py ...wsgi:app`)."""
from billing_common import logs
from billing_common.config import settings_or_exit
from billing_common.payments.settings import GatewaySettings
from web.billing_center import create_app
from web.common.settings import PortalSettings

settings = settings_or_exit("billing-center-web", PortalSettings)
logs.configure("billing-center-web", settings.log_level, settings.log_format)
# The card form's tokenizer: refuses to start in prod without SANDBOX_GATEWAY_SECRET.
gateway = settings_or_exit("billing-center-web", GatewaySettings)
app = create_app(settings, gateway)
