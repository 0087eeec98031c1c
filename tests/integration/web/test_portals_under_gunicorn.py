"""Both front doors served by gunicorn exactly as deployed (gunicorn.conf.py + wsgi.py), with
real HTTP between a cookie-keeping client and the two portals, and gRPC to in-process fakes.

This proves what the in-process tests cannot: the apps build from environment variables,
gRPC channels open in the forked gthread workers, the hand-off crosses two real origins that
share one host (cookies ignore ports), and the access log carries no reset token (S25).
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from billing_common.service_auth import BILLING_CENTER_WEB, ENTERPRISE_PORTAL_WEB, secret_variable
from tests import callers
from tests.pages import text_of
from tests.unit.web import fakes
from tests.unit.web.helpers import csrf_from, form_action, hidden

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Portals:
    bc_url: str
    ebp_url: str
    identity: fakes.FakeIdentity
    logs: dict[str, Path]
    servers: tuple


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


class Browser:
    """Just enough of a browser: a cookie jar shared by both origins, no redirects followed."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def request(self, url: str, data: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(url, data=body, headers=headers or {})
        try:
            with self.opener.open(req, timeout=10) as resp:
                return resp.status, dict(resp.headers), resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, dict(err.headers), err.read().decode()

    def cookie_names(self) -> set[str]:
        return {c.name for c in self.jar}


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"gunicorn did not answer: {log.read_text()}")


@pytest.fixture(scope="module")
def portals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portals]:
    identity = fakes.demo_identity()
    servers = (fakes.serve_identity(identity), fakes.serve_online_billing(fakes.demo_online_billing()),
               fakes.serve_enterprise_portal(fakes.demo_enterprise_portal()))
    bc_port, ebp_port = _free_port(), _free_port()
    bc_url, ebp_url = f"http://127.0.0.1:{bc_port}", f"http://127.0.0.1:{ebp_port}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CALLER_SECRET_")},
        "BILLING_ENV": "test",
        "SECRET_KEY": "integration-secret-key-0123456789abcdef",
        "COOKIE_SECURE": "false",
        "IDENTITY_TARGET": f"127.0.0.1:{servers[0].port}",
        "ONLINE_BILLING_TARGET": f"127.0.0.1:{servers[1].port}",
        "ENTERPRISE_PORTAL_TARGET": f"127.0.0.1:{servers[2].port}",
        "BILLING_CENTER_URL": bc_url,
        "ENTERPRISE_PORTAL_URL": ebp_url,
        "BILLING_CENTER_BIND": f"127.0.0.1:{bc_port}",
        "ENTERPRISE_PORTAL_BIND": f"127.0.0.1:{ebp_port}",
        "WEB_WORKERS": "2",
        "WEB_THREADS": "2",
    }
    logs_dir = tmp_path_factory.mktemp("gunicorn")
    processes, logs = [], {}
    for name, door, url in (("bc", "billing_center", bc_url), ("ebp", "enterprise_portal", ebp_url)):
        # Each door holds its own caller secret only, as in the Kubernetes manifests.
        caller = BILLING_CENTER_WEB if door == "billing_center" else ENTERPRISE_PORTAL_WEB
        door_env = {**env, secret_variable(caller): callers.SECRETS[caller]}
        log = logs_dir / f"{name}.log"
        logs[name] = log
        handle = log.open("wb")
        processes.append((subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", f"web/{door}/gunicorn.conf.py",
             f"web.{door}.wsgi:app"],
            cwd=ROOT, env=door_env, stdout=handle, stderr=subprocess.STDOUT), handle, url, log))
    try:
        for process, _handle, url, log in processes:
            _wait_ready(url, process, log)
        yield Portals(bc_url, ebp_url, identity, logs, servers)
    finally:
        for process, handle, _url, _log in processes:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            handle.close()
        for server in servers:
            server.stop()


def _sign_in(browser: Browser, base: str, login: str, password: str) -> tuple[int, dict[str, str], str]:
    status, _, page = browser.request(base + "/sign-in")
    assert status == 200
    return browser.request(base + "/sign-in", {"csrf_token": csrf_from(page), "login": login,
                                               "password": password})


def test_both_portals_are_ready_under_gunicorn(portals):
    for url in (portals.bc_url, portals.ebp_url):
        with urllib.request.urlopen(url + "/readyz", timeout=5) as resp:
            assert resp.status == 200
            assert resp.read().decode() == "identity: SERVING\nbackend: SERVING\n"


def test_wrong_door_hand_off_across_two_real_origins(portals):
    browser = Browser()
    status, headers, page = _sign_in(browser, portals.bc_url, "globex-billing", "Enterprise-demo-2026!")
    assert status == 200
    assert text_of(page, "page-title") == "Your account is managed in the Enterprise Billing Portal"
    assert f"form-action 'self' {portals.ebp_url}" in headers["Content-Security-Policy"]
    action = form_action(page, "handoff-form")
    assert action == portals.ebp_url + "/handoff"
    # Posted from a page of another origin, whose Referrer-Policy lets the browser name it.
    assert headers["Referrer-Policy"] == "strict-origin"
    ticket = hidden(page, "ticket")
    status, _, refused = browser.request(action, {"ticket": ticket}, headers={"Origin": "http://evil.example"})
    assert status == 403
    assert text_of(refused, "error-message") == (
        "This sign-in did not come from the Billing Center. Please sign in here.")
    status, headers, _ = browser.request(action, {"ticket": ticket}, headers={"Origin": portals.bc_url})
    assert status == 302 and headers["Location"] == "/"
    status, _, landing = browser.request(portals.ebp_url + "/")
    assert status == 200 and text_of(landing, "account-name") == "Globex Corporation"
    assert (text_of(landing, "open-count"), text_of(landing, "total-due")) == ("3", "$42,500.75")
    # Both portals share the host: distinct names keep their cookies apart.
    assert {"ebp_session", "ebp_csrf", "bc_csrf"} <= browser.cookie_names()
    assert "bc_session" not in browser.cookie_names()
    status, headers, _ = browser.request(portals.bc_url + "/")
    assert status == 302 and headers["Location"] == "/sign-in"


def test_sign_in_landing_and_sign_out_at_the_billing_center(portals):
    browser = Browser()
    status, headers, _ = _sign_in(browser, portals.bc_url, "olivia@acme.test", "Online-demo-2026!")
    assert status == 302
    status, headers, page = browser.request(portals.bc_url + "/")
    assert status == 200 and text_of(page, "account-name") == "Acme Online"
    assert headers["Cache-Control"] == "no-store"
    status, _, _ = browser.request(portals.bc_url + "/sign-out", {"csrf_token": csrf_from(page)})
    assert status == 302
    status, headers, _ = browser.request(portals.bc_url + "/")
    assert status == 302 and headers["Location"] == "/sign-in"


def test_a_post_without_csrf_token_is_refused_by_the_served_app(portals):
    browser = Browser()
    browser.request(portals.ebp_url + "/sign-in")
    status, _, page = browser.request(portals.ebp_url + "/sign-in",
                                      {"login": "globex-billing", "password": "Enterprise-demo-2026!"})
    assert status == 400 and text_of(page, "error-title") == "The form has expired"


def test_the_access_log_never_contains_a_reset_token(portals):
    token = portals.identity.issue_reset_token("carlos@globex.test")
    status, headers, _ = Browser().request(portals.ebp_url + f"/reset/{token}")
    assert status == 200 and headers["Referrer-Policy"] == "no-referrer"
    # The access log line is written after the response: wait for it, a bounded while.
    deadline = time.monotonic() + 10
    while "GET /reset/" not in (log := portals.logs["ebp"].read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "/reset/[redacted]" in log
    assert token not in log
    assert re.search(r'"GET /healthz HTTP/1\.[01]" 200', log)


def _raw_post(url: str, head: str, body: bytes) -> tuple[int, str]:
    """One HTTP/1.1 request written by hand (bodies no client library would send)."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(f"{head}Host: {parts.netloc}\r\nConnection: close\r\n\r\n".encode() + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.decode("utf-8", "replace")


def _csrf_and_cookie(url: str) -> tuple[str, str]:
    with urllib.request.urlopen(url + "/sign-in", timeout=5) as resp:
        cookie = resp.headers["Set-Cookie"].split(";", 1)[0]
        return csrf_from(resp.read().decode()), cookie


def test_a_malformed_chunked_body_is_a_400_not_a_500(portals):
    token, cookie = _csrf_and_cookie(portals.bc_url)
    status, page = _raw_post(
        portals.bc_url + "/sign-in",
        "POST /sign-in HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Transfer-Encoding: chunked\r\nCookie: {cookie}\r\n",
        b"zz\r\nabc\r\n0\r\n\r\n")
    assert status == 400
    assert text_of(page, "error-message") == (
        "The form could not be read. Go back, reload the page and try again.")
    assert "Traceback" not in page
    # The worker is still serving.
    with urllib.request.urlopen(portals.bc_url + "/healthz", timeout=5) as resp:
        assert resp.status == 200


def test_a_well_formed_chunked_form_is_read(portals):
    token, cookie = _csrf_and_cookie(portals.bc_url)
    form = urllib.parse.urlencode({"csrf_token": token, "login": "nobody@nowhere.test",
                                   "password": "Whatever-2026!"}).encode()
    status, page = _raw_post(
        portals.bc_url + "/sign-in",
        "POST /sign-in HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Transfer-Encoding: chunked\r\nCookie: {cookie}\r\n",
        f"{len(form):x}\r\n".encode() + form + b"\r\n0\r\n\r\n")
    assert status == 200 and text_of(page, "form-error") == "Invalid user ID/password"


def test_a_file_part_is_a_400_under_gunicorn(portals):
    token, cookie = _csrf_and_cookie(portals.ebp_url)
    body = (f'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
            '--b\r\nContent-Disposition: form-data; name="login"; filename="a.txt"\r\n'
            'Content-Type: text/plain\r\n\r\nglobex-billing\r\n'
            '--b\r\nContent-Disposition: form-data; name="password"\r\n\r\nx\r\n--b--\r\n').encode()
    status, page = _raw_post(
        portals.ebp_url + "/sign-in",
        "POST /sign-in HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
        f"Content-Length: {len(body)}\r\nCookie: {cookie}\r\n", body)
    assert status == 400 and text_of(page, "error-message") == "This form does not accept files."
