"""`make run`: migrate (services.migrate), start the five processes with one merged log, load
the demo data. A developer's tool: nothing in production runs this package.

Everything runs on the embedded defaults unless the environment says otherwise: SQLite files
and a Maildir under var/ (BILLING_VAR_DIR moves it), and a private real Redis when REDIS_URL is
unset. Ctrl-C (or SIGTERM) stops the web processes first, then the gRPC services, then Redis.
A process that dies (the embedded Redis included) is started again, at most `MAX_RESTARTS`
times in `RESTART_WINDOW` seconds; one that keeps dying stops everything, saying which and why.
The service-to-service secrets are made at the first start (var/caller-secrets.env) and every
process gets them: the services check their callers as in production.
"""
from __future__ import annotations

import argparse
import getpass
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from billing.enterprise_portal.v1 import enterprise_portal_pb2
from billing.identity.v1 import identity_pb2
from billing.online_billing.v1 import online_billing_pb2
from billing_common.config import ROOT, VAR
from billing_common.embedded_redis import EmbeddedRedis
from billing_common.grpc_client import check_health, make_channel
from billing_common.service_auth import OPERATOR, CallerCredentials, secret_variable
from services.devstack import caller_secrets
from services.migrate import migrate_all

IDENTITY_SERVICE = identity_pb2.DESCRIPTOR.services_by_name["IdentityService"].full_name
ONLINE_BILLING_SERVICE = online_billing_pb2.DESCRIPTOR.services_by_name["OnlineBillingService"].full_name
ENTERPRISE_PORTAL_SERVICE = (
    enterprise_portal_pb2.DESCRIPTOR.services_by_name["EnterprisePortalService"].full_name)

DEFAULT_BINDS = {
    "IDENTITY_GRPC_BIND": "127.0.0.1:50051",
    "ONLINE_BILLING_GRPC_BIND": "127.0.0.1:50052",
    "ENTERPRISE_PORTAL_GRPC_BIND": "127.0.0.1:50053",
    "BILLING_CENTER_BIND": "127.0.0.1:8080",
    "ENTERPRISE_PORTAL_BIND": "127.0.0.1:8081",
    # Each service's Prometheus endpoint (billing_common.metrics); the banner lists them.
    "IDENTITY_METRICS_BIND": "127.0.0.1:9151",
    "ONLINE_BILLING_METRICS_BIND": "127.0.0.1:9152",
    "ENTERPRISE_PORTAL_METRICS_BIND": "127.0.0.1:9153",
}
METRICS_BINDS = {"identity": "IDENTITY_METRICS_BIND", "online_billing": "ONLINE_BILLING_METRICS_BIND",
                 "enterprise_portal": "ENTERPRISE_PORTAL_METRICS_BIND"}


# A process may die and be started again this many times in this many seconds; once more and
# `make run` stops, saying so, rather than restart a process that cannot stay up.
MAX_RESTARTS, RESTART_WINDOW = 5, 60.0


@dataclass(frozen=True)
class Proc:
    name: str
    argv: list[str]
    # How to tell it is up: ("grpc", target, service name) or ("http", base URL).
    probe: tuple[str, ...]


def stack_env(environ: dict[str, str]) -> dict[str, str]:
    """The environment every child gets: binds, the targets derived from them, public URLs."""
    env = {**DEFAULT_BINDS, **environ}
    env.setdefault("BILLING_ENV", "dev")
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("IDENTITY_TARGET", env["IDENTITY_GRPC_BIND"])
    env.setdefault("ONLINE_BILLING_TARGET", env["ONLINE_BILLING_GRPC_BIND"])
    env.setdefault("ENTERPRISE_PORTAL_TARGET", env["ENTERPRISE_PORTAL_GRPC_BIND"])
    env.setdefault("BILLING_CENTER_URL", f"http://{env['BILLING_CENTER_BIND']}")
    env.setdefault("ENTERPRISE_PORTAL_URL", f"http://{env['ENTERPRISE_PORTAL_BIND']}")
    return env


def processes(env: dict[str, str]) -> list[Proc]:
    py = sys.executable
    gunicorn = [py, "-m", "gunicorn"]
    return [
        Proc("identity", [py, "-m", "services.identity"],
             ("grpc", env["IDENTITY_TARGET"], IDENTITY_SERVICE)),
        Proc("online_billing", [py, "-m", "services.online_billing"],
             ("grpc", env["ONLINE_BILLING_TARGET"], ONLINE_BILLING_SERVICE)),
        Proc("enterprise_portal", [py, "-m", "services.enterprise_portal"],
             ("grpc", env["ENTERPRISE_PORTAL_TARGET"], ENTERPRISE_PORTAL_SERVICE)),
        Proc("billing_center_web",
             [*gunicorn, "-c", "web/billing_center/gunicorn.conf.py", "web.billing_center.wsgi:app"],
             ("http", env["BILLING_CENTER_URL"])),
        Proc("enterprise_web",
             [*gunicorn, "-c", "web/enterprise_portal/gunicorn.conf.py",
              "web.enterprise_portal.wsgi:app"],
             ("http", env["ENTERPRISE_PORTAL_URL"])),
    ]


def databases_empty() -> list[bool]:
    """Whether identity's, online_billing's and enterprise_portal's databases are empty."""
    from services.enterprise_portal import bootstrap as enterprise
    from services.enterprise_portal.config import EnterprisePortalSettings
    from services.identity import bootstrap as identity
    from services.identity.config import IdentitySettings
    from services.online_billing import bootstrap as online
    from services.online_billing.config import OnlineBillingSettings

    return [
        identity.database_is_empty(IdentitySettings()),
        online.database_is_empty(OnlineBillingSettings()),
        enterprise.database_is_empty(EnterprisePortalSettings()),
    ]


def operator_credentials(env: dict[str, str]) -> CallerCredentials:
    """The demo loader calls identity's provisioning as an operator command would, naming the
    person who ran `make run` for the audit log."""
    try:
        person = getpass.getuser()
    except (KeyError, OSError):  # no user name (a container without a passwd entry)
        person = "make run"
    return CallerCredentials(OPERATOR, env[secret_variable(OPERATOR)], acting_person=person)


def load_demo(identity_target: str, credentials: CallerCredentials) -> None:
    from services.devstack import demo, demo_backends
    from services.enterprise_portal.config import EnterprisePortalSettings
    from services.online_billing.config import OnlineBillingSettings

    with make_channel(identity_target, credentials=credentials, default_timeout=30) as channel:
        ids = demo.load_identity(channel)
    demo_backends.seed_online_billing(OnlineBillingSettings(), ids)
    demo_backends.seed_enterprise_portal(EnterprisePortalSettings(), ids)


class Supervisor:
    def __init__(self, env: dict[str, str], out=sys.stdout, redis: EmbeddedRedis | None = None,  # type: ignore[no-untyped-def]
                 max_restarts: int = MAX_RESTARTS, window: float = RESTART_WINDOW) -> None:
        self.env = env
        self.out = out
        self.children: list[tuple[Proc, subprocess.Popen[bytes]]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.width = max(len(p.name) for p in processes(env))
        self.redis = redis
        self.max_restarts = max_restarts
        self.window = window
        self.restarts: dict[str, deque[float]] = {}

    def say(self, name: str, line: str) -> None:
        with self.lock:
            self.out.write(f"{name:<{self.width}} | {line}\n")
            self.out.flush()

    def start(self, proc: Proc) -> None:
        self.children.append((proc, self._spawn(proc)))

    def _spawn(self, proc: Proc) -> subprocess.Popen[bytes]:
        child = subprocess.Popen(proc.argv, cwd=ROOT, env=self.env, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        threading.Thread(target=self._pump, args=(proc.name, child), daemon=True).start()
        return child

    def _may_restart(self, name: str) -> bool:
        """Whether `name` may be started again: fewer than max_restarts in the last window."""
        now = time.monotonic()
        recent = self.restarts.setdefault(name, deque())
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) >= self.max_restarts:
            return False
        recent.append(now)
        return True

    def check(self) -> str | None:
        """Starts again whatever died (the embedded Redis first, since identity needs it).
        Returns why everything must stop instead, or None while all is well."""
        if self.redis is not None and self.redis.process is not None and self.redis.process.poll() is not None:
            status = self.redis.process.returncode
            if not self._may_restart("redis"):
                return (f"redis-server exited with status {status}, the {self.max_restarts + 1}th time in "
                        f"{self.window:.0f}s; stopping everything")
            self.say("devstack", f"redis-server exited with status {status}; starting it again "
                                 "(the sessions and limits it held are lost: sign in again)")
            try:
                self.redis.start()
            except RuntimeError as exc:
                return f"redis-server could not be started again ({exc}); stopping everything"
        for index, (proc, child) in enumerate(self.children):
            if child.poll() is None:
                continue
            if not self._may_restart(proc.name):
                return (f"{proc.name} exited with status {child.returncode}, the {self.max_restarts + 1}th time "
                        f"in {self.window:.0f}s; stopping everything")
            self.say("devstack", f"{proc.name} exited with status {child.returncode}; starting it again")
            self.children[index] = (proc, self._spawn(proc))
        return None

    def _pump(self, name: str, child: subprocess.Popen[bytes]) -> None:
        assert child.stdout is not None
        with child.stdout:  # closed at its end: a child started again gets a new pipe
            for raw in iter(child.stdout.readline, b""):
                self.say(name, raw.decode("utf-8", "replace").rstrip())

    def wait_ready(self, proc: Proc, child: subprocess.Popen[bytes], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.poll() is not None:
                raise SystemExit(f"{proc.name} exited with status {child.returncode} while starting")
            if probe(proc.probe):
                return
            time.sleep(0.2)
        raise SystemExit(f"{proc.name} did not become ready in {timeout:.0f}s")

    def stop(self) -> None:
        self.stopping.set()
        # Web first so no request arrives at a stopping backend, then the gRPC services.
        for group in (self.children[3:], self.children[:3]):
            for _, child in group:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for proc, child in group:
                try:
                    child.wait(20)
                except subprocess.TimeoutExpired:
                    self.say(proc.name, "did not stop in 20s; killing")
                    child.kill()



def probe(spec: tuple[str, ...]) -> bool:
    if spec[0] == "grpc":
        return check_health(spec[1], spec[2], timeout=1)
    try:
        with urllib.request.urlopen(f"{spec[1]}/healthz", timeout=1) as reply:
            return reply.status == 200
    except OSError:
        return False


def port_free(bind: str) -> bool:
    host, port = bind.rsplit(":", 1)
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, int(port)))
        except OSError:
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-demo", action="store_true", help="do not load the demo data")
    args = parser.parse_args(argv)

    env = stack_env(dict(os.environ))
    env = {**caller_secrets.load_or_create(VAR), **env}  # secrets set in the environment win
    os.environ.update(env)  # the settings objects built here read the same values as the children
    VAR.mkdir(parents=True, exist_ok=True)

    # Before migrating: a second `make run` must not touch the databases the first one serves.
    busy = [f"{name}={env[name]}" for name in DEFAULT_BINDS if env[name] and not port_free(env[name])]
    if busy:
        print(f"these addresses are in use (another `make run`?): {', '.join(busy)}", file=sys.stderr)
        return 1

    migrate_all()

    demo_wanted = False
    if env["BILLING_ENV"] == "dev" and not args.no_demo:
        empty = databases_empty()
        # The backends' rows name identity's account ids: seed all three or none.
        demo_wanted = all(empty)
        if any(empty) and not all(empty):
            print("some databases are empty and others are not, so no demo data is loaded: "
                  "`make clean` starts over", file=sys.stderr)
    redis = None
    if not env.get("REDIS_URL"):
        redis = EmbeddedRedis(VAR / "redis").start()
        env["REDIS_URL"] = redis.url
    sup = Supervisor(env, redis=redis)
    stop_requested = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop_requested.set())
    signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())
    status = 0
    try:
        for proc in processes(env):
            sup.start(proc)
        for proc, child in sup.children:
            sup.wait_ready(proc, child)
        if demo_wanted:
            load_demo(env["IDENTITY_TARGET"], operator_credentials(env))
            sup.say("devstack", "demo data loaded")
        print(banner(env, demo_wanted), flush=True)
        while not stop_requested.wait(0.5):
            why = sup.check()
            if why:
                sup.say("devstack", why)
                status = 1
                break
    except SystemExit as exc:
        sup.say("devstack", str(exc))
        status = 1
    finally:
        sup.stop()
        if redis:
            redis.stop()
        sup.say("devstack", "stopped")
    return status


def banner(env: dict[str, str], demo_loaded: bool) -> str:
    from services.devstack.demo import sign_ins_table

    lines = [
        "",
        "The billing system is running. Ctrl-C stops it.",
        f"  Billing Center:            {env['BILLING_CENTER_URL']}",
        f"  Enterprise Billing Portal: {env['ENTERPRISE_PORTAL_URL']}",
        f"  Mail goes to {Path(env.get('MAILDIR', VAR / 'mail'))}: `make mail` shows the newest messages."
        if not env.get("SMTP_URL") else f"  Mail goes to {env['SMTP_URL']}",
    ]
    metrics = [(name, env[variable]) for name, variable in METRICS_BINDS.items() if env.get(variable)]
    if metrics:
        lines.append("  Metrics (Prometheus):")
        lines += [f"    {name:<18} http://{bind}/metrics" for name, bind in metrics]
    if env["BILLING_ENV"] == "dev":
        lines += ["", "Demo sign-ins" + ("" if demo_loaded else " (loaded earlier)") + ":", sign_ins_table()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
