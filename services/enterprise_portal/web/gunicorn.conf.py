"""gunicorn settings of the Enterprise Billing Portal web (http://127.0.0.1:8081 by default).

gunicorn -c services/enterprise_portal/web/gunicorn.conf.py services.enterprise_portal.web.wsgi:app
"""
from billing_common.web.gunicorn_config import gunicorn_settings

globals().update(gunicorn_settings("ENTERPRISE_PORTAL_BIND", "127.0.0.1:8081"))
