"""Page measurements with wrk (https://github.com/wg/wrk), a load generator in C in a process of
its own: a Python client's threads cap out near 2,500 requests/s on this machine, below what
gunicorn serves, so they measured themselves rather than the pages.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "report.lua"
INSTALL_HINT = ("wrk is not installed, so the page lines are skipped: `apt-get install -y wrk` "
                "(Debian/Ubuntu, as root), `brew install wrk` (macOS), or build it from https://github.com/wg/wrk")


def ensure_wrk() -> str | None:
    """The path of wrk, installing the Debian package when we are root and apt-get is there;
    None (after saying how to get it) when it cannot be had."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing; installing the Debian package (apt-get install -y wrk)...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for argv in (["apt-get", "install", "-y", "-q", "wrk"], ["apt-get", "update", "-q"],
                     ["apt-get", "install", "-y", "-q", "wrk"]):
            try:
                subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
            except (OSError, subprocess.TimeoutExpired):
                break
            if shutil.which("wrk"):
                return shutil.which("wrk")
    print(INSTALL_HINT, flush=True)
    return None


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    non2xx: int
    socket_errors: int
    requests: int


def run(wrk: str, url: str, *, seconds: float, connections: int = 8, cookie: str | None = None) -> Result:
    """One wrk run: `connections` kept-alive connections from one wrk thread, for `seconds`."""
    argv = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "5s",
            "-s", str(SCRIPT)]
    if cookie:
        argv += ["-H", f"Cookie: {cookie}"]
    done = subprocess.run([*argv, url], capture_output=True, text=True, timeout=seconds + 60, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return Result(
        rps=figures["requests"] / figures["seconds"],
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        non2xx=figures["non2xx"],
        socket_errors=figures["socket_errors"],
        requests=figures["requests"],
    )
