"""The mail outbox's times as UTC datetimes instead of float epochs.

Revision ID: 0003_outbox_datetimes
Revises: 0002_datetimes_and_names
Create Date: 2026-12-01

As 0002 did for identity's other tables. The step itself is
billing_common.outbox_migration_datetimes, shared by the three services whose databases hold
the same outbox table.
"""
from billing_common import outbox_migration_datetimes as step

revision = "0003_outbox_datetimes"
down_revision = "0002_datetimes_and_names"
branch_labels = None
depends_on = None


def upgrade() -> None:
    step.upgrade()


def downgrade() -> None:
    step.downgrade()
