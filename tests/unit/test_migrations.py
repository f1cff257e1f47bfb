"""The alembic migrations build exactly the schema the models describe."""

from alembic import autogenerate
from alembic import migration as alembic_migration

from common.db import api as db_api
from common.db import migration
from common.db import registry


def test_migrations_match_models(db):
    with db_api.get_engine().connect() as conn:
        ctx = alembic_migration.MigrationContext.configure(conn)
        diff = autogenerate.compare_metadata(ctx, registry.metadata)
    # SQLite cannot tell some type details apart; anything structural shows.
    structural = [d for d in diff if d[0] in ('add_table', 'remove_table', 'add_column',
                                              'remove_column', 'add_index', 'remove_index')]
    assert structural == []
    assert migration.db_version() == migration.head()


def test_sync_is_idempotent(db):
    migration.db_sync()
    assert migration.db_version() == migration.head()
