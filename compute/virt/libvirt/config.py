"""Libvirt domain XML as plain objects: build it (to_xml) and read back the
parts we need (parse_*). No policy here: the designer decides what goes in.
"""

from xml.etree import ElementTree as ET

METADATA_NS = 'http://altostack.dev/xmlns/instance/1.0'
METADATA_PREFIX = 'altostack'
ET.register_namespace(METADATA_PREFIX, METADATA_NS)

FLAVOR_FIELDS = ('vcpus', 'memory_mb', 'root_gb', 'ephemeral_gb', 'swap')
METADATA_FIELDS = ('name', 'hostname', 'project_id', 'user_id', 'image_id', 'created_at')


def _local(tag):
    return tag.rsplit('}', 1)[-1]


class GuestDisk:
    """A file-backed <disk> (a virtio disk or an IDE cdrom)."""

    def __init__(self, source_path, target_dev, target_bus='virtio', device='disk',
                 driver_format='qcow2', driver_cache=None, readonly=False, serial=None):
        self.source_path = source_path
        self.target_dev = target_dev
        self.target_bus = target_bus
        self.device = device
        self.driver_format = driver_format
        self.driver_cache = driver_cache
        self.readonly = readonly
        self.serial = serial

    def to_element(self):
        disk = ET.Element('disk', type='file', device=self.device)
        driver = ET.SubElement(disk, 'driver', name='qemu', type=self.driver_format)
        if self.driver_cache:
            driver.set('cache', self.driver_cache)
        ET.SubElement(disk, 'source', file=self.source_path)
        ET.SubElement(disk, 'target', dev=self.target_dev, bus=self.target_bus)
        if self.readonly:
            ET.SubElement(disk, 'readonly')
        if self.serial:
            ET.SubElement(disk, 'serial').text = self.serial
        return disk

    def to_xml(self):
        return ET.tostring(self.to_element(), encoding='unicode')


class GuestNetworkDisk:
    """A <disk type='network'> (an NBD export or a Ceph RBD image of a
    volume); ``auth`` (username, secret type, secret uuid) adds <auth>."""

    def __init__(self, protocol, name, hosts, target_dev, target_bus='virtio',
                 driver_format='raw', driver_cache=None, serial=None, auth=None,
                 discard=None):
        self.protocol = protocol
        self.name = name
        self.hosts = list(hosts)   # [(host, port)]
        self.target_dev = target_dev
        self.target_bus = target_bus
        self.driver_format = driver_format
        self.driver_cache = driver_cache
        self.serial = serial
        self.auth = auth
        self.discard = discard

    def to_element(self):
        disk = ET.Element('disk', type='network', device='disk')
        driver = ET.SubElement(disk, 'driver', name='qemu', type=self.driver_format)
        if self.driver_cache:
            driver.set('cache', self.driver_cache)
        if self.discard:
            driver.set('discard', self.discard)
        if self.auth:
            username, secret_type, secret_uuid = self.auth
            auth = ET.SubElement(disk, 'auth', username=username)
            ET.SubElement(auth, 'secret', type=secret_type, uuid=secret_uuid)
        src = ET.SubElement(disk, 'source', protocol=self.protocol, name=self.name)
        for host, port in self.hosts:
            h = ET.SubElement(src, 'host', name=str(host))
            if port is not None:
                h.set('port', str(int(port)))
        ET.SubElement(disk, 'target', dev=self.target_dev, bus=self.target_bus)
        if self.serial:
            ET.SubElement(disk, 'serial').text = self.serial
        return disk

    def to_xml(self):
        return ET.tostring(self.to_element(), encoding='unicode')


class GuestSerialTCP:
    """Serial port 0 as a raw TCP server (one client at a time) whose output
    is also appended to a log file, so it is captured with no client; plus
    the <console> that points at it."""

    def __init__(self, host, port, log_path, log_append=True):
        self.host = host
        self.port = int(port)
        self.log_path = log_path
        self.log_append = log_append

    def _source(self, parent):
        ET.SubElement(parent, 'source', mode='bind', host=self.host,
                      service=str(self.port), tls='no')
        ET.SubElement(parent, 'protocol', type='raw')

    def to_elements(self):
        serial = ET.Element('serial', type='tcp')
        self._source(serial)
        if self.log_path:
            ET.SubElement(serial, 'log', file=self.log_path,
                          append='on' if self.log_append else 'off')
        ET.SubElement(serial, 'target', port='0')
        console = ET.Element('console', type='tcp')
        self._source(console)
        ET.SubElement(console, 'target', type='serial', port='0')
        return [serial, console]


class GuestGraphics:
    """A VNC display on an address of the host, its port chosen by libvirt
    when the guest starts (autoport: 5900 and up), read back from the live
    XML (parse_domain 'graphics')."""

    def __init__(self, listen, kind='vnc'):
        self.listen = listen
        self.kind = kind

    def to_element(self):
        graphics = ET.Element('graphics', type=self.kind, autoport='yes', listen=self.listen)
        ET.SubElement(graphics, 'listen', type='address', address=self.listen)
        return graphics


class GuestVideo:
    """The display adapter the VNC display shows (std VGA: every guest
    kernel and firmware drives it)."""

    def __init__(self, model='vga'):
        self.model = model

    def to_element(self):
        video = ET.Element('video')
        ET.SubElement(video, 'model', type=self.model)
        return video


class GuestMemballoon:
    def __init__(self, model='none'):
        self.model = model

    def to_element(self):
        return ET.Element('memballoon', model=self.model)


class GuestRawDevice:
    """A device given as XML text (e.g. a VIF driver's <interface>)."""

    def __init__(self, xml):
        self.xml = xml

    def to_element(self):
        return ET.fromstring(self.xml)


class InstanceMetadata:
    """Our <metadata> element: who the guest belongs to, read by reconcile."""

    def __init__(self, name=None, hostname=None, project_id=None, user_id=None,
                 image_id=None, created_at=None, flavor=None):
        self.name = name
        self.hostname = hostname
        self.project_id = project_id
        self.user_id = user_id
        self.image_id = image_id
        self.created_at = created_at
        self.flavor = dict(flavor or {})

    def to_element(self):
        def q(tag):
            return '{%s}%s' % (METADATA_NS, tag)
        root = ET.Element(q('instance'))
        for field in METADATA_FIELDS:
            value = getattr(self, field)
            if value is not None:
                ET.SubElement(root, q(field)).text = str(value)
        flavor = ET.SubElement(root, q('flavor'), name=str(self.flavor.get('name') or ''))
        for field in FLAVOR_FIELDS:
            if self.flavor.get(field) is not None:
                ET.SubElement(flavor, q(field)).text = str(int(self.flavor[field]))
        return root

    def to_xml(self):
        return ET.tostring(self.to_element(), encoding='unicode')

    def to_dict(self):
        d = {f: getattr(self, f) for f in METADATA_FIELDS}
        d['flavor'] = dict(self.flavor)
        return d

    @classmethod
    def from_element(cls, root):
        """Parse our element, with or without its namespace (libvirt's
        virDomainGetMetadata drops the prefix)."""
        kwargs = {}
        for child in root:
            tag = _local(child.tag)
            if tag in METADATA_FIELDS:
                kwargs[tag] = child.text
            elif tag == 'flavor':
                flavor = {'name': child.get('name') or None}
                for item in child:
                    if _local(item.tag) in FLAVOR_FIELDS:
                        flavor[_local(item.tag)] = int(item.text)
                kwargs['flavor'] = flavor
        return cls(**kwargs)

    @classmethod
    def parse(cls, xml):
        return cls.from_element(ET.fromstring(xml))


class GuestConfig:
    """One domain. ``devices`` hold objects with to_element()/to_elements()."""

    def __init__(self, virt_type, name, uuid, memory_mb, vcpus, machine='pc', arch=None,
                 features=('acpi', 'apic'), cpu_mode=None, cpu_model=None, boot_dev='hd',
                 clock_offset='utc', on_poweroff='destroy', on_reboot='restart',
                 on_crash='destroy', devices=None, metadata=None):
        self.virt_type = virt_type
        self.name = name
        self.uuid = uuid
        self.memory_mb = int(memory_mb)
        self.vcpus = int(vcpus)
        self.machine = machine
        self.arch = arch
        self.features = list(features)
        self.cpu_mode = cpu_mode
        self.cpu_model = cpu_model
        self.boot_dev = boot_dev
        self.clock_offset = clock_offset
        self.on_poweroff = on_poweroff
        self.on_reboot = on_reboot
        self.on_crash = on_crash
        self.devices = list(devices or [])
        self.metadata = list(metadata or [])

    def to_element(self):
        dom = ET.Element('domain', type=self.virt_type)
        ET.SubElement(dom, 'name').text = self.name
        ET.SubElement(dom, 'uuid').text = self.uuid
        if self.metadata:
            md = ET.SubElement(dom, 'metadata')
            for item in self.metadata:
                md.append(item.to_element())
        ET.SubElement(dom, 'memory', unit='MiB').text = str(self.memory_mb)
        ET.SubElement(dom, 'vcpu').text = str(self.vcpus)
        os_el = ET.SubElement(dom, 'os')
        ostype = ET.SubElement(os_el, 'type', machine=self.machine)
        if self.arch:
            ostype.set('arch', self.arch)
        ostype.text = 'hvm'
        if self.boot_dev:
            ET.SubElement(os_el, 'boot', dev=self.boot_dev)
        if self.features:
            feats = ET.SubElement(dom, 'features')
            for f in self.features:
                ET.SubElement(feats, f)
        if self.cpu_mode == 'custom':
            cpu = ET.SubElement(dom, 'cpu', mode='custom', match='exact')
            ET.SubElement(cpu, 'model', fallback='allow').text = self.cpu_model
        elif self.cpu_mode:
            ET.SubElement(dom, 'cpu', mode=self.cpu_mode)
        if self.clock_offset:
            ET.SubElement(dom, 'clock', offset=self.clock_offset)
        ET.SubElement(dom, 'on_poweroff').text = self.on_poweroff
        ET.SubElement(dom, 'on_reboot').text = self.on_reboot
        ET.SubElement(dom, 'on_crash').text = self.on_crash
        devs = ET.SubElement(dom, 'devices')
        for dev in self.devices:
            if hasattr(dev, 'to_elements'):
                devs.extend(dev.to_elements())
            else:
                devs.append(dev.to_element())
        return dom

    def to_xml(self):
        el = self.to_element()
        ET.indent(el)
        return ET.tostring(el, encoding='unicode')


# -- reading domain XML back ----------------------------------------------

def _interfaces(root):
    out = []
    for iface in root.findall('./devices/interface'):
        mac = iface.find('mac')
        src = iface.find('source')
        tgt = iface.find('target')
        mtu = iface.find('mtu')
        out.append({
            'type': iface.get('type'),
            'mac': (mac.get('address') or '').lower() if mac is not None else None,
            'bridge': src.get('bridge') if src is not None else None,
            'target': tgt.get('dev') if tgt is not None else None,
            'mtu': int(mtu.get('size')) if mtu is not None and mtu.get('size') else None,
            'element': iface,
        })
    return out


def _disks(root):
    out = []
    for disk in root.findall('./devices/disk'):
        src = disk.find('source')
        tgt = disk.find('target')
        drv = disk.find('driver')
        out.append({
            'type': disk.get('type'),
            'device': disk.get('device'),
            'path': src.get('file') if src is not None else None,
            'source_name': src.get('name') if src is not None else None,
            'target': tgt.get('dev') if tgt is not None else None,
            'format': drv.get('type') if drv is not None else None,
            'serial': disk.findtext('serial'),
            'element': disk,
        })
    return out


def disk_targets(xml):
    """Target device names (vda, hda, ...) used in domain ``xml``."""
    return [d['target'] for d in _disks(ET.fromstring(xml)) if d['target']]


def volume_disks(xml):
    """[{'serial', 'target'}] of the disks in ``xml`` that carry a serial
    (volumes: the serial is the volume id)."""
    return [{'serial': d['serial'], 'target': d['target']}
            for d in _disks(ET.fromstring(xml)) if d['serial']]


def disk_target(disk_xml):
    """The target dev of one <disk> given as XML text."""
    tgt = ET.fromstring(disk_xml).find('target')
    return tgt.get('dev') if tgt is not None else None


def find_disk_by_serial(xml, serial):
    """The <disk> whose <serial> is ``serial``, as XML text, or None."""
    for d in _disks(ET.fromstring(xml)):
        if serial and d['serial'] == serial:
            return ET.tostring(d['element'], encoding='unicode')
    return None


def find_interface(xml, mac):
    """The <interface> element with MAC ``mac`` in domain ``xml``, as XML
    text (what detachDeviceFlags wants), or None."""
    for iface in _interfaces(ET.fromstring(xml)):
        if iface['mac'] == (mac or '').lower():
            return ET.tostring(iface['element'], encoding='unicode')
    return None


def _graphics(dev):
    listen = dev.find('listen')
    address = listen.get('address') if listen is not None and listen.get('address') \
        else dev.get('listen')
    port = dev.get('port')
    return {'type': dev.get('type'), 'listen': address,
            'port': int(port) if port and int(port) > 0 else None}


def parse_domain(xml):
    """The parts of a domain's XML the driver needs, as a dict:
    {'name', 'uuid', 'vcpus', 'memory_kib', 'disks': [{'type', 'device',
    'path', 'source_name', 'target', 'format', 'serial'}],
    'interfaces': [{'type', 'mac', 'bridge', 'target', 'mtu'}],
    'serial_tcp': [{'host', 'port'}], 'console_log', 'graphics': [{'type',
    'listen', 'port'}] (port None until the guest runs, with autoport),
    'metadata': InstanceMetadata or None}."""
    root = ET.fromstring(xml)
    mem = root.find('memory')
    memory_kib = 0
    if mem is not None and mem.text:
        scale = {'KiB': 1, 'k': 1, 'KB': 1, 'MiB': 1024, 'M': 1024, 'GiB': 1024 * 1024,
                 'G': 1024 * 1024, 'b': 1 / 1024, 'bytes': 1 / 1024}
        memory_kib = int(int(mem.text) * scale.get(mem.get('unit', 'KiB'), 1))
    vcpu = root.find('vcpu')
    out = {
        'name': root.findtext('name'),
        'uuid': root.findtext('uuid'),
        'vcpus': int(vcpu.text) if vcpu is not None and vcpu.text else 0,
        'memory_kib': memory_kib,
        'disks': [],
        'interfaces': [{k: v for k, v in i.items() if k != 'element'}
                       for i in _interfaces(root)],
        'serial_tcp': [],
        'console_log': None,
        'graphics': [_graphics(g) for g in root.findall('./devices/graphics')],
        'metadata': None,
    }
    out['disks'] = [{k: v for k, v in d.items() if k != 'element'} for d in _disks(root)]
    for kind in ('serial', 'console'):
        for dev in root.findall('./devices/%s' % kind):
            src = dev.find('source')
            if dev.get('type') == 'tcp' and src is not None and src.get('service'):
                entry = {'host': src.get('host'), 'port': int(src.get('service'))}
                if entry not in out['serial_tcp']:
                    out['serial_tcp'].append(entry)
            log = dev.find('log')
            if log is not None and out['console_log'] is None:
                out['console_log'] = log.get('file')
    for item in root.findall('./metadata/*'):
        if item.tag == '{%s}instance' % METADATA_NS:
            out['metadata'] = InstanceMetadata.from_element(item)
    return out


def with_size(xml, vcpus, memory_mb):
    """A domain's XML with ``vcpus`` and ``memory_mb`` in place of its own
    (memory and currentMemory both; no balloon below it); everything else
    (disks, NICs, serial port, metadata) as it was."""
    root = ET.fromstring(xml)
    for tag in ('memory', 'currentMemory'):
        el = root.find(tag)
        if el is None:
            if tag == 'currentMemory':
                continue
            el = ET.SubElement(root, tag)
        el.attrib.clear()
        el.set('unit', 'MiB')
        el.text = str(int(memory_mb))
    vcpu = root.find('vcpu')
    if vcpu is None:
        vcpu = ET.SubElement(root, 'vcpu')
    vcpu.attrib.pop('current', None)
    vcpu.text = str(int(vcpus))
    topology = root.find('./cpu/topology')
    if topology is not None:  # ours has none; keep one that would disagree out
        root.find('cpu').remove(topology)
    return ET.tostring(root, encoding='unicode')
