"""os-keypairs: a user's SSH public keys (generated here when none is given)."""

import base64
import hashlib

import flask
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api import http
from api import microversion
from api.compute import paging
from common import exception
from common import policy
from common import quota
from common.db import api as db_api
from common.db import compute_models as cm

K = cm.KeyPair

_schema = {
    'type': 'object', 'required': ['keypair'], 'additionalProperties': False,
    'properties': {'keypair': {
        'type': 'object', 'required': ['name'], 'additionalProperties': False,
        'properties': {
            'name': {'type': 'string', 'minLength': 1, 'maxLength': 255,
                     'pattern': r'^[a-zA-Z0-9 _.@-]+$'},
            'public_key': {'type': 'string', 'minLength': 1, 'maxLength': 65535},
            'type': {'enum': ['ssh', 'x509']},
            'user_id': {'type': 'string', 'minLength': 1, 'maxLength': 64},
        }}},
}


def fingerprint(public_key):
    try:
        key = serialization.load_ssh_public_key(public_key.strip().encode())
    except (ValueError, TypeError, IndexError):
        raise exception.BadRequest('Keypair data is invalid: the public key is not an SSH '
                                   'public key.') from None
    raw = key.public_bytes(serialization.Encoding.OpenSSH,
                           serialization.PublicFormat.OpenSSH).split()[1]
    digest = hashlib.md5(base64.b64decode(raw), usedforsecurity=False).hexdigest()
    return ':'.join(digest[i:i + 2] for i in range(0, 32, 2))


def _generate():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    return private, public + ' Generated-by-Altostack'


def render(kp, full=False):
    d = {'name': kp.name, 'public_key': kp.public_key, 'fingerprint': kp.fingerprint}
    if microversion.at_least('2.2'):
        d['type'] = kp.type
    if full:
        d.update(id=kp.id, user_id=kp.user_id, deleted=False,
                 created_at=kp.created_at.strftime('%Y-%m-%dT%H:%M:%S.%f'),
                 updated_at=None, deleted_at=None)
    return d


def _user(ctx):
    user_id = flask.request.args.get('user_id')
    if user_id and user_id != ctx.user_id:
        if not microversion.at_least('2.10'):
            raise exception.BadRequest('user_id needs microversion 2.10.')
        policy.authorize(ctx, 'os_compute_api:os-keypairs:index', {'user_id': user_id})
    return user_id or ctx.user_id


def find(s, user_id, name):
    kp = s.scalars(sa.select(K).where(K.user_id == user_id, K.name == name)).first()
    if kp is None:
        raise exception.NotFound('Keypair %s not found for user %s' % (name, user_id))
    return kp


def list_keypairs():
    ctx = http.context()
    user_id = _user(ctx)
    with db_api.reader() as s:
        rows = list(s.scalars(sa.select(K).where(K.user_id == user_id).order_by(K.name)))
    if microversion.at_least('2.35'):
        rows = paging.page(rows, lambda k: k.name)
    return http.reply({'keypairs': [{'keypair': render(k)} for k in rows]})


def create_keypair():
    ctx = http.context()
    body = http.json_body(_schema)['keypair']
    user_id = body.get('user_id') or ctx.user_id
    if user_id != ctx.user_id:
        if not microversion.at_least('2.10'):
            raise exception.BadRequest('user_id needs microversion 2.10.')
        policy.authorize(ctx, 'os_compute_api:os-keypairs:create', {'user_id': user_id})
    private = None
    public = body.get('public_key')
    if public is None:
        private, public = _generate()
    fp = fingerprint(public)
    limit = quota.limits(ctx.project_id)['key_pairs']
    with db_api.session() as s:
        if s.scalars(sa.select(K).where(K.user_id == user_id, K.name == body['name'])).first():
            raise exception.Conflict('Key pair \'%s\' already exists.' % body['name'])
        count = s.scalar(sa.select(sa.func.count()).select_from(K).where(K.user_id == user_id))
        if 0 <= limit <= count:
            raise quota.OverQuota(resource='key_pairs', requested=1, used=count, limit=limit)
        kp = K(name=body['name'], user_id=user_id, fingerprint=fp, public_key=public.strip(),
               type=body.get('type', 'ssh'))
        s.add(kp)
    out = render(kp)
    out['user_id'] = user_id
    if private:
        out['private_key'] = private
    status = 201 if microversion.at_least('2.2') else 200
    return http.reply({'keypair': out}, status=status)


def show_keypair(name):
    ctx = http.context()
    with db_api.reader() as s:
        return http.reply({'keypair': render(find(s, _user(ctx), name), full=True)})


def delete_keypair(name):
    ctx = http.context()
    with db_api.session() as s:
        s.delete(find(s, _user(ctx), name))
    return http.reply(status=204 if microversion.at_least('2.2') else 202)


ROUTES = [
    ('/v2.1/os-keypairs', {'GET': list_keypairs, 'POST': create_keypair}),
    ('/v2.1/os-keypairs/<name>', {'GET': show_keypair, 'DELETE': delete_keypair}),
]
