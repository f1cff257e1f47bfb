"""Security groups and their rules.

Every project has a group named 'default', made the first time it is
needed (a group list, a port, a server), with Neutron's default rules:
all egress, and ingress from members of the same group. Other new groups
start with the two egress rules. A project sees its own groups; admins
see all.
"""

import ipaddress

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from common import exception
from common.db import api as db_api
from common.db import network_models as nm
from common.db.models import utcnow
from network import exception as ne
from network import lookup
from network import networks
from network import quota as netquota

SG, R = nm.SecurityGroup, nm.SecurityGroupRule

# IANA protocol numbers of the names Neutron accepts in a rule.
PROTOCOLS = {
    'ah': 51, 'dccp': 33, 'egp': 8, 'esp': 50, 'gre': 47, 'hopopt': 0, 'icmp': 1,
    'igmp': 2, 'ipip': 4, 'ipv6-encap': 41, 'ipv6-frag': 44, 'ipv6-icmp': 58,
    'icmpv6': 58, 'ipv6-nonxt': 59, 'ipv6-opts': 60, 'ipv6-route': 43, 'ospf': 89,
    'pgm': 113, 'rsvp': 46, 'sctp': 132, 'tcp': 6, 'udp': 17, 'udplite': 136, 'vrrp': 112,
}
_PORT_PROTOCOLS = {6, 17, 33, 132, 136}
_ICMP = {1, 58}
_IPV6_ONLY = {41, 44, 58, 59, 60, 43}
_AGENT_NAMES = {1: 'icmp', 6: 'tcp', 17: 'udp'}


def protocol_number(protocol):
    if protocol is None:
        return None
    return int(protocol) if protocol.isdigit() else PROTOCOLS[protocol]


def agent_protocol(protocol):
    """What a host applies: None, 'tcp', 'udp', 'icmp' or the number as text."""
    num = protocol_number(protocol)
    if num is None:
        return None
    return _AGENT_NAMES.get(num, str(num))


# --- views -------------------------------------------------------------------

def normalized_cidr(prefix):
    return str(ipaddress.ip_network(prefix, strict=False)) if prefix else None


def rule_dict(r):
    return {
        'id': r.id, 'tenant_id': r.project_id, 'project_id': r.project_id,
        'security_group_id': r.security_group_id, 'direction': r.direction,
        'ethertype': r.ethertype, 'protocol': r.protocol,
        'port_range_min': r.port_range_min, 'port_range_max': r.port_range_max,
        'remote_ip_prefix': r.remote_ip_prefix,
        'normalized_cidr': normalized_cidr(r.remote_ip_prefix),
        # no remote_address_group_id: address groups (the extension
        # security-groups-remote-address-group) are not offered
        'remote_group_id': r.remote_group_id,
        'description': r.description, 'created_at': nm.iso(r.created_at),
        'updated_at': nm.iso(r.updated_at), 'revision_number': r.revision_number,
    }


def group_dict(g, rules):
    return {
        'id': g.id, 'name': g.name, 'tenant_id': g.project_id, 'project_id': g.project_id,
        'description': g.description, 'stateful': g.stateful, 'shared': False,
        'security_group_rules': [rule_dict(r) for r in rules], 'tags': list(g.tags or []),
        'created_at': nm.iso(g.created_at), 'updated_at': nm.iso(g.updated_at),
        'revision_number': g.revision_number,
    }


def _rules_of(s, group_ids):
    out = {g: [] for g in group_ids}
    if group_ids:
        for r in s.scalars(sa.select(R).where(R.security_group_id.in_(group_ids)).order_by(
                R.created_at, R.id)):
            out[r.security_group_id].append(r)
    return out


# --- the default group -------------------------------------------------------

def _add_rule(s, group, project_id, direction, ethertype, remote_group_id=None, now=None):
    now = now or utcnow()
    s.add(R(id=networks.new_id(), security_group_id=group.id, project_id=project_id,
            direction=direction, ethertype=ethertype, protocol=None, port_range_min=None,
            port_range_max=None, remote_ip_prefix=None, remote_group_id=remote_group_id,
            description='', revision_number=0, created_at=now, updated_at=now))


def _new_group(s, project_id, name, description, stateful=True, tags=None, default=False):
    now = utcnow()
    group = SG(id=networks.new_id(), project_id=project_id, name=name,
               description=description, stateful=stateful, tags=list(tags or []),
               revision_number=1, created_at=now, updated_at=now)
    s.add(group)
    s.flush()
    for ethertype in ('IPv4', 'IPv6'):
        _add_rule(s, group, project_id, 'egress', ethertype, now=now)
    if default:
        for ethertype in ('IPv4', 'IPv6'):
            _add_rule(s, group, project_id, 'ingress', ethertype, remote_group_id=group.id,
                      now=now)
    s.flush()
    return group


def default_group(s, project_id):
    """The project's default group, made now if missing (in session ``s``)."""
    row = s.get(nm.DefaultSecurityGroup, project_id)
    if row is not None:
        return s.get(SG, row.security_group_id)
    group = _new_group(s, project_id, 'default', 'Default security group', default=True)
    s.add(nm.DefaultSecurityGroup(project_id=project_id, security_group_id=group.id))
    s.flush()
    return group


def ensure_default(project_id):
    """Make the project's default group if it has none (own transaction)."""
    if not project_id:
        return
    with db_api.reader() as s:
        if s.get(nm.DefaultSecurityGroup, project_id) is not None:
            return
    try:
        with db_api.session() as s:
            default_group(s, project_id)
    except sa_exc.IntegrityError:
        pass  # a concurrent request made it


def _is_default(s, group):
    row = s.get(nm.DefaultSecurityGroup, group.project_id)
    return row is not None and row.security_group_id == group.id


# --- groups ------------------------------------------------------------------

def find_group(s, ctx, group_id):
    return lookup.find(s, ctx, SG, group_id, ne.SecurityGroupNotFound(id=group_id))


def get_group(ctx, group_id):
    with db_api.reader() as s:
        g = find_group(s, ctx, group_id)
        return group_dict(g, _rules_of(s, [g.id])[g.id])


def list_groups(ctx, ids=None, names=None):
    ensure_default(ctx.project_id)
    q = sa.select(SG).where(lookup.visible(ctx, SG))
    if ids:
        q = q.where(SG.id.in_(ids))
    if names:
        q = q.where(SG.name.in_(names))
    with db_api.reader() as s:
        groups = list(s.scalars(q.order_by(SG.created_at, SG.id)))
        rules = _rules_of(s, [g.id for g in groups])
        return [group_dict(g, rules[g.id]) for g in groups]


def create_group(ctx, values):
    name = values.get('name') or ''
    if name.lower() == 'default':
        raise ne.SecurityGroupDefaultAlreadyExists()
    project_id = values.get('project_id') or ctx.project_id
    with db_api.session() as s:
        default_group(s, project_id)
        netquota.check(s, project_id, {'security_group': 1})
        g = _new_group(s, project_id, name, values.get('description') or '',
                       stateful=values.get('stateful', True), tags=values.get('tags'))
        return group_dict(g, _rules_of(s, [g.id])[g.id])


def update_group(ctx, group_id, values):
    with db_api.session() as s:
        g = find_group(s, ctx, group_id)
        if 'name' in values and values['name'] != g.name:
            if _is_default(s, g):
                raise ne.SecurityGroupCannotUpdateDefault()
            if (values['name'] or '').lower() == 'default':
                raise ne.SecurityGroupDefaultAlreadyExists()
        for key in ('name', 'description'):
            if key in values:
                setattr(g, key, values[key] or '')
        if 'stateful' in values:
            g.stateful = values['stateful']
        if 'tags' in values:
            g.tags = list(values['tags'])
        networks.touch(g)
        s.flush()
        return group_dict(g, _rules_of(s, [g.id])[g.id])


def delete_group(ctx, group_id):
    """Delete a group (and rules of other groups naming it as remote);
    409 for a non-admin's default group and for a group ports use."""
    with db_api.session() as s:
        g = find_group(s, ctx, group_id)
        if _is_default(s, g) and not lookup.is_admin(ctx):
            raise ne.SecurityGroupCannotRemoveDefault()
        if s.scalar(sa.select(nm.PortSecurityGroup.port_id).where(
                nm.PortSecurityGroup.security_group_id == g.id).limit(1)) is not None:
            raise ne.SecurityGroupInUse(id=g.id)
        s.execute(sa.delete(R).where(sa.or_(R.security_group_id == g.id,
                                            R.remote_group_id == g.id)))
        s.execute(sa.delete(nm.DefaultSecurityGroup).where(
            nm.DefaultSecurityGroup.security_group_id == g.id))
        s.delete(g)


def resolve(s, project_id, refs):
    """Group ids for names or ids of ``project_id``'s groups (for servers):
    400 for a missing one, 409 for an ambiguous name."""
    out = []
    for ref in refs:
        if ref == 'default':
            gid = default_group(s, project_id).id
        else:
            g = s.scalars(sa.select(SG).where(SG.project_id == project_id,
                                              SG.id == ref)).first()
            if g is None:
                found = list(s.scalars(sa.select(SG).where(SG.project_id == project_id,
                                                           SG.name == ref)))
                if not found:
                    raise exception.BadRequest('Security group %s not found.' % ref)
                if len(found) > 1:
                    raise exception.Conflict("Multiple security groups found matching '%s'. "
                                             'Use an ID to be more specific.' % ref)
                g = found[0]
            gid = g.id
        if gid not in out:
            out.append(gid)
    return out


def check_port_groups(s, project_id, group_ids, admin=False):
    """The ids a port may carry: existing groups of the port's project."""
    out = []
    for gid in group_ids:
        q = sa.select(SG).where(SG.id == str(gid))
        if not admin:
            q = q.where(SG.project_id == project_id)
        if s.scalars(q).first() is None:
            raise ne.SecurityGroupNotFound(id=gid)
        if gid not in out:
            out.append(gid)
    return out


# --- rules -------------------------------------------------------------------

def find_rule(s, ctx, rule_id):
    q = sa.select(R).join(SG, SG.id == R.security_group_id).where(
        R.id == str(rule_id), lookup.visible(ctx, SG))
    return lookup.first(s, q, ne.SecurityGroupRuleNotFound(id=rule_id))


def get_rule(ctx, rule_id):
    with db_api.reader() as s:
        return rule_dict(find_rule(s, ctx, rule_id))


def list_rules(ctx, ids=None, group_ids=None):
    ensure_default(ctx.project_id)
    q = sa.select(R).join(SG, SG.id == R.security_group_id).where(lookup.visible(ctx, SG))
    if ids:
        q = q.where(R.id.in_(ids))
    if group_ids:
        q = q.where(R.security_group_id.in_(group_ids))
    with db_api.reader() as s:
        return [rule_dict(r) for r in s.scalars(q.order_by(R.created_at, R.id))]


def convert_protocol(value):
    if value is None or (isinstance(value, str) and value.lower() == 'any'):
        return None
    text = str(value).strip().lower()
    if text.isdigit() and 0 <= int(text) <= 255:
        return str(int(text))
    if text in PROTOCOLS:
        return text
    raise ne.InvalidInput(error_message='Security group rule protocol %s not supported. Only '
                                        'protocol values %s and integer representations [0 '
                                        'to 255] are supported'
                          % (value, [None, 'any'] + sorted(PROTOCOLS)))


def _check_ports(rule):
    lo, hi = rule['port_range_min'], rule['port_range_max']
    if lo is None and hi is None:
        return
    if rule['protocol'] is None:
        raise ne.InvalidInput(error_message='Must also specify protocol if port range is given')
    num = protocol_number(rule['protocol'])
    if num in _PORT_PROTOCOLS:
        if lo == 0 or hi == 0:
            raise ne.InvalidInput(error_message='Invalid value for port 0')
        if lo is None or hi is None or lo > hi:
            raise ne.InvalidInput(error_message='For TCP/UDP protocols, port_range_min must '
                                                'be <= port_range_max')
        if lo == 1 and hi == 65535:
            rule['port_range_min'] = rule['port_range_max'] = None
    elif num in _ICMP:
        for attr, field in (('port_range_min', 'type'), ('port_range_max', 'code')):
            if rule[attr] is not None and not 0 <= rule[attr] <= 255:
                raise ne.InvalidInput(error_message='Invalid value for ICMP %s (%s) %s. It '
                                                    'must be 0 to 255' % (field, attr,
                                                                          rule[attr]))
        if lo is None and hi is not None:
            raise ne.InvalidInput(error_message='ICMP code (port-range-max) %s is provided but '
                                                'ICMP type (port-range-min) is missing' % hi)
    else:
        raise ne.InvalidInput(error_message='Ports cannot be specified for protocol %s. Ports '
                                            'are only supported for DCCP, SCTP, TCP, UDP, '
                                            'UDPLITE' % rule['protocol'])


def _check_remote(rule):
    prefix = rule.get('remote_ip_prefix')
    if prefix is not None and rule.get('remote_group_id') is not None:
        raise ne.InvalidInput(error_message='Only one of remote_ip_prefix or remote_group_id '
                                            'or remote_address_group_id may be provided')
    if prefix is None:
        return
    try:
        net = ipaddress.ip_network(prefix, strict=False)
    except (ValueError, TypeError):
        raise ne.InvalidCIDR(input=prefix) from None
    text = str(prefix).strip()
    rule['remote_ip_prefix'] = text if '/' in text else '%s/%d' % (text, net.max_prefixlen)
    if ('IPv%d' % net.version) != rule['ethertype']:
        raise ne.InvalidInput(error_message='Conflicting value ethertype %s for CIDR %s'
                                            % (rule['ethertype'], prefix))


def _same(r, rule):
    return (r.direction == rule['direction'] and r.ethertype == rule['ethertype'] and
            protocol_number(r.protocol) == protocol_number(rule['protocol']) and
            r.port_range_min == rule['port_range_min'] and
            r.port_range_max == rule['port_range_max'] and
            normalized_cidr(r.remote_ip_prefix) == normalized_cidr(rule['remote_ip_prefix'])
            and r.remote_group_id == rule['remote_group_id'])


def create_rule(ctx, values):
    """Add a rule from API values (direction, ethertype, protocol, ports,
    remote_ip_prefix or remote_group_id, security_group_id)."""
    rule = {'direction': values['direction'], 'ethertype': values.get('ethertype') or 'IPv4',
            'protocol': convert_protocol(values.get('protocol')),
            'port_range_min': values.get('port_range_min'),
            'port_range_max': values.get('port_range_max'),
            'remote_ip_prefix': values.get('remote_ip_prefix') or None,
            'remote_group_id': values.get('remote_group_id') or None}
    _check_remote(rule)
    _check_ports(rule)
    if rule['ethertype'] == 'IPv4' and protocol_number(rule['protocol']) in _IPV6_ONLY:
        raise ne.InvalidInput(error_message='Invalid ethertype IPv4 for protocol %s'
                                            % rule['protocol'])
    with db_api.session() as s:
        g = find_group(s, ctx, values['security_group_id'])
        if rule['remote_group_id']:
            find_group(s, ctx, rule['remote_group_id'])
        for r in s.scalars(sa.select(R).where(R.security_group_id == g.id)):
            if _same(r, rule):
                raise ne.SecurityGroupRuleExists(rule_id=r.id)
        netquota.check(s, g.project_id, {'security_group_rule': 1})
        now = utcnow()
        r = R(id=networks.new_id(), security_group_id=g.id, project_id=g.project_id,
              description=values.get('description') or '', revision_number=0,
              created_at=now, updated_at=now, **rule)
        s.add(r)
        networks.touch(g)
        s.flush()
        return rule_dict(r)


def delete_rule(ctx, rule_id):
    """Delete a rule; returns its group's id."""
    with db_api.session() as s:
        r = find_rule(s, ctx, rule_id)
        group_id = r.security_group_id
        s.delete(r)
        g = s.get(SG, group_id)
        if g is not None:
            networks.touch(g)
        return group_id
