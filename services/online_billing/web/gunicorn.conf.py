"""gunicorn settings of the Billing Center web (http://127.0.0.1:8080 by default).

gunicorn -c services/online_billing/web/gunicorn.conf.py services.online_billing.web.wsgi:app
"""
from billing_common.web.gunicorn_config import gunicorn_settings

globals().update(gunicorn_settings("BILLING_CENTER_BIND", "127.0.0.1:8080"))
