"""Every route of the API service's and the image service's own route
tables (their Flask URL maps and ROUTES: a new route is covered without
editing a test), and the error shape of each real service, for the faults
tier's isolation matrix and fuzzer."""

import re


def _routes():
    """(method, rule) of every route the two services declare."""
    from api.app import create_app
    from imagestore.api.app import ROUTES
    out = []
    for rule in create_app().url_map.iter_rules():
        if rule.endpoint in ('static', 'root', 'healthcheck'):
            continue
        for method in sorted(rule.methods - {'OPTIONS'}):
            if method == 'HEAD' and 'GET' in rule.methods and not rule.endpoint.startswith(
                    'identity.check'):
                continue
            out += [('api', method, path) for path in _each_collection(rule.rule)]
    for path, methods in ROUTES:
        if path.startswith('/internal/'):
            continue   # signed URLs for compute hosts: no token at all
        for method in methods:
            out.append(('image', method, path))
    return out


# Neutron's resource placeholders, for routes shared by several
# collections (<any(networks, ports, ...):coll>/<rid>/tags).
_NEUTRON_IDS = {'networks': 'net_id', 'subnets': 'subnet_id', 'ports': 'port_id',
                'security-groups': 'group_id', 'floatingips': 'fip_id',
                'routers': 'router_id'}


def _each_collection(rule):
    """One rule per collection a shared rule serves."""
    m = re.search(r'<any\(([^)]*)\):\w+>/<\w+>', rule)
    if not m:
        return [rule]
    colls = [c.strip().strip('"') for c in m.group(1).split(',')]
    return [rule[:m.start()] + '%s/<%s>' % (c, _NEUTRON_IDS[c]) + rule[m.end():]
            for c in colls]


ROUTES = _routes()


def assert_error_shape(r, rule):
    code = r.status_code
    if r.request.method == 'HEAD':
        return
    if rule.startswith('/v2/'):
        assert r.headers['Content-Type'].startswith('text/html'), r.text
        assert '%d ' % code in r.text, r.text
        return
    body = r.json()
    if code == 401 or rule.startswith('/identity'):
        assert set(body) == {'error'} and body['error']['code'] == code, body
        assert body['error']['message'] and body['error']['title'], body
    elif rule.startswith('/network'):
        err = body['NeutronError']
        assert set(err) == {'type', 'message', 'detail'} and err['message'], body
        # Neutron: PolicyNotAuthorized from policy, NotAuthorized from its
        # quota API's ownership check, <Resource>NotFound.
        if code == 403:
            assert err['type'] in ('PolicyNotAuthorized', 'NotAuthorized'), body
        elif code == 404:
            assert err['type'].endswith('NotFound'), body
    else:
        (kind, err), = body.items()
        assert kind == {403: 'forbidden', 404: 'itemNotFound'}.get(code, kind), body
        assert err['code'] == code and err['message'], body
