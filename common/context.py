"""The request context: who asks, in which project, with which roles.

Everything below the HTTP edge takes a context as its first argument. It
travels over RPC through ``common.rpc.ContextSerializer``.
"""

from oslo_context import context as o_context


class RequestContext(o_context.RequestContext):
    """oslo.context's context plus the names our APIs render."""

    def __init__(self, user_name=None, project_name=None, audit_id=None, **kwargs):
        super().__init__(**kwargs)
        self.user_name = user_name
        self.project_name = project_name
        self.audit_id = audit_id

    @property
    def is_admin_role(self):
        return 'admin' in (self.roles or [])

    def to_dict(self):
        d = super().to_dict()
        d.update(user_name=self.user_name, project_name=self.project_name,
                 audit_id=self.audit_id)
        return d

    @classmethod
    def from_dict(cls, values, **kwargs):
        kwargs.setdefault('user_name', values.get('user_name'))
        kwargs.setdefault('project_name', values.get('project_name'))
        kwargs.setdefault('audit_id', values.get('audit_id'))
        return super().from_dict(values, **kwargs)


def get_admin_context(overwrite=False):
    """A context for a service's own work (heartbeats, periodic tasks)."""
    return RequestContext(is_admin=True, roles=['admin'], overwrite=overwrite)
