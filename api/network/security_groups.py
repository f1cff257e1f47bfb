"""security-groups and security-group-rules."""

from api import http
from api.network import attrs
from api.network import bulk
from api.network import query
from network import notify
from network import secgroups as db
from network import state as netstate

A = attrs.Attr

GROUP_SPEC = {
    'name': attrs.NAME, 'description': attrs.DESCRIPTION,
    'project_id': attrs.PROJECT, 'tenant_id': attrs.PROJECT,
    'stateful': A(attrs.boolean), 'tags': A(attrs.tags, put=False),
}


def _port(attr, value):
    return attrs.integer(0, 65535, nullable=True)(attr, value)


def _protocol(attr, value):
    """A name or number; checked by the rule logic (network/secgroups.py)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return attrs.string(40)(attr, value)


RULE_SPEC = {
    'description': attrs.DESCRIPTION,
    'project_id': attrs.PROJECT, 'tenant_id': attrs.PROJECT,
    'security_group_id': A(attrs.uuid_str, put=False, required=True),
    'direction': A(attrs.one_of('ingress', 'egress'), put=False, required=True),
    'ethertype': A(attrs.one_of('IPv4', 'IPv6', fold=True), put=False),
    'protocol': A(_protocol, put=False),
    'port_range_min': A(_port, put=False), 'port_range_max': A(_port, put=False),
    'remote_ip_prefix': A(attrs.nullable(attrs.string(64)), put=False),
    'remote_group_id': A(attrs.nullable(attrs.uuid_str), put=False),
}


def list_groups():
    ctx = http.context()
    items = db.list_groups(ctx, ids=query.arg_list('id'), names=query.arg_list('name'))
    return query.listing('security_group', 'security_groups', items)


def show_group(group_id):
    return http.reply(query.show('security_group', db.get_group(http.context(), group_id)))


def create_group():
    ctx = http.context()
    values = attrs.parse('security_group', GROUP_SPEC)
    attrs.authorize('create_security_group', values.get('project_id') or ctx.project_id)
    return http.reply(query.show('security_group', db.create_group(ctx, values)), status=201)


def update_group(group_id):
    ctx = http.context()
    values = attrs.parse('security_group', GROUP_SPEC, put=True)
    attrs.authorize('update_security_group', db.get_group(ctx, group_id)['project_id'])
    group = db.update_group(ctx, group_id, values)
    if 'stateful' in values:
        notify.refresh_hosts(ctx, netstate.hosts_for_security_group(group_id))
    return http.reply(query.show('security_group', group))


def delete_group(group_id):
    ctx = http.context()
    attrs.authorize('delete_security_group', db.get_group(ctx, group_id)['project_id'])
    hosts = netstate.hosts_for_security_group(group_id)
    db.delete_group(ctx, group_id)
    notify.refresh_hosts(ctx, hosts)
    return http.reply(status=204)


def list_rules():
    ctx = http.context()
    items = db.list_rules(ctx, ids=query.arg_list('id'),
                          group_ids=query.arg_list('security_group_id'))
    return query.listing('security_group_rule', 'security_group_rules', items)


def show_rule(rule_id):
    return http.reply(query.show('security_group_rule', db.get_rule(http.context(), rule_id)))


def create_rule():
    return bulk.create('security_group_rule', 'security_group_rules', _create_rule,
                       delete_rule)


def _create_rule(data):
    ctx = http.context()
    values = attrs.parse('security_group_rule', RULE_SPEC, data=data)
    group = db.get_group(ctx, values['security_group_id'])
    attrs.authorize('create_security_group_rule', group['project_id'])
    rule = db.create_rule(ctx, values)
    notify.refresh_hosts(ctx, netstate.hosts_for_security_group(group['id']))
    return rule


def delete_rule(rule_id):
    ctx = http.context()
    rule = db.get_rule(ctx, rule_id)
    attrs.authorize('delete_security_group_rule', rule['project_id'])
    group_id = db.delete_rule(ctx, rule_id)
    notify.refresh_hosts(ctx, netstate.hosts_for_security_group(group_id))
    return http.reply(status=204)


ROUTES = [
    ('/v2.0/security-groups', {'GET': list_groups, 'POST': create_group}),
    ('/v2.0/security-groups/<group_id>', {'GET': show_group, 'PUT': update_group,
                                          'DELETE': delete_group}),
    ('/v2.0/security-group-rules', {'GET': list_rules, 'POST': create_rule}),
    ('/v2.0/security-group-rules/<rule_id>', {'GET': show_rule, 'DELETE': delete_rule}),
]
