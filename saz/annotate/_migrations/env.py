"""Alembic's environment: migrations run on the connection :func:`saz.annotate.db.upgrade` passes."""

from alembic import context

from saz.annotate.db import Base

context.configure(connection=context.config.attributes["connection"], target_metadata=Base.metadata,
                  render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
