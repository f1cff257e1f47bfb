#!/usr/bin/env python3
"""Network benchmark on a real all-in-one cloud (RabbitMQ, libvirt, QEMU TCG,
bridges, dnsmasq, nftables):

* port create -> the guest holds its DHCP lease: POST a port, boot a server
  on it, and time until dnsmasq's lease file (in the network's namespace
  folder) names the port's MAC; the boot itself is timed too (ACTIVE), so
  the part the network adds shows;
* floating IP associate -> reachable: PUT port_id on a floating IP, then
  ping the floating address from the host every 20 ms until it answers;
  disassociate -> unreachable likewise.

    python benchmarks/network_bench.py [--runs 10]
"""

import argparse
import glob
import os
import subprocess
import time

from benchlib import Client
from benchlib import LocalCloud
from benchlib import summary
from benchlib import wait


def ping(address):
    return subprocess.run(['ping', '-c', '1', '-W', '0.2', address],
                          capture_output=True).returncode == 0


def leased(state_dir, mac):
    for path in glob.glob(os.path.join(state_dir, '**', '*leases*'), recursive=True):
        with open(path) as f:
            if mac in f.read():
                return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--runs', type=int, default=10)
    args = ap.parse_args()
    extra = '[scheduler]\ncpu_allocation_ratio = 16.0\n'
    with LocalCloud(extra_conf=extra) as cloud:
        image = cloud.upload_tiny_image()['id']
        c = Client(cloud)
        net = c.call('POST', '/network/v2.0/networks',
                     json={'network': {'name': 'bench'}})['network']
        c.call('POST', '/network/v2.0/subnets', json={'subnet': {
            'network_id': net['id'], 'cidr': '10.77.0.0/24', 'ip_version': 4}})
        public = c.call('GET', '/network/v2.0/networks?name=public')['networks'][0]
        # Allow ICMP in so the floating address answers pings.
        groups = c.call('GET', '/network/v2.0/security-groups?name=default')
        c.call('POST', '/network/v2.0/security-group-rules', json={'security_group_rule': {
            'security_group_id': groups['security_groups'][0]['id'], 'direction': 'ingress',
            'ethertype': 'IPv4', 'protocol': 'icmp'}})
        state_dir = os.path.join(cloud.workdir, 'state')
        lease, active, fip_on, fip_off = [], [], [], []
        for i in range(args.runs):
            t0 = time.perf_counter()
            port = c.call('POST', '/network/v2.0/ports', json={'port': {
                'network_id': net['id'], 'name': 'bench-%d' % i}})['port']
            sid = c.call('POST', '/compute/v2.1/servers', json={'server': {
                'name': 'bench-%d' % i, 'imageRef': image, 'flavorRef': '1',
                'networks': [{'port': port['id']}]}})['server']['id']
            t_active = wait(lambda sid=sid: c.call('GET', '/compute/v2.1/servers/' + sid)[
                'server']['status'] in ('ACTIVE', 'ERROR'), step=0.05)
            t_lease = wait(lambda mac=port['mac_address']: leased(state_dir, mac), step=0.05)
            active.append(t_active - t0)
            lease.append(t_lease - t0)
            fip = c.call('POST', '/network/v2.0/floatingips', json={'floatingip': {
                'floating_network_id': public['id']}})['floatingip']
            t1 = time.perf_counter()
            c.call('PUT', '/network/v2.0/floatingips/' + fip['id'],
                   json={'floatingip': {'port_id': port['id']}})
            fip_on.append(wait(lambda a=fip['floating_ip_address']: ping(a), step=0.0) - t1)
            t2 = time.perf_counter()
            c.call('PUT', '/network/v2.0/floatingips/' + fip['id'],
                   json={'floatingip': {'port_id': None}})
            fip_off.append(wait(lambda a=fip['floating_ip_address']: not ping(a), step=0.0) - t2)
            c.call('DELETE', '/network/v2.0/floatingips/' + fip['id'])
            c.delete_servers([sid])
            c.call('DELETE', '/network/v2.0/ports/' + port['id'])
            print('run %d: ACTIVE %.2f s, lease %.2f s, fip reachable %.3f s, '
                  'fip gone %.3f s' % (i + 1, active[-1], lease[-1], fip_on[-1], fip_off[-1]))
        print('port create -> ACTIVE:             ' + summary(active))
        print('port create -> DHCP lease:         ' + summary(lease))
        print('floating IP associate -> ping:     ' + summary(fip_on, digits=3))
        print('floating IP disassociate -> gone:  ' + summary(fip_off, digits=3))

if __name__ == '__main__':
    main()
