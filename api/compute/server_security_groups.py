"""GET /servers/{id}/os-security-groups: the security groups of a server's
ports in Nova's own shape (Nova answers it from Neutron at every
microversion): each group with its id, name, description and tenant_id,
and its ingress rules as Nova shows them (ip_protocol, from_port/to_port,
an ip_range or the remote group, parent_group_id). Egress rules are not
shown: Nova's format has no direction."""

from api import http
from api.compute import servers
from network import ports
from network import secgroups

_ANY_PORT = {'tcp': (1, 65535), 'udp': (1, 65535)}


def _rule(rule, names):
    protocol = rule['protocol']
    lo, hi = rule['port_range_min'], rule['port_range_max']
    if protocol and lo is None and hi is None:
        lo, hi = _ANY_PORT.get(str(protocol).lower(), (-1, -1))
    out = {'id': rule['id'], 'parent_group_id': rule['security_group_id'],
           'ip_protocol': protocol, 'from_port': lo, 'to_port': hi,
           'group': {}, 'ip_range': {}}
    remote = rule['remote_group_id']
    if remote:
        name, tenant = names.get(remote, (None, None))
        out['group'] = {'name': name, 'tenant_id': tenant}
    else:
        default = '::/0' if rule['ethertype'] == 'IPv6' else '0.0.0.0/0'
        out['ip_range'] = {'cidr': rule['remote_ip_prefix'] or default}
    return out


def _group(group, names):
    return {'id': group['id'], 'name': group['name'], 'description': group['description'],
            'tenant_id': group['tenant_id'],
            'rules': [_rule(r, names) for r in group['security_group_rules']
                      if r['direction'] == 'ingress']}


def index(server_id):
    ctx = http.context()
    inst = servers.get_instance(ctx, server_id, rule='os-security-groups:list')
    ids = ports.security_group_ids(inst.uuid)
    groups = secgroups.list_groups(ctx, ids=ids) if ids else []
    remote_ids = {r['remote_group_id'] for g in groups for r in g['security_group_rules']
                  if r['remote_group_id']}
    known = {g['id']: g for g in groups}
    missing = sorted(remote_ids - set(known))
    for g in secgroups.list_groups(ctx, ids=missing) if missing else []:
        known[g['id']] = g
    names = {gid: (g['name'], g['tenant_id']) for gid, g in known.items()}
    return http.reply({'security_groups': [_group(g, names) for g in groups]})


ROUTES = [
    ('/v2.1/servers/<server_id>/os-security-groups', {'GET': index}),
]
