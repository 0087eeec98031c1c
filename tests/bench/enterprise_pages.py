"""The Enterprise portal's invoice list and statement of an account with 10 invoices, then
with 10,000 more, against a bare hello world in the same run (wrk, as the landing page).

The stack is `make run`'s (its Globex demo: a handful of invoices); Globex's contact signs in,
the pages are measured, 10,000 invoices over 10 years (paid 20 days after issue, but for the
last 60 days') are written
straight into enterprise_portal's database, and the same pages are measured again. Target:
p99 with 10,000 within 1.5 times that with 10 (keyset pages and a statement that reads only
its period, not whole tables).
"""
from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import insert, select

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.db import make_engine
from billing_common.grpc_client import make_channel
from billing_common.service_auth import ENTERPRISE_PORTAL_WEB
from services.enterprise_portal.adapters import orm
from tests.bench import wrk
from tests.bench.run import PageFigures, browser_visit, hello_server, measure_pages
from tests.stack import Stack

LOGIN, PASSWORD = "globex-billing", "Enterprise-demo-2026!"
MORE = 10_000


def add_invoices(url: str, account_id: str, count: int) -> None:
    """`count` invoices over the last 10 years, newest today: those issued more than 60 days ago
    paid by a receipt 20 days after issue (as an account that pays on terms), the rest open."""
    engine = make_engine(url)
    today = dt.datetime.now(dt.UTC).date()
    invoices, receipts, payments = [], [], []
    for n in range(count):
        issued = today - dt.timedelta(days=(count - n) * 3650 // count)
        paid = issued < today - dt.timedelta(days=60)
        invoice_id = str(uuid.uuid4())
        invoices.append({"id": invoice_id, "account_id": account_id, "number": f"BENCH-{n:06d}", "currency": "USD",
                         "total_minor": 10_000 + n, "issued_on": issued, "due_on": issued + dt.timedelta(days=30),
                         "terms": "NET 30", "po_number": None, "status": "paid" if paid else "open",
                         "po_problem": None})
        if paid:
            at = dt.datetime.combine(issued + dt.timedelta(days=20), dt.time(10), tzinfo=dt.UTC)
            receipt_id = str(uuid.uuid4())
            receipts.append({"id": receipt_id, "account_id": account_id, "currency": "USD",
                             "amount_minor": 10_000 + n, "method": "ach", "reference": f"ACH-{n}",
                             "received_at": at, "recorded_by": "bench"})
            payments.append({"id": str(uuid.uuid4()), "invoice_id": invoice_id, "amount_minor": 10_000 + n,
                             "received_at": at, "receipt_id": receipt_id, "credit_id": None})
    try:
        with engine.begin() as conn:
            conn.execute(insert(orm.invoices), invoices)
            conn.execute(insert(orm.receipts), receipts)
            conn.execute(insert(orm.payments), payments)
    finally:
        engine.dispose()


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "5"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    wrk_path = wrk.ensure_wrk()
    if wrk_path is None:
        print("enterprise pages: skipped (no wrk); " + wrk.INSTALL_HINT)
        return
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(Path(tmp)).start()
        try:
            with make_channel(stack.identity_target, credentials=stack.credentials(ENTERPRISE_PORTAL_WEB),
                              default_timeout=30) as channel:
                signed = identity_pb2_grpc.IdentityServiceStub(channel).Authenticate(pb.AuthenticateRequest(
                    login=LOGIN, password=PASSWORD, client_address="127.0.0.1", portal=pb.PORTAL_ENTERPRISE))
            token, account_id = signed.session.token, signed.principal.account.account_id
            session_cookie = f"ebp_session={token}"
            base = stack.enterprise
            csrf_cookie, _ = browser_visit(base, session_cookie)
            cookie = f"{session_cookie}; {csrf_cookie}"
            url = (stack.env().get("ENTERPRISE_PORTAL_DATABASE_URL")
                   or f"sqlite:///{stack.var_dir / 'data'}/enterprise_portal.db")
            engine = make_engine(url)
            with engine.connect() as conn:
                few = len(conn.execute(select(orm.invoices.c.id).where(orm.invoices.c.account_id == account_id)).all())
            engine.dispose()
            root = stack.process.pid  # type: ignore[union-attr]
            hello, hello_base = hello_server(stack, "web/enterprise_portal/gunicorn.conf.py", Path(tmp) / "hello.log")
            start = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=89)).isoformat()
            pages = [("invoice list", "/invoices"), ("statement, last 90 days", f"/statement?start={start}")]
            try:
                small = measure_pages(wrk_path, [("hello world", hello_base + "/", None, hello.pid),
                                                 *((f"{label}, {few} invoices", base + path, cookie, root)
                                                   for label, path in pages)], rounds, seconds)
                add_invoices(url, account_id, MORE)
                large = measure_pages(wrk_path, [("hello world", hello_base + "/", None, hello.pid),
                                                 *((f"{label}, {few + MORE} invoices", base + path, cookie, root)
                                                   for label, path in pages)], rounds, seconds)
            finally:
                hello.terminate()
                hello.wait()
        finally:
            stack.stop()
    print(f"enterprise pages (wrk, 8 connections, {rounds} rounds of {seconds:.0f} s, medians; ratio to the hello "
          "world of the same round):")
    for figures in (small, large):
        report(figures)
    for (_, path), few_fig, many_fig in zip(pages, small[1:], large[1:], strict=True):
        ratio = many_fig.median("p99_ms") / few_fig.median("p99_ms")
        print(f"  {path.split('?')[0]}: p99 with {few + MORE} invoices / with {few}: {ratio:.2f} (target <= 1.5)")


def report(figures: list[PageFigures]) -> None:
    hello = figures[0]
    print(f"  hello world: {hello.median('rps'):.0f} req/s p50 {hello.median('p50_ms'):.2f} ms "
          f"p99 {hello.median('p99_ms'):.2f} ms")
    for fig in figures[1:]:
        ratios = [page.rps / base.rps for page, base in zip(fig.runs, hello.runs, strict=True)]
        print(f"  {fig.label}: {fig.median('rps'):.0f} req/s, ratio {statistics.median(ratios):.3f}; "
              f"p50 {fig.median('p50_ms'):.2f} ms p99 {fig.median('p99_ms'):.2f} ms; non-2xx {fig.non2xx}")


if __name__ == "__main__":
    main()
