"""SQL repositories: rows of adapters.orm in, domain objects out."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Connection, bindparam, delete, false, func, insert, or_, select, update

from billing_common.bulk import among, insert_rows, pairs_among, update_rows
from billing_common.db import aware_utc, lock_rows, to_utc
from billing_common.invoicing import numbering
from billing_common.invoicing.profile import BillingProfile
from billing_common.invoicing.taxid import TaxId, TaxIdKind
from billing_common.money import Money
from billing_common.outbox import OutgoingMail, enqueue, enqueue_many
from services.online_billing.adapters import orm
from services.online_billing.adapters.serialization import preview_json, preview_of, profile_json, profile_of
from services.online_billing.domain.billing import (
    ChargeLine,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    LineKind,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from services.online_billing.domain.catalogue import Catalogue
from services.online_billing.domain.model import (
    BillingInterval,
    Dunning,
    Plan,
    PlanPrice,
    Selection,
    Subscription,
    SubscriptionStatus,
)
from services.online_billing.domain.requests import ChangeRequest, Requester, RequestStatus


class SqlPlanRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, plan: Plan) -> None:
        self.connection.execute(insert(orm.plans).values(code=plan.code, name=plan.name, min_seats=plan.min_seats,
                                                         max_seats=plan.max_seats, rank=plan.rank))

    def catalogue(self) -> Catalogue:
        plans = [Plan(r.code, r.name, r.min_seats, r.max_seats, r.rank)
                 for r in self.connection.execute(select(orm.plans))]
        prices = [PlanPrice(r.plan_code, BillingInterval(r.interval), Money(int(r.unit_amount_minor), r.currency))
                  for r in self.connection.execute(select(orm.plan_prices))]
        return Catalogue.of(plans, prices)

    def add_price(self, price: PlanPrice) -> None:
        self.connection.execute(
            insert(orm.plan_prices).values(
                plan_code=price.plan_code,
                currency=price.unit_price.currency,
                interval=price.interval.value,
                unit_amount_minor=price.unit_price.amount_minor,
            )
        )

class SqlSubscriptionRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, subscription: Subscription) -> None:
        s = subscription
        self.connection.execute(
            insert(orm.subscriptions).values(
                id=s.id,
                account_id=s.account_id,
                plan_code=s.plan.code,
                seats=s.seats,
                interval=s.interval.value,
                status=s.status.value,
                currency=s.currency,
                current_period_start=to_utc(s.current_period_start),
                current_period_end=to_utc(s.current_period_end),
                cancel_at_period_end=s.cancel_at_period_end,
                **_mutable(s),
            )
        )

    def for_account(self, account_id: str) -> list[Subscription]:
        return [_subscription(row) for row in self.connection.execute(_FOR_ACCOUNT, {"account_id": account_id})]

    def get(self, account_id: str, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        if for_update:
            lock_rows(self.connection, orm.subscriptions, "id", [subscription_id])
        row = self.connection.execute(
            _SELECT.where(_s.c.account_id == account_id, _s.c.id == subscription_id)).first()
        return _subscription(row) if row else None

    def update(self, subscription: Subscription) -> None:
        s = subscription
        self.connection.execute(
            update(orm.subscriptions).where(orm.subscriptions.c.id == s.id).values(**_subscription_values(s)))

    def get_many(self, subscription_ids: Collection[str], *, for_update: bool = False) -> list[Subscription]:
        ids = sorted(subscription_ids)
        if not ids:
            return []
        if for_update:
            lock_rows(self.connection, orm.subscriptions, "id", ids)
        rows = self.connection.execute(_SELECT.where(among(self.connection, _s.c.id, ids)))
        return [_subscription(row) for row in rows]

    def update_many(self, subscriptions: Sequence[Subscription]) -> None:
        update_rows(self.connection, orm.subscriptions, "id",
                    [{"id": s.id, **_subscription_values(s)} for s in subscriptions])

    def claim_due(self, as_of: dt.datetime, limit: int, exclude: Collection[str] = ()
                  ) -> list[Subscription]:
        """Up to `limit` subscriptions the billing run has to do with as of `as_of`, locked
        until the unit of work ends; rows another transaction holds are skipped (PostgreSQL's
        SKIP LOCKED), so several workers share a run. On SQLite the claim first takes the
        database's write lock, so claims take turns."""
        # Two claims, each along its own index in the index's order, so each stops after
        # `limit` rows: retries due ((status, next_retry_at)), then renewals due ((status,
        # current_period_end)). One query with an OR, ordered by (period end, id), read and
        # sorted every due row for every batch: a run's cost grew with the square of its size.
        moment = to_utc(as_of)
        if self.connection.dialect.name != "postgresql":
            self.connection.execute(update(_s).where(false()).values(id=_s.c.id))
        ids: list[str] = []
        for status, column in (("past_due", _s.c.next_retry_at), ("active", _s.c.current_period_end)):
            if len(ids) >= limit:
                break
            where = _s.c.renewal_payment_id.is_(None) & (_s.c.status == status) & (column <= moment)
            if exclude:
                where = where & ~among(self.connection, _s.c.id, exclude)
            query = select(_s.c.id).where(where).order_by(column).limit(limit - len(ids))
            if self.connection.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids += [row.id for row in self.connection.execute(query)]
        if not ids:
            return []
        rows = self.connection.execute(
            _SELECT.where(among(self.connection, _s.c.id, ids)).order_by(_s.c.current_period_end, _s.c.id))
        return [_subscription(row) for row in rows]

    def count_due(self, as_of: dt.datetime) -> int:
        return int(self.connection.execute(select(func.count()).select_from(_s).where(_due(to_utc(as_of))))
                   .scalar_one())


def _due(as_of: dt.datetime) -> ColumnElement[bool]:
    """domain.renewals.is_due in SQL."""
    return _s.c.renewal_payment_id.is_(None) & or_(
        (_s.c.status == "active") & (_s.c.current_period_end <= as_of),
        (_s.c.status == "past_due") & (_s.c.next_retry_at <= as_of))


def _subscription_values(s: Subscription) -> dict[str, Any]:
    return {"plan_code": s.plan.code, "seats": s.seats, "interval": s.interval.value, "status": s.status.value,
            "current_period_start": to_utc(s.current_period_start),
            "current_period_end": to_utc(s.current_period_end), "cancel_at_period_end": s.cancel_at_period_end,
            **_mutable(s)}


def _mutable(s: Subscription) -> dict[str, Any]:
    scheduled, d = s.scheduled_change, s.dunning
    return {
        "renewal_payment_id": s.renewal_payment_id,
        "dunning_invoice_id": d.invoice_id if d else None,
        "dunning_failed_at": to_utc(d.failed_at) if d else None,
        "dunning_retries": d.retries if d else 0,
        "next_retry_at": to_utc(d.next_retry_at) if d and d.next_retry_at else None,
        "dunning_decline_code": d.decline_code if d else None,
        "scheduled_plan_code": scheduled.plan_code if scheduled else None,
        "scheduled_seats": scheduled.seats if scheduled else None,
        "scheduled_interval": scheduled.interval.value if scheduled else None,
        "cancel_reason": s.cancel_reason,
        "canceled_at": to_utc(s.canceled_at) if s.canceled_at else None,
        "created_at": to_utc(s.created_at) if s.created_at else None,
    }


# Built once: it runs on every Billing Center landing page, and building a statement costs
# more than executing it (about 60 microseconds here).
_s, _p, _pp = orm.subscriptions, orm.plans, orm.plan_prices
_SELECT = (
    select(_s, _p.c.name.label("plan_name"), _p.c.min_seats, _p.c.max_seats, _p.c.rank, _pp.c.unit_amount_minor)
    .join(_p, _p.c.code == _s.c.plan_code)
    .join(_pp, (_pp.c.plan_code == _s.c.plan_code) & (_pp.c.currency == _s.c.currency)
          & (_pp.c.interval == _s.c.interval))
)
_FOR_ACCOUNT = _SELECT.where(_s.c.account_id == bindparam("account_id")).order_by(_s.c.current_period_end, _s.c.id)


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        account_id=row.account_id,
        plan=Plan(code=row.plan_code, name=row.plan_name, min_seats=row.min_seats, max_seats=row.max_seats,
                  rank=row.rank),
        seats=row.seats,
        interval=BillingInterval(row.interval),
        status=SubscriptionStatus(row.status),
        unit_price=Money(int(row.unit_amount_minor), row.currency),
        current_period_start=aware_utc(row.current_period_start),
        current_period_end=aware_utc(row.current_period_end),
        cancel_at_period_end=bool(row.cancel_at_period_end),
        scheduled_change=Selection(row.scheduled_plan_code, int(row.scheduled_seats),
                                   BillingInterval(row.scheduled_interval)) if row.scheduled_plan_code else None,
        cancel_reason=row.cancel_reason or "",
        canceled_at=aware_utc(row.canceled_at) if row.canceled_at else None,
        created_at=aware_utc(row.created_at) if row.created_at else None,
        dunning=Dunning(invoice_id=row.dunning_invoice_id, failed_at=aware_utc(row.dunning_failed_at),
                        retries=int(row.dunning_retries),
                        next_retry_at=aware_utc(row.next_retry_at) if row.next_retry_at else None,
                        decline_code=row.dunning_decline_code or "") if row.dunning_invoice_id else None,
        renewal_payment_id=row.renewal_payment_id,
    )


class SqlPaymentMethodRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, method: PaymentMethod) -> None:
        m = method
        self.connection.execute(insert(orm.payment_methods).values(
            id=m.id, account_id=m.account_id, token=m.token, brand=m.brand, last4=m.last4, exp_month=m.exp_month,
            exp_year=m.exp_year, is_default=m.is_default, created_at=to_utc(m.created_at)))

    def for_account(self, account_id: str) -> list[PaymentMethod]:
        t = orm.payment_methods
        rows = self.connection.execute(select(t).where(t.c.account_id == account_id).order_by(t.c.created_at, t.c.id))
        return [_payment_method(r) for r in rows]

    def defaults(self, account_ids: Collection[str]) -> dict[str, PaymentMethod]:
        t = orm.payment_methods
        if not account_ids:
            return {}
        rows = self.connection.execute(select(t).where(among(self.connection, t.c.account_id, sorted(account_ids)),
                                                       t.c.is_default))
        return {r.account_id: _payment_method(r) for r in rows}

    def set_default(self, account_id: str, method_id: str) -> None:
        t = orm.payment_methods
        self.connection.execute(update(t).where(t.c.account_id == account_id).values(is_default=t.c.id == method_id))

    def remove(self, account_id: str, method_id: str) -> None:
        t = orm.payment_methods
        self.connection.execute(delete(t).where(t.c.account_id == account_id, t.c.id == method_id))


def _payment_method(r: Any) -> PaymentMethod:
    return PaymentMethod(id=r.id, account_id=r.account_id, token=r.token, brand=r.brand, last4=r.last4,
                         exp_month=r.exp_month, exp_year=r.exp_year, is_default=bool(r.is_default),
                         created_at=aware_utc(r.created_at))


class SqlPaymentRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, payment: Payment) -> None:
        self.connection.execute(insert(orm.payments).values(**_payment_values(payment)))

    def add_many(self, payments: Sequence[Payment]) -> None:
        insert_rows(self.connection, orm.payments, [_payment_values(p) for p in payments])

    def update_many(self, payments: Sequence[Payment]) -> None:
        update_rows(self.connection, orm.payments, "id", [{"id": p.id, **_settlement(p)} for p in payments])

    def get_many(self, payment_ids: Collection[str], *, for_update: bool = False) -> list[Payment]:
        ids = sorted(payment_ids)
        if not ids:
            return []
        if for_update:
            lock_rows(self.connection, orm.payments, "id", ids)
        t = orm.payments
        return [_payment(r) for r in self.connection.execute(select(t).where(among(self.connection, t.c.id, ids)))]

    def statuses(self, payment_ids: Collection[str], *, for_update: bool = False) -> dict[str, PaymentStatus]:
        t = orm.payments
        ids = sorted(payment_ids)
        if not ids:
            return {}
        query = select(t.c.id, t.c.status).where(among(self.connection, t.c.id, ids))
        if for_update and self.connection.dialect.name == "postgresql":  # one statement: locks and reads
            query = query.order_by(t.c.id).with_for_update()  # in key order, as lock_rows
        elif for_update:
            lock_rows(self.connection, t, "id", ids)
        return {r.id: PaymentStatus(r.status) for r in self.connection.execute(query)}

    def by_keys(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], Payment]:
        t = orm.payments
        if not keys:
            return {}
        # Both columns, so the (account_id, idempotency_key) unique index answers: keys alone
        # are not indexed, and read the whole table (a cost that grew with every run).
        rows = self.connection.execute(select(t).where(
            pairs_among(self.connection, t.c.account_id, t.c.idempotency_key, sorted(keys))))
        found = {(r.account_id, r.idempotency_key): r for r in rows}
        return {key: _payment(found[key]) for key in keys if key in found}

    def in_flight_subscriptions(self, subscription_ids: Collection[str]) -> set[str]:
        t = orm.payments
        if not subscription_ids:
            return set()
        rows = self.connection.execute(select(t.c.subscription_id).distinct().where(
            among(self.connection, t.c.subscription_id, sorted(subscription_ids)),
            t.c.status.in_(("pending", "unknown"))))
        return {r.subscription_id for r in rows}

    def by_key(self, account_id: str, idempotency_key: str) -> Payment | None:
        t = orm.payments
        row = self.connection.execute(
            select(t).where(t.c.account_id == account_id, t.c.idempotency_key == idempotency_key)).first()
        return _payment(row) if row else None

    def get(self, payment_id: str, *, for_update: bool = False) -> Payment | None:
        if for_update:
            lock_rows(self.connection, orm.payments, "id", [payment_id])
        row = self.connection.execute(select(orm.payments).where(orm.payments.c.id == payment_id)).first()
        return _payment(row) if row else None

    def update(self, payment: Payment) -> None:
        t = orm.payments
        self.connection.execute(update(t).where(t.c.id == payment.id).values(**_settlement(payment)))

    def in_flight(self, subscription_id: str) -> list[Payment]:
        t = orm.payments
        rows = self.connection.execute(select(t).where(
            t.c.subscription_id == subscription_id, t.c.status.in_(("pending", "unknown"))))
        return [_payment(r) for r in rows]

    def in_flight_for_account(self, account_id: str) -> list[Payment]:
        t = orm.payments
        rows = self.connection.execute(select(t).where(
            t.c.account_id == account_id, t.c.status.in_(("pending", "unknown"))))
        return [_payment(r) for r in rows]

    def unsettled(self, created_before: dt.datetime) -> list[Payment]:
        t = orm.payments
        rows = self.connection.execute(
            select(t).where(t.c.status.in_(("pending", "unknown")), t.c.created_at <= to_utc(created_before))
            .order_by(t.c.created_at, t.c.id))
        return [_payment(r) for r in rows]


def _payment_values(p: Payment) -> dict[str, Any]:
    return {"id": p.id, "account_id": p.account_id, "idempotency_key": p.idempotency_key,
            "gateway_key": p.gateway_key, "fingerprint": p.fingerprint, "subscription_id": p.preview.subscription_id,
            "purpose": p.preview.purpose.value, "amount_minor": p.amount.amount_minor, "currency": p.amount.currency,
            "payment_method_id": p.payment_method_id, "token": p.token, "preview": preview_json(p.preview),
            "created_at": to_utc(p.created_at), **_settlement(p)}


def _settlement(p: Payment) -> dict[str, Any]:
    return {"status": p.status.value, "settled_at": to_utc(p.settled_at) if p.settled_at else None,
            "charge_id": p.charge_id, "decline_code": p.decline_code, "invoice_id": p.invoice_id}


def _payment(r: Any) -> Payment:
    return Payment(id=r.id, account_id=r.account_id, idempotency_key=r.idempotency_key, gateway_key=r.gateway_key,
                   fingerprint=r.fingerprint, preview=preview_of(r.preview), payment_method_id=r.payment_method_id,
                   token=r.token, status=PaymentStatus(r.status), created_at=aware_utc(r.created_at),
                   settled_at=aware_utc(r.settled_at) if r.settled_at else None, charge_id=r.charge_id,
                   decline_code=r.decline_code, invoice_id=r.invoice_id)


class SqlInvoiceRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def next_number(self, series: str) -> str:
        return numbering.next_number(self.connection, series)

    def add(self, invoice: Invoice) -> None:
        self.add_many([invoice])

    def add_many(self, invoices: Sequence[Invoice]) -> None:
        if not invoices:
            return
        insert_rows(self.connection, orm.invoices, [
            {"id": i.id, "account_id": i.account_id, "subscription_id": i.subscription_id, "number": i.number,
             "kind": i.kind.value, "status": i.status.value, "currency": i.currency,
             "total_minor": i.total.amount_minor, "issued_at": to_utc(i.issued_at),
             "paid_at": to_utc(i.paid_at) if i.paid_at else None, "buyer": profile_json(i.buyer)} for i in invoices])
        lines = [{"invoice_id": i.id, "position": n, "kind": x.kind.value, "plan_code": x.plan_code,
                  "plan_name": x.plan_name, "seats": x.seats, "interval": x.interval.value,
                  "period_start": to_utc(x.period_start), "period_end": to_utc(x.period_end),
                  "unit_amount_minor": x.unit_price.amount_minor, "amount_minor": x.amount.amount_minor}
                 for i in invoices for n, x in enumerate(i.lines)]
        insert_rows(self.connection, orm.invoice_lines, lines)

    def next_numbers(self, series: str, count: int) -> list[str]:
        return numbering.next_numbers(self.connection, series, count)

    def get_many(self, invoice_ids: Collection[str]) -> dict[str, Invoice]:
        if not invoice_ids:
            return {}
        t = orm.invoices
        rows = list(self.connection.execute(select(t).where(among(self.connection, t.c.id, sorted(invoice_ids)))))
        return {i.id: i for i in self._with_lines(rows)}

    def set_status_many(self, changes: Sequence[tuple[str, InvoiceStatus, dt.datetime | None]]) -> None:
        if changes:
            update_rows(self.connection, orm.invoices, "id", [
                {"id": invoice_id, "status": status.value, "paid_at": to_utc(paid_at) if paid_at else None}
                for invoice_id, status, paid_at in changes])

    def set_status(self, invoice_id: str, status: InvoiceStatus, paid_at: dt.datetime | None = None) -> None:
        t = orm.invoices
        self.connection.execute(update(t).where(t.c.id == invoice_id).values(
            status=status.value, paid_at=to_utc(paid_at) if paid_at else None))

    def get(self, account_id: str, invoice_id: str) -> Invoice | None:
        t = orm.invoices
        row = self.connection.execute(select(t).where(t.c.account_id == account_id, t.c.id == invoice_id)).first()
        return self._with_lines([row])[0] if row else None

    def page(self, account_id: str, limit: int, after: tuple[dt.datetime, str] | None) -> list[Invoice]:
        t = orm.invoices
        query = select(t).where(t.c.account_id == account_id)
        if after is not None:
            issued, invoice_id = to_utc(after[0]), after[1]
            query = query.where(or_(t.c.issued_at < issued, (t.c.issued_at == issued) & (t.c.id < invoice_id)))
        rows = list(self.connection.execute(query.order_by(t.c.issued_at.desc(), t.c.id.desc()).limit(limit)))
        return self._with_lines(rows)

    def _with_lines(self, rows: list[Any]) -> list[Invoice]:
        if not rows:
            return []
        t = orm.invoice_lines
        lines: dict[str, list[ChargeLine]] = {r.id: [] for r in rows}
        currencies = {r.id: r.currency for r in rows}
        for x in self.connection.execute(select(t).where(among(self.connection, t.c.invoice_id, list(lines))).order_by(
                t.c.invoice_id, t.c.position)):
            currency = currencies[x.invoice_id]
            lines[x.invoice_id].append(ChargeLine(
                kind=LineKind(x.kind), plan_code=x.plan_code, plan_name=x.plan_name, seats=x.seats,
                interval=BillingInterval(x.interval), period_start=aware_utc(x.period_start),
                period_end=aware_utc(x.period_end), unit_price=Money(int(x.unit_amount_minor), currency),
                amount=Money(int(x.amount_minor), currency)))
        return [Invoice(id=r.id, account_id=r.account_id, subscription_id=r.subscription_id, number=r.number,
                        kind=InvoiceKind(r.kind), status=InvoiceStatus(r.status), currency=r.currency,
                        issued_at=aware_utc(r.issued_at), lines=tuple(lines[r.id]), buyer=profile_of(r.buyer),
                        paid_at=aware_utc(r.paid_at) if r.paid_at else None) for r in rows]


class SqlBillingProfileRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def get(self, account_id: str) -> BillingProfile | None:
        t = orm.billing_profiles
        r = self.connection.execute(select(t).where(t.c.account_id == account_id)).first()
        return _profile(r) if r is not None else None

    def get_many(self, account_ids: Collection[str]) -> dict[str, BillingProfile]:
        t = orm.billing_profiles
        if not account_ids:
            return {}
        return {r.account_id: _profile(r)
                for r in self.connection.execute(
                    select(t).where(among(self.connection, t.c.account_id, sorted(account_ids))))}

    def put(self, account_id: str, profile: BillingProfile, at: dt.datetime) -> None:
        t = orm.billing_profiles
        p = profile
        values = {"company_name": p.company_name, "address_line1": p.address_line1, "address_line2": p.address_line2,
                  "city": p.city, "region": p.region, "postal_code": p.postal_code, "country": p.country,
                  "tax_id_kind": p.tax_id.kind if p.tax_id else None, "tax_id": p.tax_id.value if p.tax_id else None,
                  "invoice_emails": json.dumps(list(p.invoice_emails)), "updated_at": to_utc(at)}
        if self.connection.execute(update(t).where(t.c.account_id == account_id).values(values)).rowcount == 0:
            self.connection.execute(insert(t).values(account_id=account_id, **values))


def _profile(r: Any) -> BillingProfile:
    return BillingProfile(
        company_name=r.company_name, address_line1=r.address_line1, address_line2=r.address_line2, city=r.city,
        region=r.region, postal_code=r.postal_code, country=r.country,
        tax_id=TaxId(r.country, cast(TaxIdKind, r.tax_id_kind), r.tax_id) if r.tax_id else None,
        invoice_emails=tuple(json.loads(r.invoice_emails)))


class SqlChangeRequestRepository:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, request: ChangeRequest) -> None:
        self.connection.execute(insert(orm.change_requests).values(**_request_values(request)))

    def get(self, account_id: str, request_id: str, *, for_update: bool = False) -> ChangeRequest | None:
        t = orm.change_requests
        if for_update:
            lock_rows(self.connection, t, "id", [request_id])
        row = self.connection.execute(select(t).where(t.c.id == request_id, t.c.account_id == account_id)).first()
        return _request(row) if row else None

    def update(self, request: ChangeRequest) -> None:
        t = orm.change_requests
        values = _request_values(request)
        for fixed in ("id", "account_id", "created_at"):
            del values[fixed]
        self.connection.execute(update(t).where(t.c.id == request.id).values(**values))

    def for_account(self, account_id: str, *, requested_by: str | None = None,
                    statuses: Collection[RequestStatus] = (), limit: int = 50) -> list[ChangeRequest]:
        t = orm.change_requests
        query = select(t).where(t.c.account_id == account_id)
        if requested_by is not None:
            query = query.where(t.c.requested_by == requested_by)
        if statuses:
            query = query.where(t.c.status.in_(sorted(s.value for s in statuses)))
        rows = self.connection.execute(query.order_by(t.c.created_at.desc(), t.c.id.desc()).limit(limit))
        return [_request(r) for r in rows]


def _request_values(r: ChangeRequest) -> dict[str, Any]:
    return {"id": r.id, "account_id": r.account_id, "subscription_id": r.subscription_id,
            "requested_by": r.requester.user_id, "requester_name": r.requester.name,
            "requester_email": r.requester.email, "requester_locale": r.requester.locale,
            "plan_code": r.target.plan_code, "seats": r.target.seats, "interval": r.target.interval.value,
            "note": r.note, "status": r.status.value, "created_at": to_utc(r.created_at),
            "decided_at": to_utc(r.decided_at) if r.decided_at else None, "decided_by": r.decided_by,
            "decline_reason": r.decline_reason, "approval_key": r.approval_key, "invoice_id": r.invoice_id,
            "scheduled": r.scheduled}


def _request(row: Any) -> ChangeRequest:
    return ChangeRequest(
        id=row.id, account_id=row.account_id, subscription_id=row.subscription_id,
        requester=Requester(row.requested_by, row.requester_name, row.requester_email, row.requester_locale),
        target=Selection(row.plan_code, row.seats, BillingInterval(row.interval)), note=row.note,
        status=RequestStatus(row.status), created_at=aware_utc(row.created_at),
        decided_at=aware_utc(row.decided_at) if row.decided_at else None, decided_by=row.decided_by,
        decline_reason=row.decline_reason, approval_key=row.approval_key, invoice_id=row.invoice_id,
        scheduled=bool(row.scheduled))


class SqlOutbox:
    """Mail written in the unit of work's transaction; the outbox dispatcher sends it later."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, mail: OutgoingMail, at: dt.datetime) -> None:
        enqueue(self.connection, orm.outbox, mail, at)

    def add_many(self, mails: Sequence[OutgoingMail], at: dt.datetime) -> None:
        enqueue_many(self.connection, orm.outbox, mails, at)
