"""Login (domain, user, password), project switching (a re-scoped token) and
logout (both tokens revoked). Only the server-side session holds tokens."""

import flask

from common.conf import CONF
from dashboard import cloud

bp = flask.Blueprint('auth', __name__)


def _safe_next(target):
    if not target or not target.startswith('/') or target.startswith('//') \
            or target.startswith('/login'):
        return flask.url_for('overview.index')
    return target


def _enter_project(unscoped_record, project):
    scoped = cloud.scope(unscoped_record['token'], project['id'])
    old = flask.session.get('scoped')
    flask.session['scoped'] = cloud.to_record(scoped)
    flask.session['me'] = {
        'user_id': scoped.user_id, 'user_name': scoped.username,
        'domain': scoped.user_domain_name, 'project_id': scoped.project_id,
        'project_name': scoped.project_name, 'roles': sorted(scoped.role_names),
        'expires_at': scoped.expires.isoformat()}
    if old:
        cloud.forget(old['token'])
        cloud.revoke(old['token'])


@bp.route('/login', methods=['GET', 'POST'])
def login():
    form = {'domain': CONF.dashboard.default_domain, 'username': ''}
    error = None
    status = 200
    if flask.request.method == 'POST':
        form = {k: flask.request.form.get(k, '').strip() for k in ('domain', 'username')}
        password = flask.request.form.get('password', '')
        if not form['username'] or not password:
            error = cloud.APIError('identity (Keystone)', 'Give a user name and a password.')
        else:
            try:
                unscoped = cloud.password_login(form['domain'] or 'Default',
                                                form['username'], password)
                projects = cloud.user_projects(unscoped)
                if not projects:
                    cloud.revoke(unscoped.auth_token)
                    raise cloud.APIError('identity (Keystone)', 'User %s has no role on any '
                                         'project: ask an administrator for one.'
                                         % form['username'], status=403)
                flask.session.clear()
                regenerate = getattr(flask.current_app.session_interface, 'regenerate', None)
                if regenerate:  # a new session id at sign-in: no session fixation
                    regenerate(flask.session)
                record = cloud.to_record(unscoped)
                flask.session['unscoped'] = record
                flask.session['projects'] = [{'id': p['id'], 'name': p['name']}
                                             for p in projects]
                wanted = flask.request.form.get('project')
                project = next((p for p in projects if wanted in (p['id'], p['name'])),
                               projects[0])
                _enter_project(record, project)
                return flask.redirect(_safe_next(flask.request.args.get('next')))
            except cloud.APIError as err:
                error = err
                # The form comes back (200) with Keystone's answer on it.
                status = 200 if err.status in (400, 401, 403) else 503
                if err.status == 401:
                    error = cloud.APIError(err.service, 'The user name or password is not '
                                           'right (Keystone: %s)' % err.message,
                                           status=401, request_id=err.request_id)
    # me=None: the bare login form, even over a session whose token just
    # died (the live stream sends the page here without clearing it).
    return flask.render_template('login.html', form=form, error=error, me=None,
                                 next=flask.request.args.get('next', '')), status


@bp.route('/switch-project', methods=['POST'])
def switch_project():
    unscoped = flask.session.get('unscoped')
    if not unscoped:
        raise cloud.NotSignedIn()
    wanted = flask.request.form.get('project_id')
    project = next((p for p in flask.session.get('projects', []) if p['id'] == wanted), None)
    if project is None:
        flask.abort(400, 'You have no role on project %s.' % wanted)
    try:
        _enter_project(unscoped, project)
    except cloud.APIError as err:
        if err.status == 401:
            raise cloud.NotSignedIn() from err
        raise
    flask.flash('Now working in project %s.' % project['name'], 'info')
    return flask.redirect(_safe_next(flask.request.form.get('next')))


@bp.route('/logout', methods=['POST'])
def logout():
    scoped, unscoped = flask.session.get('scoped'), flask.session.get('unscoped')
    if scoped:
        cloud.forget(scoped['token'])
    cloud.revoke((scoped or {}).get('token'), (unscoped or {}).get('token'))
    flask.session.clear()
    return flask.redirect(flask.url_for('auth.login'))


@bp.route('/healthcheck')
def healthcheck():
    return 'OK', 200, {'Content-Type': 'text/plain'}
