"""Networks, subnets, ports and routers in a real browser against the real
network API (no guests): what the pages do is checked with the openstack
CLI, and what the API refuses shows in the page in its own words, with
its status and request id."""

import re

from playwright.sync_api import expect

from tests.fixtures import browser as browser_fx

CIDR = '10.77.1.0/24'


def _accept_dialogs(p):
    p.on('dialog', lambda dialog: dialog.accept())


def _only_refusals(p, *statuses):
    """The page logged nothing but the refused requests it showed (Chromium
    logs every 4xx answer to an XHR, even one the page expected)."""
    wanted = tuple('status of %d' % s for s in statuses)
    others = [e for e in browser_fx.console_errors(p) if not
              (e.startswith('Failed to load resource') and any(w in e for w in wanted))]
    assert not others, 'browser console errors on %s:\n%s' % (p.url, '\n'.join(others))


def _cli(dash_cloud, *args, cloud='demo'):
    return dash_cloud.openstack(*args, cloud=cloud, json_out=True)


def _external_network(dash_cloud):
    nets = dash_cloud.openstack('network', 'list', '--external', json_out=True)
    assert nets, 'the cloud has no external network'
    return nets[0]


def test_bad_cidr_shows_the_api_answer_and_keeps_no_network(signed_in, dash_cloud):
    p = signed_in('demo', next_path='/networks/')
    p.click('#create-network')
    form = p.locator('#network-form')
    form.locator('input[name=name]').fill('dash-bad-net')
    form.locator('input[name=subnet_name]').fill('dash-bad-subnet')
    form.locator('input[name=cidr]').fill('10.77.0.0/33')
    cli = form.locator('[data-cli-out]')
    expect(cli).to_contain_text('openstack network create --enable dash-bad-net && openstack '
                                'subnet create --network dash-bad-net --subnet-range '
                                '10.77.0.0/33')
    expect(cli).to_contain_text('dash-bad-subnet')
    form.locator('button[type=submit]').click()
    alert = p.locator('#alerts .alert.error')
    expect(alert).to_contain_text("'10.77.0.0/33' is not a valid IP subnet")
    expect(alert).to_contain_text('HTTP 400')
    expect(alert.locator('.request-id')).to_contain_text('req-')
    expect(alert).to_contain_text('was not kept')
    # The form stays as it was, to be corrected.
    expect(form.locator('input[name=cidr]')).to_have_value('10.77.0.0/33')
    assert _cli(dash_cloud, 'network', 'list', '--name', 'dash-bad-net') == []
    _only_refusals(p, 400)


def test_network_subnet_router_and_port(signed_in, dash_cloud):
    public = _external_network(dash_cloud)
    p = signed_in('demo', next_path='/networks/new')
    _accept_dialogs(p)

    # -- a network with its first subnet ------------------------------------------
    form = p.locator('#network-form')
    form.locator('input[name=name]').fill('dash-net')
    form.locator('input[name=subnet_name]').fill('dash-subnet')
    form.locator('input[name=cidr]').fill(CIDR)
    form.locator('textarea[name=allocation_pools]').fill('10.77.1.100,10.77.1.150')
    form.locator('textarea[name=dns_nameservers]').fill('9.9.9.9')
    form.locator('textarea[name=host_routes]').fill('10.78.0.0/16,10.77.1.254')
    expect(form.locator('[data-cli-out]')).to_contain_text(
        '--allocation-pool start=10.77.1.100,end=10.77.1.150 --dns-nameserver 9.9.9.9 '
        '--host-route destination=10.78.0.0/16,gateway=10.77.1.254 dash-subnet')
    form.locator('button[type=submit]').click()
    expect(p).to_have_url(re.compile(r'/networks/[0-9a-f-]{36}$'))
    expect(p.locator('#alerts')).to_contain_text('Network dash-net created with subnet '
                                                 'dash-subnet')
    row = p.locator('#subnets tr[data-name=dash-subnet]')
    expect(row).to_contain_text(CIDR)
    expect(row).to_contain_text('10.77.1.1')
    net = _cli(dash_cloud, 'network', 'show', 'dash-net')
    sub = _cli(dash_cloud, 'subnet', 'show', 'dash-subnet')
    assert sub['network_id'] == net['id'] and sub['id'] in net['subnets'], (net, sub)
    assert sub['cidr'] == CIDR and sub['gateway_ip'] == '10.77.1.1', sub
    assert sub['allocation_pools'] == [{'start': '10.77.1.100', 'end': '10.77.1.150'}], sub
    assert sub['dns_nameservers'] == ['9.9.9.9'], sub
    assert sub['host_routes'] == [{'destination': '10.78.0.0/16', 'nexthop': '10.77.1.254'}]
    net_url = p.url

    # An overlapping subnet on the same network: the API's 400, in the page.
    p.click('#add-subnet')
    sform = p.locator('#subnet-form')
    sform.locator('input[name=name]').fill('dash-overlap')
    sform.locator('input[name=cidr]').fill('10.77.1.128/25')
    sform.locator('button[type=submit]').click()
    alert = p.locator('#alerts .alert.error')
    expect(alert).to_contain_text('overlaps')
    expect(alert).to_contain_text('HTTP 400')
    assert _cli(dash_cloud, 'subnet', 'list', '--name', 'dash-overlap') == []

    # -- a port with a fixed IP ----------------------------------------------------
    p.goto(net_url)
    p.click('#add-port')
    pform = p.locator('#port-form')
    expect(pform.locator('select[name=network_id]')).to_have_value(net['id'])
    pform.locator('input[name=name]').fill('dash-port')
    pform.locator('select[name=fixed_subnet]').select_option(sub['id'])
    pform.locator('input[name=fixed_ip]').fill('10.77.1.120')
    expect(pform.locator('[data-cli-out]')).to_contain_text(
        'openstack port create --network %s --fixed-ip subnet=%s,ip-address=10.77.1.120'
        % (net['id'], sub['id']))
    pform.locator('button[type=submit]').click()
    expect(p).to_have_url(re.compile(r'/ports/[0-9a-f-]{36}$'))
    expect(p.locator('#port-props .fixed-ips')).to_contain_text('10.77.1.120')
    expect(p.locator('#port-props .fixed-ips')).to_contain_text('dash-subnet')
    expect(p.locator('#port-props .security-groups')).to_contain_text('default')
    port = _cli(dash_cloud, 'port', 'show', 'dash-port')
    assert [f['ip_address'] for f in port['fixed_ips']] == ['10.77.1.120'], port
    p.click('#edit-port')
    eform = p.locator('#port-form')
    eform.locator('input[name=name]').fill('dash-port-renamed')
    expect(eform.locator('[data-cli-out]')).to_contain_text(
        'openstack port set --name dash-port-renamed --enable --no-security-group '
        '--security-group')
    eform.locator('button[type=submit]').click()
    expect(p.locator('#port-props .port-name')).to_have_text('dash-port-renamed')
    assert _cli(dash_cloud, 'port', 'show', port['id'])['name'] == 'dash-port-renamed'
    p.goto(net_url)
    expect(p.locator('#port-%s' % port['id'])).to_contain_text('10.77.1.120')
    browser_fx.save_screenshot(p, 'network-detail')
    p.goto('/ports/%s' % port['id'])
    p.locator('#delete-port button').click()
    expect(p).to_have_url(net_url)
    expect(p.locator('#port-%s' % port['id'])).to_have_count(0)
    assert port['id'] not in [pt['ID'] for pt in _cli(dash_cloud, 'port', 'list', '--network',
                                                       net['id'])]

    # -- a router: gateway, interface, and back -------------------------------------------
    p.goto('/routers/')
    p.click('#create-router')
    rform = p.locator('#router-form')
    rform.locator('input[name=name]').fill('dash-router')
    expect(rform.locator('[data-cli-out]')).to_have_text(
        'openstack router create --enable dash-router')
    rform.locator('button[type=submit]').click()
    expect(p).to_have_url(re.compile(r'/routers/[0-9a-f-]{36}$'))
    expect(p.locator('#gateway .gateway-none')).to_be_visible()
    router_id = p.url.rsplit('/', 1)[1]

    gw = p.locator('#set-gateway')
    gw.locator('select[name=external_network]').select_option(public['ID'])
    expect(gw.locator('[data-cli-out]')).to_have_text(
        'openstack router set --external-gateway %s %s' % (public['ID'], router_id))
    gw.locator('button').click()
    expect(p.locator('#gateway .gateway-network')).to_contain_text(public['Name'])
    router = _cli(dash_cloud, 'router', 'show', 'dash-router')
    info = router['external_gateway_info']
    assert info['network_id'] == public['ID'], router
    gw_ip = info['external_fixed_ips'][0]['ip_address']
    expect(p.locator('#gateway .gateway-ips')).to_contain_text(gw_ip)

    add = p.locator('#add-interface')
    add.locator('select[name=subnet_id]').select_option(sub['id'])
    expect(add.locator('[data-cli-out]')).to_have_text(
        'openstack router add subnet %s %s' % (router_id, sub['id']))
    add.locator('button').click()
    itf = p.locator('#interface-%s' % sub['id'])
    expect(itf).to_contain_text('dash-subnet')
    expect(itf).to_contain_text('10.77.1.1')
    ports = _cli(dash_cloud, 'port', 'list', '--router', 'dash-router')
    assert [ip['ip_address'] for pt in ports for ip in pt['Fixed IP Addresses']] == \
        ['10.77.1.1'], ports
    browser_fx.save_screenshot(p, 'router-detail')
    p.goto('/routers/')
    expect(p.locator('#router-%s .interfaces' % router_id)).to_contain_text('dash-subnet')
    expect(p.locator('#router-%s .gateway' % router_id)).to_contain_text(gw_ip)

    # The subnet is in use by the interface: the API's 409, in the page.
    p.goto('/subnets/%s/edit' % sub['id'])
    p.locator('#delete-subnet button').click()
    alert = p.locator('#alerts .alert.error')
    expect(alert).to_contain_text('HTTP 409')
    expect(alert).to_contain_text(sub['id'])

    p.goto('/routers/%s' % router_id)
    p.locator('#interface-%s button' % sub['id']).click()
    expect(p.locator('#interface-%s' % sub['id'])).to_have_count(0)
    assert _cli(dash_cloud, 'port', 'list', '--router', 'dash-router') == []
    p.locator('#clear-gateway button').click()
    expect(p.locator('#gateway .gateway-none')).to_be_visible()
    assert not _cli(dash_cloud, 'router', 'show', 'dash-router')['external_gateway_info']
    p.locator('#delete-router button').click()
    expect(p).to_have_url(re.compile(r'/routers/$'))
    expect(p.locator('#alerts')).to_contain_text('Router dash-router deleted')
    assert _cli(dash_cloud, 'router', 'list', '--name', 'dash-router') == []

    # -- the subnet and the network go ----------------------------------------------------
    p.goto('/subnets/%s/edit' % sub['id'])
    p.locator('#delete-subnet button').click()
    expect(p).to_have_url(net_url)
    expect(p.locator('#subnets tr[data-name=dash-subnet]')).to_have_count(0)
    assert _cli(dash_cloud, 'subnet', 'list', '--network', net['id']) == []
    p.locator('#delete-network button').click()
    expect(p).to_have_url(re.compile(r'/networks/$'))
    expect(p.locator('#networks')).not_to_contain_text('dash-net')
    assert _cli(dash_cloud, 'network', 'list', '--name', 'dash-net') == []
    _only_refusals(p, 400, 409)


def test_network_list_shows_shared_and_external_networks(signed_in, dash_cloud):
    public = _external_network(dash_cloud)
    p = signed_in('demo', next_path='/networks/')
    row = p.locator('#network-%s' % public['ID'])
    expect(row).to_contain_text('external')
    expect(row.locator('.subnets')).to_contain_text('/')
    shared = [n for n in _cli(dash_cloud, 'network', 'list', '--share')]
    for net in shared:
        expect(p.locator('#network-%s' % net['ID'])).to_contain_text('shared')
    browser_fx.save_screenshot(p, 'networks')
    browser_fx.assert_no_console_errors(p)
