"""In-memory twins of the SQL unit of work and repositories, for unit tests.

A unit of work works on a copy of the data and publishes it on commit, so a use case that
fails half-way leaves nothing behind, as with the real transaction.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Any, Self

from billing_common.errors import AlreadyExists
from billing_common.outbox import OutgoingMail
from services.identity.domain.model import Account, Membership, Role, User
from services.identity.service_layer.ports import UserStanding


@dataclass
class MemoryData:
    accounts: dict[str, Account] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    memberships: dict[str, Membership] = field(default_factory=dict)
    reps: set[tuple[str, str]] = field(default_factory=set)
    audit: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[OutgoingMail] = field(default_factory=list)


class _Repo:
    def __init__(self, data: MemoryData) -> None:
        self.data = data


class MemoryAccountRepository(_Repo):
    def add(self, account: Account) -> None:
        self.data.accounts[account.id] = replace(account)

    def get(self, account_id: str) -> Account | None:
        a = self.data.accounts.get(account_id)
        return replace(a) if a else None


class MemoryUserRepository(_Repo):
    def add(self, user: User) -> None:
        if self.taken(user.login_normalized) or self.taken(user.email_normalized):
            raise AlreadyExists("This user ID or email address is already in use.", field="login")
        self.data.users[user.id] = replace(user)

    def get(self, user_id: str) -> User | None:
        u = self.data.users.get(user_id)
        return replace(u) if u else None

    def by_login(self, normalized: str) -> User | None:
        for attr in ("login_normalized", "email_normalized"):
            for u in self.data.users.values():
                if getattr(u, attr) == normalized:
                    return replace(u)
        return None

    def standing(self, user_id: str) -> UserStanding | None:
        return self._standing(self.get(user_id))

    def standing_by_login(self, normalized: str) -> UserStanding | None:
        return self._standing(self.by_login(normalized))

    def _standing(self, user: User | None) -> UserStanding | None:
        if user is None:
            return None
        membership = self.data.memberships.get(user.id)
        account = self.data.accounts.get(membership.account_id) if membership else None
        return UserStanding(user, membership, replace(account) if account else None)

    def taken(self, normalized: str) -> bool:
        return any(normalized in (u.login_normalized, u.email_normalized) for u in self.data.users.values())

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        self.data.users[user_id].password_hash = password_hash


class MemoryMembershipRepository(_Repo):
    def for_user(self, user_id: str) -> Membership | None:
        return self.data.memberships.get(user_id)

    def put(self, membership: Membership, now: float) -> None:
        self.data.memberships[membership.user_id] = membership

    def remove(self, user_id: str) -> None:
        self.data.memberships.pop(user_id, None)

    def users_with_role(self, account_id: str, role: Role) -> list[User]:
        found = [
            replace(self.data.users[m.user_id]) for m in self.data.memberships.values()
            if m.account_id == account_id and m.role is role
        ]
        return sorted(found, key=lambda u: (u.name, u.id))


class MemoryRepRepository(_Repo):
    def assign(self, rep_user_id: str, account_id: str, now: float) -> bool:
        if (rep_user_id, account_id) in self.data.reps:
            return False
        self.data.reps.add((rep_user_id, account_id))
        return True

    def accounts_of(self, rep_user_id: str) -> list[Account]:
        found = [replace(self.data.accounts[a]) for r, a in self.data.reps if r == rep_user_id]
        return sorted(found, key=lambda a: (a.name, a.id))


class MemoryAuditLog(_Repo):
    def record(
        self, at: float, actor: str, action: str, *, user_id: str | None = None,
        account_id: str | None = None, details: dict[str, Any] | None = None,
    ) -> None:
        self.data.audit.append(
            {"at": at, "actor": actor, "action": action, "user_id": user_id,
             "account_id": account_id, "details": dict(details or {})}
        )


class MemoryOutbox(_Repo):
    def add(self, mail: OutgoingMail, now: float) -> None:
        self.data.outbox.append(mail)


class MemoryUnitOfWork:
    """Opened by `MemoryUnitOfWork.factory(data)` the way the SQL one is opened per call."""

    def __init__(self, data: MemoryData) -> None:
        self.committed_data = data
        self.commits = 0

    @classmethod
    def factory(cls, data: MemoryData | None = None) -> Any:
        shared = data if data is not None else MemoryData()

        def make() -> MemoryUnitOfWork:
            return cls(shared)

        make.data = shared  # type: ignore[attr-defined]
        return make

    def __enter__(self) -> Self:
        self.work = copy.deepcopy(self.committed_data)
        self.accounts = MemoryAccountRepository(self.work)
        self.users = MemoryUserRepository(self.work)
        self.memberships = MemoryMembershipRepository(self.work)
        self.reps = MemoryRepRepository(self.work)
        self.audit = MemoryAuditLog(self.work)
        self.outbox = MemoryOutbox(self.work)
        return self

    def __exit__(self, *exc: object) -> None:
        self.work = MemoryData()

    def commit(self) -> None:
        for name in ("accounts", "users", "memberships", "reps", "audit", "outbox"):
            setattr(self.committed_data, name, getattr(self.work, name))
        self.commits += 1
