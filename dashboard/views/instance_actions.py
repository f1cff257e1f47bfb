"""What a user can do to one instance from its detail page: every server
action the APIs offer, one table of them, each a POST form with its
equivalent ``openstack`` command.

``ACTIONS`` names each action once: its label, the command line, the
confirmation a destructive one asks for, the rule of the cloud's instance
state table (common.instance_states, the table the compute API itself
checks) that says when it may run, and how it runs (``run(conn, server_id,
form)`` -> a Done). The actions bar offers only what the server's state
allows; a click that loses a race still shows the API's own 409.

A form's fields are checked here first (``field``); what passes goes to the
API, whose refusal is shown as it is: message, status, request id.
"""

import ipaddress
import re
import types
import uuid

import flask

from common import instance_states as st
from dashboard import cloud
from dashboard import errors
from dashboard import rest
from dashboard.views import signed_in

bp = flask.Blueprint('instance', __name__, url_prefix='/instances')

_ID = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$')


class FormError(Exception):
    """A field of an action's form that cannot be sent as it is."""


def field(form, name, label, kind='text', required=True, max_len=255):
    """The stripped value of ``name`` in ``form``, checked as ``kind``
    ('text', 'uuid', 'id' (a flavor id: letters, digits, ._-) or 'ip');
    None for an empty optional field; FormError saying what is wrong."""
    value = (form.get(name) or '').strip()
    if not value:
        if required:
            raise FormError('%s is required.' % label)
        return None
    if len(value) > max_len:
        raise FormError('%s is longer than %d characters.' % (label, max_len))
    if kind == 'uuid':
        try:
            uuid.UUID(value)
        except ValueError:
            raise FormError('%s must be an id (a UUID), not %r.' % (label, value)) from None
    elif kind == 'id' and not _ID.match(value):
        raise FormError('%s %r is not an id.' % (label, value))
    elif kind == 'ip':
        try:
            value = str(ipaddress.ip_address(value))
        except ValueError:
            raise FormError('%s %r is not an IP address.' % (label, value)) from None
    elif kind == 'text' and any(ord(c) < 32 for c in value):
        raise FormError('%s may not hold control characters.' % label)
    return value


# -- talking to the APIs ------------------------------------------------------

def _request_id(resp):
    headers = getattr(resp, 'headers', {}) or {}
    return headers.get('x-openstack-request-id') or headers.get('x-compute-request-id')


class Done(types.SimpleNamespace):
    """What an action answers: a message and the API's request id (and a
    page to go to, for delete)."""

    def __init__(self, message, resp=None, service='compute (Nova)', **kw):
        super().__init__(message=message, request_id=_request_id(resp),
                         status=getattr(resp, 'status_code', None), service=service, **kw)


def _server_action(body, message):
    def run(conn, server_id, _form):
        resp = rest.send('compute', 'POST', '/servers/%s/action' % server_id, body, conn=conn)
        return Done(message, resp)
    return run


def _delete(conn, server_id, _form):
    resp = rest.send('compute', 'DELETE', '/servers/%s' % server_id, conn=conn)
    return Done('The instance is being deleted.', resp, go=flask.url_for('instances.index'))


def _rebuild(conn, server_id, form):
    image = field(form, 'image', 'Image', 'uuid')
    resp = rest.send('compute', 'POST', '/servers/%s/action' % server_id,
                     {'rebuild': {'imageRef': image}}, conn=conn)
    return Done('Rebuild from image %s requested.' % image, resp)


def _resize(conn, server_id, form):
    flavor = field(form, 'flavor', 'Flavor', 'id')
    resp = rest.send('compute', 'POST', '/servers/%s/action' % server_id,
                     {'resize': {'flavorRef': flavor}}, conn=conn)
    return Done('Resize to flavor %s requested; confirm or revert it once the instance '
                'is VERIFY_RESIZE.' % flavor, resp)


def _snapshot(conn, server_id, form):
    name = field(form, 'name', 'Snapshot name')
    resp = rest.send('compute', 'POST', '/servers/%s/action' % server_id,
                     {'createImage': {'name': name}}, conn=conn)
    image_id = resp.json().get('image_id')
    return Done('Snapshot %s is being made: image %s.' % (name, image_id), resp,
                image_id=image_id)


def _attach_volume(conn, server_id, form):
    volume = field(form, 'volume', 'Volume', 'uuid')
    resp = rest.send('compute', 'POST', '/servers/%s/os-volume_attachments' % server_id,
                     {'volumeAttachment': {'volumeId': volume}}, conn=conn)
    device = (resp.json().get('volumeAttachment') or {}).get('device')
    return Done('Volume %s is being attached%s.' % (volume, ' as %s' % device if device
                                                    else ''), resp)


def _detach_volume(conn, server_id, form):
    volume = field(form, 'volume', 'Volume', 'uuid')
    resp = rest.send('compute', 'DELETE', '/servers/%s/os-volume_attachments/%s'
                     % (server_id, volume), conn=conn)
    return Done('Volume %s is being detached.' % volume, resp)


def _attach_network(conn, server_id, form):
    network = field(form, 'network', 'Network', 'uuid')
    resp = rest.send('compute', 'POST', '/servers/%s/os-interface' % server_id,
                     {'interfaceAttachment': {'net_id': network}}, conn=conn)
    port = (resp.json().get('interfaceAttachment') or {}).get('port_id')
    return Done('Interface on network %s attached (port %s).' % (network, port), resp)


def _attach_port(conn, server_id, form):
    port = field(form, 'port', 'Port', 'uuid')
    resp = rest.send('compute', 'POST', '/servers/%s/os-interface' % server_id,
                     {'interfaceAttachment': {'port_id': port}}, conn=conn)
    return Done('Port %s attached.' % port, resp)


def _detach_interface(conn, server_id, form):
    port = field(form, 'port', 'Port', 'uuid')
    resp = rest.send('compute', 'DELETE', '/servers/%s/os-interface/%s' % (server_id, port),
                     conn=conn)
    return Done('Interface (port %s) detached.' % port, resp)


def _floating_ip(conn, address):
    """The project's floating IP with ``address`` (as the CLI finds it)."""
    found = rest.get('network', '/floatingips', conn=conn, floating_ip_address=address)
    for fip in found.get('floatingips', ()):
        if fip.get('floating_ip_address') == address:
            return fip
    raise FormError('There is no floating IP %s in this project.' % address)


def server_port(ports, fixed_ip=None):
    """The port (and its address) a floating IP goes to: the one holding
    ``fixed_ip``, or the first port with an IPv4 address, as the CLI picks."""
    for port in ports:
        for ip in port.get('fixed_ips') or ():
            addr = ip.get('ip_address')
            if fixed_ip is None and addr and ipaddress.ip_address(addr).version == 4:
                return port['id'], addr
            if fixed_ip is not None and addr == fixed_ip:
                return port['id'], addr
    if fixed_ip:
        raise FormError('The instance has no port with address %s.' % fixed_ip)
    raise FormError('The instance has no port with an IPv4 address for a floating IP.')


def _add_floating_ip(conn, server_id, form):
    address = field(form, 'floating_ip', 'Floating IP', 'ip')
    fixed_ip = field(form, 'fixed_ip', 'Fixed IP address', 'ip', required=False)
    fip = _floating_ip(conn, address)
    ports = rest.get('network', '/ports', conn=conn, device_id=server_id)['ports']
    port_id, addr = server_port(ports, fixed_ip)
    resp = rest.send('network', 'PUT', '/floatingips/%s' % fip['id'],
                     {'floatingip': {'port_id': port_id, 'fixed_ip_address': addr}}, conn=conn)
    return Done('Floating IP %s now leads to %s.' % (address, addr), resp,
                service='network (Neutron)')


def _remove_floating_ip(conn, server_id, form):
    address = field(form, 'floating_ip', 'Floating IP', 'ip')
    fip = _floating_ip(conn, address)
    if not fip.get('port_id'):
        raise FormError('Floating IP %s is not associated.' % address)
    resp = rest.send('network', 'PUT', '/floatingips/%s' % fip['id'],
                     {'floatingip': {'port_id': None}}, conn=conn)
    return Done('Floating IP %s removed from the instance.' % address, resp,
                service='network (Neutron)')


def _allocate_floating_ip(conn, server_id, form):
    network = field(form, 'network', 'External network', 'uuid')
    resp = rest.send('network', 'POST', '/floatingips',
                     {'floatingip': {'floating_network_id': network}}, conn=conn)
    address = resp.json()['floatingip']['floating_ip_address']
    return Done('Floating IP %s allocated.' % address, resp, service='network (Neutron)',
                floating_ip=address)


def _security_group(verb):
    def run(conn, server_id, form):
        group = field(form, 'group', 'Security group')
        key = 'addSecurityGroup' if verb == 'add' else 'removeSecurityGroup'
        resp = rest.send('compute', 'POST', '/servers/%s/action' % server_id,
                         {key: {'name': group}}, conn=conn)
        return Done('Security group %s %s.' % (group, 'added' if verb == 'add'
                                               else 'removed'), resp)
    return run


# -- the table ------------------------------------------------------------------

class Action(types.SimpleNamespace):
    """One thing a user can do. ``cli`` is the command's template (``{field}``
    is a form field, ``[...]`` is left out when its field is empty, ``{id}``
    the server); ``rule`` the state table's action (None: any state);
    ``shown(server)`` hides one of a pair (start/stop); ``form`` means the
    action needs input (its form is fetched into the page)."""

    def __init__(self, name, label, cli, run, rule=None, confirm=None, danger=False,
                 shown=None, form=False):
        super().__init__(name=name, label=label, cli=cli, run=run, rule=rule,
                         confirm=confirm, danger=danger, shown=shown, form=form)

    def command(self, server_id):
        """The data-cli template with the server filled in."""
        return self.cli.replace('{id}', server_id)

    def hint(self, server_id):
        """The command as a person reads it before the form is filled:
        optional parts left out, each field as <field>."""
        text = re.sub(r'\[[^\]]*\]\s*', '', self.command(server_id))
        return re.sub(r'\{(\w+)\}', r'<\1>', text)


def _vm(server):
    return server.get('OS-EXT-STS:vm_state')


def _table(*actions):
    return {a.name: a for a in actions}


ACTIONS = _table(
    Action('start', 'Start', 'openstack server start {id}',
           _server_action({'os-start': None}, 'Start requested.'), 'start',
           shown=lambda s: _vm(s) == st.STOPPED),
    Action('stop', 'Shut off', 'openstack server stop {id}',
           _server_action({'os-stop': None}, 'Shut-off requested.'), 'stop',
           confirm='Shut off this instance?', shown=lambda s: _vm(s) != st.STOPPED),
    Action('reboot', 'Soft reboot', 'openstack server reboot {id}',
           _server_action({'reboot': {'type': 'SOFT'}}, 'Soft reboot requested.'), 'reboot',
           confirm='Reboot this instance (the guest is asked to restart)?'),
    Action('reboot-hard', 'Hard reboot', 'openstack server reboot --hard {id}',
           _server_action({'reboot': {'type': 'HARD'}}, 'Hard reboot requested.'),
           'reboot_hard', confirm='Hard reboot this instance (power cycle: unsaved data in '
                                  'the guest is lost)?'),
    Action('pause', 'Pause', 'openstack server pause {id}',
           _server_action({'pause': None}, 'Pause requested.'), 'pause',
           shown=lambda s: _vm(s) != st.PAUSED),
    Action('unpause', 'Unpause', 'openstack server unpause {id}',
           _server_action({'unpause': None}, 'Unpause requested.'), 'unpause',
           shown=lambda s: _vm(s) == st.PAUSED),
    Action('suspend', 'Suspend', 'openstack server suspend {id}',
           _server_action({'suspend': None}, 'Suspend requested.'), 'suspend',
           shown=lambda s: _vm(s) != st.SUSPENDED),
    Action('resume', 'Resume', 'openstack server resume {id}',
           _server_action({'resume': None}, 'Resume requested.'), 'resume',
           shown=lambda s: _vm(s) == st.SUSPENDED),
    Action('lock', 'Lock', 'openstack server lock {id}',
           _server_action({'lock': None}, 'The instance is locked.'),
           shown=lambda s: not s.get('locked')),
    Action('unlock', 'Unlock', 'openstack server unlock {id}',
           _server_action({'unlock': None}, 'The instance is unlocked.'),
           shown=lambda s: bool(s.get('locked'))),
    Action('confirm-resize', 'Confirm resize', 'openstack server resize confirm {id}',
           _server_action({'confirmResize': None}, 'Resize confirmed.'), 'confirmResize',
           shown=lambda s: _vm(s) == st.RESIZED),
    Action('revert-resize', 'Revert resize', 'openstack server resize revert {id}',
           _server_action({'revertResize': None}, 'Resize revert requested.'),
           'revertResize', confirm='Revert the resize (back to the old flavor and host)?',
           shown=lambda s: _vm(s) == st.RESIZED),
    Action('resize', 'Resize…', 'openstack server resize --flavor {flavor} {id}', _resize,
           'resize', form=True),
    Action('rebuild', 'Rebuild…', 'openstack server rebuild --image {image} {id}', _rebuild,
           'rebuild', form=True,
           confirm='Rebuild this instance? Its root disk is replaced by the image.'),
    Action('snapshot', 'Create snapshot…', 'openstack server image create --name {name} {id}',
           _snapshot, 'image_snapshot', form=True),
    Action('attach-volume', 'Attach volume…', 'openstack server add volume {id} {volume}',
           _attach_volume, 'attach_volume', form=True),
    Action('detach-volume', 'Detach', 'openstack server remove volume {id} {volume}',
           _detach_volume, 'detach_volume', confirm='Detach this volume from the instance?'),
    Action('attach-interface', 'Attach interface…', 'openstack server add network {id} '
           '{network}', _attach_network, 'attach_interface', form=True),
    Action('attach-port', 'Attach port', 'openstack server add port {id} {port}',
           _attach_port, 'attach_interface'),
    Action('detach-interface', 'Detach', 'openstack server remove port {id} {port}',
           _detach_interface, 'detach_interface',
           confirm='Detach this interface (its port) from the instance?'),
    Action('add-floating-ip', 'Add floating IP…', 'openstack server add floating ip '
           '[--fixed-ip-address {fixed_ip}] {id} {floating_ip}', _add_floating_ip,
           form=True),
    Action('allocate-floating-ip', 'Allocate', 'openstack floating ip create {network}',
           _allocate_floating_ip),
    Action('remove-floating-ip', 'Remove', 'openstack server remove floating ip {id} '
           '{floating_ip}', _remove_floating_ip,
           confirm='Remove this floating IP from the instance (it stays in the project)?'),
    Action('add-security-group', 'Add security group…', 'openstack server add security '
           'group {id} {group}', _security_group('add'), form=True),
    Action('remove-security-group', 'Remove', 'openstack server remove security group {id} '
           '{group}', _security_group('remove'),
           confirm='Remove this security group from the instance?'),
    Action('delete', 'Delete', 'openstack server delete {id}', _delete, 'delete',
           confirm='Delete this instance? This cannot be undone.', danger=True),
)


def state_words(server):
    status = server.get('status') or '?'
    task = server.get('OS-EXT-STS:task_state')
    return '%s (%s)' % (status, task) if task else status


def allowed(action, server, admin=False):
    """(may the user try ``action`` now, why not): from the server's
    vm_state and task_state, as the compute API's state table has it; a
    locked server takes nothing from a member but unlock."""
    if server.get('locked') and not admin and action.name != 'unlock' and \
            action.rule not in st.LOCK_EXEMPT and action.rule is not None:
        return False, 'The instance is locked: unlock it first.'
    if action.rule is None:
        return True, ''
    if st.allowed(action.rule, _vm(server), server.get('OS-EXT-STS:task_state')):
        return True, ''
    return False, 'Not while the instance is %s.' % state_words(server)


# The bar's groups, in its order: power, state, resize and images, devices
# and networking, and delete on its own.
GROUPS = (('start', 'stop', 'reboot', 'reboot-hard'),
          ('pause', 'unpause', 'suspend', 'resume', 'lock', 'unlock'),
          ('confirm-resize', 'revert-resize', 'resize', 'rebuild', 'snapshot'),
          ('attach-volume', 'attach-interface', 'add-floating-ip', 'add-security-group'),
          ('delete',))


def bar(server, admin=False):
    """The actions bar: [[(action, enabled, why)] per group] for the
    server's state, one of each pair (start/stop, pause/unpause, ...)
    shown."""
    out = []
    for names in GROUPS:
        group = []
        for action in (ACTIONS[n] for n in names):
            if action.shown and not action.shown(server):
                continue
            ok, why = allowed(action, server, admin)
            group.append((action, ok, why))
        out.append(group)
    return out


# -- the routes -----------------------------------------------------------------

def _back(server_id):
    back = flask.request.form.get('back') or ''
    prefix = flask.url_for('instances.detail', server_id=server_id)
    if back == prefix or back.startswith(prefix + '/'):
        return back
    return prefix


def _answer(server_id, done):
    """The action was accepted: say so (with the request id), refresh what
    depends on the server, close the action form."""
    target = getattr(done, 'go', None)
    if not errors.is_htmx():
        flask.flash(done.message + (' (request %s)' % done.request_id
                                    if done.request_id else ''), 'success')
        return flask.redirect(target or _back(server_id))
    if target:
        return rest.done(done.message, target)
    body = flask.render_template('_alert.html', kind='success', title=done.message,
                                 message='', err=done)
    body += '<div id="action-form" hx-swap-oob="innerHTML"></div>'
    resp = flask.make_response(body, 200)
    resp.headers['HX-Retarget'] = '#alerts'
    resp.headers['HX-Reswap'] = 'afterbegin'
    resp.headers['HX-Trigger'] = 'instance-changed'
    return resp


@bp.app_errorhandler(FormError)
def _form_error(exc):
    return errors.render_error(422, 'Check the form', str(exc))


@bp.route('/<uuid:server_id>/do/<name>', methods=['POST'])
@signed_in
def do(server_id, name):
    server_id = str(server_id)  # a UUID, as the route takes it
    action = ACTIONS.get(name)
    if action is None:
        flask.abort(404, 'There is no instance action %s.' % name)
    return _answer(server_id, action.run(cloud.conn(), server_id, flask.request.form))
