"""Image data: upload (PUT) and download (GET), with a token under /v2
and with a signed URL under /internal (compute hosts, no token)."""

import os

import flask
from werkzeug import wsgi as wz_wsgi

from common import exception
from imagestore import data
from imagestore import exception as img_exc
from imagestore import images
from imagestore import signing
from imagestore.api import http

OCTET = 'application/octet-stream'


def _check_octet_stream():
    mime = (flask.request.mimetype or '').lower()
    if mime and mime != OCTET:
        raise img_exc.UnsupportedMediaType(
            reason="Unsupported Content-Type '%s': image data is sent as %s." % (mime, OCTET))


def _expected_size():
    raw = flask.request.headers.get('X-OpenStack-Image-Size')
    if raw is None:
        return None
    try:
        size = int(raw)
    except ValueError:
        size = -1
    if size < 0:
        raise exception.BadRequest('X-OpenStack-Image-Size must be a number of bytes, not %r.'
                                   % raw)
    return size


def _body():
    """The request body; one the server could not keep for lack of disk
    (common/spool.py) as it is: werkzeug's wrapper would turn its ENOSPC
    into a client disconnect, where the store must answer 413."""
    raw = flask.request.environ.get('wsgi.input')
    return raw if getattr(raw, 'storage_full', False) else flask.request.stream


def _stream(rec, f):
    size = os.fstat(f.fileno()).st_size
    resp = flask.Response(wz_wsgi.wrap_file(flask.request.environ, f), mimetype=OCTET,
                          direct_passthrough=True)
    resp.content_length = size
    if rec.get('checksum'):
        resp.headers['Content-MD5'] = rec['checksum']
    return resp.make_conditional(flask.request, accept_ranges=True, complete_length=size)


def upload(image_id):
    _check_octet_stream()
    data.upload(http.context(), image_id, _body(), flask.request.content_length,
                expected_size=_expected_size())
    return http.reply(status=204)


def download(image_id):
    rec, f = data.open_data(http.context(), image_id)
    if f is None:
        return http.reply(status=204)
    return _stream(rec, f)


def _verify(method, image_id):
    args = flask.request.args
    signing.verify(method, image_id, args.get('expires'), args.get('sig'))


@http.public
def internal_download(image_id):
    _verify('GET', image_id)
    rec, f = data.open_data(http.context(), image_id, internal=True)
    return _stream(rec, f)


@http.public
def internal_upload(image_id):
    _verify('PUT', image_id)
    _check_octet_stream()
    rec = images.get_any(image_id)
    data.upload(http.context(), image_id, _body(), flask.request.content_length,
                record=rec, expected_size=_expected_size())
    return http.reply(status=204)
