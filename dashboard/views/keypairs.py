"""Key pairs: the user's SSH keys (compute os-keypairs). Creating one lets
the compute API generate it; its private key is in that one answer only,
so the page that answers the form shows it once, with a download link that
carries the key itself (a data: URL): nothing keeps it afterwards, neither
the session nor a cache (every page is Cache-Control: no-store).
Importing sends an existing public key."""

import urllib.parse

import flask

from dashboard import cloud
from dashboard import errors
from dashboard import rest
from dashboard.views import paging
from dashboard.views import signed_in

bp = flask.Blueprint('keypairs', __name__, url_prefix='/keypairs')
NAV = [('keypairs.index', 'Key pairs')]


def _post(conn, body):
    return rest.call('compute', 'POST', '/os-keypairs', {'keypair': body}, conn=conn)['keypair']


def _list(conn, limit, marker):
    params = {'limit': limit}
    if marker:
        params['marker'] = marker
    body = rest.get('compute', '/os-keypairs', conn=conn, **params)
    return [k['keypair'] for k in body['keypairs']]


def _page(form=None, error=None, status=200):
    conn = cloud.conn()
    limit, marker = paging()
    rows, list_err = cloud.attempt('compute', _list, conn, limit, marker)
    rows = rows or []
    next_marker = rows[-1]['name'] if len(rows) >= limit else None
    return flask.render_template('keypairs/index.html', keypairs=rows, list_err=list_err,
                                 form=form or {}, error=error, marker=marker,
                                 next_marker=next_marker), status


@bp.route('/')
@signed_in
def index():
    return _page()


def _name(form):
    name = (form.get('name') or '').strip()
    if not name:
        raise cloud.APIError('compute (Nova)', 'Give the key pair a name.', status=400)
    return name


@bp.route('/create', methods=['POST'])
@signed_in
def create():
    form = flask.request.form
    try:
        made = _post(cloud.conn(), {'name': _name(form)})
    except cloud.APIError as err:
        return _page(form={'create': form}, error=err, status=err.status or 503)
    private = made.pop('private_key', None)
    return flask.render_template('keypairs/created.html', kp=made, private_key=private)


@bp.route('/import', methods=['POST'])
@signed_in
def import_():
    form = flask.request.form
    public_key = (form.get('public_key') or '').strip()
    try:
        name = _name(form)
        if not public_key:
            raise cloud.APIError('compute (Nova)', 'Paste the public key (one line such as '
                                                   '"ssh-ed25519 AAAA... you@host").',
                                 status=400)
        made = _post(cloud.conn(), {'name': name, 'public_key': public_key})
    except cloud.APIError as err:
        return _page(form={'import': form}, error=err, status=err.status or 503)
    flask.flash('Imported key pair %s (fingerprint %s).' % (made['name'], made['fingerprint']),
                'success')
    return flask.redirect(flask.url_for('keypairs.index'))


def deleted(message):
    """The answer to an htmx delete from a list: no row (the row is its
    target) and the message out of band into #alerts."""
    return flask.render_template('_oob_alert.html', kind='success', msg=message)


@bp.route('/<name>/delete', methods=['POST'])
@signed_in
def delete(name):
    conn = cloud.conn()
    rest.call('compute', 'DELETE', '/os-keypairs/%s' % urllib.parse.quote(name, safe=''),
              conn=conn)
    message = 'Deleted key pair %s.' % name
    if errors.is_htmx():
        return deleted(message)
    flask.flash(message, 'success')
    return flask.redirect(flask.url_for('keypairs.index'))
