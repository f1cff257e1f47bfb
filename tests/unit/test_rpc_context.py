from common import context
from common import rpc


def test_context_survives_the_bus():
    ctx = context.RequestContext(user_id='u', project_id='p', roles=['member'],
                                 user_name='alice', project_name='demo',
                                 request_id='req-1', audit_id='a1')
    ser = rpc.ContextSerializer()
    back = ser.deserialize_context(ser.serialize_context(ctx))
    assert isinstance(back, context.RequestContext)
    assert (back.user_id, back.project_id, back.roles, back.user_name, back.project_name,
            back.request_id, back.audit_id) == ('u', 'p', ['member'], 'alice', 'demo',
                                                'req-1', 'a1')


def test_admin_context():
    ctx = context.get_admin_context()
    assert ctx.is_admin and ctx.is_admin_role
