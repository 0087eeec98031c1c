"""Form bodies decoded so that bytes which are not UTF-8 become a field error (S24).

Werkzeug silently drops an urlencoded body that is not valid UTF-8 (the form arrives empty,
so the user sees a CSRF refusal) and keeps undecodable %-escapes as literal text. Decoding
with replacement characters instead lets the form's own validators name the field.
"""
from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Flask, abort, request
from werkzeug.datastructures import ImmutableMultiDict

MAX_FIELDS = 200


def install_form_decoding(app: Flask) -> None:
    @app.before_request
    def _decode_urlencoded_form() -> None:
        if request.method != "POST" or request.mimetype != "application/x-www-form-urlencoded":
            return
        body = request.get_data(cache=True)  # MAX_CONTENT_LENGTH applies: 413 when larger
        try:
            pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True,
                              errors="replace", max_num_fields=MAX_FIELDS)
        except ValueError:
            abort(400)
        # Replaces the lazily parsed request.form/files (cached properties) for this request.
        request.__dict__["form"] = ImmutableMultiDict(pairs)
        request.__dict__["files"] = ImmutableMultiDict()
