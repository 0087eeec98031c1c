"""identity's tables (SQLAlchemy Core). Alembic's migrations must match this metadata;
tests/integration/identity/test_identity_sql.py and test_identity_migrations.py compare them.

Times are timezone-aware UTC datetimes (billing_common.db.to_utc / aware_utc), as in the other
services and in the mail outbox, the same table in every service (billing_common.outbox).
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text, false

from billing_common.db import NAMING
from billing_common.outbox import outbox_table

metadata = MetaData(naming_convention=NAMING)

accounts = Table(
    "accounts",
    metadata,
    Column("id", String(36), primary_key=True),
    # Wider than billing_common.limits.MAX_NAME (100), which is what identity accepts: the room
    # lets the limit grow without a migration.
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("login", String(254), nullable=False),
    # Lower-cased copies: user IDs and emails are unique and looked up case-insensitively.
    Column("login_normalized", String(254), nullable=False, unique=True),
    Column("email", String(254), nullable=False),
    Column("email_normalized", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),  # as accounts.name
    Column("locale", String(16), nullable=False),
    Column("password_hash", String(255)),
    Column("staff", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # domain.model.User.session_generation (migration 0004).
    Column("session_generation", Integer, nullable=False, server_default="0"),
    # The last successful sign-in (migration 0007): the billing contacts list shows it.
    Column("last_sign_in_at", DateTime(timezone=True)),
)

# The primary key on user_id is the "one account per user" rule.
memberships = Table(
    "memberships",
    metadata,
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", String(36), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # The primary billing contact, whom invoices are addressed to (migration 0007); at most one
    # per account, kept by the use cases (one UPDATE sets it on one row and off on the others).
    Column("is_primary", Boolean, nullable=False, server_default=false()),
)

rep_accounts = Table(
    "rep_accounts",
    metadata,
    Column("rep_user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", String(36), ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    # The person acting: a user id, or the person an operator command names.
    Column("actor", String(64), nullable=False),
    # The calling service (billing_common.service_auth: billing-center-web, operator...); NULL in
    # rows written before migration 0004.
    Column("caller", String(64)),
    Column("action", String(64), nullable=False),
    Column("user_id", String(36), index=True),
    Column("account_id", String(36), index=True),
    # JSON; never a password, token or link (S25).
    Column("details", Text, nullable=False),
)

# Reset/Create requests accepted but not yet looked up and mailed (S7: the answer goes back
# before the lookup). Written in the request's own transaction, deleted in the transaction that
# mails the link (or decides not to), so an accepted request survives a restart or an outage.
reset_requests = Table(
    "reset_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("login", String(254), nullable=False),
    Column("portal", String(32), nullable=False),
    Column("client_address", String(64), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False, index=True),
)

# Proposals that a new person replace a billing contact (migration 0007,
# domain/contacts.Handover): applied when another contact or the account's rep approves.
handovers = Table(
    "handovers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(36), ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("proposer_id", String(36), nullable=False),
    Column("replaced_user_id", String(36), nullable=False),
    Column("new_login", String(254), nullable=False),
    Column("new_email", String(254), nullable=False),
    Column("new_name", String(200), nullable=False),
    Column("new_locale", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(36)),
    Column("new_user_id", String(36)),
    # The pending ones of an account (its contacts page, a rep's approvals) in one index.
    Index("ix_handovers_account_id_status", "account_id", "status"),
)

outbox = outbox_table(metadata)
