"""The app factory both front doors use: one copy of the portal, two configurations."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, g
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from billing_common.web.clients import IDENTITY_IDEMPOTENT, IDENTITY_SERVICE, Identity, LazyChannel
from billing_common.web.errors import install_error_handlers
from billing_common.web.formdata import install_form_decoding
from billing_common.web.i18n import init_i18n
from billing_common.web.labels import TEMPLATE_GLOBALS
from billing_common.web.portals import PortalInfo, PortalSpec, other
from billing_common.web.security import (content_security_policy, cookie_names, install_headers,
                                         static_file_headers)
from billing_common.web.static_files import install_static_files
from billing_common.web.settings import PortalSettings

HERE = Path(__file__).resolve().parent
MAX_CONTENT_LENGTH = 64 * 1024


@dataclass
class PortalRuntime:
    """What the views need, kept in app.extensions["portal"]. Channels open on first use."""

    spec: PortalSpec
    settings: PortalSettings
    identity_channel: LazyChannel
    backend_channel: LazyChannel
    session_cookie: str
    csrf_cookie: str
    identity: Identity = field(init=False)

    def __post_init__(self) -> None:
        self.identity = Identity(self.identity_channel, self.spec.portal)

    @property
    def portal(self) -> int:
        return self.spec.portal

    @property
    def info(self) -> PortalInfo:
        return self.spec.info

    @property
    def other(self) -> PortalInfo:
        return other(self.spec.portal)

    def url_of(self, info: PortalInfo) -> str:
        return str(getattr(self.settings, info.url_setting))

    def readiness(self) -> dict[str, bool]:
        return {
            "identity": self.identity_channel.health(IDENTITY_SERVICE),
            "backend": self.backend_channel.health(self.spec.backend.service_name),
        }

    def close(self) -> None:
        """This process's channels; gunicorn_config.worker_exit calls it as a worker exits."""
        self.identity_channel.close()
        self.backend_channel.close()


def create_portal_app(spec: PortalSpec, settings: PortalSettings) -> Flask:
    """Build (not serve) one portal. No connection is opened here (gunicorn forks after this)."""
    app = Flask(__name__, static_folder=str(HERE / "static"), template_folder=str(HERE / "templates"))
    if spec.template_folder:
        app.jinja_loader = ChoiceLoader([FileSystemLoader(spec.template_folder), app.jinja_loader])  # type: ignore[list-item]
    secure = bool(settings.cookie_secure)
    session_cookie, csrf_cookie = cookie_names(spec.info.cookie_stem, secure)
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
        spec=spec,
        settings=settings,
        identity_channel=LazyChannel(settings.identity_target, IDENTITY_IDEMPOTENT, settings.rpc_timeout),
        backend_channel=LazyChannel(getattr(settings, spec.backend.target_setting), spec.backend.idempotent,
                                    settings.rpc_timeout),
        session_cookie=session_cookie,
        csrf_cookie=csrf_cookie,
    )
    app.extensions["portal"] = runtime

    # One catalogue for both portals (billing_common/web/translations), portal templates included.
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
    CSRFProtect(app)
    csp = content_security_policy(runtime.url_of(runtime.other))
    install_headers(app, csp)
    install_error_handlers(app)
    # Outermost: a static file is answered before ProxyFix, the session or any hook.
    install_static_files(app, static_file_headers(csp, secure))

    from billing_common.web.views import bp, handoff

    app.register_blueprint(bp)
    app.extensions["csrf"].exempt(handoff)

    @app.context_processor
    def _portal_context() -> dict[str, Any]:
        return {
            "portal_info": runtime.info,
            "other_portal": runtime.other,
            "other_portal_url": runtime.url_of(runtime.other),
            "principal": g.get("principal"),
        }

    return app
