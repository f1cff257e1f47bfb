"""The signed-in user's client: keystoneauth1 sessions and openstacksdk
connections built from the token kept in the server-side session.

A token is obtained once at login (and when the project changes) and its
whole body (roles, catalog) is kept; every request rebuilds nothing but
reuses a cached connection for that token. Errors from the APIs become
``APIError``: the service, the HTTP status, the API's own message and the
request id, so a page can say exactly what went wrong.
"""

import collections
import html
import inspect
import re
import threading

import flask
import openstack.connection
import openstack.exceptions
import requests
from keystoneauth1 import access
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import access as access_plugin
from keystoneauth1.identity import v3

from common.conf import CONF

# catalog type -> what a person calls the service
SERVICE_NAMES = {'compute': 'compute (Nova)', 'identity': 'identity (Keystone)',
                 'image': 'image (Glance)', 'network': 'network (Neutron)',
                 'volumev3': 'volume (Cinder)', 'block-storage': 'volume (Cinder)',
                 'volume': 'volume (Cinder)'}
_CACHE_SIZE = 256
# The compute microversion the dashboard's own (raw) compute calls ask for.
COMPUTE_MICROVERSION = '2.61'


class NotSignedIn(Exception):
    """No token in the session, or the API said it is no longer valid."""


class APIError(Exception):
    """An API call that failed, with what a person needs to know."""

    def __init__(self, service, message, status=None, request_id=None, down=False):
        super().__init__(message)
        self.service = service
        self.message = message
        self.status = status
        self.request_id = request_id
        self.down = down

    def __str__(self):
        parts = [self.message]
        if self.status:
            parts.append('HTTP %s' % self.status)
        if self.request_id:
            parts.append('request %s' % self.request_id)
        return ' · '.join(parts)


def _verify():
    if CONF.dashboard.insecure:
        return False
    return CONF.dashboard.cafile or True


def new_session(auth=None):
    return ks_session.Session(auth=auth, verify=_verify(), timeout=CONF.dashboard.api_timeout,
                              app_name='altostack-dashboard')


# -- signing in ---------------------------------------------------------------

def password_login(domain, username, password):
    """An unscoped token for the user, or raise APIError (401 for bad
    credentials, with Keystone's message)."""
    auth = v3.Password(auth_url=CONF.dashboard.auth_url, username=username, password=password,
                       user_domain_name=domain, unscoped=True)
    with translate('identity'):
        return auth.get_access(new_session())


def user_projects(unscoped):
    """The projects the user may scope to: GET /v3/auth/projects."""
    sess = new_session(access_plugin.AccessInfoPlugin(unscoped, auth_url=CONF.dashboard.auth_url))
    with translate('identity'):
        resp = sess.get(CONF.dashboard.auth_url.rstrip('/') + '/auth/projects')
    return sorted(resp.json().get('projects', []), key=lambda p: p['name'].lower())


def scope(unscoped_token, project_id):
    """A token scoped to ``project_id``, from the unscoped one."""
    auth = v3.Token(auth_url=CONF.dashboard.auth_url, token=unscoped_token,
                    project_id=project_id)
    with translate('identity'):
        return auth.get_access(new_session())


def revoke(*tokens):
    """DELETE /v3/auth/tokens for each token (best effort: logging out must
    work even when Keystone does not answer)."""
    sess = new_session()
    for token in tokens:
        if not token:
            continue
        try:
            sess.delete(CONF.dashboard.auth_url.rstrip('/') + '/auth/tokens',
                        headers={'X-Auth-Token': token, 'X-Subject-Token': token})
        except ks_exc.ClientException:
            pass


def to_record(ref):
    """What the session keeps of an AccessInfo: its token and body."""
    return {'token': ref.auth_token, 'body': ref._data}


def from_record(record):
    return access.create(body=record['body'], auth_token=record['token'])


# -- the connection of the request's user ------------------------------------

_connections = collections.OrderedDict()
_lock = threading.Lock()


def _connection_for(record):
    key = record['token']
    with _lock:
        conn = _connections.get(key)
        if conn is not None:
            _connections.move_to_end(key)
            return conn
    ref = from_record(record)
    plugin = access_plugin.AccessInfoPlugin(ref, auth_url=CONF.dashboard.auth_url)
    conn = openstack.connection.Connection(
        session=new_session(plugin), region_name=CONF.dashboard.region_name,
        interface=CONF.dashboard.interface, block_storage_api_version='3',
        identity_api_version='3', image_api_version='2')
    with _lock:
        _connections[key] = conn
        while len(_connections) > _CACHE_SIZE:
            _connections.popitem(last=False)
    return conn


def forget(token):
    with _lock:
        _connections.pop(token, None)


def conn():
    """The openstacksdk Connection of the signed-in user (per token, cached)."""
    record = flask.session.get('scoped')
    if not record:
        raise NotSignedIn()
    return _connection_for(record)


def access_info():
    record = flask.session.get('scoped')
    if not record:
        raise NotSignedIn()
    return from_record(record)


# -- errors ---------------------------------------------------------------------

def _service_name(service):
    return SERVICE_NAMES.get(service, service)


class translate:
    """Turn what keystoneauth1 and openstacksdk raise into APIError (or
    NotSignedIn for a 401 on a call made with the session's token)."""

    def __init__(self, service, signed_in=False):
        self.service = service
        self.signed_in = signed_in

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            return False
        err = error_of(exc, self.service)
        if err is None:
            return False
        if self.signed_in and err.status == 401:
            raise NotSignedIn() from exc
        raise err from exc


def error_of(exc, service):
    """The APIError for ``exc``, or None if it is not an API failure."""
    name = _service_name(service)
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, openstack.exceptions.HttpException):
        status = exc.status_code
        message = _api_message(exc) or 'The %s service answered %s.' % (name, status)
        return _no_traceback(APIError(name, message, status=status,
                                      request_id=exc.request_id))
    if isinstance(exc, ks_exc.HttpError):
        message = _ks_message(exc) or exc.message
        return _no_traceback(APIError(name, message, status=exc.http_status,
                                      request_id=exc.request_id))
    if isinstance(exc, (ks_exc.ConnectionError, ks_exc.DiscoveryFailure)):
        return APIError(name, 'The %s service does not answer (%s).' % (name,
                                                                         _down_reason(exc)),
                        down=True)
    if isinstance(exc, ks_exc.EndpointNotFound):
        return APIError(name, 'The %s service is not in the catalog of this cloud.' % name,
                        down=True)
    if isinstance(exc, (ks_exc.RequestTimeout, openstack.exceptions.ResourceTimeout)):
        return APIError(name, 'The %s service did not answer in %d s.'
                        % (name, CONF.dashboard.api_timeout), down=True)
    if _discovery_failed(exc):
        why = _why_unreachable(service)
        return APIError(name, 'The %s service does not answer (%s).'
                        % (name, why or 'no API version could be read from it'), down=True)
    if isinstance(exc, openstack.exceptions.SDKException):
        return _no_traceback(APIError(name, str(exc)))
    return None


def _discovery_failed(exc):
    """openstacksdk's version discovery failed: it swallows the reason (a
    refused connection reads "exists but does not have any supported
    versions")."""
    return isinstance(exc, openstack.exceptions.ServiceDiscoveryException) or (
        isinstance(exc, openstack.exceptions.NotSupported)
        and 'supported versions' in str(exc))


def _why_unreachable(service):
    """The reason a service's catalog endpoint cannot be reached (one quick
    unauthenticated GET), or None if it answers or is not known."""
    try:
        record = flask.session.get('scoped') if flask.has_request_context() else None
        if not record:
            return None
        url = from_record(record).service_catalog.url_for(
            service_type=service, interface=CONF.dashboard.interface,
            region_name=CONF.dashboard.region_name)
    except ks_exc.ClientException:
        return None
    try:
        new_session().get(url, authenticated=False, raise_exc=False,
                          timeout=min(5, CONF.dashboard.api_timeout))
    except ks_exc.ConnectionError as exc:
        return _down_reason(exc)
    return None


def _no_traceback(err):
    """An API whose 500 carries a Python traceback: the page says it failed
    and where to look, never the stack."""
    if 'Traceback (most recent call last)' in (err.message or ''):
        err.message = ('The %s service failed (its answer held a stack trace, left out here; '
                       'its log has it).' % err.service)
    return err


def _short(exc, limit=160):
    text = str(exc)
    return text if len(text) < limit else text[:limit - 3] + '...'


_URL = re.compile(r'(?:to|Request to) (https?://[^\s:]+(?::\d+)?[^\s:]*)')
_REASONS = (('Connection refused', 'connection refused'), ('timed out', 'timed out'),
            ('Name or service not known', 'unknown host'),
            ('No route to host', 'no route to host'), ('Connection reset', 'connection reset'),
            ('SSL', 'TLS failed'), ('certificate', 'TLS certificate refused'))


def _down_reason(exc):
    """'connection refused at http://host:port/path' rather than urllib3's
    retry report."""
    text = str(exc)
    reason = next((short for key, short in _REASONS if key in text), None)
    if reason is None:
        return _short(text)
    where = _URL.search(text)
    return '%s at %s' % (reason, where.group(1)) if where else reason


_STATUS_LINE = re.compile(r'^\d{3}(\s[A-Za-z -]+)?$')
_TAG = re.compile(r'<[^>]*>')


def _body_message(body):
    """The message of an OpenStack error body, whatever the service's shape:
    Nova's and Cinder's {"badRequest": {"message"}}, Keystone's {"error":
    {"message"}}, Neutron's {"NeutronError": {"message"}}, the API SIG's
    {"errors": [{"title", "detail"}]} (Placement)."""
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and value.get('message'):
                return str(value['message'])
        if body.get('message'):
            return str(body['message'])
        errors = body.get('errors')
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            found = errors[0].get('detail') or errors[0].get('title')
            if found:
                return str(found)
        if body.get('title') and body.get('description'):
            return str(body['description'])
    return None


def _text_message(resp):
    """The message of a text or HTML error body (Glance's shape: a small
    page with the status line, then the message): its text, tags and the
    status line left out."""
    if not resp.headers.get('Content-Type', '').startswith('text/'):
        return None
    lines = []
    for raw in resp.text.splitlines():
        text = html.unescape(_TAG.sub('', raw)).strip()
        if text and text not in lines and not _STATUS_LINE.match(text):
            lines.append(text)
    return _short(': '.join(lines), 400) if lines else None


def _response_message(resp):
    if resp is None:
        return None
    try:
        return _body_message(resp.json())
    except ValueError:
        return _text_message(resp)


def _api_message(exc):
    msg = _response_message(getattr(exc, 'response', None))
    if msg:
        return msg
    details = getattr(exc, 'details', None)
    return str(details) if details else None


def _ks_message(exc):
    return _response_message(getattr(exc, 'response', None))


def call(service, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with its failure as APIError (a raw call's
    HTTP error response too: openstacksdk returns those, see api())."""
    with translate(service, signed_in=True):
        result = fn(*args, **kwargs)
        if inspect.isgenerator(result):  # an sdk listing runs when it is read
            result = list(result)
        if isinstance(result, requests.Response) and result.status_code >= 400:
            raise ks_exc.from_response(result, result.request.method, result.request.url)
        return result


def attempt(service, fn, *args, **kwargs):
    """(result, None) or (None, APIError): for a part of a page that must not
    take the rest of the page down with it."""
    try:
        return call(service, fn, *args, **kwargs), None
    except APIError as err:
        return None, err


def degraded(err, what):
    """Note that a part of this page was left out because ``err``'s service
    failed; ``what`` says what the person misses. base.html names each such
    service above the page (once per service), so a page that still renders
    says which service is down."""
    notes = flask.g.setdefault('degraded', [])
    if not any(e.service == err.service for e, _what in notes):
        notes.append((err, what))
