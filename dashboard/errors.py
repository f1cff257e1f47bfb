"""How failures reach a person: an expired or revoked token sends the user to
the login page (and back afterwards); an API's refusal shows its message,
HTTP status, request id and service; a missing CSRF token is a 400 that says
so; anything else is a 500 page that names the request, never a traceback.

htmx requests get the same text as a fragment swapped into the page's
alert area (HX-Retarget), so a failed click says why without a reload.
"""

import urllib.parse
import uuid

import flask
from flask_wtf import csrf
from oslo_log import log as logging
from werkzeug import exceptions as wz_exc

from dashboard import cloud

LOG = logging.getLogger(__name__)


def is_htmx():
    return flask.request.headers.get('HX-Request') == 'true'


def _login_url():
    if is_htmx():
        current = flask.request.headers.get('HX-Current-URL', '')
        parsed = urllib.parse.urlsplit(current)
        target = parsed.path + ('?' + parsed.query if parsed.query else '')
    else:
        target = flask.request.full_path.rstrip('?')
    if not target.startswith('/') or target.startswith('//') or target.startswith('/login'):
        target = '/'
    return flask.url_for('auth.login', next=target)


def render_error(status, title, message, api_error=None):
    if is_htmx():
        body = flask.render_template('_alert.html', kind='error', title=title,
                                     message=message, err=api_error)
        resp = flask.make_response(body, status)
        resp.headers['HX-Retarget'] = '#alerts'
        resp.headers['HX-Reswap'] = 'afterbegin'
        return resp
    if flask.request.accept_mimetypes.best == 'application/json':
        return flask.jsonify({'error': {'code': status, 'title': title,
                                        'message': message}}), status
    return flask.render_template('error.html', status=status, title=title, message=message,
                                 err=api_error), status


def not_signed_in(_exc):
    # The tokens are dead (expired, revoked) or absent: nothing of them
    # stays, so the login page is a login page and not a signed-in frame.
    for key in ('scoped', 'unscoped', 'me', 'projects'):
        flask.session.pop(key, None)
    url = _login_url()
    if is_htmx() or flask.request.path.startswith('/events'):
        resp = flask.make_response('', 401)
        resp.headers['HX-Redirect'] = url
        return resp
    return flask.redirect(url)


def api_error(exc):
    status = exc.status if exc.status and 400 <= exc.status < 600 else 503
    if exc.down:
        title = 'The %s service is unavailable' % exc.service
    else:
        title = 'The %s service refused this' % exc.service
    return render_error(status, title, exc.message, api_error=exc)


def csrf_error(exc):
    return render_error(400, 'The form was refused',
                        'This request carried no valid CSRF token (%s). Reload the page and '
                        'try again.' % exc.description.rstrip('.'))


def http_error(exc):
    return render_error(exc.code, exc.name, exc.description)


def unexpected(exc):
    if isinstance(exc, wz_exc.HTTPException):
        return http_error(exc)
    ref = uuid.uuid4().hex[:12]
    LOG.exception('Unexpected error on %s %s (ref %s)', flask.request.method,
                  flask.request.path, ref)
    return render_error(500, 'Something went wrong in the dashboard',
                        'The dashboard failed to build this page; its log names reference '
                        '%s.' % ref)


def register(app):
    app.register_error_handler(cloud.NotSignedIn, not_signed_in)
    app.register_error_handler(cloud.APIError, api_error)
    app.register_error_handler(csrf.CSRFError, csrf_error)
    app.register_error_handler(wz_exc.HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)
