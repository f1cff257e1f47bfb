"""Finding the Neutron records a caller may see, in one place.

A project sees its own rows (networks also the shared and external ones:
networks.visible); an admin sees all. A row of another project is as
missing as one that does not exist: the same NotFound, so ids tell
nothing.
"""

import sqlalchemy as sa


def is_admin(ctx):
    return bool(getattr(ctx, 'is_admin', False) or 'admin' in (ctx.roles or []))


def visible(ctx, model):
    """SQL condition: the rows of ``model`` (it has a project_id) ``ctx`` may see."""
    return sa.true() if is_admin(ctx) else model.project_id == ctx.project_id


def first(s, query, not_found):
    """The first row ``query`` selects (the entity itself when it selects
    one, else a tuple), or raise ``not_found`` (an error instance)."""
    row = s.execute(query).first()
    if row is None:
        raise not_found
    return row[0] if len(row) == 1 else tuple(row)


def find(s, ctx, model, row_id, not_found):
    """The ``model`` row ``row_id`` that ``ctx`` may see, or raise ``not_found``."""
    return first(s, sa.select(model).where(model.id == str(row_id), visible(ctx, model)),
                 not_found)
