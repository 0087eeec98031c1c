"""Mail transports: an SMTP relay, or a local Maildir (the embedded default)."""
from __future__ import annotations

import mailbox
import smtplib
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse


class MailTransport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class MaildirTransport:
    """Writes each message as a file under `path` (new/), readable with `make mail`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def send(self, message: EmailMessage) -> None:
        # Maildir(create=True) makes new/ cur/ tmp/ only when the folder itself is missing.
        for sub in ("tmp", "new", "cur"):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(self.path, create=False).add(message)


class SmtpTransport:
    """smtp://[user:pass@]host[:port] (STARTTLS when the server offers it), smtps:// for TLS.

    `connect_timeout` bounds reaching the server and its greeting, `timeout` each later step of
    the conversation (each command and its reply): a relay that hangs costs the dispatcher at
    most a few seconds per step, never its thread (the dispatcher holds no transaction then).
    """

    def __init__(self, url: str, connect_timeout: float = 5.0, timeout: float = 10.0) -> None:
        self.url = urlparse(url)
        self.connect_timeout = connect_timeout
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        u = self.url
        cls = smtplib.SMTP_SSL if u.scheme == "smtps" else smtplib.SMTP
        port = u.port or (465 if u.scheme == "smtps" else 25)
        # Connecting (and reading the greeting) happens here, under the connect timeout.
        with cls(u.hostname or "localhost", port, timeout=self.connect_timeout) as smtp:
            smtp.timeout = self.timeout
            if smtp.sock is not None:
                smtp.sock.settimeout(self.timeout)
            # The extensions are known only after EHLO: without it STARTTLS was never offered.
            smtp.ehlo_or_helo_if_needed()
            if u.scheme == "smtp" and smtp.has_extn("starttls"):
                smtp.starttls()
            if u.username:
                smtp.login(unquote(u.username), unquote(u.password or ""))
            smtp.send_message(message)


def transport_from_settings(
    smtp_url: str | None, maildir: Path, *, connect_timeout: float = 5.0, timeout: float = 10.0
) -> MailTransport:
    if smtp_url:
        return SmtpTransport(smtp_url, connect_timeout=connect_timeout, timeout=timeout)
    return MaildirTransport(maildir)


def read_maildir(path: Path, newest: int = 5) -> list[EmailMessage]:
    """The newest messages first (for `make mail` and the tests)."""
    if not Path(path).exists():
        return []
    from email import policy
    from email.parser import BytesParser

    files = []
    for sub in ("new", "cur"):
        d = Path(path) / sub
        if d.exists():
            files += list(d.iterdir())
    files.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    return [BytesParser(policy=policy.default).parsebytes(f.read_bytes()) for f in files[:newest]]  # type: ignore[misc]
