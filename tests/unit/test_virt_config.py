"""Domain XML: config objects render what the designer decides, and the
parts we read back (disks, serial ports, console log, metadata) parse."""

from xml.etree import ElementTree as ET

from compute.virt.libvirt import config
from compute.virt.libvirt import designer

UUID = '6f1c2a4e-8d0b-4b8e-9a55-0c2f3d4e5a61'
NS = {'a': config.METADATA_NS}


def make_instance(**kw):
    inst = {
        'uuid': UUID, 'name': 'my server', 'hostname': 'my-server',
        'project_id': 'p1', 'user_id': 'u1', 'image_ref': 'img-1',
        'flavor': {'name': 'm1.tiny', 'vcpus': 2, 'memory_mb': 192, 'root_gb': 1,
                   'ephemeral_gb': 0, 'swap': 0, 'extra_specs': {}},
        'key_name': None, 'key_data': None, 'user_data': None, 'metadata': {},
        'launch_index': 0, 'availability_zone': 'nova',
        'created_at': '2025-01-02T03:04:05Z',
    }
    inst.update(kw)
    return inst


def design(virt_type='qemu', interfaces=()):
    return designer.guest_config(
        make_instance(), virt_type, '/inst/%s/disk' % UUID, '/inst/%s/disk.config' % UUID,
        '127.0.0.1', 10007, '/inst/%s/console.log' % UUID, interfaces, disk_cache='none')


def test_guest_xml_has_the_recipe_essentials():
    root = ET.fromstring(design().to_xml())
    assert root.get('type') == 'qemu'
    assert root.findtext('name') == 'altostack-' + UUID
    assert root.findtext('uuid') == UUID
    assert root.find('memory').get('unit') == 'MiB' and root.findtext('memory') == '192'
    assert root.findtext('vcpu') == '2'
    ostype = root.find('./os/type')
    assert ostype.get('machine') == 'pc' and ostype.text == 'hvm'
    assert root.find('./os/boot').get('dev') == 'hd'
    assert [f.tag for f in root.find('features')] == ['acpi', 'apic']
    cpu = root.find('cpu')
    assert cpu.get('mode') == 'custom' and cpu.findtext('model') == 'qemu64'
    assert root.find('./devices/memballoon').get('model') == 'none'
    assert root.findtext('on_poweroff') == 'destroy'


def test_disks_root_virtio_and_config_drive_ide_cdrom():
    root = ET.fromstring(design().to_xml())
    disks = root.findall('./devices/disk')
    assert len(disks) == 2
    vda, hda = disks
    assert vda.get('device') == 'disk'
    assert vda.find('driver').attrib == {'name': 'qemu', 'type': 'qcow2', 'cache': 'none'}
    assert vda.find('source').get('file').endswith('/disk')
    assert vda.find('target').attrib == {'dev': 'vda', 'bus': 'virtio'}
    assert hda.get('device') == 'cdrom'
    assert hda.find('driver').get('type') == 'raw'
    assert hda.find('target').attrib == {'dev': 'hda', 'bus': 'ide'}
    assert hda.find('readonly') is not None


def test_serial_console_is_tcp_with_an_appending_log():
    root = ET.fromstring(design().to_xml())
    serial = root.find('./devices/serial')
    assert serial.get('type') == 'tcp'
    assert serial.find('source').attrib == {'mode': 'bind', 'host': '127.0.0.1',
                                            'service': '10007', 'tls': 'no'}
    assert serial.find('protocol').get('type') == 'raw'
    assert serial.find('log').attrib == {'file': '/inst/%s/console.log' % UUID,
                                         'append': 'on'}
    console = root.find('./devices/console')
    assert console.get('type') == 'tcp'
    assert console.find('target').attrib == {'type': 'serial', 'port': '0'}


def test_metadata_element_is_namespaced_and_complete():
    root = ET.fromstring(design().to_xml())
    md = root.find('./metadata/a:instance', NS)
    assert md is not None
    assert md.findtext('a:name', namespaces=NS) == 'my server'
    assert md.findtext('a:project_id', namespaces=NS) == 'p1'
    assert md.findtext('a:user_id', namespaces=NS) == 'u1'
    assert md.findtext('a:image_id', namespaces=NS) == 'img-1'
    assert md.findtext('a:created_at', namespaces=NS) == '2025-01-02T03:04:05Z'
    flavor = md.find('a:flavor', NS)
    assert flavor.get('name') == 'm1.tiny'
    assert flavor.findtext('a:memory_mb', namespaces=NS) == '192'
    assert flavor.findtext('a:root_gb', namespaces=NS) == '1'


def test_kvm_uses_host_model_cpu():
    root = ET.fromstring(design('kvm').to_xml())
    assert root.get('type') == 'kvm'
    assert root.find('cpu').attrib == {'mode': 'host-model'}


def test_interfaces_from_the_vif_driver_are_inserted():
    nic = ("<interface type='bridge'><mac address='52:54:00:00:00:01'/>"
           "<source bridge='br0'/><model type='virtio'/></interface>")
    root = ET.fromstring(design(interfaces=[nic, None]).to_xml())
    ifaces = root.findall('./devices/interface')
    assert len(ifaces) == 1
    assert ifaces[0].find('source').get('bridge') == 'br0'


def test_parse_domain_reads_back_what_we_wrote():
    parsed = config.parse_domain(design().to_xml())
    assert parsed['name'] == 'altostack-' + UUID
    assert parsed['uuid'] == UUID
    assert parsed['vcpus'] == 2
    assert parsed['memory_kib'] == 192 * 1024
    assert [d['target'] for d in parsed['disks']] == ['vda', 'hda']
    assert parsed['serial_tcp'] == [{'host': '127.0.0.1', 'port': 10007}]
    assert parsed['console_log'] == '/inst/%s/console.log' % UUID
    md = parsed['metadata'].to_dict()
    assert md['name'] == 'my server' and md['hostname'] == 'my-server'
    assert md['flavor'] == {'name': 'm1.tiny', 'vcpus': 2, 'memory_mb': 192, 'root_gb': 1,
                            'ephemeral_gb': 0, 'swap': 0}


def test_metadata_parses_without_namespace_as_libvirt_returns_it():
    xml = ('<instance><name>x</name><project_id>p</project_id>'
           '<flavor name="f"><vcpus>1</vcpus></flavor></instance>')
    md = config.InstanceMetadata.parse(xml).to_dict()
    assert md['name'] == 'x' and md['project_id'] == 'p'
    assert md['flavor'] == {'name': 'f', 'vcpus': 1}


def test_parse_domain_of_foreign_domain_without_metadata():
    xml = ("<domain type='kvm'><name>other</name><uuid>%s</uuid>"
           "<memory unit='KiB'>1024</memory><devices>"
           "<serial type='pty'><target port='0'/></serial></devices></domain>" % UUID)
    parsed = config.parse_domain(xml)
    assert parsed['metadata'] is None
    assert parsed['serial_tcp'] == []
    assert parsed['memory_kib'] == 1024
