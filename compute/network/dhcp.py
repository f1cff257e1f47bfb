"""DHCP of a network: one dnsmasq in namespace qdhcp-<net id>, on a veth
leg from the network's bridge that carries the network's DHCP port (its MAC
and addresses).

Static ranges only: dnsmasq answers the ports listed in its hosts file
(one line per address of each port of the network on this host) and no one
else. Options (router, DNS servers, classless routes, MTU) are per subnet in
the options file. Both files are re-read on SIGHUP; a change of the command
line (subnets, lease time, address of the leg) restarts dnsmasq.

Files, under <state_dir>/dhcp/<net id>/: host, opts, leases, pid, log.
"""

import ipaddress
import os
import re
import signal

from oslo_log import log as logging

from compute.network import bridge as br

LOG = logging.getLogger(__name__)

STOP_WAIT = 5.0


# -- pure: what the files and the command line say ---------------------------

def _tag(subnet_id):
    return 'subnet-%s' % subnet_id


def hostname_for(port, ip):
    """A DNS label for the port: its hostname, cleaned, else host-<ip>."""
    name = (port.get('hostname') or '').strip().lower()
    name = re.sub(r'[^a-z0-9-]', '-', name.split('.')[0])[:63].strip('-')
    if not name:
        name = 'host-' + re.sub(r'[.:]', '-', ip).strip('-')
    return name


def dhcp_subnets(network):
    return [s for s in network.get('subnets') or [] if s.get('enable_dhcp')]


def hosts_file(network, ports):
    """One line per DHCP address of each port: ``mac,ip,hostname``
    (``mac,[ip6],hostname`` for IPv6)."""
    subnets = {s['id'] for s in dhcp_subnets(network)}
    lines = []
    for port in ports:
        for fip in port.get('fixed_ips') or []:
            if fip.get('subnet_id') not in subnets:
                continue
            ip = fip['ip_address']
            shown = '[%s]' % ip if ':' in ip else ip
            lines.append('%s,%s,%s' % (port['mac_address'].lower(), shown,
                                       hostname_for(port, ip)))
    return ''.join(line + '\n' for line in lines)


def _classless_routes(subnet):
    routes = []
    for r in subnet.get('host_routes') or []:
        dest = ipaddress.ip_network(r['destination'], strict=False)
        if dest.version == 4:
            routes.append('%s,%s' % (dest, r['nexthop']))
    if routes and subnet.get('gateway_ip'):
        # RFC 3442: a client given classless routes ignores the router option.
        routes.append('0.0.0.0/0,%s' % subnet['gateway_ip'])
    return routes


def opts_file(network, default_mtu):
    """Per-subnet options: router (none when the subnet has no gateway),
    DNS servers, classless static routes (host_routes), interface MTU."""
    lines = []
    for subnet in dhcp_subnets(network):
        tag = 'tag:' + _tag(subnet['id'])
        net = ipaddress.ip_network(subnet['cidr'], strict=False)
        dns = [d for d in subnet.get('dns_nameservers') or []
               if ipaddress.ip_address(d).version == net.version]
        if net.version == 4:
            lines.append('%s,option:router%s' % (
                tag, ',' + subnet['gateway_ip'] if subnet.get('gateway_ip') else ''))
            if dns:
                lines.append('%s,option:dns-server,%s' % (tag, ','.join(dns)))
            routes = _classless_routes(subnet)
            if routes:
                lines.append('%s,option:classless-static-route,%s' % (tag, ','.join(routes)))
            lines.append('%s,option:mtu,%d' % (tag, network.get('mtu') or default_mtu))
        else:
            if dns:
                lines.append('%s,option6:dns-server,%s' % (
                    tag, ','.join('[%s]' % d for d in dns)))
    return ''.join(line + '\n' for line in lines)


def paths(state_dir, network_id):
    folder = os.path.join(state_dir, 'dhcp', network_id)
    return {'dir': folder, 'host': os.path.join(folder, 'host'),
            'opts': os.path.join(folder, 'opts'), 'leases': os.path.join(folder, 'leases'),
            'pid': os.path.join(folder, 'pid'), 'log': os.path.join(folder, 'log')}


def _world_traversable(path):
    """True if a process of another user can reach files in ``path``."""
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & 0o001:
                return False
        except FileNotFoundError:
            pass  # made later, 0755
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def dnsmasq_argv(network, interface, files, lease_time, run_as_root=False):
    """The dnsmasq command line of a network."""
    argv = ['dnsmasq', '--no-hosts', '--no-resolv', '--conf-file=/dev/null',
            '--port=0', '--bind-interfaces', '--interface=%s' % interface,
            '--except-interface=lo', '--dhcp-authoritative',
            '--pid-file=%s' % files['pid'], '--dhcp-leasefile=%s' % files['leases'],
            '--dhcp-hostsfile=%s' % files['host'], '--dhcp-optsfile=%s' % files['opts'],
            '--log-facility=%s' % files['log']]
    if run_as_root:
        argv.append('--user=root')
    for subnet in dhcp_subnets(network):
        net = ipaddress.ip_network(subnet['cidr'], strict=False)
        mask = str(net.netmask) if net.version == 4 else str(net.prefixlen)
        argv.append('--dhcp-range=set:%s,%s,static,%s,%ds' % (
            _tag(subnet['id']), net.network_address, mask, lease_time))
    return argv


def spec(network, ports, state_dir, host_if, ns_if, netns, lease_time, default_mtu):
    """Everything the DHCP of ``network`` on this host is made of, or None
    when it has no DHCP (no DHCP port, no subnet with DHCP)."""
    port = network.get('dhcp_port')
    subnets = {s['id']: s for s in dhcp_subnets(network)}
    if not port or not subnets:
        return None
    addresses = []
    for fip in port.get('fixed_ips') or []:
        sub = subnets.get(fip.get('subnet_id'))
        if sub is None:
            continue
        prefix = ipaddress.ip_network(sub['cidr'], strict=False).prefixlen
        addresses.append('%s/%d' % (fip['ip_address'], prefix))
    if not addresses:
        return None
    files = paths(state_dir, network['id'])
    return {
        'network_id': network['id'], 'netns': netns, 'bridge': network['bridge'],
        'host_if': host_if, 'ns_if': ns_if, 'mac': port['mac_address'].lower(),
        'mtu': network.get('mtu') or default_mtu, 'addresses': addresses,
        'files': files,
        'argv': dnsmasq_argv(network, ns_if, files, lease_time,
                             run_as_root=not _world_traversable(files['dir'])),
        'hosts': hosts_file(network, ports),
        'opts': opts_file(network, default_mtu),
    }


# -- the process ---------------------------------------------------------------

def running_pid(run, sp):
    """The pid of this network's dnsmasq if it runs (its pid file names a
    live process whose command line is ours), else None."""
    try:
        with open(sp['files']['pid']) as f:
            pid = int(f.read().strip())
    except (OSError, ValueError):
        return None
    cmdline = run.process_cmdline(pid)
    if not cmdline or '--pid-file=%s' % sp['files']['pid'] not in cmdline:
        return None
    return pid


def is_running(run, sp):
    return running_pid(run, sp) is not None


def _write(path, text):
    """Write ``text`` to ``path`` if it differs; True if it changed."""
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


def stop(run, sp):
    pid = running_pid(run, sp)
    if pid is None:
        return
    run.kill(pid, signal.SIGTERM)
    waited = 0.0
    while run.process_cmdline(pid) is not None and waited < STOP_WAIT:
        run.sleep(0.05)
        waited += 0.05
    if run.process_cmdline(pid) is not None:
        run.kill(pid, signal.SIGKILL)


def ensure(run, sp):
    """Namespace, leg, addresses, files and a dnsmasq with this command line."""
    files = sp['files']
    os.makedirs(files['dir'], mode=0o755, exist_ok=True)
    os.chmod(files['dir'], 0o755)
    br.ensure_netns(run, sp['netns'])
    new_leg = br.ensure_veth(run, sp['host_if'], sp['bridge'], sp['netns'], sp['ns_if'],
                             sp['mtu'], mac=sp['mac'])
    _added, removed = br.ensure_addresses(run, sp['ns_if'], sp['addresses'], netns=sp['netns'])
    changed = _write(files['host'], sp['hosts'])
    changed = _write(files['opts'], sp['opts']) or changed
    pid = running_pid(run, sp)
    if pid is not None and (new_leg or removed or run.process_cmdline(pid) != sp['argv']):
        LOG.info('Restarting dnsmasq of network %s (its leg, addresses or command line '
                 'changed)', sp['network_id'])
        stop(run, sp)
        pid = None
    if pid is None:
        run.run(sp['argv'], netns=sp['netns'])
        LOG.info('Started dnsmasq for network %s in %s', sp['network_id'], sp['netns'])
    elif changed:
        run.kill(pid, signal.SIGHUP)
        LOG.debug('dnsmasq of network %s re-reads its hosts and options', sp['network_id'])


def remove(run, sp):
    """Stop dnsmasq, remove the leg, the namespace and the files."""
    stop(run, sp)
    br.delete_link(run, sp['host_if'])
    br.delete_netns(run, sp['netns'])
    files = sp['files']
    for key in ('host', 'opts', 'leases', 'pid', 'log'):
        for path in (files[key], files[key] + '.tmp'):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
    try:
        os.rmdir(files['dir'])
    except OSError:
        pass


def leases(sp):
    """[(expiry, mac, ip, hostname)] from dnsmasq's lease file."""
    out = []
    try:
        with open(sp['files']['leases']) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 4 and parts[0].isdigit():
                    out.append((int(parts[0]), parts[1].lower(), parts[2], parts[3]))
    except FileNotFoundError:
        pass
    return out
