"""The layout of identity's key-value store (Redis): every key name, in one place.

The store (adapters/store.py) is a generic key-value port and adds the deployment's prefix
(IDENTITY_REDIS_PREFIX); which key holds what is the use cases' decision, so the names live in
the service layer. Tokens appear only as SHA-256 digests (S6, S9): a copy of Redis holds no
usable session, ticket or link. Changing a name here orphans the live keys of the old name
(signs everybody out, voids links); that is the only migration Redis needs.
"""
from __future__ import annotations


def session(digest: str) -> str:
    """A session: user, portal, authenticated_at, last_seen_at (epoch seconds)."""
    return f"session:{digest}"


def user_sessions(user_id: str) -> str:
    """The set of a user's session digests, so a reset or removal can end them all (S5)."""
    return f"user-sessions:{user_id}"


def handoff_ticket(digest: str) -> str:
    """A single-use hand-off ticket to one portal."""
    return f"handoff:{digest}"


def reset_link(digest: str) -> str:
    """A Reset/Create your password link: user and issued_at (S6)."""
    return f"reset:{digest}"


def current_reset_link(user_id: str) -> str:
    """The digest of a user's newest link: only that one is live (S6)."""
    return f"reset-current:{user_id}"


# --- rate limits (sorted sets of event times) and sign-in budgets ----------------------------
# A sign-in budget counts attempts when they are admitted (a success takes its own back), so
# checking and counting are one step (adapters/store.py's admit_attempt).

def login_failures_of_user(user_id: str) -> str:
    """Sign-ins of a user from clients without their device token: every alias (user name,
    email) shares it (S4)."""
    return f"rl:login-fail:user:{user_id}"


def login_failures_of_unknown(login_digest: str) -> str:
    """Failed sign-ins with a user ID nobody has, by the digest of the ID as typed."""
    return f"rl:login-fail:login:{login_digest}"


def login_failures_of_address(address_group: str) -> str:
    """Sign-ins from clients without a device token, by address (an IPv6 /64 counts as one)."""
    return f"rl:login-fail:addr:{address_group}"


def login_failures_of_device(token_digest: str) -> str:
    """Sign-ins with one device token: the budget of a browser that signed in before (S4)."""
    return f"rl:login-fail:device:{token_digest}"


def reset_requests_of_user(user_id: str) -> str:
    return f"rl:reset:user:{user_id}"


def reset_requests_of_address(client_address: str) -> str:
    return f"rl:reset:addr:{client_address}"


def contact_admin_by_user(user_id: str) -> str:
    return f"rl:contact-admin:user:{user_id}"


def customer_care_by_address(client_address: str) -> str:
    # Callers without an address share one counter rather than escaping the limit.
    return f"rl:care:addr:{client_address or 'unknown'}"
