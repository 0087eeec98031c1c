"""`make bench`: figures measured in one run on this machine, each against its own baseline.

1. Login throughput (identity.Authenticate over gRPC) against raw argon2id verification with the
   same parameters in this process: the overhead should stay under 10%. Measured one in flight
   (with the floor any gRPC call sets in those conditions) and with two callers per core.
2. Session validation latency (identity.ValidateSession over gRPC), p50/p99 at 1 and 8 in flight,
   against the same server's bare health Check, the two calls alternating; and at 1 in flight
   while another process keeps a flood of sign-ins in flight (identity runs one argon2id per
   core at most, so the checks keep a share of the CPU).
3. The signed-in Billing Center landing page through the whole chain (gunicorn → Flask →
   identity → online_billing) in requests per second, against a bare Flask hello-world served by
   gunicorn with the same settings, as a ratio.

The machine is shared and noisy: read the ratios, not the absolute numbers.
"""
from __future__ import annotations

import http.client
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import grpc
from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from billing_common.config import ROOT
from services.identity.adapters.hashing import Argon2Hasher
from services.identity.bootstrap import password_hasher
from services.identity.config import IdentitySettings
from tests.stack import Stack, free_port

LOGIN, PASSWORD = "olivia@acme.test", "Online-demo-2026!"
CHECK = health_pb2.HealthCheckRequest(service="billing.identity.v1.IdentityService")


def login_throughput(
    stub: identity_pb2_grpc.IdentityServiceStub, health: health_pb2_grpc.HealthStub, hasher: Argon2Hasher,
    stored: str, n: int,
) -> tuple[float, float, float]:
    """Logins per second: raw argon2id verification, identity.Authenticate over gRPC, and the
    floor: a bare health Check of the same server right after a raw verification, in ms.

    The floor is what any gRPC call costs in a login's conditions: argon2id's 19 MiB of memory
    traffic leaves the CPU caches cold, so the round trip after it costs about twice a warm one.
    """
    for _ in range(3):  # warm-up
        hasher.verify(stored, PASSWORD)
        stub.Authenticate(_auth(), timeout=10)
    # Interleaved, one of each in turn, so the machine's drift (other processes, CPU
    # frequency) weighs on both sides alike instead of on whichever phase ran second.
    raw_seconds = chain_seconds = floor_seconds = 0.0
    for _ in range(n):
        t0 = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        t1 = time.perf_counter()
        stub.Authenticate(_auth(), timeout=10)
        t2 = time.perf_counter()
        hasher.verify(stored, PASSWORD)
        t3 = time.perf_counter()
        health.Check(CHECK, timeout=5)
        floor_seconds += time.perf_counter() - t3
        raw_seconds += t1 - t0
        chain_seconds += t2 - t1
    return n / raw_seconds, n / chain_seconds, floor_seconds / n * 1000


def throughput(call: Callable[[], object], in_flight: int, n: int) -> float:
    """Calls per second with `in_flight` callers at once."""
    def worker(count: int) -> None:
        for _ in range(count):
            call()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(worker, [n // in_flight] * in_flight))
    return n // in_flight * in_flight / (time.perf_counter() - t0)


def _auth() -> pb.AuthenticateRequest:
    return pb.AuthenticateRequest(login=LOGIN, password=PASSWORD, portal=pb.PORTAL_BILLING_CENTER,
                                  client_address="127.0.0.1")


def latency(
    call: Callable[[], object], baseline: Callable[[], object], in_flight: int, n: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """p50 and p99 in milliseconds of `call` and of `baseline`, with `in_flight` callers at
    once. Each caller alternates the two, so both meet the same moments of a noisy machine."""
    for _ in range(50):
        call()
        baseline()

    def worker(count: int) -> tuple[list[float], list[float]]:
        ours, base = [], []
        for _ in range(count):
            t0 = time.perf_counter()
            call()
            t1 = time.perf_counter()
            baseline()
            base.append(time.perf_counter() - t1)
            ours.append(t1 - t0)
        return ours, base

    with ThreadPoolExecutor(in_flight) as pool:
        parts = list(pool.map(worker, [n // in_flight] * in_flight))
    return _p50_p99([s for ours, _ in parts for s in ours]), _p50_p99([s for _, base in parts for s in base])


def _sign_in_loop(target: str, callers: int, stop: Any, signed_in: Any, shed: Any) -> None:
    """Sign-ins, `callers` at a time, until `stop` is set (run in a process of its own);
    counts those that succeeded and those identity shed as UNAVAILABLE."""
    with grpc.insecure_channel(target) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)

        def loop() -> None:
            while not stop.is_set():
                try:
                    stub.Authenticate(_auth(), timeout=30)
                    with signed_in.get_lock():
                        signed_in.value += 1
                except grpc.RpcError as exc:
                    if exc.code() != grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
                        raise
                    with shed.get_lock():
                        shed.value += 1
                    time.sleep(0.1)  # come back, as a person would

        threads = [threading.Thread(target=loop) for _ in range(callers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def latency_during_sign_ins(
    call: Callable[[], object], target: str, callers: int, n: int
) -> tuple[tuple[float, float], float, float]:
    """p50 and p99 in milliseconds of `call`, one in flight, while another process keeps
    `callers` sign-ins in flight (its own process, so its threads do not share our GIL); and
    the sign-ins per second that succeeded and that identity shed meanwhile."""
    spawn = multiprocessing.get_context("spawn")  # no fork: grpc is already running here
    stop, signed_in, shed = spawn.Event(), spawn.Value("i", 0), spawn.Value("i", 0)
    flood = spawn.Process(target=_sign_in_loop, args=(target, callers, stop, signed_in, shed))
    flood.start()
    try:
        time.sleep(2)  # the process started and every caller under way
        done_before, shed_before, t_start = signed_in.value, shed.value, time.perf_counter()
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            call()
            samples.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - t_start
        rates = (signed_in.value - done_before) / elapsed, (shed.value - shed_before) / elapsed
    finally:
        stop.set()
        flood.join(60)
    return _p50_p99(samples), *rates


def _p50_p99(samples: list[float]) -> tuple[float, float]:
    q = statistics.quantiles(samples, n=100)
    return q[49] * 1000, q[98] * 1000


def http_rps(base: str, path: str, cookie: str | None, seconds: float, in_flight: int) -> float:
    url = urlparse(base)
    stop = time.monotonic() + seconds
    counts = [0] * in_flight
    errors: list[str] = []

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        headers = {"Cookie": cookie} if cookie else {}
        try:
            while time.monotonic() < stop:
                conn.request("GET", path, headers=headers)
                reply = conn.getresponse()
                reply.read()
                if reply.status != 200:
                    errors.append(f"status {reply.status}")
                    return
                counts[i] += 1
        except OSError as exc:
            errors.append(repr(exc))
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(in_flight)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise OSError(f"{base}{path}: {errors[0]}")
    return sum(counts) / (time.perf_counter() - t0)


def hello_server(conf: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "BILLING_CENTER_BIND": f"127.0.0.1:{port}", "ENTERPRISE_PORTAL_BIND": f"127.0.0.1:{port}"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", conf, "tests.bench.hello:app"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if http_rps(base, "/", None, 0.05, 1) > 0:
                return proc, base
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("hello-world did not start")


def main() -> None:
    n_login = int(os.environ.get("BENCH_LOGINS", "40"))
    seconds = float(os.environ.get("BENCH_SECONDS", "8"))
    cores = os.cpu_count() or 2
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp)).start()
        try:
            with grpc.insecure_channel(stack.identity_target) as channel:
                stub = identity_pb2_grpc.IdentityServiceStub(channel)
                health = health_pb2_grpc.HealthStub(channel)
                # The identity service's own hasher and parameters, so "the same parameters"
                # cannot drift.
                hasher = password_hasher(IdentitySettings())
                stored = hasher.hash(PASSWORD)
                raw, chain, floor_ms = login_throughput(stub, health, hasher, stored, n_login)
                # Under load: two callers per core keep every core busy on both sides. Both
                # hashers are the service's own, so both run at most one argon2id per core.
                raw_loaded = throughput(lambda: hasher.verify(stored, PASSWORD), 2 * cores, n_login * 2)
                chain_loaded = throughput(lambda: stub.Authenticate(_auth(), timeout=10), 2 * cores, n_login * 2)
                token = stub.Authenticate(_auth(), timeout=10).session.token
                validate = pb.ValidateSessionRequest(token=token, portal=pb.PORTAL_BILLING_CENTER)
                lat1, base1 = latency(lambda: stub.ValidateSession(validate, timeout=5),
                                      lambda: health.Check(CHECK, timeout=5), 1, 3000)
                lat8, base8 = latency(lambda: stub.ValidateSession(validate, timeout=5),
                                      lambda: health.Check(CHECK, timeout=5), 8, 4000)
            cookie = f"bc_session={token}"
            conf = "web/billing_center/gunicorn.conf.py"
            hello, hello_base = hello_server(conf)
            try:
                rps_hello = http_rps(hello_base, "/", None, seconds, 8)
                rps_landing = http_rps(stack.billing_center, "/", cookie, seconds, 8)
            finally:
                hello.terminate()
                hello.wait()
            # Last, so the flood's after-effects (memory, threads) weigh on nothing else.
            with grpc.insecure_channel(stack.identity_target) as channel:
                stub = identity_pb2_grpc.IdentityServiceStub(channel)
                # Twice identity's 16 gRPC workers: more sign-ins than it has threads for.
                flood, flood_ok, flood_shed = latency_during_sign_ins(
                    lambda: stub.ValidateSession(validate, timeout=10), stack.identity_target, 32, 400)
        finally:
            stack.stop()
    raw_ms = 1000 / raw
    print(f"login, 1 in flight: raw argon2id verify {raw:.1f}/s; identity.Authenticate over gRPC {chain:.1f}/s; "
          f"overhead {raw / chain - 1:+.1%} (target < 10%); floor: a bare health Check right after a verify "
          f"takes {floor_ms:.2f} ms, {floor_ms / raw_ms:.1%} of a verify")
    print(f"login, {2 * cores} in flight on {cores} cores: raw argon2id verify {raw_loaded:.1f}/s; "
          f"identity.Authenticate over gRPC {chain_loaded:.1f}/s; overhead {raw_loaded / chain_loaded - 1:+.1%}")
    for label, lat, base in (("1 in flight", lat1, base1), ("8 in flight", lat8, base8)):
        print(f"session validation over gRPC, {label}: p50 {lat[0]:.3f} ms p99 {lat[1]:.3f} ms; the same "
              f"server's bare health Check p50 {base[0]:.3f} ms p99 {base[1]:.3f} ms; ratio p50 "
              f"{lat[0] / base[0]:.2f} p99 {lat[1] / base[1]:.2f}" + (" (target p99 <= 1.5 ms)" if lat is lat1 else ""))
    print(f"session validation during a sign-in flood (32 in flight from another process; {flood_ok:.0f} "
          f"sign-ins/s done, {flood_shed:.0f}/s shed as busy): p50 {flood[0]:.3f} ms p99 {flood[1]:.3f} ms; quiet, "
          f"as above: p50 {lat1[0]:.3f} ms p99 {lat1[1]:.3f} ms; ratio p50 {flood[0] / lat1[0]:.2f} "
          f"p99 {flood[1] / lat1[1]:.2f}")
    print(f"landing page through the whole chain {rps_landing:.0f} req/s; bare Flask hello-world "
          f"{rps_hello:.0f} req/s; ratio {rps_landing / rps_hello:.2f} (8 in flight, same gunicorn settings)")


if __name__ == "__main__":
    main()
