"""gunicorn settings of the Enterprise Billing Portal web (http://127.0.0.1:8081 by default).

gunicorn -c web/enterprise_portal/gunicorn.conf.py web.enterprise_portal.wsgi:app
"""
from web.common.gunicorn_config import gunicorn_settings

globals().update(gunicorn_settings("ENTERPRISE_PORTAL_BIND", "127.0.0.1:8081", process="enterprise-portal-web"))
