"""Portal sessions, cookies and response headers (S10, S11, S12).

The portal cookie holds only identity's opaque token; every request that needs the user asks
identity.ValidateSession with this portal's id, so a cookie carried to the other portal is
refused there (S11) and a signed-out or expired session is refused everywhere.
"""
from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import grpc
from flask import Flask, g, request
from werkzeug.wrappers import Response

from billing_common.grpc_server import request_id_var
from web.common.runtime import portal
from web.common.settings import PortalSettings, normalized_origin, origin

F = TypeVar("F", bound=Callable[..., Any])

# Opaque tokens are URL-safe base64 or hex; anything else is not worth a round trip.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_\-.~]{16,512}")


class SignInRequired(Exception):
    """Raised when a page needs a signed-in user and there is none (handled: /sign-in)."""


def cookie_names(stem: str, secure: bool) -> tuple[str, str, str]:
    """(portal session cookie, Flask session cookie, device cookie). __Host- pins them to
    this host (S10)."""
    prefix = "__Host-" if secure else ""
    return f"{prefix}{stem}_session", f"{prefix}{stem}_csrf", f"{prefix}{stem}_device"


def client_address() -> str:
    """The visitor's address (the proxies' X-Forwarded-For when TRUSTED_PROXIES says so)."""
    return request.remote_addr or ""


def session_token() -> str | None:
    token = request.cookies.get(portal().session_cookie)
    return token if token and TOKEN_SHAPE.fullmatch(token) else None


def device_token() -> str:
    """The device token this browser kept from its last successful sign-in here, or ""."""
    token = request.cookies.get(portal().device_cookie)
    return token if token and TOKEN_SHAPE.fullmatch(token) else ""


def load_principal() -> Any | None:
    """The signed-in user (identity's Principal), or None. Asks identity once per request."""
    if "principal" in g:
        return g.principal
    g.principal = None
    token = session_token()
    if request.cookies.get(portal().session_cookie) and token is None:
        g.drop_session_cookie = True
    if token:
        try:
            answer = portal().identity.validate_session(token)
            g.principal = answer.principal
            # The session itself too: its authenticated_at says how recent the sign-in is (S17).
            g.identity_session = answer.session
            g.session_token = token
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.UNAUTHENTICATED:  # type: ignore[attr-defined]
                raise  # identity down: the error handler answers 503, never a page with data
            g.drop_session_cookie = True
    return g.principal


# S17: changes to payment methods (Billing Center) and billing contacts (Enterprise portal)
# need a sign-in within this long; identity checks the contacts' changes too.
RECENT_SIGN_IN = timedelta(minutes=15)


def signed_in_recently(now: datetime | None = None) -> bool:
    """Whether this session's sign-in (identity's authenticated_at) is within RECENT_SIGN_IN."""
    load_principal()
    session = g.get("identity_session")
    if session is None or not session.HasField("authenticated_at"):
        return False
    at = session.authenticated_at.ToDatetime(tzinfo=UTC)
    return (now or datetime.now(UTC)) - at <= RECENT_SIGN_IN


def end_previous_session() -> None:
    """Before a request opens a new session: sign out the one its cookie names, if any.

    Replacing the cookie alone would leave the old session valid at identity until it times
    out. Best effort: the new sign-in must not fail because the old session could not be
    ended (already expired, identity briefly unavailable).
    """
    token = session_token()
    if token is None:
        return
    try:
        portal().identity.sign_out(token)
    except grpc.RpcError:
        pass


def request_origin() -> str | None:
    """The origin that sent this request: the Origin header, or when a browser sent none, the
    Referer's origin. None when neither names an http(s) origin ("Origin: null" included)."""
    sent = request.headers.get("Origin")
    if sent is not None:
        return normalized_origin(sent)
    referer = request.headers.get("Referer")
    return normalized_origin(referer) if referer else None


def came_from(url: str) -> bool:
    """True when the request was sent by a page of the site at `url` (its configured origin)."""
    sent = request_origin()
    return sent is not None and sent == normalized_origin(url)


def signed_in(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if load_principal() is None:
            raise SignInRequired()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def set_session_cookie(response: Response, token: str) -> None:
    settings: PortalSettings = portal().settings
    g.drop_session_cookie = False
    # A browser-session cookie: identity enforces the idle and absolute timeouts (S9).
    response.set_cookie(portal().session_cookie, token, path="/", secure=bool(settings.cookie_secure),
                        httponly=True, samesite="Lax")


def set_device_cookie(response: Response, device: Any) -> None:
    """Keeps identity's device token (S4) until it expires, whoever signs out: it tells identity
    on the next sign-in that this browser signed in as that user before, so an attacker's
    failures elsewhere do not make it wait. HttpOnly, like every cookie here (S10)."""
    if not device.token:
        return
    settings: PortalSettings = portal().settings
    response.set_cookie(portal().device_cookie, device.token, path="/", secure=bool(settings.cookie_secure),
                        httponly=True, samesite="Lax", expires=device.expires_at.ToDatetime(tzinfo=UTC))


def drop_session_cookie(response: Response) -> None:
    settings: PortalSettings = portal().settings
    response.delete_cookie(portal().session_cookie, path="/", secure=bool(settings.cookie_secure),
                           httponly=True, samesite="Lax")


def content_security_policy(other_url: str) -> str:
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "frame-ancestors 'none'",
        # The hand-off form posts to the other portal.
        f"form-action 'self' {origin(other_url)}",
        "base-uri 'none'",
    ])


def no_referrer() -> None:
    """For pages whose URL is a secret (the reset link, S8)."""
    g.referrer_policy = "no-referrer"


def security_headers(csp: str, secure: bool) -> dict[str, str]:
    """What every answer carries, pages and the static files WhiteNoise serves before Flask
    (web.common.static_files) alike; pages add no-store and their own Referrer-Policy."""
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if secure:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


def install_headers(app: Flask, headers: dict[str, str]) -> None:
    """Flask's answers (every page, and a 404 under /static/): `headers`, plus no-store, and
    the page view's request id, which every gRPC call made for it carries (one id, from the
    web access line to each service's)."""

    @app.before_request
    def _request_id() -> None:
        g.request_id = uuid.uuid4().hex
        request_id_var.set(g.request_id)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.update(headers)
        if "request_id" in g:
            response.headers["X-Request-ID"] = g.request_id
        if "referrer_policy" in g:
            response.headers["Referrer-Policy"] = g.referrer_policy
        # Every page may show a signed-in user's data or a form with a CSRF token: nothing is
        # stored, so "back" after sign-out shows nothing (S12).
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
        if g.get("drop_session_cookie"):
            drop_session_cookie(response)
        return response
