"""The processes themselves: forged Host headers (S8), a backend that stops answering (S15),
SIGTERM with calls in flight (S23)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from http.cookiejar import CookieJar

import grpc
import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.config import ROOT
from billing_common.embedded_redis import EmbeddedRedis
from billing_common.grpc_client import make_channel
from billing_common.service_auth import BILLING_CENTER_WEB
from services.devstack import caller_secrets
from tests import callers
from tests.e2e.test_portals_in_a_browser import body, mail_to
from tests.pages import text_of
from tests.stack import free_port


class Browserless:
    """A cookie-keeping HTTP client that reads the CSRF token from each form it fetches."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=15) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()

    def post_form(self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None) -> tuple[int, str]:
        _, page = self.get(path)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({**fields, "csrf_token": token}).encode()
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=15) as reply:
                return reply.status, reply.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode()


def test_a_forged_host_header_never_reaches_the_mailed_reset_link(stack):
    started = time.time()
    client = Browserless(stack.billing_center)
    status, _ = client.post_form(
        "/reset", {"login": "olivia@acme.test"},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert status == 200
    text = body(mail_to(stack, "olivia@acme.test", started))
    assert "evil.example" not in text
    assert re.search(rf"^{re.escape(stack.billing_center)}/reset/\S+$", text, re.M)


@contextmanager
def frozen(stack, module: str):  # type: ignore[no-untyped-def]
    """SIGSTOP one child of the stack: it stops answering without exiting (the supervisor
    would end the whole stack on an exit)."""
    children = psutil.Process(stack.process.pid).children()
    (child,) = [c for c in children if c.cmdline()[-2:] == ["-m", module]]
    child.send_signal(signal.SIGSTOP)
    try:
        yield
    finally:
        child.send_signal(signal.SIGCONT)


@pytest.mark.parametrize("module", ["services.identity", "services.online_billing"])
def test_a_service_that_stops_answering_gives_a_clear_503_and_no_data(stack, module):
    client = Browserless(stack.billing_center)
    status, page = client.post_form("/sign-in", {"login": "olivia@acme.test", "password": "Online-demo-2026!"})
    assert status == 200 and text_of(page, "account-name") == "Acme Online"
    with frozen(stack, module):
        status, page = client.get("/")
    assert status == 503
    assert text_of(page, "error-message") == (
        "The service is temporarily unavailable, try again in a few minutes.")
    assert "Acme Online" not in page and "Traceback" not in page
    status, page = client.get("/")
    assert status == 200 and text_of(page, "account-name") == "Acme Online"


def test_sigterm_lets_the_calls_in_flight_finish_then_exits_cleanly(tmp_path):
    redis = EmbeddedRedis(tmp_path / "redis").start()
    port = free_port()
    env = {**os.environ, "IDENTITY_DATABASE_URL": f"sqlite:///{tmp_path}/identity.db", "REDIS_URL": redis.url,
           "IDENTITY_GRPC_BIND": f"127.0.0.1:{port}", "BILLING_ENV": "test", "MAILDIR": str(tmp_path / "mail"),
           **callers.ENV}
    subprocess.run([sys.executable, "-m", "services.identity", "migrate"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    server = subprocess.Popen([sys.executable, "-m", "services.identity"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with callers.channel_as_each_caller(f"127.0.0.1:{port}", default_timeout=30) as channel:
            grpc.channel_ready_future(channel).result(timeout=30)
            stub = identity_pb2_grpc.IdentityServiceStub(channel)
            stub.CreateUser(pb.CreateUserRequest(login="slow.user", email="slow@example.test", name="Slow",
                                                 locale="en", password="Correct-horse-2026!", staff=True), timeout=30)
            request = pb.AuthenticateRequest(login="slow.user", password="Correct-horse-2026!",
                                             portal=pb.PORTAL_ENTERPRISE, client_address="127.0.0.1")
            # Each sign-in verifies an argon2id hash (tens of ms), so eight of them queue up
            # on two cores and are still in flight when SIGTERM arrives.
            futures = [stub.Authenticate.future(request, timeout=30) for _ in range(8)]
            # Once one has answered, the server has taken all eight (one connection, sent in
            # order) and, hashing two at a time, most are still running or queued.
            answered = threading.Event()
            for future in futures:
                future.add_done_callback(lambda _f: answered.set())
            assert answered.wait(30), "no sign-in answered"
            in_flight = sum(not f.done() for f in futures)
            server.send_signal(signal.SIGTERM)
            assert in_flight, "every call finished before SIGTERM: the test proved nothing"

            replies = [f.result() for f in futures]
        assert all(r.session.token for r in replies)
        assert server.wait(30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
        redis.stop()


def test_make_run_checks_callers_with_secrets_of_its_own_kept_from_other_users(stack):
    """`make run` is no exception: identity refuses a caller without its secret, a portal's
    secret does not open provisioning, and the secrets file is readable by its owner only."""
    secrets_file = stack.var_dir / "caller-secrets.env"
    assert secrets_file.stat().st_mode & 0o077 == 0
    request = pb.CreateUserRequest(login="mallory.rep", email="mallory@evil.test", name="Mallory", locale="en",
                                   password="Chosen-by-me-2026!", staff=True)
    with grpc.insecure_channel(stack.identity_target) as channel:
        with pytest.raises(grpc.RpcError) as error:
            identity_pb2_grpc.IdentityServiceStub(channel).CreateUser(request, timeout=10)
        assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
        with pytest.raises(grpc.RpcError) as error:
            identity_pb2_grpc.IdentityServiceStub(channel).GetAccount(pb.GetAccountRequest(account_id="x"), timeout=10)
        assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with make_channel(stack.identity_target, credentials=stack.credentials(BILLING_CENTER_WEB)) as channel:
        with pytest.raises(grpc.RpcError) as error:
            identity_pb2_grpc.IdentityServiceStub(channel).CreateUser(request, timeout=10)
        assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # The demo data went in through the same gate, as an operator naming who ran `make run`.
    client = Browserless(stack.billing_center)
    status, page = client.post_form("/sign-in", {"login": "olivia@acme.test", "password": "Online-demo-2026!"})
    assert status == 200 and text_of(page, "account-name") == "Acme Online"
    for secret in caller_secrets.read(secrets_file).values():
        assert secret not in stack.log()


def test_make_run_prints_each_service_s_metrics_address_and_each_answers_with_its_outbox_up(stack):
    """The banner lists one Prometheus endpoint per service (billing_common.metrics); each
    answers a scrape with its own outbox's figures, read from its database."""
    printed = dict(re.findall(r"^ {4}(\w+) +(http://\S+/metrics)$", stack.log(), re.M))
    assert printed == {
        "identity": f"http://127.0.0.1:{stack.ports['identity_metrics']}/metrics",
        "online_billing": f"http://127.0.0.1:{stack.ports['online_metrics']}/metrics",
        "enterprise_portal": f"http://127.0.0.1:{stack.ports['enterprise_metrics']}/metrics",
    }
    for service, url in printed.items():
        with urllib.request.urlopen(url, timeout=15) as reply:
            assert reply.status == 200
            families = {f.name: f for f in text_string_to_metric_families(reply.read().decode())}
        [up] = families["billing_outbox_up"].samples
        assert (up.labels, up.value) == ({"service": service}, 1)
        [waiting] = families["billing_outbox_waiting"].samples
        assert waiting.labels == {"service": service} and waiting.value >= 0
