"""Starts the whole system exactly as `make run` does (services.devstack.run), on free ports
and in a private var folder, for the end-to-end tests and the benchmarks. Like `make run`, it
makes its own service-to-service secrets there; `credentials(caller)` is what a test calling
a service directly sends."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from billing_common.config import ROOT
from billing_common.service_auth import CallerCredentials, secret_variable
from services.devstack import caller_secrets

READY_LINE = "The billing system is running"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Stack:
    var_dir: Path
    database_url: Callable[[str], str] | None = None
    redis_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.ports = {name: free_port() for name in ("identity", "online", "enterprise", "bc", "ebp",
                                                     "identity_metrics", "online_metrics", "enterprise_metrics")}

    @property
    def billing_center(self) -> str:
        return f"http://127.0.0.1:{self.ports['bc']}"

    @property
    def enterprise(self) -> str:
        return f"http://127.0.0.1:{self.ports['ebp']}"

    @property
    def identity_target(self) -> str:
        return f"127.0.0.1:{self.ports['identity']}"

    def credentials(self, caller: str) -> CallerCredentials:
        """`caller`'s credentials in this stack (made by its first start, or now)."""
        made = caller_secrets.load_or_create(self.var_dir)
        return CallerCredentials(caller, made[secret_variable(caller)], acting_person="tests")

    @property
    def maildir(self) -> Path:
        return self.var_dir / "mail"

    def env(self) -> dict[str, str]:
        # The stack makes its own caller secrets, as `make run` does: none from this environment.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_", "PYTEST", "CALLER_SECRET_"))}
        env.update(
            BILLING_VAR_DIR=str(self.var_dir),
            BILLING_ENV="dev",
            IDENTITY_GRPC_BIND=self.identity_target,
            ONLINE_BILLING_GRPC_BIND=f"127.0.0.1:{self.ports['online']}",
            ENTERPRISE_PORTAL_GRPC_BIND=f"127.0.0.1:{self.ports['enterprise']}",
            BILLING_CENTER_BIND=f"127.0.0.1:{self.ports['bc']}",
            ENTERPRISE_PORTAL_BIND=f"127.0.0.1:{self.ports['ebp']}",
            IDENTITY_METRICS_BIND=f"127.0.0.1:{self.ports['identity_metrics']}",
            ONLINE_BILLING_METRICS_BIND=f"127.0.0.1:{self.ports['online_metrics']}",
            ENTERPRISE_PORTAL_METRICS_BIND=f"127.0.0.1:{self.ports['enterprise_metrics']}",
        )
        env.pop("REDIS_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
            env["IDENTITY_REDIS_PREFIX"] = f"e2e-{uuid.uuid4().hex[:8]}:"
        if self.database_url:
            for service in ("identity", "online_billing", "enterprise_portal"):
                env[f"{service.upper()}_DATABASE_URL"] = self.database_url(service)
        env.update(self.extra_env)
        return env

    @property
    def log_path(self) -> Path:
        return self.var_dir / "stack.log"

    def start(self, timeout: float = 120) -> Stack:
        # The merged log goes to a file, not a pipe: a thread reading it line by line would
        # share the GIL with the calls a benchmark times.
        self.var_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.devstack.run"], cwd=ROOT, env=self.env(),
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while READY_LINE not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the stack did not start:\n" + "\n".join(self.log().splitlines()[-60:]))
            time.sleep(0.2)
        return self

    def stop(self) -> int | None:
        if not self.process:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text("utf-8", "replace") if self.log_path.exists() else ""
