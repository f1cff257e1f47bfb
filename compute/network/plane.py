"""HostNetwork: make the host's data plane match the host state
(docs/network.md), idempotently, and take it all down again.

The data plane is a set of resources, each a JSON-able spec:

    bridge:<brq...>   a network's bridge (the external one holds its gateway
                      unless [network] external_gateway is off, and the
                      external wire, [network] external_interface)
    firewall          this agent's two nft tables (security groups, anti-spoofing,
                      what must not cross a VXLAN segment)
    vxlan:<net id>    device vx-<net> joining the network's bridges on other hosts
    dhcp:<net id>     namespace qdhcp-<net id>, its leg and dnsmasq
    router:<rtr id>   namespace qrouter-<router id>, its legs, routes, NAT and
                      forward policy

``apply(state)`` computes the specs the state asks for, compares them with
the ones it applied (kept in memory and in <state_dir>/registry.json, so a
restarted agent and altostack-network-cleanup know what it made), and
creates, updates or removes only what differs or what went missing (a
deleted bridge or namespace, a dead dnsmasq). Nothing is touched that is not
in the registry: not another agent's tables or bridges, not the host's own
interfaces. A resource is written to the registry before it is made, so a
crash half-way still leaves it to clean.
"""

import contextlib
import fcntl
import ipaddress
import json
import os
import threading
import time

from oslo_log import log as logging

from common import netnames
from common.conf import CONF
from common.host import cmd
from compute.network import bridge as br
from compute.network import dhcp
from compute.network import firewall
from compute.network import names
from compute.network import router
from compute.network import vxlan
from compute.virt import exception

LOG = logging.getLogger(__name__)

REGISTRY = 'registry.json'
LOCK = 'registry.lock'
VERSION = 1
# Order of making (removal goes the other way): bridges first, the
# firewall before anything can send through it (a VXLAN segment is joined
# only once the firewall that keeps routers and DHCP apart is in place),
# then the segments, DHCP and routers.
KIND_ORDER = {'bridge': 0, 'firewall': 1, 'vxlan': 2, 'dhcp': 3, 'router': 4}
# How often (seconds) a no-op apply checks that our nft tables still exist.
FIREWALL_CHECK_INTERVAL = 10.0


def _kind(key):
    return key.split(':', 1)[0]


def _order(key):
    return (KIND_ORDER[_kind(key)], key)


def _empty_registry(host):
    return {'version': VERSION, 'host': host, 'resources': {}, 'failed': [],
            'port_index': {}, 'zones': {}}


class HostNetwork:
    """The data plane of one compute host (one agent).

    ``state_dir``: where the registry and DHCP files live ([network]
    state_dir); ``host``: the agent's host name (CONF.host), which names its
    nft tables; None takes it from the registry (cleanup). ``runner``: the
    command runner (tests pass a fake one).
    """

    def __init__(self, state_dir, host=None, runner=None):
        self.state_dir = os.path.abspath(state_dir)
        self.host = host
        self.run = runner or cmd.Runner()
        self._lock = threading.Lock()
        self._registry = None
        self._fw_checked = 0.0
        self.last = {}

    # -- registry -----------------------------------------------------------
    @property
    def registry_path(self):
        return os.path.join(self.state_dir, REGISTRY)

    @contextlib.contextmanager
    def _locked(self):
        """One apply/teardown at a time, in this process and across
        processes (the agent and altostack-network-cleanup)."""
        with self._lock:
            os.makedirs(self.state_dir, mode=0o755, exist_ok=True)
            fd = os.open(os.path.join(self.state_dir, LOCK), os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def _load(self):
        if self._registry is not None:
            return self._registry
        try:
            with open(self.registry_path) as f:
                reg = json.load(f)
        except FileNotFoundError:
            reg = _empty_registry(self.host)
        except ValueError:
            LOG.error('Network registry %s is unreadable; starting a new one (what it '
                      'listed is no longer known)', self.registry_path)
            reg = _empty_registry(self.host)
        for key, value in _empty_registry(self.host).items():
            reg.setdefault(key, value)
        if self.host is None:
            self.host = reg.get('host')
        elif reg.get('host') not in (None, self.host):
            LOG.warning('Network registry %s was written by host %s, not %s',
                        self.registry_path, reg.get('host'), self.host)
        reg['host'] = reg.get('host') or self.host
        self._registry = reg
        return reg

    def _save(self, reg):
        tmp = self.registry_path + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(reg, f, indent=1, sort_keys=True)
        os.replace(tmp, self.registry_path)

    @property
    def resources(self):
        """{key: spec} of what this agent made (a copy)."""
        with self._lock:
            return json.loads(json.dumps(self._load()['resources']))

    @property
    def table(self):
        return names.table_name(self.host)

    # -- desired state --------------------------------------------------------
    def desired(self, state, reg=None):
        """(resources, port_index, zones) the state asks for."""
        reg = reg if reg is not None else self._load()
        default_mtu = CONF.network.network_mtu
        nets = []
        for n in state.get('networks') or []:
            n = dict(n)
            n['bridge'] = n.get('bridge') or netnames.bridge(n['id'])
            nets.append(n)
        ports = []
        for p in state.get('ports') or []:
            p = dict(p)
            p['devname'] = p.get('devname') or netnames.tap(p['id'])
            ports.append(p)
        by_net = {}
        for p in ports:
            by_net.setdefault(p['network_id'], []).append(p)

        ext = None
        for n in nets:
            if not n.get('external') or ext is not None:
                continue
            for sub in n.get('subnets') or []:
                net = ipaddress.ip_network(sub['cidr'], strict=False)
                if net.version != 4:
                    continue
                gw = sub.get('gateway_ip') or str(next(net.hosts()))
                ext = {'network_id': n['id'], 'bridge': n['bridge'],
                       'mtu': n.get('mtu') or default_mtu, 'cidr': str(net), 'gateway': gw,
                       'address': '%s/%d' % (gw, net.prefixlen)}
                break

        by_id = {n['id']: n for n in nets}
        res = {}
        for rt in state.get('routers') or []:
            sp = router.spec(rt, by_id, default_mtu, CONF.network.external_gateway,
                             self.host or state.get('host'))
            if sp is not None:
                sp['netns'] = netnames.router_namespace(rt['id'])
                res['router:' + rt['id']] = sp
        # Router legs per network: their MACs and addresses stay on this host
        # (a centralized SNAT port's are its own: ARP about them crosses).
        legs, snat_ips = {}, set()
        for rt in state.get('routers') or []:
            snat_ips.update(f['ip_address'] for p in rt.get('snat_ports') or []
                            for f in p.get('fixed_ips') or [])
            for itf in rt.get('interfaces') or []:
                leg = legs.setdefault(itf['network_id'], {'macs': set(), 'ips': set()})
                leg['macs'].add(itf['mac_address'].lower())
                leg['ips'].update(f['ip_address'] for f in itf.get('fixed_ips') or []
                                  if ':' not in f['ip_address'])
        segments = []
        for n in nets:
            is_ext = ext is not None and n['id'] == ext['network_id']
            res['bridge:' + n['bridge']] = {
                'name': n['bridge'], 'mtu': n.get('mtu') or default_mtu,
                'addresses': [ext['address']] if is_ext and CONF.network.external_gateway
                else [],
                'ports': [CONF.network.external_interface]
                if is_ext and CONF.network.external_interface else [],
                'external': bool(n.get('external'))}
            sp = dhcp.spec(n, by_net.get(n['id'], []), self.state_dir,
                           names.dhcp_host_if(n['id']), names.dhcp_ns_if(n['id']),
                           netnames.dhcp_namespace(n['id']), CONF.network.dhcp_lease_time,
                           default_mtu)
            if sp is not None:
                res['dhcp:' + n['id']] = sp
            if not n.get('external'):
                sp = vxlan.spec(n, CONF.network.vxlan_port, default_mtu)
                if sp is not None:
                    res['vxlan:' + n['id']] = sp
                    leg = legs.get(n['id'], {'macs': set(), 'ips': set()})
                    gateways = leg['ips'] | {
                        sub['gateway_ip'] for sub in n.get('subnets') or []
                        if sub.get('gateway_ip') and ':' not in sub['gateway_ip']}
                    segments.append({'dev': sp['name'], 'router_macs': sorted(leg['macs']),
                                     'gateway_ips': sorted(gateways - snat_ips)})

        secured = [p for p in ports if p.get('port_security_enabled')]
        port_index = firewall.assign_indexes({p['devname'] for p in secured},
                                             reg.get('port_index') or {})
        tenant_bridges = {n['bridge'] for n in nets if not n.get('external')}
        zones = firewall.assign_indexes(tenant_bridges, reg.get('zones') or {})
        if secured or nets:
            bridges = {n['bridge'] for n in nets}
            res['firewall'] = {
                'table': self.table,
                'ruleset': firewall.ruleset(self.table, secured, port_index, bridges, zones,
                                            segments, names.host_router_mac(self.host))}
        return res, port_index, zones

    # -- one resource ---------------------------------------------------------------
    def _healthy(self, key, sp):
        kind = _kind(key)
        run = self.run
        if kind == 'bridge':
            return run.link_exists(sp['name']) and all(
                run.link_master(p) == sp['name'] for p in sp.get('ports') or ()
                if run.link_exists(p))
        if kind == 'dhcp':
            return (run.netns_exists(sp['netns'])
                    and run.link_master(sp['host_if']) == sp['bridge']
                    and dhcp.is_running(run, sp))
        if kind == 'router':
            return run.netns_exists(sp['netns']) and all(
                run.link_master(leg['host_if']) == leg['bridge']
                for leg in router.host_links(sp))
        if kind == 'vxlan':
            return run.link_master(sp['name']) == sp['bridge']
        return True

    def _firewall_present(self, sp):
        res = self.run.run(['nft', 'list', 'tables'], check=False)
        listed = set(res.stdout.split('\n')) if res.ok else set()
        return all('table %s %s' % (fam, sp['table']) in listed for fam in ('bridge', 'inet'))

    def _ensure(self, key, sp, old=None):
        kind = _kind(key)
        if kind == 'bridge':
            br.ensure_bridge(self.run, sp['name'], sp['mtu'], sp['addresses'],
                             sp.get('ports') or ())
        elif kind == 'firewall':
            if not self.run.br_netfilter_loaded():
                self.run.run(['modprobe', 'br_netfilter'], check=False)
                if not self.run.br_netfilter_loaded():
                    raise exception.NetworkApplyFailed(
                        reason='the br_netfilter kernel module is not loaded: bridged '
                               'traffic would bypass the security groups')
            self.run.nft(sp['ruleset'])
        elif kind == 'vxlan':
            vxlan.ensure(self.run, sp)
        elif kind == 'dhcp':
            dhcp.ensure(self.run, sp)
        elif kind == 'router':
            router.ensure(self.run, sp, old)

    def _remove(self, key, sp):
        kind = _kind(key)
        if kind == 'bridge':
            br.delete_link(self.run, sp['name'])
        elif kind == 'firewall':
            self.run.nft(firewall.removal(sp['table']))
        elif kind == 'vxlan':
            vxlan.remove(self.run, sp)
        elif kind == 'dhcp':
            dhcp.remove(self.run, sp)
        elif kind == 'router':
            router.remove(self.run, sp)

    def _foreign_ports(self, sp):
        """Devices on one of our bridges that we did not put there (guest taps)."""
        return [p for p in self.run.bridge_ports(sp['name'])
                if not p.startswith(names.OWN_PREFIXES)]

    # -- apply ----------------------------------------------------------------------
    def apply(self, state):
        """Converge the host to ``state``. Returns a summary {'changed',
        'created', 'updated', 'removed', 'deferred', 'seconds'}; raises
        NetworkApplyFailed (after doing all it could) when a part failed.
        A part that failed is tried again at the next apply."""
        t0 = time.monotonic()
        with self._locked():
            reg = self._load()
            if self.host is None:
                self.host = state.get('host')
            want, port_index, zones = self.desired(state, reg)
            have = reg['resources']
            failed = set(reg['failed'])
            todo = [k for k in want
                    if have.get(k) != want[k] or k in failed or not self._healthy(k, want[k])]
            gone = [k for k in have if k not in want]
            deferred = [k for k in gone if _kind(k) == 'bridge'
                        and self._foreign_ports(have[k])]
            gone = [k for k in gone if k not in deferred]
            fw = want.get('firewall')
            if fw is not None and 'firewall' not in todo and \
                    time.monotonic() - self._fw_checked > FIREWALL_CHECK_INTERVAL:
                self._fw_checked = time.monotonic()
                if not self._firewall_present(fw):
                    LOG.warning('The nft tables %s are gone; loading them again', fw['table'])
                    todo.append('firewall')
            if not todo and not gone and reg['port_index'] == port_index \
                    and reg['zones'] == zones:
                self.last = {'changed': False, 'created': [], 'updated': [], 'removed': [],
                             'deferred': sorted(deferred), 'seconds': time.monotonic() - t0}
                return self.last

            summary = {'changed': True, 'created': [], 'updated': [], 'removed': [],
                       'deferred': sorted(deferred)}
            errors = {}
            reg['port_index'] = port_index
            reg['zones'] = zones

            def drop(key):
                try:
                    self._remove(key, have[key])
                except (exception.VirtError, OSError) as e:
                    LOG.error('Removing %s failed: %s', key, e)
                    errors[key] = str(e)
                    return
                del have[key]
                failed.discard(key)
                summary['removed'].append(key)

            gone = sorted(gone, key=_order, reverse=True)
            # A VXLAN segment that goes leaves before the firewall that
            # guards it is rebuilt without it.
            for key in [k for k in gone if _kind(k) == 'vxlan']:
                drop(key)
            for key in sorted(todo, key=_order):
                (summary['updated'] if key in have else summary['created']).append(key)
                old = have.get(key)
                have[key] = want[key]           # written down before it is made
                failed.add(key)
                reg['failed'] = sorted(failed)
                self._save(reg)
                if _kind(key) == 'vxlan' and 'firewall' in failed:
                    # Without its drops the other hosts' routers and dnsmasq
                    # would answer here: the segment waits for the firewall.
                    LOG.error('Not joining %s: the firewall is not in place', key)
                    errors[key] = 'the firewall is not in place'
                    continue
                try:
                    self._ensure(key, want[key], old)
                    failed.discard(key)
                    if key == 'firewall':
                        self._fw_checked = time.monotonic()
                except (exception.VirtError, OSError, ValueError) as e:
                    LOG.error('Applying %s failed: %s', key, e)
                    errors[key] = str(e)
            for key in [k for k in gone if _kind(k) != 'vxlan']:
                drop(key)
            for key in deferred:
                LOG.info('Keeping %s: devices %s are still on it', key,
                         self._foreign_ports(have[key]))
            reg['failed'] = sorted(failed)
            self._save(reg)
            summary['seconds'] = time.monotonic() - t0
            self.last = summary
            LOG.info('Host network applied in %.3fs: created %s, updated %s, removed %s%s',
                     summary['seconds'], summary['created'], summary['updated'],
                     summary['removed'], ', errors %s' % errors if errors else '')
            if errors:
                raise exception.NetworkApplyFailed(reason='; '.join(
                    '%s: %s' % kv for kv in sorted(errors.items())))
            return summary

    # -- teardown ---------------------------------------------------------------------
    def teardown(self):
        """Remove every bridge, veth, namespace, dnsmasq, nft table and file
        the registry lists, and the registry. Returns the removed keys."""
        with self._locked():
            reg = self._load()
            have = reg['resources']
            removed, errors = [], {}
            for key in sorted(have, key=_order, reverse=True):
                try:
                    self._remove(key, have[key])
                except (exception.VirtError, OSError) as e:
                    LOG.error('Removing %s failed: %s', key, e)
                    errors[key] = str(e)
                    continue
                del have[key]
                removed.append(key)
                reg['failed'] = [k for k in reg['failed'] if k != key]
                self._save(reg)
            if errors:
                raise exception.NetworkApplyFailed(reason='teardown: ' + '; '.join(
                    '%s: %s' % kv for kv in sorted(errors.items())))
            for path in (self.registry_path, os.path.join(self.state_dir, LOCK)):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
            for folder in (os.path.join(self.state_dir, 'dhcp'), self.state_dir):
                with contextlib.suppress(OSError):
                    os.rmdir(folder)
            self._registry = None
            self._fw_checked = 0.0
            LOG.info('Host network torn down: %s', removed)
            return removed

    # -- looking at it ----------------------------------------------------------------
    def dhcp_leases(self, network_id):
        """[(expiry, mac, ip, hostname)] dnsmasq handed out on a network."""
        sp = self.resources.get('dhcp:' + network_id)
        return dhcp.leases(sp) if sp else []

    def inventory(self):
        """What the registry says this agent made: {'links', 'netns',
        'tables', 'files'} (names), for tests and people."""
        out = {'links': set(), 'netns': set(), 'tables': set(), 'files': set()}
        for key, sp in self.resources.items():
            kind = _kind(key)
            if kind == 'bridge':
                out['links'].add(sp['name'])
            elif kind == 'firewall':
                out['tables'].update({'bridge ' + sp['table'], 'inet ' + sp['table']})
            elif kind == 'dhcp':
                out['links'].add(sp['host_if'])
                out['netns'].add(sp['netns'])
                out['files'].add(sp['files']['dir'])
            elif kind == 'router':
                out['links'].update(leg['host_if'] for leg in router.host_links(sp))
                out['netns'].add(sp['netns'])
            elif kind == 'vxlan':
                out['links'].add(sp['name'])
        return {k: sorted(v) for k, v in out.items()}
