"""The app factory both front doors build on: the shared pages, sessions, CSRF, headers,
error pages and i18n; each door adds its own blueprints, templates and backend client."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, g
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from billing.identity.v1 import identity_pb2
from web.common.clients import GrpcClient, Identity
from web.common.errors import install_error_handlers
from web.common.formdata import install_form_decoding
from web.common.i18n import init_i18n
from web.common.labels import TEMPLATE_GLOBALS
from web.common.portals import PORTALS
from web.common.runtime import LANDING, PortalRuntime
from web.common.security import content_security_policy, cookie_names, install_headers, security_headers
from web.common.settings import PortalSettings
from web.common.static_files import install_static_files
from web.common.views import auth, contacts, help, password, site

HERE = Path(__file__).resolve().parent
MAX_CONTENT_LENGTH = 64 * 1024
SHARED_BLUEPRINTS = (auth.bp, password.bp, contacts.bp, help.bp, site.bp)


def create_portal_app(
    portal: identity_pb2.Portal.ValueType,
    settings: PortalSettings,
    *,
    backend: GrpcClient[Any],
    templates: Path,
    blueprints: Iterable[Blueprint],
) -> Flask:
    """Build (not serve) one front door. No connection is opened here (gunicorn forks after
    this). `templates` is the door's own folder, searched before the shared one; `blueprints`
    are the door's areas, one of them "home" with the landing page."""
    info = PORTALS[portal]
    app = Flask(__name__, static_folder=str(HERE / "static"), template_folder=str(HERE / "templates"))
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(templates)), app.jinja_loader])  # type: ignore[list-item]
    secure = bool(settings.cookie_secure)
    session_cookie, csrf_cookie, device_cookie = cookie_names(info.cookie_stem, secure)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_CONTENT_LENGTH,
        # Flask's own cookie only carries the CSRF secret and flash messages.
        SESSION_COOKIE_NAME=csrf_cookie,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        PREFERRED_URL_SCHEME="https" if secure else "http",
        # CSRF protection is the synchronizer token (S16). The Referer check is off because the
        # reset pages must send no referrer at all (S8); the __Host- cookie already keeps
        # sibling hosts from planting a token.
        WTF_CSRF_SSL_STRICT=False,
        WTF_CSRF_TIME_LIMIT=3600,
        TEMPLATES_AUTO_RELOAD=settings.env == "dev",
    )
    runtime = PortalRuntime(
        portal=portal,
        settings=settings,
        identity=Identity(settings.identity_target, settings.rpc_timeout, settings.credentials(info.caller), portal),
        backend=backend,
        session_cookie=session_cookie,
        csrf_cookie=csrf_cookie,
        device_cookie=device_cookie,
    )
    app.extensions["portal"] = runtime

    # One catalogue for both doors (web/common/translations), their own templates included.
    init_i18n(app)
    app.jinja_env.globals.update(TEMPLATE_GLOBALS)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    if settings.trusted_proxies:
        # Only the last N X-Forwarded-For entries were written by our own proxies; anything
        # before them is whatever the client sent and is never trusted.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    install_form_decoding(app)  # before CSRFProtect: its check reads the decoded form
    csrf = CSRFProtect(app)
    headers = security_headers(content_security_policy(runtime.url_of(runtime.other)), secure)
    install_headers(app, headers)
    install_error_handlers(app)
    # Outermost: a static file is answered before ProxyFix, the session or any hook.
    install_static_files(app, headers)

    for blueprint in (*SHARED_BLUEPRINTS, *blueprints):
        app.register_blueprint(blueprint)
    # The hand-off post carries a single-use ticket instead of a CSRF token (views/auth.py).
    csrf.exempt(auth.handoff)
    if LANDING not in app.view_functions:
        raise ValueError(f"a front door needs a blueprint 'home' with a 'landing' view ({LANDING})")

    @app.context_processor
    def _portal_context() -> dict[str, Any]:
        return {
            "portal_info": runtime.info,
            "other_portal": runtime.other,
            "other_portal_url": runtime.url_of(runtime.other),
            "principal": g.get("principal"),
        }

    return app
