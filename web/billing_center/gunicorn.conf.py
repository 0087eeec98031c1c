"""gunicorn settings of the Billing Center web (http://127.0.0.1:8080 by default).

gunicorn -c web/billing_center/gunicorn.conf.py web.billing_center.wsgi:app
"""
from billing_common.config import settings_or_exit
from billing_common.payments.settings import GatewaySettings
from web.common.gunicorn_config import gunicorn_settings

globals().update(gunicorn_settings("BILLING_CENTER_BIND", "127.0.0.1:8080", process="billing-center-web"))
# The card form is tokenized here (S18): the master refuses to start without the gateway's
# secret in prod, before any worker fails to boot over it.
settings_or_exit("billing-center-web", GatewaySettings)
