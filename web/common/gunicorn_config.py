"""What both portals' gunicorn.conf.py share: worker model, recycling, logs to stdout (S25).

The reset link's token is part of a URL path (/reset/<token>); the access logger below
writes it as [redacted] so a log reader cannot use someone's link.
"""
from __future__ import annotations

import os
import re
from typing import Any

from gunicorn.glogging import Logger

from billing_common.config import settings_or_exit
from web.common.settings import PortalSettings

_RESET_PATH = re.compile(r"(/reset/)[^/?\s\"]+")
_URL_ATOMS = ("r", "U", "f", "{raw_uri}e", "{path_info}e", "{referer}i")


def redact_url(text: str) -> str:
    return _RESET_PATH.sub(r"\1[redacted]", text)


class RedactingLogger(Logger):
    """gunicorn's logger, with reset tokens taken out of every URL it logs."""

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        for key in _URL_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_url(atoms[key])
        # Cookies and tickets never reach the log, whatever format someone configures.
        for key in list(atoms):
            if key in ("{cookie}i", "{set-cookie}o", "{http_cookie}e"):
                atoms[key] = "[redacted]"
        return atoms


def worker_exit(server: Any, worker: Any) -> None:
    """gunicorn hook: the exiting worker closes the gRPC channels it opened.

    gunicorn runs it in the worker after its last request; it may also run it in the master
    for a worker that is already gone, where there is no app (and no channel of its own).
    """
    runtime = getattr(getattr(worker, "wsgi", None), "extensions", {}).get("portal")
    if runtime is not None:
        runtime.close()


def gunicorn_settings(bind_env: str, default_bind: str, *, process: str = "web") -> dict[str, Any]:
    """Values for a gunicorn.conf.py: `globals().update(gunicorn_settings(...))`.

    The portal's settings are checked here, in gunicorn's master, so an environment that cannot
    run the portal (say prod with the dev key) stops gunicorn with one line naming the variable,
    instead of every worker failing to boot with a traceback that quotes the settings."""
    settings_or_exit(process, PortalSettings)
    max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "50000"))
    return {
        "bind": [os.environ.get(bind_env, default_bind)],
        # gthread: a few processes, each with threads; gRPC channels are opened per process
        # on first use, after the fork (never with preload_app).
        "worker_class": "gthread",
        "workers": int(os.environ.get("WEB_WORKERS") or max(2, os.cpu_count() or 1)),
        "threads": int(os.environ.get("WEB_THREADS", "4")),
        "preload_app": False,
        # Recycle workers now and then so slow leaks cannot grow without bound; jitter keeps
        # them from restarting all at once. A new worker imports and builds the app again
        # (about 0.5 s of CPU, during which it serves nothing): after every 1,000 requests that
        # cost a quarter of a page view's CPU and most of the p99 (`make bench`, py-spy).
        "max_requests": max_requests,
        "max_requests_jitter": max_requests // 10,
        # Both portals run on one machine in dev; a shared default control socket would make
        # the second one take over the first one's. Operators use signals instead.
        "control_socket_disable": True,
        "timeout": 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": os.environ.get("LOG_LEVEL", "info").lower(),
        "logger_class": RedactingLogger,
        # The request id is the page view's (web.common.security): its gRPC calls log the same.
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s',
        "worker_exit": worker_exit,
    }
