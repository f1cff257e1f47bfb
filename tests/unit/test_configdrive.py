"""Config drive: the ISO is labelled config-2 and holds the OpenStack
layout; read back with isoinfo (no mounts)."""

import base64
import json
import os
import shutil
import subprocess

import pytest

from compute.virt import configdrive
from compute.virt import exception

pytestmark = pytest.mark.skipif(not (shutil.which('genisoimage') and shutil.which('isoinfo')),
                                reason='needs genisoimage (with isoinfo)')

USER_DATA = b'#!/bin/sh\necho hello-userdata\n'


def make_instance(**kw):
    inst = {'uuid': '0e5b0f3c-1d2e-4f50-9a6b-7c8d9e0f1a2b', 'name': 'My VM',
            'hostname': 'vm-func', 'project_id': 'proj', 'user_id': 'user',
            'flavor': {'name': 'm1.tiny'}, 'image_ref': 'img', 'key_name': 'mykey',
            'key_data': 'ssh-ed25519 AAAAC3Nz test@example', 'metadata': {'role': 'web'},
            'user_data': base64.b64encode(USER_DATA).decode(), 'launch_index': 2,
            'availability_zone': 'az1', 'created_at': '2025-01-01T00:00:00Z'}
    inst.update(kw)
    return inst


def iso_files(iso):
    out = subprocess.run(['isoinfo', '-R', '-f', '-i', iso], capture_output=True, text=True,
                         check=True).stdout
    return set(out.split())


def iso_read(iso, path):
    return subprocess.run(['isoinfo', '-R', '-i', iso, '-x', path], capture_output=True,
                          check=True).stdout


def build(tmp_path, instance, network_info=()):
    iso = str(tmp_path / 'disk.config')
    assert configdrive.build(instance, list(network_info), iso) == iso
    return iso


def test_iso_label_and_layout(tmp_path):
    iso = build(tmp_path, make_instance())
    info = subprocess.run(['isoinfo', '-d', '-i', iso], capture_output=True, text=True,
                          check=True).stdout
    assert 'Volume id: config-2' in info
    files = iso_files(iso)
    for version in ('latest', '2012-08-10'):
        for name in ('meta_data.json', 'network_data.json', 'vendor_data.json', 'user_data'):
            assert '/openstack/%s/%s' % (version, name) in files
    assert '/ec2/latest/meta-data.json' in files
    # ISO9660 names too (for readers without Rock Ridge or Joliet)
    plain = subprocess.run(['isoinfo', '-i', iso, '-x', '/openstack/latest/meta_data.json;1'],
                           capture_output=True, check=True).stdout
    assert json.loads(plain)['hostname'] == 'vm-func'


def test_meta_data_content(tmp_path):
    iso = build(tmp_path, make_instance())
    md = json.loads(iso_read(iso, '/openstack/latest/meta_data.json'))
    assert md['uuid'] == '0e5b0f3c-1d2e-4f50-9a6b-7c8d9e0f1a2b'
    assert md['name'] == 'My VM' and md['hostname'] == 'vm-func'
    assert md['launch_index'] == 2 and md['availability_zone'] == 'az1'
    assert md['project_id'] == 'proj'
    assert md['public_keys'] == {'mykey': 'ssh-ed25519 AAAAC3Nz test@example'}
    assert md['keys'] == [{'name': 'mykey', 'type': 'ssh',
                           'data': 'ssh-ed25519 AAAAC3Nz test@example'}]
    assert md['meta'] == {'role': 'web'}
    assert len(base64.b64decode(md['random_seed'])) == 512
    assert iso_read(iso, '/openstack/2012-08-10/meta_data.json') == \
        iso_read(iso, '/openstack/latest/meta_data.json')
    # our tiny guest reads the hostname with sed: it must be on one line
    assert b'"hostname": "vm-func"' in iso_read(iso, '/openstack/latest/meta_data.json')


def test_user_data_is_decoded_and_vendor_data_empty(tmp_path):
    iso = build(tmp_path, make_instance())
    assert iso_read(iso, '/openstack/latest/user_data') == USER_DATA
    assert iso_read(iso, '/openstack/2012-08-10/user_data') == USER_DATA
    assert json.loads(iso_read(iso, '/openstack/latest/vendor_data.json')) == {}


def test_no_user_data_no_keys_no_network(tmp_path):
    iso = build(tmp_path, make_instance(user_data=None, key_data=None, key_name=None))
    files = iso_files(iso)
    assert '/openstack/latest/user_data' not in files
    md = json.loads(iso_read(iso, '/openstack/latest/meta_data.json'))
    assert 'public_keys' not in md and 'keys' not in md
    nd = json.loads(iso_read(iso, '/openstack/latest/network_data.json'))
    assert nd == {'links': [], 'networks': [], 'services': []}


def test_network_data_from_network_info(tmp_path):
    vifs = [
        {'id': 'a1b2c3d4-e5f6-0000-0000-000000000001', 'address': '52:54:00:00:00:01',
         'network': {'id': 'net-1', 'bridge': 'br0', 'mtu': 1450, 'subnets': [
             {'cidr': '10.0.0.0/24', 'gateway': {'address': '10.0.0.1'},
              'ips': [{'address': '10.0.0.5'}], 'dns_nameservers': ['10.0.0.2'],
              'enable_dhcp': False}]}},
        {'id': 'a1b2c3d4-e5f6-0000-0000-000000000002', 'address': '52:54:00:00:00:02',
         'network': {'id': 'net-2', 'subnets': [
             {'cidr': '10.1.0.0/16', 'ips': ['10.1.0.9'], 'enable_dhcp': True}]}},
    ]
    iso = build(tmp_path, make_instance(), vifs)
    nd = json.loads(iso_read(iso, '/openstack/latest/network_data.json'))
    assert [link['ethernet_mac_address'] for link in nd['links']] == \
        ['52:54:00:00:00:01', '52:54:00:00:00:02']
    assert nd['links'][0]['mtu'] == 1450
    assert nd['links'][0]['id'] == 'tapa1b2c3d4-e5'
    static, dhcp = nd['networks']
    assert static == {'id': 'network0', 'link': 'tapa1b2c3d4-e5', 'network_id': 'net-1',
                      'type': 'ipv4', 'ip_address': '10.0.0.5', 'netmask': '255.255.255.0',
                      'routes': [{'network': '0.0.0.0', 'netmask': '0.0.0.0',
                                  'gateway': '10.0.0.1'}]}
    assert dhcp['type'] == 'ipv4_dhcp' and dhcp['network_id'] == 'net-2'
    assert nd['services'] == [{'type': 'dns', 'address': '10.0.0.2'}]


def test_bad_user_data_fails_and_writes_nothing(tmp_path):
    with pytest.raises(exception.ConfigDriveFailure, match='base64'):
        build(tmp_path, make_instance(user_data='%%% not base64'))
    assert not os.path.exists(tmp_path / 'disk.config')


def test_genisoimage_failure_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path / 'empty'))
    with pytest.raises(exception.ConfigDriveFailure, match='genisoimage'):
        configdrive.build(make_instance(), [], str(tmp_path / 'disk.config'))
    assert not os.path.exists(tmp_path / 'disk.config')
