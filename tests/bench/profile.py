"""Where a signed-in page's time goes: `make profile` (needs wrk, and py-spy from
requirements-dev.txt; py-spy reads other processes' memory: root, or ptrace rights).

Starts the stack as `make bench` does, keeps wrk on a signed-in Billing Center page (the landing
page, or BENCH_PROFILE_PAGE: /subscription, /invoices with 24 invoices as `make bench` has), and has
py-spy sample, holding the GIL only (so Python's own work, not threads waiting), each gunicorn
worker, identity and online_billing for BENCH_PROFILE_SECONDS (10). Prints the CPU each process
spent per request and the web workers' Python time by part of the chain. Time outside the GIL
(gRPC's C core, sockets, argon2) shows only in the per-process CPU.
"""
from __future__ import annotations

import collections
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil

from billing.identity.v1 import identity_pb2_grpc
from billing_common.grpc_client import make_channel
from billing_common.service_auth import BILLING_CENTER_WEB
from tests.bench import wrk
from tests.bench.run import _auth, add_invoices, browser_visit
from tests.stack import Stack

# (part, substrings of a sampled stack); the first part that matches takes the sample.
PARTS = [
    ("identity call (ValidateSession)", ["validate_session ("]),
    ("backend call (GetSubscriptionSummary)", ["subscription_summary ("]),
    ("backend call (GetSubscription)", ["OnlineBilling.subscription ("]),
    ("backend call (ListInvoices)", ["OnlineBilling.invoices ("]),
    ("templates: translations (gettext, Babel)", ["gettext", "babel/", "flask_babel"]),
    ("templates: money and dates", ["format_money", "format_day"]),
    ("templates: url_for", ["url_for ("]),
    ("templates: CSRF token", ["generate_csrf"]),
    ("templates: Jinja render, the rest", ["render_template", "Template.render"]),
    ("Flask: session and CSRF check", ["flask_wtf", "open_session", "save_session", "itsdangerous"]),
    ("Flask: locale selection", ["select_locale"]),
    ("Flask: after_request headers", ["_headers (web/common"]),
    ("Flask: routing", ["match_request", "MapAdapter"]),
    ("Flask and Werkzeug, the rest", ["Flask.__call__"]),
    ("gunicorn: access log", ["glogging", "Logger.access"]),
    ("gunicorn: worker start", ["load_wsgi", "_find_and_load"]),
    ("gunicorn, the rest", [""]),
]


def split(samples: list[tuple[str, int]]) -> list[tuple[str, float]]:
    counts: collections.Counter[str] = collections.Counter()
    for stack, n in samples:
        counts[next(part for part, subs in PARTS if any(s in stack for s in subs))] += n
    total = sum(counts.values()) or 1
    return [(part, counts[part] / total) for part, _ in PARTS if counts[part]]


def _role(cmd: str, pid: int, devstack: int) -> str | None:
    """web (a Billing Center gunicorn worker, not its master), identity, online_billing or None."""
    if "billing_center/gunicorn" in cmd:
        return "web" if psutil.Process(pid).ppid() != devstack else None
    if cmd.endswith("services.identity"):
        return "identity"
    if cmd.endswith("services.online_billing"):
        return "online_billing"
    return None


def read_raw(path: Path) -> list[tuple[str, int]]:
    rows = []
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if n.isdigit():
            rows.append((stack, int(n)))
    return rows


def main() -> None:
    seconds = int(os.environ.get("BENCH_PROFILE_SECONDS", "10"))
    page = os.environ.get("BENCH_PROFILE_PAGE", "/")
    keep = os.environ.get("BENCH_PROFILE_KEEP")  # a directory to keep py-spy's raw samples in
    wrk_path, py_spy = wrk.ensure_wrk(), shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not wrk_path or not Path(py_spy).exists():
        sys.exit("needs wrk and py-spy (requirements-dev.txt)")
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp)).start()
        try:
            portal = stack.credentials(BILLING_CENTER_WEB)
            with make_channel(stack.identity_target, credentials=portal, default_timeout=10) as channel:
                signed = identity_pb2_grpc.IdentityServiceStub(channel).Authenticate(_auth(), timeout=10)
            token = signed.session.token
            if page.startswith("/invoices"):
                add_invoices(stack, signed.principal.account.account_id, 24)
            session = f"bc_session={token}"
            csrf, _ = browser_visit(stack.billing_center, session)
            cookie = f"{session}; {csrf}"
            wrk.run(wrk_path, stack.billing_center + page, seconds=2, cookie=cookie)  # warm-up
            tree = psutil.Process(stack.process.pid).children(recursive=True)  # type: ignore[union-attr]
            names = {p.pid: " ".join(p.cmdline()) for p in tree}
            roles = {pid: _role(cmd, pid, stack.process.pid) for pid, cmd in names.items()}  # type: ignore[union-attr]
            targets = {pid: role for pid, role in roles.items() if role}
            before = {p.pid: sum(p.cpu_times()[:2]) for p in tree}
            load = subprocess.Popen([wrk_path, "-t1", "-c8", f"-d{seconds + 2}s", "-s", str(wrk.SCRIPT),
                                     "-H", f"Cookie: {cookie}", stack.billing_center + page],
                                    stdout=subprocess.PIPE, text=True)
            spies = [(role, Path(tmp) / f"{pid}.txt", subprocess.Popen(
                [py_spy, "record", "-p", str(pid), "-d", str(seconds), "-r", "250", "-f", "raw", "--gil",
                 "--nonblocking", "-o", str(Path(tmp) / f"{pid}.txt")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)) for pid, role in targets.items()]
            for _, _, spy in spies:
                spy.wait(seconds + 30)
            if keep:
                for role, path, _ in spies:
                    if path.exists():
                        shutil.copy(path, Path(keep) / f"{role}-{path.name}")
            out, _ = load.communicate(timeout=seconds + 60)
            requests = int(out.strip().splitlines()[-1].split('"requests": ')[1].split(",")[0])
            cpu: collections.Counter[str] = collections.Counter()
            for p in tree:
                try:
                    cpu[roles.get(p.pid) or "other (devstack, redis, ...)"] += sum(p.cpu_times()[:2]) - before[p.pid]
                except psutil.NoSuchProcess:
                    pass
        finally:
            stack.stop()
        print(f"{page} under wrk, 8 connections: {requests} requests; CPU per request: " + ", ".join(
            f"{role} {t / requests * 1000:.2f} ms" for role, t in cpu.most_common()))
        web = [row for role, path, _ in spies if role == "web" and path.exists() for row in read_raw(path)]
        print("gunicorn workers' Python time (samples holding the GIL):")
        for part, share in split(web):
            print(f"  {part:45s} {share:6.1%}")


if __name__ == "__main__":
    main()
