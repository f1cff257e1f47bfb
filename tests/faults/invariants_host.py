"""The no-orphan invariant on the hosts of a LocalCloud (see invariants.py).

``orphans(cloud, rec)`` looks at every host the cloud runs an agent on
(host 1 in the root namespaces, extra hosts in their own) and at the cloud's
volume and image folders, and returns (one line per offender, counts):

* libvirt domains (cloud.host_uri(n); this cloud's: their XML names its
  workdir) and instance folders (<instances_path>/<uuid>) each belong to a
  server on that host or a move under way there; every server at rest on a
  host has its domain and its root disk; no disk.snap-* or *.part left;
* every tap a domain plugs exists and is a port of that server; no device
  on one of this cloud's bridges that neither the data plane's registry
  (<state_dir>/registry.json) nor a guest explains;
* every bridge, namespace, dnsmasq and nft table the registry lists exists
  and belongs to a network, router or (the firewall) to the agent; no
  dnsmasq of this cloud runs that the registry does not list; every port
  the nft rules name (port_index) is a port of a server on that host;
* volume files, snapshot files and image files each belong to a record and
  every record at rest has its file; every NBD export is of an attached
  volume.

Scoping: host 1's root namespace is shared with other clouds, so there only
devices named after this cloud's records or enslaved to its bridges count.
"""

import json
import os
import re
import subprocess

from compute.network import router

DOMAIN_PREFIX = 'altostack-'
TAP_RE = re.compile(r"<target dev='(tap[^']+)'")
AT_REST_WITH_GUEST = {'active', 'stopped', 'paused', 'suspended', 'resized'}
LEFTOVER = re.compile(r'(^disk\.snap-|\.part$)')


# -- pure -------------------------------------------------------------------------
def _on_host(rec, host):
    """{uuid: server} of the servers that may have a guest on ``host``: its
    own and those a move under way takes to or from it."""
    from tests.faults import invariants
    servers = {i['uuid']: i for i in rec['instances']}
    out = {u: i for u, i in servers.items() if i['host'] == host}
    for m in invariants._open_moves(rec).values():
        if host in (m['source_compute'], m['dest_compute']) and m['instance_uuid'] in servers:
            out[m['instance_uuid']] = servers[m['instance_uuid']]
    return out


def guest_problems(view, rec, host):
    """``view``: {'domains': {uuid: {'taps': [...], 'running': bool}},
    'dirs': {uuid: [file names]}, 'links': {name: master}}."""
    out = []
    mine = _on_host(rec, host)
    ports = {p['id'][:11]: p for p in rec['ports']}
    for uuid, dom in view['domains'].items():
        if uuid not in mine:
            out.append('%s: orphan libvirt domain altostack-%s (no server there)' % (host, uuid))
            continue
        for tap in dom['taps']:
            port = ports.get(tap[3:])
            if port is None or port['device_id'] != uuid:
                out.append('%s: domain of %s plugs %s, no port of that server'
                           % (host, uuid, tap))
            elif dom['running'] and tap not in view['links']:
                out.append('%s: tap %s of running server %s is missing' % (host, tap, uuid))
    for uuid, files in view['dirs'].items():
        if uuid not in mine:
            out.append('%s: orphan instance folder %s (%s)' % (host, uuid, ', '.join(files)))
        for name in files:
            if LEFTOVER.search(name):
                out.append('%s: leftover %s in the folder of %s' % (host, name, uuid))
    for uuid, inst in mine.items():
        if inst['host'] != host or inst['vm_state'] not in AT_REST_WITH_GUEST:
            continue
        if uuid not in view['domains']:
            out.append('%s: server %s is %s but has no libvirt domain'
                       % (host, uuid, inst['vm_state']))
        if 'disk' not in view['dirs'].get(uuid, ()) and \
                (inst.get('request_spec') or {}).get('disk_gb', 1):
            out.append('%s: server %s is %s but its root disk is missing'
                       % (host, uuid, inst['vm_state']))
    return out


def network_problems(view, rec, host, table):
    """``view`` also has 'registry' (the data plane's registry or None),
    'netns' [names], 'dnsmasq' {pid: pid file}, 'tables' [family name],
    'alive' {pid file: bool}; ``table``: the agent's nft table name."""
    out = []
    reg = view['registry'] or {'resources': {}, 'port_index': {}}
    nets = {n['id'] for n in rec['networks']}
    routers = {r['id'] for r in rec['routers']}
    bridges = {'brq' + n[:11] for n in nets}
    links, netns, pidfiles, wires = set(), set(), set(), set()
    for key, sp in reg['resources'].items():
        kind, _, ident = key.partition(':')
        if kind == 'bridge':
            if sp['name'] not in bridges:
                out.append('%s: bridge %s of no network' % (host, sp['name']))
            links.add(sp['name'])
            wires.update(sp.get('ports') or [])  # the external wire
        elif kind in ('dhcp', 'vxlan') and ident not in nets:
            out.append('%s: %s of network %s, which does not exist' % (host, kind, ident))
        elif kind == 'router' and ident not in routers:
            out.append('%s: router namespace of router %s, which does not exist'
                       % (host, ident))
        if kind == 'dhcp':
            links.add(sp['host_if'])
            netns.add(sp['netns'])
            pidfiles.add(sp['files']['pid'])
            if not view['alive'].get(sp['files']['pid']):
                out.append('%s: dnsmasq of network %s is not running' % (host, ident))
        elif kind == 'router':
            netns.add(sp['netns'])
            wires.update(leg['host_if'] for leg in router.host_links(sp))
        elif kind == 'vxlan':
            links.add(sp['name'])
        elif kind == 'firewall':
            for family in ('bridge', 'inet'):
                if '%s %s' % (family, sp['table']) not in view['tables']:
                    out.append('%s: nft table %s %s is missing' % (host, family, sp['table']))
    for name in sorted(links - set(view['links'])):
        if name.startswith(('brq', 'dh-', 'vx-')):
            out.append('%s: device %s the registry lists is missing' % (host, name))
    for name in sorted(netns - set(view['netns'])):
        out.append('%s: namespace %s the registry lists is missing' % (host, name))
    for name in view['netns']:
        ident = name.split('-', 1)[-1]
        if name.startswith(('qdhcp-', 'qrouter-')) and name not in netns and \
                (view['isolated'] or ident in nets or ident in routers):
            out.append('%s: orphan namespace %s' % (host, name))
    for pid, pidfile in view['dnsmasq'].items():
        if pidfile not in pidfiles:
            out.append('%s: orphan dnsmasq (pid %s, %s)' % (host, pid, pidfile))
    if not any(k == 'firewall' for k in reg['resources']):
        for t in view['tables']:
            if t.split()[-1] == table:
                out.append('%s: orphan nft table %s' % (host, t))
    guests = {t for dom in view['domains'].values() for t in dom['taps']}
    ports = {p['id'][:11]: p for p in rec['ports']}
    mine = _on_host(rec, host)
    for tap in reg.get('port_index') or {}:
        port = ports.get(tap[3:])
        if port is None or port['device_id'] not in mine:
            out.append('%s: nft rules for %s, a port of no server on this host' % (host, tap))
    ours = bridges | links
    for name, master in view['links'].items():
        if master in ours and name not in links | wires and name not in guests:
            out.append('%s: orphan device %s on bridge %s' % (host, name, master))
        elif name.startswith('tap') and name[3:] in ports and name not in guests:
            out.append('%s: orphan tap %s (port of %s, in no domain)'
                       % (host, name, ports[name[3:]]['device_id']))
    return out


def storage_problems(vol_files, img_files, exports, rec):
    """``vol_files``/``img_files``: names in the volume and image folders
    (None: the folder does not exist); ``exports``: {volume id: entry} of
    the NBD exports registry."""
    out = []
    vols = {v['id']: v for v in rec['volumes']}
    snaps = {s['id'] for s in rec['snapshots']}
    if vol_files is not None:
        have = set()
        for name in vol_files:
            m = re.match(r'^(volume|snapshot)-([0-9a-f-]{36})\.(qcow2|raw)$', name)
            if LEFTOVER.search(name):
                out.append('leftover volume file %s' % name)
            elif m and m.group(2) not in (vols if m.group(1) == 'volume' else snaps):
                out.append('orphan %s file %s' % (m.group(1), name))
            elif m:
                have.add(m.group(2))
        for vid, v in vols.items():
            if v['status'] in ('available', 'in-use') and vid not in have:
                out.append('volume %s is %s but its file is missing' % (vid, v['status']))
    if img_files is not None:
        images = {i['id']: i for i in rec['images']}
        for name in img_files:
            if LEFTOVER.search(name):
                out.append('leftover image file %s' % name)
            elif re.match(r'^[0-9a-f-]{36}$', name) and name not in images:
                out.append('orphan image file %s' % name)
        for iid, im in images.items():
            if im['status'] in ('active', 'deactivated') and iid not in img_files:
                out.append('image %s is %s but its file is missing' % (iid, im['status']))
    attached = {a['volume_id'] for a in rec['attachments']}
    for vid, entry in (exports or {}).items():
        if vid not in attached or not entry.get('connectors'):
            out.append('orphan NBD export of volume %s (%s)' % (vid, entry.get('connectors')))
    return out


# -- looking at the hosts -----------------------------------------------------------
def _domains(uri, workdir):
    import libvirt
    conn = libvirt.open(uri)
    try:
        out = {}
        for dom in conn.listAllDomains():
            xml = dom.XMLDesc(0)
            if dom.name().startswith(DOMAIN_PREFIX) and workdir in xml:
                out[dom.name()[len(DOMAIN_PREFIX):]] = {
                    'taps': TAP_RE.findall(xml), 'running': bool(dom.isActive())}
        return out
    finally:
        conn.close()


def _dirs(instances):
    try:
        names = os.listdir(instances)
    except FileNotFoundError:
        return {}
    return {n: sorted(os.listdir(os.path.join(instances, n))) for n in names
            if re.match(r'^[0-9a-f-]{36}$', n) and os.path.isdir(os.path.join(instances, n))}


def _run(cloud, n, *argv):
    if n == 1:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout
    return cloud.host_exec(n, *argv, check=False).stdout


def _dnsmasqs(state_dir):
    """{pid: pid file} of the dnsmasq processes whose files are in ``state_dir``."""
    out = {}
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                argv = f.read().decode(errors='replace').split('\0')
        except OSError:
            continue
        if argv and os.path.basename(argv[0]) == 'dnsmasq':
            for a in argv:
                if a.startswith('--pid-file=') and a[11:].startswith(state_dir + '/'):
                    out[int(pid)] = a[11:]
    return out


def _alive(pidfile):
    try:
        with open(pidfile) as f:
            os.kill(int(f.read().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


def host_view(cloud, n):
    base = cloud.workdir if n == 1 else os.path.join(cloud.workdir, 'hosts', 'host%d' % n)
    state_dir = os.path.join(base, 'state', 'network')
    try:
        with open(os.path.join(state_dir, 'registry.json')) as f:
            registry = json.load(f)
    except (OSError, ValueError):
        registry = None
    links = {li['ifname']: li.get('master') for li in
             json.loads(_run(cloud, n, 'ip', '-j', 'link', 'show') or '[]')}
    tables = json.loads(_run(cloud, n, 'nft', '-j', 'list', 'tables') or '{}')
    dnsmasq = _dnsmasqs(state_dir)
    pidfiles = [sp['files']['pid'] for k, sp in (registry or {}).get('resources', {}).items()
                if k.startswith('dhcp:')]
    return {'domains': _domains(cloud.host_uri(n), cloud.workdir),
            'dirs': _dirs(os.path.join(base, 'instances')), 'links': links,
            'netns': [line.split()[0] for line in
                      _run(cloud, n, 'ip', 'netns', 'list').splitlines() if line.strip()],
            'tables': ['%s %s' % (t['table']['family'], t['table']['name'])
                       for t in tables.get('nftables', []) if 'table' in t],
            'dnsmasq': dnsmasq, 'alive': {p: _alive(p) for p in pidfiles},
            'registry': registry, 'isolated': n != 1}


def _listdir(path):
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return None


def orphans(cloud, rec):
    """(offenders, counts) over every agent host and the cloud's storage."""
    from compute.network import names
    out, counts = [], {'domains': 0, 'instance_dirs': 0, 'links': 0, 'hosts': 0}
    for n in [1] * cloud.with_compute + list(cloud.hosts_up):
        host = cloud.host_name(n)
        view = host_view(cloud, n)
        out += guest_problems(view, rec, host)
        out += network_problems(view, rec, host, names.table_name(host))
        counts['hosts'] += 1
        counts['domains'] += len(view['domains'])
        counts['instance_dirs'] += len(view['dirs'])
        counts['links'] += len(view['links'])
    state = os.path.join(cloud.workdir, 'state')
    try:
        with open(os.path.join(state, 'volumes', 'nbd', 'exports.json')) as f:
            exports = json.load(f)
    except (OSError, ValueError):
        exports = {}
    vol_files = _listdir(os.path.join(state, 'volumes'))
    img_files = _listdir(os.path.join(state, 'images'))
    out += storage_problems(vol_files, img_files, exports, rec)
    counts.update(volume_files=len(vol_files or ()), image_files=len(img_files or ()),
                  nbd_exports=len(exports))
    return out, counts
