"""In-memory twins of the SQL unit of work and repositories, and of the Redis store, for unit tests.

A unit of work works on a copy of the data and publishes it on commit, so a use case that
fails half-way leaves nothing behind, as with the real transaction.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from billing_common.errors import AlreadyExists
from billing_common.memory import BaseInMemoryUnitOfWork
from billing_common.outbox import OutgoingMail
from billing_common.service_auth import caller_var
from services.identity.domain.contacts import Handover, HandoverStatus
from services.identity.domain.model import Account, Membership, Role, User
from services.identity.service_layer.ports import PendingReset, UserStanding


@dataclass
class InMemoryData:
    accounts: dict[str, Account] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    memberships: dict[str, Membership] = field(default_factory=dict)
    reps: set[tuple[str, str]] = field(default_factory=set)
    audit: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[OutgoingMail] = field(default_factory=list)
    reset_requests: dict[str, PendingReset] = field(default_factory=dict)
    primary: dict[str, str] = field(default_factory=dict)  # account id -> user id
    handovers: dict[str, Handover] = field(default_factory=dict)


class _Repo:
    def __init__(self, data: InMemoryData) -> None:
        self.data = data


class InMemoryAccountRepository(_Repo):
    def add(self, account: Account) -> None:
        self.data.accounts[account.id] = replace(account)

    def get(self, account_id: str) -> Account | None:
        a = self.data.accounts.get(account_id)
        return replace(a) if a else None

    def get_many(self, account_ids: Sequence[str]) -> list[Account]:
        return [replace(self.data.accounts[i]) for i in sorted(set(account_ids)) if i in self.data.accounts]


class InMemoryUserRepository(_Repo):
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

    def record_sign_in(self, user_id: str, at: dt.datetime) -> None:
        self.data.users[user_id].last_sign_in_at = at

    def next_session_generation(self, user_id: str) -> int:
        user = self.data.users[user_id]
        user.session_generation += 1
        return user.session_generation


class InMemoryMembershipRepository(_Repo):
    def for_user(self, user_id: str) -> Membership | None:
        return self.data.memberships.get(user_id)

    def put(self, membership: Membership, now: dt.datetime) -> None:
        self.data.memberships[membership.user_id] = membership

    def remove(self, user_id: str) -> None:
        removed = self.data.memberships.pop(user_id, None)
        # As the SQL row's flag goes with the row.
        if removed is not None and self.data.primary.get(removed.account_id) == user_id:
            del self.data.primary[removed.account_id]

    def users_with_role(self, account_id: str, role: Role) -> list[User]:
        found = [
            replace(self.data.users[m.user_id]) for m in self.data.memberships.values()
            if m.account_id == account_id and m.role is role
        ]
        return sorted(found, key=lambda u: (u.name, u.id))

    def users_with_role_in(self, account_ids: Sequence[str], role: Role) -> dict[str, list[User]]:
        found = {a: self.users_with_role(a, role) for a in set(account_ids)}
        return {a: users for a, users in found.items() if users}

    def primary_of(self, account_id: str) -> str | None:
        return self.data.primary.get(account_id)

    def primaries_in(self, account_ids: Sequence[str]) -> dict[str, str]:
        return {a: u for a, u in self.data.primary.items() if a in account_ids}

    def set_primary(self, account_id: str, user_id: str | None) -> None:
        member = self.data.memberships.get(user_id or "")
        if member is not None and member.account_id == account_id:
            self.data.primary[account_id] = member.user_id
        else:
            self.data.primary.pop(account_id, None)


class InMemoryHandoverRepository(_Repo):
    def add(self, handover: Handover) -> None:
        self.data.handovers[handover.id] = replace(handover)

    def get(self, handover_id: str) -> Handover | None:
        h = self.data.handovers.get(handover_id)
        return replace(h) if h else None

    def update(self, handover: Handover) -> None:
        if handover.id in self.data.handovers:
            self.data.handovers[handover.id] = replace(handover)

    def pending(self, account_ids: Sequence[str]) -> list[Handover]:
        found = [replace(h) for h in self.data.handovers.values()
                 if h.account_id in account_ids and h.status is HandoverStatus.PENDING]
        return sorted(found, key=lambda h: (h.proposed_at, h.id))


class InMemoryRepRepository(_Repo):
    def assign(self, rep_user_id: str, account_id: str, now: dt.datetime) -> bool:
        if (rep_user_id, account_id) in self.data.reps:
            return False
        self.data.reps.add((rep_user_id, account_id))
        return True

    def accounts_of(self, rep_user_id: str) -> list[Account]:
        found = [replace(self.data.accounts[a]) for r, a in self.data.reps if r == rep_user_id]
        return sorted(found, key=lambda a: (a.name, a.id))

    def reps_of(self, account_id: str) -> list[User]:
        found = [replace(self.data.users[r]) for r, a in self.data.reps if a == account_id]
        return sorted(found, key=lambda u: (u.name, u.id))

    def reps_in(self, account_ids: Sequence[str]) -> dict[str, list[User]]:
        return {a: reps for a in dict.fromkeys(account_ids) if (reps := self.reps_of(a))}


class InMemoryAuditLog(_Repo):
    def record(
        self, at: dt.datetime, actor: str, action: str, *, user_id: str | None = None,
        account_id: str | None = None, details: dict[str, Any] | None = None,
    ) -> None:
        self.data.audit.append(
            {"at": at, "actor": actor, "caller": caller_var.get() or None, "action": action, "user_id": user_id,
             "account_id": account_id, "details": dict(details or {})}
        )


class InMemoryOutbox(_Repo):
    def add(self, mail: OutgoingMail, at: dt.datetime) -> None:
        self.data.outbox.append(mail)


class InMemoryResetRequests(_Repo):
    def add(self, request: PendingReset) -> None:
        self.data.reset_requests[request.id] = request

    def count(self) -> int:
        return len(self.data.reset_requests)

    def oldest(self, limit: int) -> list[str]:
        ordered = sorted(self.data.reset_requests.values(), key=lambda r: r.requested_at)
        return [r.id for r in ordered[:limit]]

    def claim(self, request_id: str) -> PendingReset | None:
        return self.data.reset_requests.get(request_id)

    def remove(self, request_id: str) -> None:
        self.data.reset_requests.pop(request_id, None)


class InMemoryUnitOfWork(BaseInMemoryUnitOfWork):
    """Opened by `InMemoryUnitOfWork.factory(data)` the way the SQL one is opened per call."""

    def __init__(self, data: InMemoryData) -> None:
        super().__init__()
        self.committed_data = data

    @classmethod
    def factory(cls, data: InMemoryData | None = None) -> Any:
        shared = data if data is not None else InMemoryData()

        def make() -> InMemoryUnitOfWork:
            return cls(shared)

        make.data = shared  # type: ignore[attr-defined]
        return make

    def _begin(self) -> None:
        self.work = copy.deepcopy(self.committed_data)
        self.accounts = InMemoryAccountRepository(self.work)
        self.users = InMemoryUserRepository(self.work)
        self.memberships = InMemoryMembershipRepository(self.work)
        self.reps = InMemoryRepRepository(self.work)
        self.audit = InMemoryAuditLog(self.work)
        self.outbox = InMemoryOutbox(self.work)
        self.reset_requests = InMemoryResetRequests(self.work)
        self.handovers = InMemoryHandoverRepository(self.work)

    def _end(self) -> None:
        self.work = InMemoryData()

    def _publish(self) -> None:
        for name in ("accounts", "users", "memberships", "reps", "audit", "outbox", "reset_requests", "primary",
                     "handovers"):
            setattr(self.committed_data, name, getattr(self.work, name))


class InMemoryStore:
    """RedisStore's interface over dicts. TTLs are ignored: the use cases judge expiry anyway."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.sets: dict[str, set[str]] = {}
        # A sorted set: member -> score.
        self.zsets: dict[str, dict[str, float]] = {}
        self.lock = threading.Lock()

    def ping(self) -> None:
        pass

    def put(self, key: str, value: dict[str, Any], ttl: float) -> None:
        self.values[key] = json.dumps(value)

    def get(self, key: str) -> dict[str, Any] | None:
        raw = self.values.get(key)
        return json.loads(raw) if raw is not None else None

    def get_many(self, *keys: str) -> list[dict[str, Any] | None]:
        return [self.get(key) for key in keys]

    def put_with_member(
        self, key: str, value: dict[str, Any], ttl: float, set_key: str, member: str, set_ttl: float,
        delete: tuple[str, ...] = (),
    ) -> None:
        self.delete(*delete)
        self.put(key, value, ttl)
        self.set_add(set_key, member, set_ttl)

    def touch_session(
        self, key: str, portal: str, now: float, idle_timeout: float, absolute_timeout: float
    ) -> dict[str, Any] | None:
        # The same rules as RedisStore's script, under the lock as the script is atomic.
        with self.lock:
            raw = self.values.get(key)
            if raw is None:
                return None
            session = json.loads(raw)
            if session.get("portal") != portal:
                return None
            if (now >= session["last_seen_at"] + idle_timeout
                    or now >= session["authenticated_at"] + absolute_timeout):
                del self.values[key]
                return None
            session["last_seen_at"] = now
            self.values[key] = json.dumps(session)
            return session

    def restamp_session(self, key: str, generation: int) -> bool:
        with self.lock:
            raw = self.values.get(key)
            if raw is None:
                return False
            session = json.loads(raw)
            if "generation" not in session:
                return False
            session["generation"] = generation
            self.values[key] = json.dumps(session)
            return True

    def take(self, key: str) -> dict[str, Any] | None:
        with self.lock:
            raw = self.values.pop(key, None)
        return json.loads(raw) if raw is not None else None

    def delete(self, *keys: str) -> None:
        for key in keys:
            self.values.pop(key, None)
            self.sets.pop(key, None)
            self.zsets.pop(key, None)

    def set_add(self, key: str, member: str, ttl: float) -> None:
        self.sets.setdefault(key, set()).add(member)

    def set_remove(self, key: str, *members: str) -> None:
        self.sets.get(key, set()).difference_update(members)

    def set_members(self, key: str) -> set[str]:
        return set(self.sets.get(key, set()))

    def record_event(self, key: str, at: float, window: float) -> None:
        with self.lock:
            events = {m: t for m, t in self.zsets.get(key, {}).items() if t >= at - window}
            events[f"{at!r}:{uuid.uuid4().hex[:8]}"] = at
            self.zsets[key] = events

    def events(self, key: str, since: float) -> list[float]:
        return sorted(t for t in self.zsets.get(key, {}).values() if t >= since)

    def clear_events(self, key: str) -> None:
        self.zsets.pop(key, None)

    def admit_attempt(
        self, budgets: Sequence[tuple[str, int]], at: float, window: float, delays: Sequence[float], attempt: str
    ) -> float:
        # The same rule as RedisStore's script, under the lock as the script is atomic.
        if budgets and not delays:
            raise ValueError("admit_attempt needs at least one delay")
        with self.lock:
            wait = 0.0
            for key, limit in budgets:
                times = [t for t in self.zsets.get(key, {}).values() if t >= at - window]
                if len(times) >= limit:
                    delay = delays[min(len(times) - limit, len(delays) - 1)]
                    wait = max(wait, max(self.zsets[key].values()) + delay - at)
            if wait > 0:
                return wait
            for key, _limit in budgets:
                kept = {m: t for m, t in self.zsets.get(key, {}).items() if t >= at - window}
                kept[attempt] = at
                self.zsets[key] = kept
            return 0.0

    def forget_attempt(self, attempt: str, *keys: str, clear: tuple[str, ...] = ()) -> None:
        with self.lock:
            for key in keys:
                self.zsets.get(key, {}).pop(attempt, None)
        self.delete(*clear)

    def close(self) -> None:
        pass
