"""gunicorn settings of the Billing Center web (http://127.0.0.1:8080 by default).

gunicorn -c web/billing_center/gunicorn.conf.py web.billing_center.wsgi:app
"""
from web.common.gunicorn_config import gunicorn_settings

globals().update(gunicorn_settings("BILLING_CENTER_BIND", "127.0.0.1:8080", process="billing-center-web"))
