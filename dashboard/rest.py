"""Raw REST calls of the signed-in user, and what a form's POST answers:
the one place the dashboard's pages do these things.

``send(service, method, path, ...)`` sends one request through the user's
openstacksdk Connection (its keystoneauth adapter for that catalog
service: the version prefix comes from discovery, as for the CLI; compute
at ``cloud.COMPUTE_MICROVERSION``) and returns the response (for its
request id header); ``call`` returns its JSON body (None when empty),
``get`` a GET's, ``attempt`` (body, None) or (None, APIError) for a part of
a page. An HTTP error becomes ``cloud.APIError`` with the API's own
message, status and request id (a raw adapter call does not raise by
itself, so this checks every answer). A query parameter that is None or
an empty list is not sent; a list value repeats the parameter.

``form(name)`` reads a trimmed form field; ``refuse(message)`` is input
the dashboard refuses before asking any API (a 400 that says why).
``done(message, url)`` is a form's success: flash the message, then a
redirect (Post/Redirect/Get), or for an htmx form an ``HX-Redirect``. A
failure is not handled here: the APIError goes to dashboard/errors.py,
which answers an htmx form with an alert in the page (the form keeps what
was typed) and a plain form with an error page.
"""

import flask
import openstack.exceptions

from dashboard import cloud
from dashboard import errors

# catalog type (as cloud.SERVICE_NAMES spells it) -> the Connection's proxy
PROXIES = {'compute': 'compute', 'volumev3': 'block_storage', 'network': 'network',
           'image': 'image', 'identity': 'identity'}


def _query(params):
    return {k: v for k, v in (params or {}).items() if v is not None and v != []} or None


def send(service, method, path, body=None, params=None, microversion=None, conn=None,
         data=None, headers=None):
    """The response of ``method path`` on ``service``, or APIError.
    ``body`` is sent as JSON; ``data`` (bytes or an iterator of chunks,
    with its ``headers``) as it is, for an upload or a JSON patch."""
    conn = conn or cloud.conn()
    proxy = getattr(conn, PROXIES[service])
    if service == 'compute' and microversion is None:
        microversion = cloud.COMPUTE_MICROVERSION
    extra = {'data': data} if data is not None else {}
    if headers:
        extra['headers'] = headers
    with cloud.translate(service, signed_in=True):
        resp = proxy.request(path, method, json=body, params=_query(params),
                             microversion=microversion, **extra)
        openstack.exceptions.raise_from_response(resp)
    return resp


def call(service, method, path, body=None, params=None, microversion=None, conn=None):
    """The JSON answer of ``method path`` on ``service`` (None when empty)."""
    resp = send(service, method, path, body, params=params, microversion=microversion,
                conn=conn)
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return None


def get(service, path, conn=None, **params):
    return call(service, 'GET', path, params=params, conn=conn)


def attempt(service, method, path, conn=None, **params):
    """(JSON, None) or (None, APIError), for a part of a page that must
    not take the page down (a select of a form, a column of names)."""
    return cloud.attempt(service, call, service, method, path, params=params, conn=conn)


def names(service, collection, conn=None, **params):
    """({id: name} of ``collection`` (its id as the name of an unnamed
    one), APIError or None): one list call, for a column of names."""
    body, err = attempt(service, 'GET', '/' + collection, conn=conn, **params)
    return {i['id']: i.get('name') or i['id'] for i in (body or {}).get(collection, ())}, err


def server_names(conn=None):
    """({server id: name} of the project, APIError or None)."""
    return names('compute', 'servers', conn=conn, limit=1000)


def form(name, default=''):
    """The trimmed value of form field ``name`` (``default`` when empty)."""
    return (flask.request.form.get(name) or default).strip()


def refuse(message):
    """Input the dashboard refuses before asking any API: a 400 that says
    why (an alert in the page for htmx, the error page otherwise)."""
    flask.abort(400, message)


def number(text):
    """An integer when ``text`` is one; otherwise the text itself, so that
    the API judges it and its own message reaches the page; None if empty."""
    text = (text or '').strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text


def done(message, url, kind='success'):
    """A form's success: the message on the next page, and that page."""
    if message:
        flask.flash(message, kind)
    if errors.is_htmx():
        resp = flask.make_response('', 200)
        resp.headers['HX-Redirect'] = url
        return resp
    return flask.redirect(url, code=303)
