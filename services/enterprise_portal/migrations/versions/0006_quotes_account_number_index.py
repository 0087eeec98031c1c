"""The quotes list pages by keyset: an index on (account_id, number) replaces (account_id).

Revision ID: 0006_quotes_account_number_index
Revises: 0005_outbox_deferred_mails
Create Date: 2026-12-04

The contact's quotes list is the account's quotes newest number first, 20 a page: with this
index the database walks them in that order and stops at the page's end, instead of reading and
sorting every quote of the account (README, "Performance"). It also serves everything the old
index did (its first column is account_id).
"""
from alembic import op

revision = "0006_quotes_account_number_index"
down_revision = "0005_outbox_deferred_mails"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_quotes_account_id_number", "quotes", ["account_id", "number"])
    op.drop_index("ix_quotes_account_id", table_name="quotes")


def downgrade() -> None:
    op.create_index("ix_quotes_account_id", "quotes", ["account_id"])
    op.drop_index("ix_quotes_account_id_number", table_name="quotes")
