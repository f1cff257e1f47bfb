"""The tag extension (standard-attr-tag) on every taggable collection:
/tags GET, PUT (replace), POST (add several), DELETE (all); /tags/<tag>
PUT, GET (204/404), DELETE; and the tags filters of lists."""

import pytest

pytestmark = pytest.mark.usefixtures('casts')


def _make(demo, coll):
    if coll == 'networks':
        return demo.network('n')
    if coll == 'routers':
        return demo.router('r')
    net = demo.network('n')
    if coll == 'subnets':
        return demo.subnet(net['id'])
    if coll == 'ports':
        return demo.port(net['id'])
    return demo.post('/security-groups', {'security_group': {'name': 'g'}})['security_group']


@pytest.mark.parametrize('coll', ['networks', 'subnets', 'ports', 'security-groups',
                                  'routers'])
def test_tag_calls(demo, other, coll):
    item = _make(demo, coll)
    url = '/%s/%s/tags' % (coll, item['id'])
    assert demo.get(url) == {'tags': []}
    assert demo.post(url, {'tags': ['a', 'b']}) == {'tags': ['a', 'b']}
    assert demo.post(url, {'tags': ['b', 'c']}) == {'tags': ['a', 'b', 'c']}
    assert demo.put(url, {'tags': ['x', 'y']}) == {'tags': ['x', 'y']}
    demo.put(url + '/z', None, status=201)
    demo.get(url + '/z', status=204)
    err = demo.error('GET', url + '/nope', status=404)
    assert err == {'type': 'TagNotFound', 'detail': '', 'message': 'Tag nope could not be found.'}
    demo.delete(url + '/x')
    assert demo.get(url) == {'tags': ['y', 'z']}
    assert demo.get('/%s/%s' % (coll, item['id']))[coll.rstrip('s').replace('-', '_')][
        'tags'] == ['y', 'z']
    demo.error('DELETE', url + '/x', status=404)
    assert demo.error('POST', url, {'tags': ['bad,tag']})['type'] == 'HTTPBadRequest'
    other.error('POST', url, {'tags': ['mine']}, status=404)
    demo.delete(url)
    assert demo.get(url) == {'tags': []}


def test_tag_filters(demo):
    ids = {}
    for name, tags in (('r1', ['red', 'blue']), ('r2', ['red']), ('r3', [])):
        router = demo.router(name)
        demo.put('/routers/%s/tags' % router['id'], {'tags': tags})
        ids[name] = router['id']

    def names(query):
        return sorted(r['name'] for r in demo.get('/routers?' + query)['routers'])

    assert names('tags=red,blue') == ['r1']
    assert names('tags=red') == ['r1', 'r2']
    assert names('tags-any=blue,green') == ['r1']
    assert names('not-tags=red,blue') == ['r2', 'r3']
    assert names('not-tags-any=blue') == ['r2', 'r3']
    assert names('tags=red&not-tags=blue') == ['r2']
    net = demo.network('tagged', tags=['red'])
    demo.network('plain')
    assert [n['id'] for n in demo.get('/networks?tags=red')['networks']] == [net['id']]
