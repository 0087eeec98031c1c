"""SQL repositories over the Core tables (adapters/unit_of_work.py hands them out)."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from billing_common.db import aware_utc, to_utc
from billing_common.errors import AlreadyExists
from billing_common.outbox import OutgoingMail, enqueue
from billing_common.service_auth import caller_var
from services.identity.adapters import orm
from services.identity.domain.contacts import Handover, HandoverStatus
from services.identity.domain.model import Account, AccountKind, Membership, Role, User, normalize_login
from services.identity.service_layer.ports import PendingReset, UserStanding


def _stored(moment: dt.datetime | None) -> dt.datetime:
    if moment is None:
        raise ValueError("an account or user is stored with the time it was created")
    return to_utc(moment)


def _account(row: Row[Any]) -> Account:
    return Account(
        id=row.id, name=row.name, kind=AccountKind(row.kind), currency=row.currency,
        locale=row.locale, status=row.status, created_at=aware_utc(row.created_at),
    )


def _user(row: Row[Any]) -> User:
    return User(
        id=row.id, login=row.login, email=row.email, name=row.name, locale=row.locale,
        password_hash=row.password_hash, staff=row.staff, status=row.status,
        created_at=aware_utc(row.created_at), session_generation=row.session_generation,
        last_sign_in_at=aware_utc(row.last_sign_in_at) if row.last_sign_in_at is not None else None,
    )


def _standing(row: Row[Any]) -> UserStanding:
    user = _user(row)
    if row.m_account_id is None:
        return UserStanding(user, None, None)
    account = None if row.a_id is None else Account(
        id=row.a_id, name=row.a_name, kind=AccountKind(row.a_kind), currency=row.a_currency,
        locale=row.a_locale, status=row.a_status, created_at=aware_utc(row.a_created_at),
    )
    return UserStanding(user, Membership(user.id, row.m_account_id, Role(row.m_role)), account)


# The user with their membership and its account in one query, built once: these run on every
# session check and sign-in, and building a statement costs several times executing it.
_u, _m, _a = orm.users.c, orm.memberships.c, orm.accounts.c
_STANDING = select(
    orm.users, _m.account_id.label("m_account_id"), _m.role.label("m_role"),
    *(column.label(f"a_{column.name}") for column in orm.accounts.c),
).select_from(
    orm.users.outerjoin(orm.memberships, _m.user_id == _u.id).outerjoin(orm.accounts, _a.id == _m.account_id)
)
_STANDING_BY_ID = _STANDING.where(_u.id == bindparam("user_id"))
_STANDING_BY_LOGIN = _STANDING.where(
    or_(_u.login_normalized == bindparam("login"), _u.email_normalized == bindparam("login"))
)


class SqlAccountRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, account: Account) -> None:
        self.conn.execute(
            insert(orm.accounts).values(
                id=account.id, name=account.name, kind=account.kind.value, status=account.status,
                currency=account.currency, locale=account.locale, created_at=_stored(account.created_at),
            )
        )

    def get(self, account_id: str) -> Account | None:
        row = self.conn.execute(select(orm.accounts).where(orm.accounts.c.id == account_id)).first()
        return _account(row) if row else None

    def get_many(self, account_ids: Sequence[str]) -> list[Account]:
        rows = self.conn.execute(
            select(orm.accounts).where(orm.accounts.c.id.in_(list(account_ids))).order_by(orm.accounts.c.id)).all()
        return [_account(r) for r in rows]


class SqlUserRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, user: User) -> None:
        # A savepoint, so a lost race on the unique columns leaves the transaction usable.
        try:
            with self.conn.begin_nested():
                self.conn.execute(
                    insert(orm.users).values(
                        id=user.id, login=user.login, login_normalized=normalize_login(user.login),
                        email=user.email, email_normalized=normalize_login(user.email), name=user.name,
                        locale=user.locale, password_hash=user.password_hash, staff=user.staff,
                        status=user.status, created_at=_stored(user.created_at),
                        session_generation=user.session_generation,
                    )
                )
        except IntegrityError:
            raise AlreadyExists("This user ID or email address is already in use.", field="login") from None

    def get(self, user_id: str) -> User | None:
        row = self.conn.execute(select(orm.users).where(orm.users.c.id == user_id)).first()
        return _user(row) if row else None

    def by_login(self, normalized: str) -> User | None:
        u = orm.users.c
        rows = self.conn.execute(
            select(orm.users).where(or_(u.login_normalized == normalized, u.email_normalized == normalized))
        ).all()
        # The user ID wins over someone else's email address, should both ever match.
        rows = sorted(rows, key=lambda r: r.login_normalized != normalized)
        return _user(rows[0]) if rows else None

    def standing(self, user_id: str) -> UserStanding | None:
        row = self.conn.execute(_STANDING_BY_ID, {"user_id": user_id}).first()
        return _standing(row) if row else None

    def standing_by_login(self, normalized: str) -> UserStanding | None:
        rows = self.conn.execute(_STANDING_BY_LOGIN, {"login": normalized}).all()
        # The user ID wins over someone else's email address, should both ever match.
        rows = sorted(rows, key=lambda r: r.login_normalized != normalized)
        return _standing(rows[0]) if rows else None

    def taken(self, normalized: str) -> bool:
        u = orm.users.c
        return self.conn.execute(
            select(u.id).where(or_(u.login_normalized == normalized, u.email_normalized == normalized)).limit(1)
        ).first() is not None

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.conn.execute(update(orm.users).where(orm.users.c.id == user_id).values(password_hash=password_hash))

    def record_sign_in(self, user_id: str, at: dt.datetime) -> None:
        self.conn.execute(update(orm.users).where(orm.users.c.id == user_id).values(last_sign_in_at=to_utc(at)))

    def next_session_generation(self, user_id: str) -> int:
        u = orm.users.c
        # One UPDATE: two changes committing at once each move it on, neither is lost.
        self.conn.execute(
            update(orm.users).where(u.id == user_id).values(session_generation=u.session_generation + 1)
        )
        return int(self.conn.execute(select(u.session_generation).where(u.id == user_id)).scalar_one())


class SqlMembershipRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def for_user(self, user_id: str) -> Membership | None:
        row = self.conn.execute(select(orm.memberships).where(orm.memberships.c.user_id == user_id)).first()
        return Membership(row.user_id, row.account_id, Role(row.role)) if row else None

    def put(self, membership: Membership, now: dt.datetime) -> None:
        m = orm.memberships
        done = self.conn.execute(
            update(m).where(m.c.user_id == membership.user_id)
            .values(account_id=membership.account_id, role=membership.role.value)
        )
        if done.rowcount == 0:
            self.conn.execute(
                insert(m).values(
                    user_id=membership.user_id, account_id=membership.account_id,
                    role=membership.role.value, created_at=to_utc(now),
                )
            )

    def remove(self, user_id: str) -> None:
        self.conn.execute(delete(orm.memberships).where(orm.memberships.c.user_id == user_id))

    def users_with_role(self, account_id: str, role: Role) -> list[User]:
        m, u = orm.memberships.c, orm.users.c
        rows = self.conn.execute(
            select(orm.users).join(orm.memberships, m.user_id == u.id)
            .where(m.account_id == account_id, m.role == role.value)
            .order_by(u.name, u.id)
        ).all()
        return [_user(r) for r in rows]

    def users_with_role_in(self, account_ids: Sequence[str], role: Role) -> dict[str, list[User]]:
        m, u = orm.memberships.c, orm.users.c
        rows = self.conn.execute(
            select(orm.users, m.account_id.label("m_account_id")).join(orm.memberships, m.user_id == u.id)
            .where(m.account_id.in_(list(account_ids)), m.role == role.value)
            .order_by(u.name, u.id)
        ).all()
        found: dict[str, list[User]] = {}
        for r in rows:
            found.setdefault(r.m_account_id, []).append(_user(r))
        return found

    def primary_of(self, account_id: str) -> str | None:
        m = orm.memberships.c
        found = self.conn.execute(
            select(m.user_id).where(m.account_id == account_id, m.is_primary.is_(True)).limit(1)).scalar()
        return str(found) if found is not None else None

    def primaries_in(self, account_ids: Sequence[str]) -> dict[str, str]:
        m = orm.memberships.c
        rows = self.conn.execute(select(m.account_id, m.user_id).where(
            m.account_id.in_(list(account_ids)), m.is_primary.is_(True))).all()
        return {r.account_id: r.user_id for r in rows}

    def set_primary(self, account_id: str, user_id: str | None) -> None:
        m = orm.memberships
        # One statement: the flag moves, never two primaries nor a moment with none.
        self.conn.execute(update(m).where(m.c.account_id == account_id)
                          .values(is_primary=(m.c.user_id == (user_id or ""))))


def _handover(row: Row[Any]) -> Handover:
    return Handover(
        id=row.id, account_id=row.account_id, proposer_id=row.proposer_id, replaced_user_id=row.replaced_user_id,
        new_login=row.new_login, new_email=row.new_email, new_name=row.new_name, new_locale=row.new_locale,
        proposed_at=aware_utc(row.proposed_at), status=HandoverStatus(row.status),
        decided_at=aware_utc(row.decided_at) if row.decided_at is not None else None,
        decided_by=row.decided_by, new_user_id=row.new_user_id,
    )


class SqlHandoverRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, handover: Handover) -> None:
        h = handover
        self.conn.execute(insert(orm.handovers).values(
            id=h.id, account_id=h.account_id, proposer_id=h.proposer_id, replaced_user_id=h.replaced_user_id,
            new_login=h.new_login, new_email=h.new_email, new_name=h.new_name, new_locale=h.new_locale,
            status=h.status.value, proposed_at=to_utc(h.proposed_at)))

    def get(self, handover_id: str) -> Handover | None:
        row = self.conn.execute(select(orm.handovers).where(orm.handovers.c.id == handover_id)).first()
        return _handover(row) if row else None

    def update(self, handover: Handover) -> None:
        h = handover
        self.conn.execute(update(orm.handovers).where(orm.handovers.c.id == h.id).values(
            status=h.status.value, decided_at=to_utc(h.decided_at) if h.decided_at else None,
            decided_by=h.decided_by, new_user_id=h.new_user_id))

    def pending(self, account_ids: Sequence[str]) -> list[Handover]:
        if not account_ids:
            return []
        h = orm.handovers.c
        rows = self.conn.execute(
            select(orm.handovers).where(h.account_id.in_(list(account_ids)), h.status == HandoverStatus.PENDING.value)
            .order_by(h.proposed_at, h.id)).all()
        return [_handover(r) for r in rows]


class SqlRepRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def assign(self, rep_user_id: str, account_id: str, now: dt.datetime) -> bool:
        r = orm.rep_accounts.c
        if self.conn.execute(
            select(r.rep_user_id).where(r.rep_user_id == rep_user_id, r.account_id == account_id)
        ).first():
            return False
        self.conn.execute(insert(orm.rep_accounts).values(rep_user_id=rep_user_id, account_id=account_id,
                                                          created_at=to_utc(now)))
        return True

    def accounts_of(self, rep_user_id: str) -> list[Account]:
        r, a = orm.rep_accounts.c, orm.accounts.c
        rows = self.conn.execute(
            select(orm.accounts).join(orm.rep_accounts, r.account_id == a.id)
            .where(r.rep_user_id == rep_user_id).order_by(a.name, a.id)
        ).all()
        return [_account(row) for row in rows]

    def reps_of(self, account_id: str) -> list[User]:
        r, u = orm.rep_accounts.c, orm.users.c
        rows = self.conn.execute(
            select(orm.users).join(orm.rep_accounts, r.rep_user_id == u.id)
            .where(r.account_id == account_id).order_by(u.name, u.id)
        ).all()
        return [_user(row) for row in rows]

    def reps_in(self, account_ids: Sequence[str]) -> dict[str, list[User]]:
        r, u = orm.rep_accounts.c, orm.users.c
        rows = self.conn.execute(
            select(r.account_id.label("served_account_id"), *orm.users.c).join(orm.rep_accounts, r.rep_user_id == u.id)
            .where(r.account_id.in_(list(account_ids))).order_by(u.name, u.id)
        ).all()
        found: dict[str, list[User]] = {}
        for row in rows:
            found.setdefault(row.served_account_id, []).append(_user(row))
        return found


class SqlAuditLog:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record(
        self, at: dt.datetime, actor: str, action: str, *, user_id: str | None = None,
        account_id: str | None = None, details: dict[str, Any] | None = None,
    ) -> None:
        self.conn.execute(
            insert(orm.audit_log).values(
                at=to_utc(at), actor=actor, caller=caller_var.get() or None, action=action,
                user_id=user_id, account_id=account_id,
                details=json.dumps(details or {}, sort_keys=True),
            )
        )


class SqlOutbox:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, mail: OutgoingMail, at: dt.datetime) -> None:
        enqueue(self.conn, orm.outbox, mail, at)


class SqlResetRequests:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, request: PendingReset) -> None:
        self.conn.execute(insert(orm.reset_requests).values(
            id=request.id, login=request.login, portal=request.portal, client_address=request.client_address,
            requested_at=to_utc(request.requested_at)))

    def count(self) -> int:
        return int(self.conn.execute(select(func.count()).select_from(orm.reset_requests)).scalar_one())

    def oldest(self, limit: int) -> list[str]:
        t = orm.reset_requests
        return list(self.conn.execute(select(t.c.id).order_by(t.c.requested_at).limit(limit)).scalars())

    def claim(self, request_id: str) -> PendingReset | None:
        # SKIP LOCKED on PostgreSQL: two replicas never handle the same request; SQLite has one
        # writer at a time anyway and ignores it.
        t = orm.reset_requests
        row = self.conn.execute(
            select(t).where(t.c.id == request_id).with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        return PendingReset(row.id, row.login, row.portal, row.client_address, aware_utc(row.requested_at))

    def remove(self, request_id: str) -> None:
        self.conn.execute(delete(orm.reset_requests).where(orm.reset_requests.c.id == request_id))
