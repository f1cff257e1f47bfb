"""The libvirt secret that holds this compute host's cephx key.

Guests open Ceph RBD volumes as the host's own cephx user ([libvirt]
rbd_user), whose key libvirt keeps in a secret of usage type 'ceph' and
UUID [libvirt] rbd_secret_uuid (what the disks' <auth><secret> name). With
[libvirt] rbd_keyring set, the agent defines that secret from the keyring
(and sets its value again when the key changed) before a guest uses an RBD
volume; the key never leaves this host.
"""

import base64
import threading

import libvirt
from oslo_log import log as logging

from common.conf import CONF
from common.host import rbd as rbd_mod
from compute.virt import exception

LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()


def secret_xml(uuid, user):
    return ("<secret ephemeral='no' private='yes'><uuid>%s</uuid>"
            "<usage type='ceph'><name>client.%s secret</name></usage></secret>"
            % (uuid, user))


def rbd_auth(data):
    """The connection info's data with this host's own cephx user and secret
    ([libvirt] rbd_user, rbd_secret_uuid), as Nova overrides Cinder's."""
    data = dict(data)
    conf = CONF.libvirt
    if conf.rbd_user:
        data['auth_username'] = conf.rbd_user
    if conf.rbd_secret_uuid:
        data['secret_uuid'] = conf.rbd_secret_uuid
    if data.get('auth_username') and not data.get('secret_uuid'):
        raise exception.VirtError(reason='RBD volume %s needs a libvirt secret: set '
                                         '[libvirt] rbd_secret_uuid' % data.get('name'))
    return data


def ensure_ceph_secret(conn):
    """Define or update the secret from [libvirt] rbd_keyring (no-op when
    unset)."""
    conf = CONF.libvirt
    if not (conf.rbd_keyring and conf.rbd_user and conf.rbd_secret_uuid):
        return
    key = rbd_mod.read_key(conf.rbd_keyring, conf.rbd_user)
    if not key:
        raise exception.VirtError(reason='no key for client.%s in %s'
                                  % (conf.rbd_user, conf.rbd_keyring))
    value = base64.b64decode(key)
    with _LOCK:
        try:
            secret = conn.secretLookupByUUIDString(conf.rbd_secret_uuid)
            try:
                if secret.value() == value:
                    return
            except libvirt.libvirtError:
                pass
        except libvirt.libvirtError:
            secret = conn.secretDefineXML(secret_xml(conf.rbd_secret_uuid, conf.rbd_user))
            LOG.info('Defined libvirt secret %s for client.%s', conf.rbd_secret_uuid,
                     conf.rbd_user)
        secret.setValue(value)
