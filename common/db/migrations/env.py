"""Alembic environment: runs on the connection common.db.migration hands it."""

from alembic import context

from common.db import registry

config = context.config
connection = config.attributes.get('connection')
context.configure(connection=connection, target_metadata=registry.metadata,
                  render_as_batch=connection.dialect.name == 'sqlite')
with context.begin_transaction():
    context.run_migrations()
