"""Alembic environment of the identity database (run through billing_common.db.run_migrations)."""
from alembic import context

from billing_common.db import run_alembic_env
from services.identity.adapters.orm import metadata

run_alembic_env(context, metadata)
