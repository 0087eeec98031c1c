"""The mail outbox's times as UTC datetimes instead of float epochs.

Revision ID: 0002_outbox_datetimes
Revises: 0001
Create Date: 2026-12-01

The step itself is billing_common.outbox_migration_datetimes, shared by the three services
whose databases hold the same outbox table.
"""
from billing_common import outbox_migration_datetimes as step

revision = "0002_outbox_datetimes"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    step.upgrade()


def downgrade() -> None:
    step.downgrade()
