"""The admin pages in a real browser against the real cloud: a member gets
the 403 page on each of them (and no Admin menu); an admin disables and
enables a compute service, live-migrates a real server to the other host
from the all-instances page (and sees the migration), creates and deletes
a flavor, creates a project and a user and grants and revokes a role, and
edits a project's quotas. Every effect is checked with the openstack CLI;
refused input shows the API's own message."""

import re

import requests
from playwright.sync_api import expect

from tests.fixtures import browser as browser_fx
from tests.fixtures import dashboard as dash_fx
from tests.fixtures import servers as servers_fx

ADMIN_PAGES = ('/admin/hypervisors/', '/admin/services/', '/admin/aggregates/',
               '/admin/flavors/', '/admin/instances/', '/admin/migrations/',
               '/admin/projects/', '/admin/users/', '/admin/groups/', '/admin/roles/',
               '/admin/quotas/')
GUEST_BOOT_S = 180


def _accept_dialogs(p):
    p.on('dialog', lambda d: d.accept())


def _no_console_errors_but(p, *statuses):
    """No console error but the browser's note of each refusal the test
    asked for (an htmx request answered with that status)."""
    unexpected = [e for e in browser_fx.console_errors(p)
                  if not any('status of %d' % status in e for status in statuses)]
    assert not unexpected, unexpected


def _cli_out(form):
    return form.locator('[data-cli-out]')


def test_member_gets_403_on_every_admin_page(signed_in, dash_cloud):
    p = signed_in('demo')
    expect(p.locator('nav.side')).to_contain_text('Instances')
    expect(p.locator('nav.side')).not_to_contain_text('Admin')
    expect(p.locator('nav.side a[href^="/admin/"]')).to_have_count(0)
    for path in ADMIN_PAGES:
        resp = p.goto(path)
        assert resp.status == 403, (path, resp.status)
        expect(p.locator('.error-page')).to_contain_text('for cloud administrators')
    # Nor can a member post to them, with a valid CSRF token.
    token = p.locator('meta[name=csrf-token]').get_attribute('content')
    cookies = {c['name']: c['value'] for c in p.context.cookies()}
    r = requests.post(dash_cloud.dashboard_url + '/admin/flavors/',
                      data={'csrf_token': token, 'name': 'x', 'vcpus': '1', 'ram': '1',
                            'disk': '1'}, cookies=cookies, allow_redirects=False, timeout=10)
    assert r.status_code == 403, r.text
    assert 'x' not in {f['Name'] for f in dash_cloud.openstack('flavor', 'list', '--all',
                                                                json_out=True)}
    _no_console_errors_but(p, 403)   # (the browser notes each 403 page)


def _service_status(dash_cloud, host):
    services = dash_cloud.openstack('compute', 'service', 'list', '--service', 'nova-compute',
                                    '--long', json_out=True)
    svc = next(s for s in services if s['Host'] == host)
    return svc['Status'], svc.get('Disabled Reason')


def test_disable_and_enable_a_compute_service(signed_in, dash_cloud):
    host = dash_cloud.host_name(2)
    p = signed_in('admin', next_path='/admin/services/')
    try:
        row = p.locator('#services tr[data-binary="nova-compute"][data-host="%s"]' % host)
        form = row.locator('form.disable-form')
        form.locator('input[name=reason]').fill('dashboard test: maintenance')
        form.locator('summary').click()
        expect(_cli_out(form)).to_have_text(
            "openstack compute service set --disable --disable-reason "
            "'dashboard test: maintenance' %s nova-compute" % host)
        form.locator('button').click()
        expect(p.locator('#alerts')).to_contain_text('nova-compute on %s is disabled' % host)
        expect(row).to_have_attribute('data-status', 'disabled')
        expect(row.locator('.reason')).to_have_text('dashboard test: maintenance')
        assert _service_status(dash_cloud, host) == ('disabled', 'dashboard test: maintenance')

        row.locator('button', has_text='Enable').click()
        expect(p.locator('#alerts')).to_contain_text('nova-compute on %s is enabled' % host)
        expect(row).to_have_attribute('data-status', 'enabled')
        assert _service_status(dash_cloud, host)[0] == 'enabled'
        browser_fx.assert_no_console_errors(p)
    finally:
        dash_cloud.openstack('compute', 'service', 'set', '--enable', host, 'nova-compute')


def _server_host(dash_cloud, server_id):
    return dash_cloud.openstack('server', 'show', server_id, json_out=True)[
        'OS-EXT-SRV-ATTR:host']


def test_live_migrate_a_server_from_the_all_instances_page(signed_in, dash_cloud, dash_image):
    # Host 1 (the all-in-one) takes no incoming live migration here (its
    # libvirtd listens on no TCP port), host 2 does: the server boots on
    # host 1 (host 2's compute service is disabled meanwhile) and moves to 2.
    name, source, target = 'dash-admin-lm', dash_cloud.host_name(1), dash_cloud.host_name(2)
    dash_cloud.openstack('compute', 'service', 'set', '--disable', target, 'nova-compute')
    server = None
    try:
        server = dash_cloud.openstack('server', 'create', '--image', dash_image['id'],
                                      '--flavor', 'm1.tiny', '--network', 'private', name,
                                      cloud='demo', json_out=True)
        servers_fx.wait_server(dash_cloud.sdk('demo'), server['id'], ('ACTIVE', 'ERROR'),
                               timeout=GUEST_BOOT_S)
        dash_cloud.openstack('compute', 'service', 'set', '--enable', target, 'nova-compute')
        assert _server_host(dash_cloud, server['id']) == source
        p = signed_in('admin', next_path='/admin/instances/?name=%s' % name)
        row = p.locator('#admin-server-%s' % server['id'])
        expect(row).to_have_attribute('data-status', 'ACTIVE')
        expect(row.locator('.project')).to_have_text('demo')
        expect(row.locator('.host')).to_have_text(source)

        row.locator('a.move').click()
        form = p.locator('#live-migrate-form')
        form.locator('select[name=host]').select_option(target)
        expect(_cli_out(form)).to_have_text('openstack server migrate --live-migration '
                                            '--host %s %s' % (target, server['id']))
        browser_fx.save_screenshot(p, 'admin-all-instances')
        form.locator('button').click()
        expect(p.locator('#alerts')).to_contain_text('Live migration of %s to %s started'
                                                     % (name, target))
        # The row follows the move without a reload: host, then ACTIVE.
        expect(row.locator('.host')).to_have_text(target, timeout=GUEST_BOOT_S * 1000)
        expect(row).to_have_attribute('data-status', 'ACTIVE', timeout=60000)
        assert _server_host(dash_cloud, server['id']) == target

        p.goto('/admin/migrations/')
        mig = p.locator('#migrations tr[data-server="%s"]' % server['id'])
        expect(mig).to_have_attribute('data-type', 'live-migration')
        expect(mig).to_have_attribute('data-status', 'completed')
        expect(mig).to_contain_text('%s → %s' % (source, target))
        expect(mig).to_contain_text(name)

        # The hypervisors: the server's vCPU and RAM count on its new host
        # (the claims moved with it; running_vms follows the agent's report).
        p.goto('/admin/hypervisors/')
        row = p.locator('#hypervisors tr[data-host="%s"]' % target)
        expect(row.locator('.usage[data-label=vCPUs]')).to_contain_text('1 / ')
        expect(row.locator('.usage[data-label=RAM]')).to_contain_text('512 / ')
        browser_fx.save_screenshot(p, 'admin-hypervisors')
        browser_fx.assert_no_console_errors(p)
    finally:
        dash_cloud.openstack('compute', 'service', 'set', '--enable', target, 'nova-compute')
        if server:
            dash_cloud.openstack('server', 'delete', '--wait', server['id'], cloud='demo')


def test_create_and_delete_a_flavor(signed_in, dash_cloud):
    p = signed_in('admin', next_path='/admin/flavors/')
    _accept_dialogs(p)
    form = p.locator('#flavor-create')
    # A name the API refuses: its own message, status and request id.
    form.locator('input[name=name]').fill('m1.tiny')
    form.locator('button').click()
    alert = p.locator('#alerts .alert.error')
    expect(alert).to_contain_text('Flavor with name m1.tiny already exists')
    expect(alert).to_contain_text('HTTP 409')
    expect(alert).to_contain_text('req-')

    form.locator('input[name=name]').fill('dash-flavor')
    form.locator('input[name=ram]').fill('256')
    form.locator('input[name=property]').first.fill('hw:cpu_policy=shared')
    form.locator('input[name=private]').check()
    expect(_cli_out(form)).to_have_text(
        'openstack flavor create --vcpus 1 --ram 256 --disk 1 --private '
        '--property hw:cpu_policy=shared dash-flavor')
    form.locator('button').click()
    expect(p.locator('h1')).to_contain_text('Flavor dash-flavor')
    expect(p.locator('#extra-specs')).to_contain_text('hw:cpu_policy')
    shown = dash_cloud.openstack('flavor', 'show', 'dash-flavor', json_out=True)
    assert (shown['ram'], shown['vcpus'], shown['os-flavor-access:is_public']) == (
        256, 1, False), shown
    assert shown['properties'] == {'hw:cpu_policy': 'shared'}, shown

    # A private flavor: give the demo project access.
    access = p.locator('#access-add')
    access.locator('select[name=project]').select_option(label='demo')
    access.locator('button').click()
    expect(p.locator('#flavor-access tr[data-project]')).to_have_count(1)
    assert dash_cloud.openstack('flavor', 'show', 'dash-flavor', '-c', 'access_project_ids',
                                '-f', 'value').strip() != ''

    p.goto('/admin/flavors/')
    p.locator('#flavors tr[data-name="dash-flavor"] button', has_text='Delete').click()
    expect(p.locator('#alerts')).to_contain_text('Flavor dash-flavor deleted')
    expect(p.locator('#flavors tr[data-name="dash-flavor"]')).to_have_count(0)
    r = dash_cloud.openstack('flavor', 'show', 'dash-flavor', check=False)
    assert r.returncode != 0
    _no_console_errors_but(p, 409)


def _assignments(dash_cloud, project):
    return dash_cloud.openstack('role', 'assignment', 'list', '--project', project, '--names',
                                json_out=True)


def test_project_user_and_role_assignment(signed_in, page, dash_cloud):
    p = signed_in('admin', next_path='/admin/projects/')
    _accept_dialogs(p)
    form = p.locator('#project-create')
    form.locator('input[name=name]').fill('dash-proj')
    form.locator('input[name=description]').fill('made in the dashboard')
    expect(_cli_out(form)).to_have_text("openstack project create --domain default "
                                        "--description 'made in the dashboard' dash-proj")
    form.locator('button').click()
    expect(p.locator('h1')).to_contain_text('Project dash-proj')
    project = dash_cloud.openstack('project', 'show', 'dash-proj', json_out=True)
    assert project['description'] == 'made in the dashboard' and project['enabled']

    p.goto('/admin/users/')
    form = p.locator('#user-create')
    form.locator('input[name=name]').fill('dash-user')
    form.locator('input[name=password]').fill('dash-user-secret')
    form.locator('select[name=default_project_id]').select_option(label='dash-proj')
    expect(_cli_out(form)).to_have_text('openstack user create --domain default '
                                        '--password-prompt --project %s dash-user'
                                        % project['id'])
    form.locator('button').click()
    expect(p.locator('h1')).to_contain_text('User dash-user')
    user = dash_cloud.openstack('user', 'show', 'dash-user', json_out=True)
    assert user['default_project_id'] == project['id']

    p.goto('/admin/roles/?project=%s' % project['id'])
    form = p.locator('#role-grant')
    form.locator('select[name=role]').select_option(label='member')
    form.locator('select[name=user]').select_option(label='dash-user')
    form.locator('button').click()
    expect(p.locator('#alerts')).to_contain_text('Role granted')
    row = p.locator('#assignments tr.assignment[data-actor="dash-user"]')
    expect(row).to_have_attribute('data-role', 'member')
    expect(row).to_have_attribute('data-on', 'dash-proj')
    got = _assignments(dash_cloud, 'dash-proj')
    assert [(a['Role'], a['User'].split('@')[0]) for a in got] == [('member', 'dash-user')], got

    # The new user signs in with that password, into that project.
    other = dash_fx.sign_in(page(base_url=dash_cloud.dashboard_url), dash_cloud, 'dash-user',
                            password='dash-user-secret')
    expect(other.locator('.who')).to_contain_text('dash-user')
    expect(other.locator('#project-switcher')).to_have_value(project['id'])
    row.locator('button', has_text='Revoke').click()
    expect(p.locator('#alerts')).to_contain_text('Role member revoked')
    expect(row).to_have_count(0)
    assert _assignments(dash_cloud, 'dash-proj') == []

    p.goto('/admin/users/')
    p.locator('#users tr[data-name="dash-user"] button', has_text='Delete').click()
    expect(p.locator('#alerts')).to_contain_text('User dash-user deleted')
    assert dash_cloud.openstack('user', 'show', 'dash-user', check=False).returncode != 0
    p.goto('/admin/projects/')
    p.locator('#projects tr[data-name="dash-proj"] button', has_text='Delete').click()
    expect(p.locator('#alerts')).to_contain_text('Project dash-proj deleted')
    assert dash_cloud.openstack('project', 'show', 'dash-proj', check=False).returncode != 0
    browser_fx.assert_no_console_errors(p)


def test_edit_a_project_quota(signed_in, dash_cloud):
    project = dash_cloud.openstack('project', 'create', '--domain', 'default', 'dash-quota',
                                   json_out=True)
    try:
        p = signed_in('admin', next_path='/admin/quotas/?project=%s' % project['id'])
        compute = p.locator('#quota-compute form')
        compute.locator('input[name=instances]').fill('7')
        compute.locator('input[name=cores]').fill('9')
        expect(_cli_out(compute)).to_have_text(
            'openstack quota set --instances 7 --cores 9 dash-quota')
        compute.locator('button').click()
        expect(p.locator('#alerts')).to_contain_text('Compute quotas of dash-quota saved')
        expect(p.locator('#quota-compute tr[data-key=instances] .limit')).to_have_text('7')

        network = p.locator('#quota-network form')
        network.locator('input[name=router]').fill('3')
        network.locator('button').click()
        expect(p.locator('#alerts')).to_contain_text('Network quotas of dash-quota saved')
        # A limit the compute API refuses: its message, with status and request id.
        compute = p.locator('#quota-compute form')
        compute.locator('input[name=ram]').fill('99999999999')
        compute.locator('button').click()
        alert = p.locator('#alerts .alert.error')
        expect(alert).to_contain_text('HTTP 400')
        expect(alert).to_contain_text('req-')

        shown = dash_cloud.openstack('quota', 'show', 'dash-quota', json_out=True)
        limits = {q['Resource']: q['Limit'] for q in shown} if isinstance(shown, list) \
            else shown
        assert (limits['instances'], limits['cores'], limits['routers']) == (7, 9, 3), limits
        _no_console_errors_but(p, 400)
    finally:
        dash_cloud.openstack('project', 'delete', project['id'])


def test_hypervisors_page_shows_usage(signed_in, dash_cloud):
    p = signed_in('admin', next_path='/admin/hypervisors/')
    for n in (1, 2):
        row = p.locator('#hypervisors tr[data-host="%s"]' % dash_cloud.host_name(n))
        expect(row).to_have_count(1)
        expect(row.locator('.usage')).to_have_count(3)
    expect(p.locator('#hypervisor-totals')).to_contain_text('vCPUs')
    expect(p).to_have_title(re.compile('Hypervisors'))
    browser_fx.assert_no_console_errors(p)
