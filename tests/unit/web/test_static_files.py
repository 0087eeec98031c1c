"""Static files: fingerprinted names cached for good, the plain names revalidated, the pages'
security headers on both, served before Flask (no session cookie)."""
from __future__ import annotations

import re

from web.common.static_files import fingerprinted


def _get(client, url: str, **kwargs):
    """The response, read and closed (WhiteNoise streams the open file)."""
    response = client.get(url, **kwargs)
    response.get_data()
    response.close()
    return response


def _stylesheet(page: str) -> str:
    found = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert found
    return found.group(1)


def test_pages_link_the_stylesheet_by_a_name_that_carries_its_content_hash(bc):
    href = _stylesheet(bc.get("/sign-in").get_data(as_text=True))
    assert re.fullmatch(r"/static/style\.[0-9a-f]{12}\.css", href)


def test_a_fingerprinted_file_is_cached_for_good_and_carries_the_security_headers(bc):
    href = _stylesheet(bc.get("/sign-in").get_data(as_text=True))
    response = _get(bc, href)
    assert response.status_code == 200 and response.mimetype == "text/css"
    assert response.headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in response.headers
    assert "Access-Control-Allow-Origin" not in response.headers
    assert _get(bc, href, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_the_plain_name_still_answers_but_is_revalidated(bc):
    response = _get(bc, "/static/style.css")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_static_names_are_left_to_flask(bc):
    assert _get(bc, "/static/style.000000000000.css").status_code == 404


def test_secure_portals_send_hsts_on_static_files_too(make_app):
    app = make_app("bc", COOKIE_SECURE=True)
    response = _get(app.test_client(), "/static/style.css")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_the_hash_goes_before_the_last_suffix():
    assert re.fullmatch(r"css/site\.min\.[0-9a-f]{12}\.css", fingerprinted("css/site.min.css", b"x"))
    assert re.fullmatch(r"LICENSE\.[0-9a-f]{12}", fingerprinted("LICENSE", b"x"))
    assert fingerprinted("a.css", b"x") != fingerprinted("a.css", b"y")
