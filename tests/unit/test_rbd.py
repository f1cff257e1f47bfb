"""The Ceph RBD pieces without a cluster: the CLI wrapper's commands (a fake
runner), the rbd volume backend's connection info and clone decision, and
the libvirt network disk with its cephx auth."""

import json

import pytest

from blockstore.backends import rbd as rbd_backend
from common.conf import CONF
from common.host import cmd as hostcmd
from common.host import rbd
from compute.virt.libvirt import ceph_secret
from compute.virt.libvirt import designer

FSID = '11111111-2222-3333-4444-555555555555'


class FakeRunner(hostcmd.Runner):
    def __init__(self, answers):
        super().__init__(timeout=5)
        self.answers = answers
        self.calls = []

    def _execute(self, argv, input_text):
        self.calls.append(argv)
        for key, answer in self.answers.items():
            if key in ' '.join(argv):
                return answer
        return 0, '', ''


def _mon_dump():
    return json.dumps({'mons': [{'public_addrs': {'addrvec': [
        {'type': 'v2', 'addr': '10.0.0.1:3300'}, {'type': 'v1', 'addr': '10.0.0.1:6789'}]}}]})


def _backend(answers):
    runner = FakeRunner(answers)
    client = rbd.Client('/c/ceph.conf', 'vol', runner=runner)
    return rbd_backend.RBDBackend(client=client, pool='volumes', runner=runner), runner


def test_parse_url_and_read_key(tmp_path):
    assert rbd.parse_url('rbd://%s/images/abc/snap' % FSID) == (FSID, 'images', 'abc', 'snap')
    assert rbd.parse_url('file:///x') is None
    kr = tmp_path / 'k'
    kr.write_text('[client.h2]\n\tkey = QUJDRA==\n\tcaps mon = "profile rbd"\n')
    assert rbd.read_key(str(kr), 'h2') == 'QUJDRA=='
    assert rbd.read_key(str(kr), 'other') is None


def test_connection_info_is_novas_rbd_shape():
    CONF.set_override('rbd_secret_uuid', 'u-1', 'volume')
    try:
        backend, _ = _backend({'mon dump': (0, _mon_dump(), ''),
                               'info volumes/volume-v1': (0, '{"size": 1}', '')})
        conn = backend.initialize_connection('v1', {'host': 'h2'})
    finally:
        CONF.clear_override('rbd_secret_uuid', 'volume')
    assert conn['driver_volume_type'] == 'rbd'
    data = conn['data']
    assert (data['name'], data['hosts'], data['ports']) == ('volumes/volume-v1',
                                                            ['10.0.0.1'], ['6789'])
    assert (data['auth_username'], data['secret_type'], data['secret_uuid']) == (
        'vol', 'ceph', 'u-1')


def test_only_raw_images_of_this_cluster_are_cloned():
    backend, runner = _backend({
        'fsid': (0, FSID + '\n', ''),
        'info volumes/volume-v1': (2, '', 'rbd: error opening image: (2) No such file'),
    })
    image = {'id': 'i1', 'disk_format': 'qcow2',
             'direct_url': 'rbd://%s/images/i1/snap' % FSID}
    assert backend.clone_image('v1', image, 1) is False
    assert backend.clone_image('v1', dict(image, direct_url='rbd://other/images/i1/snap',
                                          disk_format='raw'), 1) is False
    assert not any('clone' in c for c in runner.calls)
    with pytest.raises(Exception):  # noqa: B017 - the size check after the clone
        backend.clone_image('v1', dict(image, disk_format='raw'), 1)
    assert any(c[-2:] == ['images/i1@snap', 'volumes/volume-v1'] for c in runner.calls)


def test_rbd_disk_has_auth_and_hosts_of_this_host():
    CONF.set_override('rbd_user', 'compute-h3', 'libvirt')
    CONF.set_override('rbd_secret_uuid', 'u-3', 'libvirt')
    try:
        data = ceph_secret.rbd_auth({'name': 'volumes/volume-v1', 'hosts': ['10.0.0.1'],
                                     'ports': ['6789'], 'auth_username': 'vol',
                                     'secret_type': 'ceph', 'secret_uuid': 'u-1'})
    finally:
        CONF.clear_override('rbd_user', 'libvirt')
        CONF.clear_override('rbd_secret_uuid', 'libvirt')
    xml = designer.volume_disk({'driver_volume_type': 'rbd', 'data': data}, 'v1', 'vdb',
                               'writeback').to_xml()
    assert "<source protocol=\"rbd\" name=\"volumes/volume-v1\">" in xml
    assert '<host name="10.0.0.1" port="6789" />' in xml
    assert '<auth username="compute-h3"><secret type="ceph" uuid="u-3" /></auth>' in xml
    assert '<serial>v1</serial>' in xml
