"""`make run`'s supervisor (services.devstack.run) when a process dies: started again, the
embedded Redis included, and stopped with a reason once one keeps dying. Real processes and a
real redis-server of the test's own."""
from __future__ import annotations

import io
import os
import signal
import sys

import redis

from billing_common.embedded_redis import EmbeddedRedis
from services.devstack.run import Proc, Supervisor, stack_env
from tests.faults import wait_until

SLEEPER = Proc("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], ("http", "http://127.0.0.1:1"))
CRASHER = Proc("crasher", [sys.executable, "-c", "raise SystemExit(3)"], ("http", "http://127.0.0.1:1"))


def _supervisor(**kwargs) -> tuple[Supervisor, io.StringIO]:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    return Supervisor(stack_env({}), out=out, **kwargs), out


def test_a_process_that_died_is_started_again_and_said_so():
    sup, out = _supervisor()
    try:
        sup.start(SLEEPER)
        first = sup.children[0][1]
        first.kill()
        first.wait(5)
        assert sup.check() is None
        again = sup.children[0][1]
        assert again.pid != first.pid and again.poll() is None
        assert "sleeper exited with status -9; starting it again" in out.getvalue()
    finally:
        sup.stop()


def test_a_process_that_keeps_dying_stops_everything_saying_which_and_why():
    sup, out = _supervisor(max_restarts=3, window=60)
    try:
        sup.start(SLEEPER)
        sup.start(CRASHER)
        why: list[str | None] = []

        def stopped() -> bool:
            sup.children[1][1].wait(5)
            why.append(sup.check())
            return why[-1] is not None

        assert wait_until(stopped, timeout=30)
        assert why[-1] == "crasher exited with status 3, the 4th time in 60s; stopping everything"
        assert out.getvalue().count("crasher exited with status 3; starting it again") == 3
    finally:
        sup.stop()
    assert all(child.poll() is not None for _, child in sup.children)  # the sleeper too


def test_the_embedded_redis_that_died_is_started_again_at_the_same_address(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis").start()
    sup, out = _supervisor(redis=server)
    try:
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(5)
        assert sup.check() is None
        assert redis.Redis.from_url(server.url).ping()
        assert "redis-server exited with status -9; starting it again" in out.getvalue()
    finally:
        sup.stop()
        server.stop()
