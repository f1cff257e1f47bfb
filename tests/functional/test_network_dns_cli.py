"""dns-integration and bulk create through the real clients: a network's
dns_domain, a floating IP's dns_name and dns_domain (openstack CLI), and
Neutron's bulk create (openstacksdk's create of several ports at once)."""

import uuid


def test_dns_domain_and_floating_ip_dns(cloud):
    name = 'dns-%s' % uuid.uuid4().hex[:6]
    net = cloud.openstack('network', 'create', '--dns-domain', 'example.org.', name,
                          json_out=True)
    assert net['dns_domain'] == 'example.org.'
    cloud.openstack('network', 'set', '--dns-domain', 'other.example.', name)
    assert cloud.openstack('network', 'show', name, json_out=True)[
        'dns_domain'] == 'other.example.'
    fip = cloud.openstack('floating', 'ip', 'create', '--dns-name', 'myfip',
                          '--dns-domain', 'example.org.', 'public', json_out=True)
    assert (fip['dns_name'], fip['dns_domain']) == ('myfip', 'example.org.')
    bad = cloud.openstack('network', 'set', '--dns-domain', 'not_valid', name, check=False)
    assert bad.returncode != 0 and 'dns_domain' in bad.stderr
    cloud.openstack('floating', 'ip', 'delete', fip['id'])
    cloud.openstack('network', 'delete', name)


def test_bulk_port_create(cloud):
    conn = cloud.sdk()
    net = conn.network.create_network(name='bulk-%s' % uuid.uuid4().hex[:6])
    try:
        ports = list(conn.network.create_ports([{'network_id': net.id, 'name': 'p1'},
                                                {'network_id': net.id, 'name': 'p2'}]))
        assert sorted(p.name for p in ports) == ['p1', 'p2']
    finally:
        for port in conn.network.ports(network_id=net.id):
            conn.network.delete_port(port)
        conn.network.delete_network(net)
