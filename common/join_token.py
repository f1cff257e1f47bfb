"""Join tokens: what `altostack-manage node add NAME` prints and
`altostack-node join TOKEN` reads.

A token is the text "altostack-join-1." followed by the base64url form (no
padding) of a JSON object:

    name         the node's name (its [DEFAULT] host)
    secret       32 random bytes as URL-safe text; the controller keeps
                 only its SHA-256 (``secret_hash``) and accepts it once
    controllers  addresses at which the node reaches the message broker
    port, vhost  the broker's port and the cloud's virtual host
    user, password
                 the broker user made for this node alone (permissions
                 on the cloud's virtual host only)
    expires      Unix time after which the controller refuses it
    options      {"GROUP.option": value}: controller settings every compute
                 agent shares ([node_join] agent_options)
    role         what the node joins as: "compute" (the default; tokens
                 without the field are compute tokens) or "control"

It holds no database credentials: a compute node never needs any, and a
control node gets the cloud's secrets over RPC only once the conductor has
accepted its token (cli/node_cloud.py).
"""

import base64
import binascii
import hashlib
import json
import secrets
import time
from urllib import parse

PREFIX = 'altostack-join-1.'
FIELDS = ('name', 'secret', 'controllers', 'port', 'vhost', 'user', 'password', 'expires',
          'options')


# What a node can join as (a storage machine runs a Ceph OSD). The load
# balancer's fronts are the first machine's (`altostack-node init`).
ROLES = ('compute', 'control', 'storage')
NOT_JOINED = {
    'loadbalancer': 'the load balancer (the HAProxy fronts) belongs to the machine that '
                    'started the cloud ("altostack-node init"); a second one cannot join yet',
}


class InvalidJoinToken(ValueError):
    """The text is not a join token, or it has expired."""


class InvalidRole(ValueError):
    """Not a role a node can join as."""


def check_role(role):
    """``role`` if a node can join as it; InvalidRole saying why not."""
    if role in ROLES:
        return role
    if role in NOT_JOINED:
        raise InvalidRole('a node cannot join as %r: %s' % (role, NOT_JOINED[role]))
    raise InvalidRole('%r is not a role: a node joins as one of %s' % (role, ', '.join(ROLES)))


def new_secret():
    return secrets.token_urlsafe(32)


def secret_hash(secret):
    return hashlib.sha256(secret.encode('utf-8')).hexdigest()


def encode(name, secret, controllers, port, vhost, user, password, expires, options=None,
           role='compute'):
    body = {'name': name, 'secret': secret, 'controllers': list(controllers),
            'port': int(port), 'vhost': vhost, 'user': user, 'password': password,
            'expires': int(expires), 'options': dict(options or {}), 'role': check_role(role)}
    raw = json.dumps(body, separators=(',', ':'), sort_keys=True).encode('utf-8')
    return PREFIX + base64.urlsafe_b64encode(raw).decode('ascii').rstrip('=')


def decode(text, now=None):
    """The token's fields as a dict; InvalidJoinToken if ``text`` is not a
    well-formed token or has expired (the controller checks again)."""
    text = (text or '').strip()
    if not text.startswith(PREFIX):
        raise InvalidJoinToken('this is not an Altostack join token (it should start with '
                               '"%s")' % PREFIX)
    data = text[len(PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(data + '=' * (-len(data) % 4))
        body = json.loads(raw)
    except (binascii.Error, ValueError) as e:
        raise InvalidJoinToken('the join token is damaged (%s); copy it again whole' % e) \
            from None
    if not isinstance(body, dict) or any(f not in body for f in FIELDS):
        raise InvalidJoinToken('the join token is damaged: fields are missing')
    if not body['controllers'] or not isinstance(body['controllers'], list):
        raise InvalidJoinToken('the join token names no controller')
    body.setdefault('role', 'compute')
    try:
        check_role(body['role'])
    except InvalidRole as e:
        raise InvalidJoinToken('the join token is damaged: %s' % e) from None
    now = time.time() if now is None else now
    if body['expires'] <= now:
        raise InvalidJoinToken(
            'the join token for %s expired at %s; ask for a new one with '
            '"altostack-manage node add %s"' % (
                body['name'], time.strftime('%Y-%m-%d %H:%M:%S UTC',
                                            time.gmtime(body['expires'])), body['name']))
    return body


def transport_url(token):
    """The node's rabbit:// transport URL: its own user at every controller."""
    cred = '%s:%s' % (parse.quote(token['user'], safe=''),
                      parse.quote(token['password'], safe=''))
    hosts = ','.join('%s@%s:%d' % (cred, '[%s]' % a if ':' in a else a, token['port'])
                     for a in token['controllers'])
    return 'rabbit://%s/%s' % (hosts, parse.quote(token['vhost'], safe=''))
