"""The language switcher and the probes operators point at the process."""
from __future__ import annotations

import re

from flask import Blueprint, abort, redirect, url_for
from flask.typing import ResponseReturnValue

from web.common import forms
from web.common.i18n import LANG_COOKIE, LOCALES
from web.common.runtime import LANDING, portal

bp = Blueprint("site", __name__)

_SAFE_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/_\-.~%?=&]*")


def safe_local_path(value: str | None) -> str:
    """Only a path on this site: never //host, /\\host or a scheme (open redirect)."""
    if value and len(value) <= 2048 and _SAFE_PATH.fullmatch(value):
        return value
    return url_for(LANDING)


@bp.route("/language", methods=["POST"])
def language() -> ResponseReturnValue:
    form = forms.LanguageForm()
    if not form.validate() or form.lang.data not in LOCALES:
        abort(400)
    response = redirect(safe_local_path(form.next.data))
    response.set_cookie(LANG_COOKIE, form.lang.data, max_age=365 * 24 * 3600, path="/",
                        secure=bool(portal().settings.cookie_secure), httponly=True, samesite="Lax")
    return response


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    """Liveness: the process answers. No dependency is asked."""
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


@bp.route("/readyz")
def readyz() -> ResponseReturnValue:
    """Readiness: identity and this portal's backend both report SERVING (grpc.health.v1)."""
    state = portal().readiness()
    body = "".join(f"{name}: {'SERVING' if ok else 'NOT_SERVING'}\n" for name, ok in state.items())
    status = 200 if all(state.values()) else 503
    return body, status, {"Content-Type": "text/plain; charset=utf-8"}
