"""Config drive: the instance's metadata on an ISO9660 disk labelled
config-2, in the OpenStack layout cloud-init and our tiny guest read.

    openstack/{latest,2012-08-10}/meta_data.json
                                   network_data.json
                                   vendor_data.json, vendor_data2.json
                                   user_data            (only when given)
    ec2/latest/meta-data.json

Built with genisoimage as Nova does (-V config-2 -r -J -l ...).
"""

import base64
import binascii
import ipaddress
import json
import os
import subprocess
import tempfile

from oslo_log import log as logging

from compute.virt import exception

LOG = logging.getLogger(__name__)

VERSIONS = ('2012-08-10', 'latest')
VOLUME_LABEL = 'config-2'
GENISOIMAGE_TIMEOUT = 60


# -- content ----------------------------------------------------------------

def meta_data(instance):
    md = {
        'uuid': instance['uuid'],
        'name': instance.get('name') or instance.get('hostname') or instance['uuid'],
        'hostname': instance.get('hostname') or '',
        'launch_index': int(instance.get('launch_index') or 0),
        'availability_zone': instance.get('availability_zone') or None,
        'project_id': instance.get('project_id'),
        'meta': dict(instance.get('metadata') or {}),
        'devices': [],
        'random_seed': base64.b64encode(os.urandom(512)).decode('ascii'),
    }
    if instance.get('key_data'):
        name = instance.get('key_name') or 'key'
        md['public_keys'] = {name: instance['key_data']}
        md['keys'] = [{'name': name, 'type': 'ssh', 'data': instance['key_data']}]
    return md


def _addr(value):
    """An address given as text or as {'address': text}."""
    if isinstance(value, dict):
        return value.get('address')
    return value


def _netmask(cidr):
    return str(ipaddress.ip_network(cidr, strict=False).netmask)


def network_data(network_info):
    """network_data.json (links, networks, services) from VIF dicts; each
    subnet may give cidr, gateway, ips, dns_nameservers, routes, enable_dhcp."""
    links, networks, services = [], [], []
    for vif in network_info or []:
        net = vif.get('network') or {}
        link_id = vif.get('devname') or ('tap' + str(vif['id'])[:11])
        link = {'id': link_id, 'vif_id': vif['id'], 'type': vif.get('type') or 'bridge',
                'ethernet_mac_address': vif['address']}
        if net.get('mtu'):
            link['mtu'] = int(net['mtu'])
        links.append(link)
        for subnet in net.get('subnets') or []:
            cidr = subnet.get('cidr')
            version = 6 if cidr and ':' in cidr else 4
            for dns in subnet.get('dns_nameservers') or subnet.get('dns') or []:
                entry = {'type': 'dns', 'address': _addr(dns)}
                if entry not in services:
                    services.append(entry)
            ips = [_addr(ip) for ip in subnet.get('ips') or []]
            dhcp = subnet.get('enable_dhcp', subnet.get('dhcp', False))
            for ip in ips or [None]:
                n = {'id': 'network%d' % len(networks), 'link': link_id,
                     'network_id': net.get('id')}
                if ip is None or dhcp:
                    n['type'] = 'ipv%d_dhcp' % version
                else:
                    n['type'] = 'ipv%d' % version
                    n['ip_address'] = ip
                    if cidr:
                        n['netmask'] = _netmask(cidr)
                    routes = []
                    gw = _addr(subnet.get('gateway'))
                    if gw:
                        routes.append({'network': '0.0.0.0' if version == 4 else '::',
                                       'netmask': '0.0.0.0' if version == 4 else '::',
                                       'gateway': gw})
                    for r in subnet.get('routes') or []:
                        routes.append({'network': r.get('destination', r.get('cidr')),
                                       'gateway': _addr(r.get('nexthop', r.get('gateway')))})
                    n['routes'] = routes
                networks.append(n)
    return {'links': links, 'networks': networks, 'services': services}


def decode_user_data(user_data):
    if user_data is None:
        return None
    try:
        return base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise exception.ConfigDriveFailure(reason='user_data is not valid base64') from e


def ec2_meta_data(instance):
    return {'instance-id': instance['uuid'], 'hostname': instance.get('hostname') or '',
            'local-hostname': instance.get('hostname') or '',
            'launch-index': int(instance.get('launch_index') or 0),
            'placement': {'availability-zone': instance.get('availability_zone') or ''}}


def files(instance, network_info, vendor_data=None):
    """{relative path: bytes} of everything on the drive."""
    def js(obj):
        return json.dumps(obj, sort_keys=True).encode('utf-8')

    md = js(meta_data(instance))
    nd = js(network_data(network_info))
    vd = js(vendor_data or {})
    user_data = decode_user_data(instance.get('user_data'))
    out = {}
    for version in VERSIONS:
        base = 'openstack/%s/' % version
        out[base + 'meta_data.json'] = md
        out[base + 'network_data.json'] = nd
        out[base + 'vendor_data.json'] = vd
        out[base + 'vendor_data2.json'] = js({})
        if user_data is not None:
            out[base + 'user_data'] = user_data
    out['ec2/latest/meta-data.json'] = js(ec2_meta_data(instance))
    if user_data is not None:
        out['ec2/latest/user-data'] = user_data
    return out


# -- the ISO ----------------------------------------------------------------

def make_iso(content, path):
    """Write {relative path: bytes} as an ISO9660 (+Rock Ridge, Joliet)
    image labelled config-2 at ``path``; nothing is left behind on failure."""
    with tempfile.TemporaryDirectory(prefix='configdrive-') as staging:
        for rel, data in content.items():
            full = os.path.join(staging, rel)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'wb') as f:
                f.write(data)
        cmd = ['genisoimage', '-o', path, '-ldots', '-allow-lowercase', '-allow-multidot',
               '-l', '-publisher', 'Altostack', '-quiet', '-J', '-r', '-V', VOLUME_LABEL,
               staging]
        try:
            res = subprocess.run(cmd, capture_output=True, text=True,
                                 timeout=GENISOIMAGE_TIMEOUT)
            error = res.stderr.strip() if res.returncode else None
        except (OSError, subprocess.TimeoutExpired) as e:
            error = str(e)
        if error is not None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            raise exception.ConfigDriveFailure(reason='genisoimage: %s' % error)


def build(instance, network_info, path, vendor_data=None):
    """Build the config drive of ``instance`` at ``path``."""
    make_iso(files(instance, network_info, vendor_data), path)
    LOG.debug('Config drive for %s written to %s', instance['uuid'], path)
    return path
