"""Security groups and their rules, through the network API: list, create,
edit name and description, delete; a group's rules (list, add with
direction, ethertype, protocol, port range or ICMP type and code, remote
CIDR or remote group; delete).

What a person types reaches the API as typed (a number becomes a number):
a bad CIDR or port range is refused by the network API, whose message,
status and request id the page shows above the form.
"""

import flask

from dashboard import rest
from dashboard.views import signed_in

bp = flask.Blueprint('security_groups', __name__, url_prefix='/security-groups')
NAV = [('security_groups.index', 'Security groups')]
ICMP = ('icmp', 'ipv6-icmp', 'icmpv6', '1', '58')
PROTOCOLS = ('any', 'tcp', 'udp', 'icmp', 'ipv6-icmp', 'sctp', 'gre', 'esp', 'ah', 'vrrp')


def port_range(rule):
    """How a rule's ports read: '22', '8000-8080', 'any', or ICMP's
    'type 8 code 0'."""
    lo, hi = rule.get('port_range_min'), rule.get('port_range_max')
    if str(rule.get('protocol') or '').lower() in ICMP:
        if lo is None:
            return 'any'
        return 'type %s%s' % (lo, ' code %s' % hi if hi is not None else '')
    if lo is None and hi is None:
        return 'any'
    return str(lo) if lo == hi or hi is None else '%s-%s' % (lo, hi)


def _groups():
    body = rest.get('network', '/security-groups')
    return sorted(body['security_groups'], key=lambda g: (g.get('name') or '').lower())


@bp.route('/')
@signed_in
def index():
    return flask.render_template('security_groups/index.html', groups=_groups())


@bp.route('/create', methods=['POST'])
@signed_in
def create():
    body = {'name': rest.form('name')}
    # The CLI's own default: the description is the name unless given.
    body['description'] = rest.form('description') or body['name']
    group = rest.call('network', 'POST', '/security-groups',
                      {'security_group': body})['security_group']
    return rest.done('Security group %s created.' % (group.get('name') or group['id']),
                     flask.url_for('security_groups.detail', group_id=group['id']))


@bp.route('/<group_id>')
@signed_in
def detail(group_id):
    group = rest.get('network', '/security-groups/%s' % group_id)['security_group']
    others, others_err = rest.attempt('network', 'GET', '/security-groups')
    others = sorted((others or {}).get('security_groups', []),
                    key=lambda g: (g.get('name') or '').lower())
    names = {g['id']: g.get('name') or g['id'] for g in others}
    names[group['id']] = group.get('name') or group['id']
    rules = sorted(group.get('security_group_rules') or (),
                   key=lambda r: (r.get('direction') or '', r.get('ethertype') or '',
                                  str(r.get('protocol') or ''), r.get('port_range_min') or 0))
    for r in rules:
        r['ports'] = port_range(r)
        r['remote_group_name'] = names.get(r.get('remote_group_id')) or r.get('remote_group_id')
    return flask.render_template('security_groups/detail.html', g=group, rules=rules,
                                 groups=others, others_err=others_err,
                                 protocols=PROTOCOLS)


@bp.route('/<group_id>/edit', methods=['POST'])
@signed_in
def edit(group_id):
    body = {'name': rest.form('name'), 'description': rest.form('description')}
    rest.call('network', 'PUT', '/security-groups/%s' % group_id, {'security_group': body})
    return rest.done('Security group %s saved.' % (body['name'] or group_id),
                     flask.url_for('security_groups.detail', group_id=group_id))


@bp.route('/<group_id>/delete', methods=['POST'])
@signed_in
def delete(group_id):
    rest.call('network', 'DELETE', '/security-groups/%s' % group_id)
    return rest.done('Security group %s deleted.' % (rest.form('label') or group_id),
                     flask.url_for('security_groups.index'))


def rule_body(group_id, form):
    """The security_group_rule a rule form asks for (``form``: field ->
    text), with what was typed left for the API to judge."""
    rule = {'security_group_id': group_id,
            'direction': form.get('direction') or 'ingress',
            'ethertype': form.get('ethertype') or 'IPv4'}
    protocol = (form.get('protocol') or '').strip()
    if protocol and protocol.lower() != 'any':
        rule['protocol'] = rest.number(protocol)
    if protocol.lower() in ICMP:
        low, high = rest.number(form.get('icmp_type')), rest.number(form.get('icmp_code'))
    else:
        low, high = rest.number(form.get('port_min')), rest.number(form.get('port_max'))
        if high is None:
            high = low
    if low is not None:
        rule['port_range_min'] = low
    if high is not None:
        rule['port_range_max'] = high
    if form.get('remote') == 'group':
        if not form.get('remote_group'):
            rest.refuse('Choose the remote security group, or give a remote CIDR.')
        rule['remote_group_id'] = form['remote_group']
    elif (form.get('remote_ip') or '').strip():
        rule['remote_ip_prefix'] = form['remote_ip'].strip()
    if (form.get('description') or '').strip():
        rule['description'] = form['description'].strip()
    return rule


@bp.route('/<group_id>/rules', methods=['POST'])
@signed_in
def add_rule(group_id):
    rule = rule_body(group_id, flask.request.form.to_dict())
    rest.call('network', 'POST', '/security-group-rules', {'security_group_rule': rule})
    return rest.done('Rule added.', flask.url_for('security_groups.detail', group_id=group_id))


@bp.route('/<group_id>/rules/<rule_id>/delete', methods=['POST'])
@signed_in
def delete_rule(group_id, rule_id):
    rest.call('network', 'DELETE', '/security-group-rules/%s' % rule_id)
    return rest.done('Rule deleted.', flask.url_for('security_groups.detail',
                                                    group_id=group_id))
