"""The SQL unit of work: one transaction, identity's SQL repositories on its connection."""
from __future__ import annotations

from sqlalchemy import Connection

from billing_common.db import SqlUnitOfWork
from services.identity.adapters.repository import (
    SqlAccountRepository,
    SqlAuditLog,
    SqlHandoverRepository,
    SqlMembershipRepository,
    SqlOutbox,
    SqlRepRepository,
    SqlResetRequests,
    SqlUserRepository,
)


class SqlIdentityUnitOfWork(SqlUnitOfWork):
    """One transaction over the identity database with every repository attached."""

    accounts: SqlAccountRepository
    users: SqlUserRepository
    memberships: SqlMembershipRepository
    reps: SqlRepRepository
    audit: SqlAuditLog
    outbox: SqlOutbox
    reset_requests: SqlResetRequests
    handovers: SqlHandoverRepository

    def _open(self, connection: Connection) -> None:
        self.accounts = SqlAccountRepository(connection)
        self.users = SqlUserRepository(connection)
        self.memberships = SqlMembershipRepository(connection)
        self.reps = SqlRepRepository(connection)
        self.audit = SqlAuditLog(connection)
        self.outbox = SqlOutbox(connection)
        self.reset_requests = SqlResetRequests(connection)
        self.handovers = SqlHandoverRepository(connection)
