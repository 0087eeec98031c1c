"""A real SMTP server for the tests (aiosmtpd) that can be down, refuse, or hang, and come back
on the same port."""
from __future__ import annotations

import asyncio
import socket
import ssl
import threading
from collections import Counter
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    """`start()` / `stop()` as often as needed, always on `port`; `received` keeps every message
    that was accepted, in order. `refuse(n)` answers the next n messages with a temporary
    failure (451) and keeps them in `refused`; `hang_at(k)` holds the k-th message's DATA
    (counting from 1 over the server's life) without an answer until `release()`."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        """With `tls`, the server offers STARTTLS and refuses mail sent without it."""
        self.tls = tls
        self.port = free_port()
        self.received: list[EmailMessage] = []
        self.refused: list[EmailMessage] = []
        self._lock = threading.Lock()
        self._refusals = 0
        self._data_seen = 0
        self._hang_at: int | None = None
        self.hanging = threading.Event()  # set while a message is held
        self._released = threading.Event()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpServer:
        tls: dict[str, Any] = {"tls_context": self.tls, "require_starttls": True} if self.tls else {}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **tls)
        self._controller.start()
        return self

    def stop(self) -> None:
        self.release()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def refuse(self, count: int) -> None:
        self._refusals = count

    def hang_at(self, k: int) -> None:
        self._hang_at = k

    def release(self) -> None:
        self._released.set()

    def message_ids(self) -> Counter[str]:
        with self._lock:
            return Counter(str(m["Message-ID"]) for m in self.received)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        message = BytesParser(policy=policy.default).parsebytes(envelope.content)
        with self._lock:
            self._data_seen += 1
            seen = self._data_seen
            if self._refusals:
                self._refusals -= 1
                self.refused.append(message)  # type: ignore[arg-type]
                return "451 4.3.0 Try again later"
        if seen == self._hang_at:
            self.hanging.set()
            while not self._released.is_set():
                await asyncio.sleep(0.01)
        with self._lock:
            self.received.append(message)  # type: ignore[arg-type]
        return "250 OK"
