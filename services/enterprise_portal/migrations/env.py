"""Alembic environment of enterprise_portal (run through billing_common.db.run_migrations)."""
from alembic import context

from billing_common.db import run_alembic_env
from services.enterprise_portal.adapters.orm import metadata

run_alembic_env(context, metadata)
