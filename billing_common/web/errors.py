"""The one place where gRPC statuses and HTTP errors become pages (S15, S24).

A view that posts a form registers it with `form_page(...)` before calling identity; when the
call fails with INVALID_ARGUMENT, UNAUTHENTICATED (where the view says what that means) or
RESOURCE_EXHAUSTED, the handler re-renders that same form with the message in place. Every
other failure is a small page from a template: never a stack trace, never partial data.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import structlog
from flask import Flask, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from billing_common.grpc_client import error_field, retry_after
from billing_common.web.formdata import FilesNotAccepted, UnreadableBody, UnsupportedForm
from billing_common.web.forms import PortalForm
from billing_common.web.i18n import current_locale
from billing_common.web.security import SignInRequired

log = structlog.get_logger()

# When identity's own message has no translation yet, pt-BR readers get this for the field.
_FIELD_FALLBACKS: dict[str, Callable[[], str]] = {
    "new_password": lambda: _("Choose a password of at least 8 characters that is not a common password."),
    "current_password": lambda: _("The current password is not correct."),
    "login": lambda: _("Invalid user ID"),
    "email": lambda: _("Enter a valid email address."),
    "note": lambda: _("%(field)s is too long (at most %(max)d characters).", field=_("Note"), max=500),
}


# identity names fields as its protos do; where a form calls the same input otherwise.
_FIELD_ALIASES = {"password": "new_password", "user_id": "login", "body": "message"}


@dataclass
class FormPage:
    template: str
    form: PortalForm
    context: dict[str, Any] = field(default_factory=dict)
    # (field name or None for the whole form, message) shown when identity says UNAUTHENTICATED.
    unauthenticated: tuple[str | None, str] | None = None
    # A view-specific answer for some statuses (e.g. a used reset link); None: the usual one.
    on_error: Callable[[grpc.RpcError], ResponseReturnValue | None] | None = None
    # More context that costs a call, fetched only when the form is actually rendered.
    load_context: Callable[[], dict[str, Any]] | None = None

    def render(self, status: int = 200) -> ResponseReturnValue:
        context = {**self.context, **(self.load_context() if self.load_context else {})}
        return render_template(self.template, form=self.form, **context), status

    def fail(self, field_name: str | None, message: str, status: int) -> ResponseReturnValue:
        target = None
        if field_name:
            target = self.form._fields.get(field_name) or self.form._fields.get(
                _FIELD_ALIASES.get(field_name, ""))
        if target is not None and target.type not in ("HiddenField", "CSRFTokenField"):
            target.errors = [*list(target.errors or ()), message]
        else:
            self.form.form_error(message)
        return self.render(status)


def form_page(template: str, form: PortalForm, **context: Any) -> FormPage:
    page = FormPage(template, form, context)
    g.form_page = page
    return page


def error_page(status: int, title: str, message: str) -> ResponseReturnValue:
    return render_template("errors/error.html", status=status, title=title, message=message, bare=True), status


def unavailable() -> ResponseReturnValue:
    return error_page(503, _("Service temporarily unavailable"),
                      _("The service is temporarily unavailable, try again in a few minutes."))


def too_many(error: grpc.RpcError) -> str:
    minutes = max(1, math.ceil((retry_after(error) or 60) / 60))
    return ngettext("Too many attempts. Try again in %(num)d minute.",
                    "Too many attempts. Try again in %(num)d minutes.", minutes)


def _invalid_message(error: grpc.RpcError, field_name: str | None) -> str:
    details = error.details() or ""  # type: ignore[attr-defined]
    translated = _(details) if details else ""
    if (not translated or (translated == details and current_locale() != "en")) and field_name in _FIELD_FALLBACKS:
        return _FIELD_FALLBACKS[field_name]()
    return translated or _("The form contains an error.")


def handle_rpc_error(error: grpc.RpcError) -> ResponseReturnValue:
    try:
        return _answer_rpc_error(error)
    except grpc.RpcError as failed_again:
        # Showing the form again needed a call of its own (FormPage.load_context) and that
        # failed too: answer that failure without the form (e.g. 503 when identity is down).
        g.form_page = None
        return _answer_rpc_error(failed_again)


def _answer_rpc_error(error: grpc.RpcError) -> ResponseReturnValue:
    code = error.code()  # type: ignore[attr-defined]
    page: FormPage | None = g.get("form_page")
    if page is not None and page.on_error is not None:
        answer = page.on_error(error)
        if answer is not None:
            return answer
    if code == grpc.StatusCode.UNAVAILABLE and retry_after(error) is not None:
        # Up but shedding load (identity's sign-in queue is full): the same form, asking to
        # come back in a moment rather than the "in a few minutes" of a service that is down.
        message = _("Too many people are signing in right now. Try again in a few seconds.")
        if page is not None:
            return page.fail(None, message, 503)
        return error_page(503, _("Service temporarily unavailable"), message)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        log.warning("backend unavailable", code=code.name)
        return unavailable()
    if code == grpc.StatusCode.UNAUTHENTICATED:
        if page is not None and page.unauthenticated is not None:
            return page.fail(*page.unauthenticated, status=200)
        g.drop_session_cookie = True
        return redirect(url_for("portal.sign_in"))
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        name = error_field(error)
        message = _invalid_message(error, name)
        if page is not None:
            return page.fail(name, message, 400)
        return error_page(400, _("Bad request"), message)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        if page is not None:
            return page.fail(None, too_many(error), 429)
        return error_page(429, _("Too many attempts"), too_many(error))
    if code == grpc.StatusCode.NOT_FOUND:
        return not_found()
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return forbidden()
    if code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS) and page is not None:
        return page.fail(error_field(error), _invalid_message(error, error_field(error)), 409)
    log.error("unexpected gRPC status", code=code.name)
    return internal_error()


def not_found() -> ResponseReturnValue:
    return error_page(404, _("Page not found"), _("There is no page at this address."))


def forbidden() -> ResponseReturnValue:
    return error_page(403, _("Not allowed"), _("Your user ID cannot use this page."))


def internal_error() -> ResponseReturnValue:
    return error_page(500, _("Something went wrong"),
                      _("Something went wrong on our side. Please try again in a few minutes."))


def handle_http_error(error: HTTPException) -> ResponseReturnValue:
    status = error.code or 500
    if isinstance(error, CSRFError):
        return error_page(400, _("The form has expired"),
                          _("This form was not sent from this site or it has expired. "
                            "Go back, reload the page and try again."))
    if isinstance(error, FilesNotAccepted):
        return error_page(400, _("Bad request"), _("This form does not accept files."))
    if isinstance(error, UnsupportedForm):
        return error_page(415, _("Bad request"),
                          _("The form was sent in a format this page does not accept."))
    if isinstance(error, UnreadableBody):
        return error_page(400, _("Bad request"),
                          _("The form could not be read. Go back, reload the page and try again."))
    if status == 404:
        return not_found()
    if status == 405:
        return error_page(405, _("Not allowed"), _("This page cannot be used that way."))
    if status == 413:
        return error_page(413, _("Too much data"), _("The form sent more data than this page accepts."))
    if status == 403:
        return forbidden()
    if status >= 500:
        return internal_error()
    return error_page(status, _("Bad request"), _("The request could not be understood."))


def handle_unexpected(error: Exception) -> ResponseReturnValue:
    if isinstance(error, HTTPException):
        return handle_http_error(error)
    log.exception("unhandled error in view")
    return internal_error()


def install_error_handlers(app: Flask) -> None:
    app.register_error_handler(grpc.RpcError, handle_rpc_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(SignInRequired, lambda _e: redirect(url_for("portal.sign_in")))
    app.register_error_handler(Exception, handle_unexpected)
