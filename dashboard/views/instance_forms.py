"""The forms of the instance actions that need input (resize, rebuild,
snapshot, attach a volume or an interface, add a floating IP or a security
group). The actions bar fetches one into the page when its button is
clicked, so the page itself never waits for the lists a form offers; each
list comes from its own service and fails alone, with that service's
answer in the form.
"""

import flask

from dashboard import cloud
from dashboard import errors
from dashboard import rest
from dashboard.views import instance_actions as actions
from dashboard.views import instance_detail
from dashboard.views import signed_in

bp = flask.Blueprint('instance_forms', __name__, url_prefix='/instances')


def _flavors(conn, server):
    found, err = rest.attempt('compute', 'GET', '/flavors/detail', conn=conn)
    current = (server.get('flavor') or {}).get('original_name')
    flavors = sorted((f for f in (found or {}).get('flavors', ()) if f.get('name') != current),
                     key=lambda f: (f.get('vcpus', 0), f.get('ram', 0), f.get('disk', 0)))
    return {'flavors': flavors, 'list_err': err, 'current_flavor': current}


def _images(conn, server):
    found, err = rest.attempt('image', 'GET', '/images', conn=conn, status='active', limit=200)
    current = (server.get('image') or {}).get('id')
    return {'images': sorted((found or {}).get('images', ()),
                             key=lambda i: (i.get('name') or '').lower()),
            'list_err': err, 'current_image': current}


def _snapshot(conn, server):
    return {'default_name': '%s-snapshot' % server.get('name', 'instance')}


def _volumes(conn, server):
    found, err = rest.attempt('volumev3', 'GET', '/volumes/detail', conn=conn)
    free = [v for v in (found or {}).get('volumes', ()) if v.get('status') == 'available']
    return {'volumes': free, 'list_err': err}


def _interfaces(conn, server):
    nets, err = rest.attempt('network', 'GET', '/networks', conn=conn)
    ports, ports_err = rest.attempt('network', 'GET', '/ports', conn=conn)
    return {'networks': [n for n in (nets or {}).get('networks', ())
                         if not n.get('router:external')],
            'ports': [p for p in (ports or {}).get('ports', ()) if not p.get('device_id') and
                      not p.get('device_owner')],
            'list_err': err or ports_err}


def _floating_ips(conn, server):
    fips, err = rest.attempt('network', 'GET', '/floatingips', conn=conn)
    nets, nets_err = rest.attempt('network', 'GET', '/networks', conn=conn,
                                  **{'router:external': 'true'})
    fixed = [a['addr'] for entries in (server.get('addresses') or {}).values()
             for a in entries if a.get('OS-EXT-IPS:type', 'fixed') == 'fixed']
    return {'free_fips': [f for f in (fips or {}).get('floatingips', ())
                          if not f.get('port_id')],
            'external_networks': [n for n in (nets or {}).get('networks', ())
                                  if n.get('router:external')],
            'fixed_ips': fixed, 'list_err': err or nets_err}


def _security_groups(conn, server):
    groups, err = rest.attempt('network', 'GET', '/security-groups', conn=conn)
    has = {g.get('name') for g in server.get('security_groups') or ()}
    return {'groups': [g for g in (groups or {}).get('security_groups', ())
                       if g.get('name') not in has],
            'list_err': err}


FORMS = {'resize': _flavors, 'rebuild': _images, 'snapshot': _snapshot,
         'attach-volume': _volumes, 'attach-interface': _interfaces,
         'add-floating-ip': _floating_ips, 'add-security-group': _security_groups}


def render_form(name, server_id, chosen=None, note=None):
    conn = cloud.conn()
    server = instance_detail.get_server(conn, server_id)
    ctx = FORMS[name](conn, server)
    return flask.render_template('instances/_form.html', name=name, s=server,
                                 action=actions.ACTIONS[name], actions=actions.ACTIONS,
                                 back=flask.request.args.get('back') or
                                 flask.request.form.get('back') or '',
                                 chosen=chosen, note=note, **ctx)


@bp.route('/<uuid:server_id>/form/<name>')
@signed_in
def form(server_id, name):
    server_id = str(server_id)  # a UUID, as the route takes it
    if name not in FORMS:
        flask.abort(404, 'There is no instance form %s.' % name)
    return render_form(name, server_id)


@bp.route('/<uuid:server_id>/allocate-floating-ip', methods=['POST'])
@signed_in
def allocate_floating_ip(server_id):
    """A new floating IP from an external network, then back to the add
    form with it chosen (without htmx: back to the page, the address in
    the message)."""
    server_id = str(server_id)  # a UUID, as the route takes it
    done = actions.ACTIONS['allocate-floating-ip'].run(cloud.conn(), server_id,
                                                        flask.request.form)
    if not errors.is_htmx():
        flask.flash(done.message, 'success')
        return flask.redirect(flask.url_for('instances.detail', server_id=server_id,
                                            tab='interfaces'))
    return render_form('add-floating-ip', server_id, chosen=done.floating_ip, note=done)
