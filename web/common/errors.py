"""The one place where gRPC statuses and HTTP errors become pages (S15, S24).

`rpc_error_page` is the mapping from a failed call's status to a page. A view that posts a form
keeps its `FormPage` and answers a failed call with `page.failed(error)`: INVALID_ARGUMENT,
UNAUTHENTICATED (where the page says what that means), RESOURCE_EXHAUSTED and a busy identity
show that same form again with the message in place. A view's other calls are answered by its
`@answers_failed_calls` decorator, with the same mapping and no form; the app's error handler
does the same for anything outside a view. Every other failure is a small page from a template:
never a stack trace, never partial data.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
import structlog
from flask import Flask, g, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from billing_common.grpc_client import error_field, refused_caller, retry_after
from billing_common.limits import MAX_NOTE
from web.common.formdata import FilesNotAccepted, UnreadableBody, UnsupportedForm
from web.common.forms import PortalForm
from web.common.i18n import current_locale
from web.common.security import SignInRequired

log = structlog.get_logger()

# When identity's own message has no translation yet, pt-BR readers get this for the field.
_FIELD_FALLBACKS: dict[str, Callable[[], str]] = {
    "new_password": lambda: _("Choose a password of at least 8 characters that is not a common password."),
    "current_password": lambda: _("The current password is not correct."),
    "login": lambda: _("Invalid user ID"),
    "email": lambda: _("Enter a valid email address."),
    "note": lambda: _("%(field)s is too long (at most %(max)d characters).", field=_("Note"), max=MAX_NOTE),
}


# identity names fields as its protos do; where a form calls the same input otherwise.
_FIELD_ALIASES = {"password": "new_password", "user_id": "login", "body": "message"}


@dataclass
class FormPage:
    """A form's page: rendered as is, with a message on a field or the whole form, or as the
    answer to a call made for it that failed."""

    template: str
    form: PortalForm
    context: dict[str, Any] = field(default_factory=dict)
    # (field name or None for the whole form, message) shown when the service says
    # UNAUTHENTICATED; None: the session ended, so the person signs in again.
    unauthenticated: tuple[str | None, str] | None = None
    # More context that costs a call, fetched only when the form is actually rendered; if that
    # call fails too, its failure is answered without the form (e.g. 503).
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

    def failed(self, error: grpc.RpcError) -> ResponseReturnValue:
        """The answer to a call made for this form that failed (rpc_error_page, with the form)."""
        return rpc_error_page(error, self)


ViewT = TypeVar("ViewT", bound=Callable[..., ResponseReturnValue])


def answers_failed_calls(view: ViewT) -> ViewT:
    """On a view: a call it makes that fails, and that it does not answer itself with a form
    (`page.failed`) or an explicit branch, becomes the page `rpc_error_page` gives (503 when
    the service is down, sign-in again when the session ended, ...). Put it above `signed_in`
    so that the session check is covered too."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        try:
            return view(*args, **kwargs)
        except grpc.RpcError as error:
            return rpc_error_page(error)

    return wrapper  # type: ignore[return-value]


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


def rpc_error_page(error: grpc.RpcError, page: FormPage | None = None) -> ResponseReturnValue:
    """The page for a failed call: the mapping from gRPC status to page, in one place.

    With `page`, statuses that are about the input (a field, the password, a rate limit, a busy
    service) show that form again with the message; without, a small page says it.
    """
    code = error.code()  # type: ignore[attr-defined]
    if refused_caller(error):
        # This portal's service credentials were refused: a deployment fault the person cannot
        # fix, not an ended session (no sign-in loop). Operators see it in the log.
        log.error("a service refused this portal's caller credentials", code=code.name)
        return unavailable()
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
        return redirect(url_for("auth.sign_in"))
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
    # A call that failed where no view answered it (validating the session, a page's read).
    app.register_error_handler(grpc.RpcError, rpc_error_page)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(SignInRequired, lambda _e: redirect(url_for("auth.sign_in")))
    app.register_error_handler(Exception, handle_unexpected)
