"""Form bodies read, limited to what the portals' own pages send, and decoded so that bytes
which are not UTF-8 become a field error (S24).

The portals' forms are plain text fields: an urlencoded body, or multipart without file
parts (a browser may choose multipart). Anything else (a file part, JSON, an unknown type, a
body that cannot be read) is refused here with a 4xx page before any form or CSRF check sees
it, so no validator ever meets a file upload and no read error becomes a 500.

Werkzeug silently drops an urlencoded body that is not valid UTF-8 (the form arrives empty,
so the user sees a CSRF refusal) and keeps undecodable %-escapes as literal text. Decoding
with replacement characters instead lets the form's own validators name the field.
"""
from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Flask, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import BadRequest, ClientDisconnected, UnsupportedMediaType

try:  # gunicorn's body reader raises its own errors (a malformed chunk size, a missing terminator)
    from gunicorn.http.errors import ParseException as _ServerParseError
except ImportError:  # pragma: no cover - gunicorn is a runtime dependency; other servers raise OSError
    class _ServerParseError(Exception):  # type: ignore[no-redef]
        pass

MAX_FIELDS = 200
URLENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"
# A browser's connection can break, or a client can send a body the server cannot de-chunk
# (werkzeug turns errors of a length-limited stream into ClientDisconnected itself).
READ_ERRORS = (OSError, ValueError, _ServerParseError, ClientDisconnected)


class UnreadableBody(BadRequest):
    """The body could not be read (broken connection, malformed chunked encoding)."""


class FilesNotAccepted(BadRequest):
    """A multipart form with a file part: no portal form takes a file."""


class UnsupportedForm(UnsupportedMediaType):
    """A POST body that is neither urlencoded nor multipart."""


def install_form_decoding(app: Flask) -> None:
    @app.before_request
    def _decode_form() -> None:
        if request.method != "POST":
            return
        try:
            body = request.get_data(cache=True)  # MAX_CONTENT_LENGTH applies: 413 when larger
        except READ_ERRORS as error:
            raise UnreadableBody() from error
        mimetype = request.mimetype
        if mimetype == URLENCODED:
            _decode_urlencoded(body)
        elif mimetype == MULTIPART:
            _check_multipart()
        elif mimetype or body:
            # An empty POST without a type (a bare button, a probe) is an empty form: CSRF
            # refuses it. A body of any other type is not something our pages send.
            raise UnsupportedForm()
        else:
            _set_form([])


def _decode_urlencoded(body: bytes) -> None:
    try:
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True,
                          errors="replace", max_num_fields=MAX_FIELDS)
    except ValueError as error:
        raise BadRequest() from error
    _set_form(pairs)


def _check_multipart() -> None:
    # Werkzeug parses the cached body; it decodes field values with replacement characters.
    try:
        files = request.files
        form = request.form
    except READ_ERRORS as error:
        raise BadRequest() from error
    if files:
        raise FilesNotAccepted()
    if sum(1 for _ in form.items(multi=True)) > MAX_FIELDS:
        raise BadRequest()


def _set_form(pairs: list[tuple[str, str]]) -> None:
    # Replaces the lazily parsed request.form/files (cached properties) for this request.
    request.__dict__["form"] = ImmutableMultiDict(pairs)
    request.__dict__["files"] = ImmutableMultiDict()
