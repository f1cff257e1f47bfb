"""Pieces every volume API module uses: the project of the URL, policy in
Cinder's words, list arguments, the volume service client and time format."""

import ast
import json

import flask
from oslo_log import log as logging

from api import http
from blockstore import rpcapi as volume_rpcapi
from common import exception
from common import policy

LOG = logging.getLogger(__name__)


def is_admin(ctx=None):
    ctx = ctx or http.context()
    return bool(getattr(ctx, 'is_admin', False) or 'admin' in (ctx.roles or []))


def check_project(project_id):
    """The project of the URL must be the token's, unless the caller is an admin."""
    ctx = http.context()
    if project_id != ctx.project_id and not is_admin(ctx):
        raise exception.Forbidden('Policy doesn\'t allow volume:%s to be performed.'
                                  % flask.request.method.lower())


def authorize(action, project_id=None):
    ctx = http.context()
    try:
        policy.authorize(ctx, action, {'project_id': project_id or ctx.project_id,
                                       'user_id': ctx.user_id})
    except exception.Forbidden:
        raise exception.Forbidden("Policy doesn't allow %s to be performed." % action
                                  ) from None


def scope():
    """The project a non-admin sees: its own; None (all) only for an admin's all_tenants."""
    ctx = http.context()
    if is_admin(ctx) and http.bool_arg('all_tenants', False):
        return flask.request.args.get('project_id') or None
    return ctx.project_id


def int_arg(name, minimum=0):
    raw = flask.request.args.get(name)
    if raw is None:
        return None
    try:
        val = int(raw)
        if val < minimum:
            raise ValueError
    except ValueError:
        raise exception.BadRequest("Invalid input received: %s must be an integer >= %d, "
                                   "not '%s'." % (name, minimum, raw)) from None
    return val


def sort_arg():
    """[(key, dir)] from sort=k1:dir,k2 or sort_key/sort_dir; None for the default."""
    args = flask.request.args
    out = []
    if args.get('sort'):
        if args.get('sort_key') or args.get('sort_dir'):
            raise exception.BadRequest("Invalid input received: The 'sort_key' and "
                                       "'sort_dir' parameters are deprecated and cannot be "
                                       "used with the 'sort' parameter.")
        for part in args['sort'].split(','):
            key, _, direction = part.strip().partition(':')
            out.append((key.strip(), _direction(direction or 'desc')))
    elif args.get('sort_key'):
        out.append((args['sort_key'], _direction(args.get('sort_dir') or 'desc')))
    return out or None


def _direction(text):
    text = text.strip().lower()
    if text not in ('asc', 'desc'):
        raise exception.BadRequest("Invalid input received: Unknown sort direction, must be "
                                   "'desc' or 'asc'")
    return text


def metadata_arg():
    raw = flask.request.args.get('metadata')
    if not raw:
        return None
    for parse in (json.loads, ast.literal_eval):
        try:
            val = parse(raw)
        except (ValueError, SyntaxError):
            continue
        if isinstance(val, dict):
            return {str(k): str(v) for k, v in val.items()}
    raise exception.BadRequest('Invalid input received: metadata must be a dictionary.')


def fmt(when):
    return when.strftime('%Y-%m-%dT%H:%M:%S.%f') if when else None


def link(kind, rid):
    project = flask.request.view_args.get('project_id', '')
    return [{'href': http.url('volume/v3', project, kind, rid), 'rel': 'self'},
            {'href': http.url('volume', project, kind, rid), 'rel': 'bookmark'}]


def rpc():
    return volume_rpcapi.VolumeAPI()


def send(what, fn, *args, **kwargs):
    """Cast to the volume service; False (logged) when the broker failed."""
    try:
        fn(*args, **kwargs)
        return True
    except Exception as e:  # any broker failure: the caller marks the row
        LOG.error('Could not send %s to the volume service: %s', what, e)
        return False
