"""The Enterprise portal's invoice list, statement and quotes list of an account with 10,000
invoices and 1,000 quotes against those of an account with 10 invoices and 10 quotes, and a bare
hello world, in the same rounds (wrk in its own process, as the landing page).

On PostgreSQL (TEST_DATABASE_URL, else the machine's server): a database per service, made for
the run and dropped after it. The stack is `make run`'s on them (its Globex demo); Globex's
contact gets the large account (10,000 invoices over 10 years, one every 8.8 hours, paid by ACH
20 days after issue but for the last 60 days', every tenth on one of ten POs; 1,000 quotes of
mixed status), and a second enterprise account, provisioned through identity with a contact of
its own, the small one (the 10 newest invoices and 10 quotes of the same kinds), all written with
billing_common.bulk. Each page goes through the whole chain: the Enterprise portal web under
gunicorn, identity's ValidateSession, then enterprise_portal. Target: the landing page's, and
p99 of the large account within 1.5 times that of the small one (keyset pages, a statement
that reads only its period, not whole tables).
"""
from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from billing.identity.v1 import identity_pb2 as pb
from billing.identity.v1 import identity_pb2_grpc
from billing_common.bulk import insert_rows
from billing_common.db import make_engine
from billing_common.grpc_client import make_channel
from billing_common.service_auth import ENTERPRISE_PORTAL_WEB, OPERATOR
from services.enterprise_portal.adapters import orm
from tests.bench import wrk
from tests.bench.billing_run import _databases
from tests.bench.run import PageFigures, browser_visit, hello_server, measure_pages
from tests.stack import Stack

LOGIN, PASSWORD = "globex-billing", "Enterprise-demo-2026!"
SMALL_LOGIN, SMALL_PASSWORD = "initech-billing", "Initech-bench-2026!"
MANY_INVOICES, FEW_INVOICES = 10_000, 10
MANY_QUOTES, FEW_QUOTES = 1_000, 10
SPAN_DAYS = 3650  # the large account's invoices cover ten years
PAGES = (("invoice list (first page)", "/invoices"), ("statement (default period, 90 days)", "/statement"),
         ("quotes list", "/quotes"))


def seed(conn: Connection, account_id: str, invoices: int, quotes: int, tag: str, first_quote: int) -> None:
    """`invoices` invoices, the newest today, one every SPAN_DAYS / MANY_INVOICES days (so the
    small account's ten are the large one's ten newest); those issued more than 60 days ago paid
    by an ACH receipt 20 days after issue; every tenth on one of ten POs. `quotes` quotes, QT-n
    from `first_quote`, one version and one line each, of every status."""
    today = dt.datetime.now(dt.UTC).date()
    rows: dict[str, list[dict[str, Any]]] = {"invoices": [], "receipts": [], "payments": [], "lines": []}
    for n in range(invoices):
        issued = today - dt.timedelta(days=(invoices - 1 - n) * SPAN_DAYS // MANY_INVOICES)
        paid = issued < today - dt.timedelta(days=60)
        invoice_id, total = str(uuid.uuid4()), 10_000 + n
        rows["invoices"].append({
            "id": invoice_id, "account_id": account_id, "number": f"{tag}-{n:06d}", "currency": "USD",
            "total_minor": total, "issued_on": issued, "due_on": issued + dt.timedelta(days=30), "terms": "NET 30",
            "po_number": f"PO-{tag}-{n % 100 // 10}" if n % 10 == 0 else None, "status": "paid" if paid else "open",
            "po_problem": None})
        rows["lines"].append({"invoice_id": invoice_id, "position": 0, "kind": "custom",
                              "description": "Meetings Enterprise seats", "quantity": 1, "unit_price_minor": total,
                              "discount_bp": 0, "plan_code": None})
        if paid:
            at = dt.datetime.combine(issued + dt.timedelta(days=20), dt.time(10), tzinfo=dt.UTC)
            receipt_id = str(uuid.uuid4())
            rows["receipts"].append({"id": receipt_id, "account_id": account_id, "currency": "USD",
                                     "amount_minor": total, "method": "ach", "reference": f"ACH-{tag}-{n}",
                                     "received_at": at, "recorded_by": "bench"})
            rows["payments"].append({"id": str(uuid.uuid4()), "invoice_id": invoice_id, "amount_minor": total,
                                     "received_at": at, "receipt_id": receipt_id, "credit_id": None})
    pos = [{"id": str(uuid.uuid4()), "account_id": account_id, "number": f"PO-{tag}-{k}", "currency": "USD",
            "amount_minor": 1_000_000_000, "valid_from": today - dt.timedelta(days=SPAN_DAYS),
            "valid_to": today + dt.timedelta(days=365), "notes": "bench",
            "expiry_notice_sent_at": None, "usage_notice_sent_at": None} for k in range(10)]
    statuses = ("open", "accepted", "declined", "open")  # most open ones are past their validity: expired
    quote_rows, versions, quote_lines = [], [], []
    for k in range(quotes):
        number, status = f"QT-{first_quote + k:04d}", statuses[k % len(statuses)]
        sent = today - dt.timedelta(days=quotes - k)
        quote_rows.append({"number": number, "account_id": account_id, "currency": "USD",
                           "rep_user_id": "bench-rep", "rep_email": "rep@bench.test",
                           "created_at": dt.datetime.combine(sent, dt.time(9), tzinfo=dt.UTC)})
        versions.append({"quote_number": number, "version": 1, "valid_until": sent + dt.timedelta(days=30),
                         "terms": "NET 30", "status": status, "sent_on": sent,
                         "decided_on": sent + dt.timedelta(days=3) if status in ("accepted", "declined") else None,
                         "decline_reason": "too dear" if status == "declined" else "",
                         "po_number": f"PO-{tag}-0" if status == "accepted" else None})
        quote_lines.append({"quote_number": number, "version": 1, "position": 0, "kind": "custom",
                            "description": "Onboarding workshop", "quantity": 1, "unit_price_minor": 300_000,
                            "discount_bp": 0, "plan_code": None})
    for table, batch in ((orm.invoices, rows["invoices"]), (orm.invoice_lines, rows["lines"]),
                         (orm.receipts, rows["receipts"]), (orm.payments, rows["payments"]),
                         (orm.purchase_orders, pos), (orm.quotes, quote_rows), (orm.quote_versions, versions),
                         (orm.quote_lines, quote_lines)):
        for start in range(0, len(batch), 5_000):
            insert_rows(conn, table, batch[start:start + 5_000])


def small_account(stack: Stack) -> None:
    """A second enterprise account with a billing contact who signs in with a password."""
    with make_channel(stack.identity_target, credentials=stack.credentials(OPERATOR), default_timeout=30) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        account = stub.CreateAccount(pb.CreateAccountRequest(
            name="Initech", kind=pb.ACCOUNT_KIND_ENTERPRISE, currency="USD", locale="en")).account
        user_id = stub.CreateUser(pb.CreateUserRequest(login=SMALL_LOGIN, email="ap@initech.test", name="Initech AP",
                                                       locale="en", password=SMALL_PASSWORD)).user_id
        stub.AddMembership(pb.AddMembershipRequest(user_id=user_id, account_id=account.account_id,
                                                   role=pb.ROLE_BILLING_CONTACT))


def sign_in(stack: Stack, login: str, password: str) -> tuple[str, str]:
    """(the account id, the cookies a browser holds after its first signed-in visit)."""
    with make_channel(stack.identity_target, credentials=stack.credentials(ENTERPRISE_PORTAL_WEB),
                      default_timeout=30) as channel:
        signed = identity_pb2_grpc.IdentityServiceStub(channel).Authenticate(pb.AuthenticateRequest(
            login=login, password=password, client_address="127.0.0.1", portal=pb.PORTAL_ENTERPRISE))
    session_cookie = f"ebp_session={signed.session.token}"
    csrf_cookie, _ = browser_visit(stack.enterprise, session_cookie)
    return signed.principal.account.account_id, f"{session_cookie}; {csrf_cookie}"


def main() -> None:
    seconds = float(os.environ.get("BENCH_SECONDS", "5"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    wrk_path = wrk.ensure_wrk()
    if wrk_path is None:
        print("enterprise pages: skipped (no wrk); " + wrk.INSTALL_HINT)
        return
    services = ("identity", "online_billing", "enterprise_portal")
    with _databases(*services) as urls, tempfile.TemporaryDirectory() as tmp:
        by_service = dict(zip(services, urls, strict=True))
        stack = Stack(Path(tmp), database_url=by_service.__getitem__).start()
        try:
            small_account(stack)
            large_id, large_cookie = sign_in(stack, LOGIN, PASSWORD)
            small_id, small_cookie = sign_in(stack, SMALL_LOGIN, SMALL_PASSWORD)
            engine = make_engine(by_service["enterprise_portal"])
            began = time.perf_counter()
            with engine.begin() as conn:
                seed(conn, large_id, MANY_INVOICES, MANY_QUOTES, "BIG", 1000)
                seed(conn, small_id, FEW_INVOICES, FEW_QUOTES, "SMALL", 5000)
            with engine.begin() as conn:  # committed: ANALYZE's statistics are transactional
                conn.exec_driver_sql("ANALYZE")
            engine.dispose()
            seeded = time.perf_counter() - began
            root = stack.process.pid  # type: ignore[union-attr]
            hello, hello_base = hello_server(stack, "web/enterprise_portal/gunicorn.conf.py", Path(tmp) / "hello.log")
            base = stack.enterprise
            targets: list[tuple[str, str, str | None, int]] = [("hello world", hello_base + "/", None, hello.pid)]
            for label, path in PAGES:
                targets += [(f"{label}, {FEW_INVOICES} invoices / {FEW_QUOTES} quotes", base + path, small_cookie,
                             root),
                            (f"{label}, {MANY_INVOICES:,} invoices / {MANY_QUOTES:,} quotes", base + path,
                             large_cookie, root)]
            try:
                figures = measure_pages(wrk_path, targets, rounds, seconds)
            finally:
                hello.terminate()
                hello.wait()
        finally:
            stack.stop()
    print(f"enterprise pages on PostgreSQL (wrk, 8 connections, {rounds} rounds of {seconds:.0f} s, medians; "
          f"ratios to the hello world of the same round; seeding {seeded:.1f} s):")
    report(figures)
    for n, (_, path) in enumerate(PAGES):
        few, many = figures[1 + 2 * n], figures[2 + 2 * n]
        ratios = [m.p99_ms / f.p99_ms for f, m in zip(few.runs, many.runs, strict=True)]
        print(f"  {path}: p99 with {MANY_INVOICES:,} invoices / with {FEW_INVOICES}: median "
              f"{statistics.median(ratios):.2f} (rounds {', '.join(f'{r:.2f}' for r in ratios)}; target <= 1.5)")


def report(figures: list[PageFigures]) -> None:
    hello = figures[0]
    print(f"  hello world: {hello.median('rps'):.0f} req/s p50 {hello.median('p50_ms'):.2f} ms "
          f"p99 {hello.median('p99_ms'):.2f} ms, CPU {statistics.median(hello.cpu_ms):.3f} ms/request")
    for fig in figures[1:]:
        ratios = [page.rps / base.rps for page, base in zip(fig.runs, hello.runs, strict=True)]
        cpu = [page / base for page, base in zip(fig.cpu_ms, hello.cpu_ms, strict=True)]
        print(f"  {fig.label}: {fig.median('rps'):.0f} req/s, ratio {statistics.median(ratios):.3f}; "
              f"p50 {fig.median('p50_ms'):.2f} ms p99 {fig.median('p99_ms'):.2f} ms; "
              f"CPU {statistics.median(fig.cpu_ms):.2f} ms/request ({statistics.median(cpu):.1f} x hello world); "
              f"non-2xx {fig.non2xx}")


if __name__ == "__main__":
    main()
