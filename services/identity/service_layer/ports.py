"""What the use cases need from the outside world; adapters implement these, fakes too."""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol, Self

from billing_common.outbox import OutgoingMail
from services.identity.domain.contacts import Handover
from services.identity.domain.model import Account, Membership, Role, User


class UserStanding(NamedTuple):
    """A user with their membership and its account (None, None for reps and non-members):
    everything that decides whether they may be signed in, read together in one query."""

    user: User
    membership: Membership | None
    account: Account | None


class AccountRepository(Protocol):
    def add(self, account: Account) -> None: ...
    def get(self, account_id: str) -> Account | None: ...
    def get_many(self, account_ids: Sequence[str]) -> list[Account]:
        """The accounts of these ids that exist, ordered by id."""
        ...


class UserRepository(Protocol):
    def add(self, user: User) -> None:
        """AlreadyExists (field login or email) when the user ID or email is taken."""

    def get(self, user_id: str) -> User | None: ...

    def by_login(self, normalized: str) -> User | None:
        """By user ID, else by email address (both lower-cased)."""

    def taken(self, normalized: str) -> bool:
        """Whether any user has this as user ID or email."""

    def standing(self, user_id: str) -> UserStanding | None:
        """The user, their membership and its account, in one round trip (every session check)."""

    def standing_by_login(self, normalized: str) -> UserStanding | None:
        """As `by_login`, with the membership and account (every sign-in)."""

    def set_password_hash(self, user_id: str, password_hash: str) -> None: ...

    def record_sign_in(self, user_id: str, at: dt.datetime) -> None:
        """Remembers the user's latest successful sign-in (the contacts list shows it)."""

    def next_session_generation(self, user_id: str) -> int:
        """Moves the user's session generation on and returns it: every session and ticket
        issued before is refused from the moment the transaction commits."""


class MembershipRepository(Protocol):
    def for_user(self, user_id: str) -> Membership | None: ...
    def put(self, membership: Membership, now: dt.datetime) -> None: ...
    def remove(self, user_id: str) -> None: ...
    def users_with_role(self, account_id: str, role: Role) -> list[User]: ...
    def users_with_role_in(self, account_ids: Sequence[str], role: Role) -> dict[str, list[User]]:
        """`users_with_role` of several accounts in one query: account id -> users by name."""
        ...

    def primary_of(self, account_id: str) -> str | None:
        """The user id of the account's primary billing contact, if one was chosen."""

    def primaries_in(self, account_ids: Sequence[str]) -> dict[str, str]:
        """`primary_of` of several accounts in one query (those that have one)."""

    def set_primary(self, account_id: str, user_id: str | None) -> None:
        """Makes `user_id` the account's only primary member (None: nobody)."""


class HandoverRepository(Protocol):
    def add(self, handover: Handover) -> None: ...

    def get(self, handover_id: str) -> Handover | None: ...

    def update(self, handover: Handover) -> None:
        """Stores the decision (status, decided_at, decided_by, new_user_id)."""

    def pending(self, account_ids: Sequence[str]) -> list[Handover]:
        """The stored-as-pending proposals of these accounts (expired ones included: the caller
        judges expiry by its clock), oldest first."""


class RepRepository(Protocol):
    def assign(self, rep_user_id: str, account_id: str, now: dt.datetime) -> bool:
        """False when already assigned."""

    def accounts_of(self, rep_user_id: str) -> list[Account]: ...

    def reps_of(self, account_id: str) -> list[User]:
        """The reps who serve the account, by name."""

    def reps_in(self, account_ids: Sequence[str]) -> dict[str, list[User]]:
        """`reps_of` of many accounts in one query: accounts with no rep are left out."""


class AuditLog(Protocol):
    """Who changed what. `actor` is the person (a user id, or whom an operator command names);
    the adapters add the calling service of the call in progress (service_auth.caller_var)."""

    def record(
        self, at: dt.datetime, actor: str, action: str, *, user_id: str | None = None,
        account_id: str | None = None, details: dict[str, Any] | None = None,
    ) -> None: ...


class PendingReset(NamedTuple):
    """A Reset/Create request accepted and not yet handled (looked up, limited, mailed)."""

    id: str
    login: str
    portal: str
    client_address: str
    requested_at: dt.datetime


class ResetRequestQueue(Protocol):
    """Accepted reset requests, kept in the database until handled (nothing accepted is lost)."""

    def add(self, request: PendingReset) -> None: ...

    def count(self) -> int: ...

    def oldest(self, limit: int) -> list[str]:
        """The ids of up to `limit` requests, oldest first."""

    def claim(self, request_id: str) -> PendingReset | None:
        """The request, locked for this unit of work (None when another has it or it is gone)."""

    def remove(self, request_id: str) -> None: ...


class Outbox(Protocol):
    def add(self, mail: OutgoingMail, at: dt.datetime) -> None: ...


# Times given to the SQL ports, the outbox among them, are aware UTC datetimes (the clock's
# epoch through billing_common.clock.utc); the key-value store keeps epoch seconds.


class UnitOfWork(Protocol):
    accounts: AccountRepository
    users: UserRepository
    memberships: MembershipRepository
    reps: RepRepository
    audit: AuditLog
    outbox: Outbox
    reset_requests: ResetRequestQueue
    handovers: HandoverRepository

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...


class KeyValueStore(Protocol):
    """Short-lived state (sessions, tickets, reset tokens, rate-limit events), in Redis.

    Expiry is the caller's business: values carry the injected clock's timestamps and the
    use cases judge them; `ttl` only lets the store clean up (so a test can move a FakeClock
    even against a real Redis).
    """

    def ping(self) -> None:
        """Raises when the store cannot be reached (the readiness check)."""

    def put(self, key: str, value: dict[str, Any], ttl: float) -> None: ...
    def get(self, key: str) -> dict[str, Any] | None: ...
    def get_many(self, *keys: str) -> list[dict[str, Any] | None]:
        """Several values in one round trip, None for each missing one."""

    def put_with_member(
        self, key: str, value: dict[str, Any], ttl: float, set_key: str, member: str, set_ttl: float,
        delete: tuple[str, ...] = (),
    ) -> None:
        """`delete(*delete)`, `put` and `set_add` in one round trip (a new session, its user's
        index, and the failed sign-ins it makes void)."""

    def touch_session(
        self, key: str, portal: str, now: float, idle_timeout: float, absolute_timeout: float
    ) -> dict[str, Any] | None:
        """Atomically, in one round trip: the session at `key` with its last_seen_at moved to
        `now` and its clean-up TTL renewed, provided it exists, was issued at `portal`, and at
        `now` (the caller's clock) is neither `idle_timeout` past last_seen_at nor
        `absolute_timeout` past authenticated_at. A session past either is deleted; one issued
        at another portal is left alone. None in every case but the first."""

    def restamp_session(self, key: str, generation: int) -> bool:
        """Atomically: the session at `key`, if it still exists, carries `generation` from now
        on (its times and expiry unchanged). False when there is no such session."""

    def take(self, key: str) -> dict[str, Any] | None:
        """Get and delete atomically: only one caller can use a single-use token."""

    def delete(self, *keys: str) -> None: ...
    def set_add(self, key: str, member: str, ttl: float) -> None: ...
    def set_remove(self, key: str, *members: str) -> None: ...
    def set_members(self, key: str) -> set[str]: ...
    def record_event(self, key: str, at: float, window: float) -> None:
        """Remember an event at `at`; events older than `window` may be forgotten."""

    def events(self, key: str, since: float) -> list[float]:
        """Timestamps of the events at or after `since`, oldest first."""

    def clear_events(self, key: str) -> None: ...

    def admit_attempt(
        self, budgets: Sequence[tuple[str, int]], at: float, window: float, delays: Sequence[float], attempt: str
    ) -> float:
        """Check and count one attempt in a single atomic step, so that parallel attempts
        cannot overrun a budget.

        Each budget is (key, limit): the attempts recorded under `key` at or after
        `at - window` are counted; a budget holding n >= limit of them, the newest at t, asks to
        wait until t + delays[min(n - limit, len(delays) - 1)]. When no budget asks to wait past
        `at`, `attempt` (a unique name) is recorded at `at` under every key, attempts older than
        the window are forgotten, and the answer is 0. Otherwise nothing is recorded and the
        answer is the longest wait, in seconds."""

    def forget_attempt(self, attempt: str, *keys: str, clear: tuple[str, ...] = ()) -> None:
        """Take back one admitted attempt from the budgets `keys` (it turned out to be no
        failure) and delete the budgets `clear`, in one round trip."""


class PasswordHasher(Protocol):
    """hash and verify raise billing_common.errors.Unavailable when too many are queued, and
    DeadlineExceeded when the call's deadline passes before their turn (nothing computed)."""

    def hash(self, password: str) -> str: ...
    def verify(self, password_hash: str, password: str) -> bool: ...
    def needs_rehash(self, password_hash: str) -> bool: ...

    @property
    def dummy_hash(self) -> str:
        """A hash of a random password with the current parameters, verified for unknown
        user IDs so they cost the same time as known ones (S3)."""
