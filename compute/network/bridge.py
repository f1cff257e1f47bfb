"""Bridges, veth legs and addresses (ip link / ip addr), idempotent: each
ensure_* looks at what is there and changes only what differs."""

import ipaddress

from oslo_log import log as logging

LOG = logging.getLogger(__name__)


def ensure_bridge(run, name, mtu, addresses=(), ports=()):
    """A Linux bridge: no STP, no forward delay, bridged IPv4/IPv6 passed to
    the inet hooks (per bridge; the global sysctls are left alone), no IPv6
    link-local address of the host on it, ``mtu``, up, holding exactly
    ``addresses`` (CIDRs, e.g. the external gateway), with each of the
    existing devices ``ports`` (e.g. the external wire) enslaved and up."""
    if not run.link_exists(name):
        run.ip('link', 'add', name, 'type', 'bridge', 'stp_state', '0',
               'forward_delay', '0')
        # Before it is up: no link-local address for the host on a tenant net.
        run.ip('link', 'set', 'dev', name, 'addrgenmode', 'none', check=False)
    run.ip('link', 'set', 'dev', name, 'type', 'bridge', 'stp_state', '0',
           'forward_delay', '0', 'nf_call_iptables', '1', 'nf_call_ip6tables', '1')
    run.ip('link', 'set', 'dev', name, 'mtu', str(mtu), 'up')
    ensure_addresses(run, name, addresses)
    for port in ports:
        if not run.link_exists(port):
            LOG.warning('%s is not on bridge %s: there is no such device (yet)', port, name)
            continue
        if run.link_master(port) != name:
            run.ip('link', 'set', 'dev', port, 'master', name)
        run.ip('link', 'set', 'dev', port, 'up')


def delete_link(run, name, netns=None):
    """Remove a device; absent is fine."""
    if netns is None and not run.link_exists(name):
        return
    run.ip('link', 'del', 'dev', name, netns=netns, check=False)


def _link(run, name, netns=None):
    links = run.ip_json('link', 'show', 'dev', name, netns=netns)
    return links[0] if links else None


def ensure_veth(run, host_if, bridge, netns, ns_if, mtu, mac=None):
    """A veth pair: ``host_if`` enslaved to ``bridge`` in the root namespace,
    ``ns_if`` (with ``mac``) in ``netns``; both up with ``mtu``. True if
    the pair was (re)made (a process bound to ``ns_if`` must start again)."""
    peer = _link(run, ns_if, netns=netns) if run.link_exists(host_if) else None
    made = peer is None
    if peer is None:
        # Either end missing: start over (deleting one end deletes both).
        delete_link(run, host_if)
        run.ip('link', 'del', 'dev', ns_if, netns=netns, check=False)
        args = ['link', 'add', host_if, 'mtu', str(mtu), 'type', 'veth', 'peer', 'name',
                ns_if, 'mtu', str(mtu)]
        if mac:
            args += ['address', mac]
        args += ['netns', netns]
        run.ip(*args)
        run.ip('link', 'set', 'dev', host_if, 'addrgenmode', 'none', check=False)
    else:
        if mac and peer.get('address', '').lower() != mac.lower():
            run.ip('link', 'set', 'dev', ns_if, 'address', mac, netns=netns)
        if int(peer.get('mtu') or 0) != int(mtu):
            run.ip('link', 'set', 'dev', ns_if, 'mtu', str(mtu), netns=netns)
    run.ip('link', 'set', 'dev', host_if, 'master', bridge, 'mtu', str(mtu), 'up')
    run.ip('link', 'set', 'dev', ns_if, 'up', netns=netns)
    return made


def ensure_addresses(run, dev, addresses, netns=None):
    """``dev`` holds exactly ``addresses`` (CIDRs; IPv6 link-local ones are
    left alone). Returns (added, removed)."""
    want = {}
    for cidr in addresses:
        iface = ipaddress.ip_interface(cidr)
        want[str(iface)] = iface
    have = set()
    for link in run.ip_json('addr', 'show', 'dev', dev, netns=netns):
        for a in link.get('addr_info', []):
            if a.get('family') not in ('inet', 'inet6'):
                continue
            iface = ipaddress.ip_interface('%s/%s' % (a['local'], a['prefixlen']))
            if iface.version == 6 and iface.ip.is_link_local:
                continue
            have.add(str(iface))
    removed = sorted(have - set(want))
    added = sorted(set(want) - have)
    for cidr in removed:
        run.ip('addr', 'del', cidr, 'dev', dev, netns=netns, check=False)
    for cidr in added:
        extra = ['nodad'] if want[cidr].version == 6 else []
        run.ip('addr', 'replace', cidr, 'dev', dev, *extra, netns=netns)
    return added, removed


def ensure_netns(run, name):
    """A named network namespace with loopback up."""
    if not run.netns_exists(name):
        run.ip('netns', 'add', name)
    run.ip('link', 'set', 'dev', 'lo', 'up', netns=name)


def delete_netns(run, name):
    if run.netns_exists(name):
        run.ip('netns', 'del', name, check=False)
