"""The cloud's shared part, for controllers that join (cli/node_cloud.py).

``control_bundle``: what the conductor hands a controller whose join token
it accepted (never before, and never in the token): the cloud's settings
and secrets (``[node_join] cloud_file``: the Ansible variables of this cloud,
the same names deploy/ansible uses, the image URL key among them), the
token keys and Ceph's client files, and the controllers that joined before it.

``write_fronts``: the load balancer's HAProxy fronts (API, image service,
Galera) over every controller that joined, with the devstack/lib function
the Ansible loadbalancer role calls (cloud_fronts.sh); run by the conductor of the
load balancer's machine when a controller joins, and by `altostack-node
init` for the first one.
"""

import json
import os
import subprocess
import uuid

from oslo_log import log as logging

from common.conf import CONF
from conductor import nodes

LOG = logging.getLogger(__name__)
SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Ceph's client files of the control services, in /etc/altostack/ceph; the
# compute nodes' user and the key that makes OSDs are there too, for the
# computes and storage machines that join.
COMPUTE_USER = 'altostack-compute'
CEPH_FILES = ('ceph.conf', 'client.altostack-volume.keyring',
              'client.altostack-image.keyring', 'client.%s.keyring' % COMPUTE_USER,
              'client.bootstrap-osd.keyring')


class CloudError(Exception):
    """This controller cannot give what is asked (its files are missing)."""


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError as e:
        raise CloudError('this controller cannot read %s (%s)' % (path, e.strerror)) from None


def load_cloud(path=None):
    return json.loads(_read(path or CONF.node_join.cloud_file))


def _ceph_dir():
    return os.path.dirname(CONF.volume.rbd_ceph_conf)


def storage_bundle():
    """What a storage machine needs to add its OSD: the cluster's client
    conf and the key that can only make OSDs."""
    return {'etc_files': {'ceph/%s' % f: _read(os.path.join(_ceph_dir(), f))
                          for f in ('ceph.conf', 'client.bootstrap-osd.keyring')}}


def compute_ceph():
    """A compute node's Ceph client files and user, or None where the
    cloud has no Ceph (the volume service's backend is not rbd) or this
    controller holds no compute key (a cloud whose computes Ansible keys
    one by one)."""
    if CONF.volume.backend != 'rbd':
        return None
    keyring = 'client.%s.keyring' % COMPUTE_USER
    try:
        files = {f: _read(os.path.join(_ceph_dir(), f)) for f in ('ceph.conf', keyring)}
    except CloudError:
        return None
    return {'user': COMPUTE_USER, 'files': files,
            'secret_uuid': str(uuid.uuid5(uuid.NAMESPACE_URL, 'altostack:' + COMPUTE_USER))}


def control_bundle():
    """{'cloud': settings and secrets, 'state_files': {path under
    state_path: text}, 'etc_files': {path under /etc/altostack: text},
    'controls': [[name, my_ip], ...]}."""
    state = {}
    repo = CONF.identity.key_repository
    try:
        keys = sorted(os.listdir(repo))
    except OSError as e:
        raise CloudError('this controller has no token keys in %s (%s)'
                         % (repo, e.strerror)) from None
    for key in keys:
        state['fernet-keys/%s' % key] = _read(os.path.join(repo, key))
    etc = {'ceph/%s' % f: _read(os.path.join(_ceph_dir(), f)) for f in CEPH_FILES}
    return {'cloud': load_cloud(), 'state_files': state, 'etc_files': etc,
            'controls': [list(c) for c in nodes.control_nodes()]}


# The ports of the fronts unless the cloud chose others (the Ansible
# defaults: altostack_api_port, altostack_image_port, altostack_db_port).
PORTS = {'altostack_api_port': 8080, 'altostack_image_port': 9292, 'altostack_db_port': 3306}


def front_lines(front_dir, address, cloud, controls):
    """The bash that writes and (re)loads the three fronts (the first
    controller is the database's writer, the others backups)."""
    cloud = dict(PORTS, **cloud)
    return '\n'.join([
        'source "$SRC/devstack/lib/cloud_fronts.sh"',
        ' '.join(['altostack_cloud_fronts_up', front_dir, address] +
                 [str(cloud[p]) for p in PORTS] +
                 ['%s=%s' % (n, ip) for n, ip in controls]),
    ])


def write_fronts(front_dir, address, cloud, controls, src=None):
    r = subprocess.run(['bash', '-c', front_lines(front_dir, address, cloud, controls)],
                       env=dict(os.environ, SRC=src or CONF.node_join.src_dir or SRC),
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise CloudError('the fronts were not written: %s' % (r.stderr or r.stdout).strip())


def add_to_fronts(name):
    """On the load balancer's machine: every joined controller (with
    ``name``, which must be one) in the fronts. A list of their names."""
    if name not in [n for n, _ in nodes.control_nodes()]:
        raise CloudError('%s is not a controller that joined' % name)
    return refresh_fronts()


def refresh_fronts():
    """On the load balancer's machine: the fronts over the controllers that
    are joined now (one removed is left out). A list of their names."""
    if not CONF.node_join.front_dir:
        raise CloudError('this machine (%s) is not the load balancer: it has no '
                         '[node_join] front_dir' % CONF.host)
    controls = nodes.control_nodes()
    write_fronts(CONF.node_join.front_dir, CONF.node_join.front_address, load_cloud(),
                 controls)
    LOG.info('Fronts now over controllers %s', ', '.join(n for n, _ in controls))
    return [n for n, _ in controls]
