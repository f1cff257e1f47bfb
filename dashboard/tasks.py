"""The task panel: operations in flight in the project, each with its request
id where the API keeps one (a server's latest instance action), built from
the compute, volume and image APIs. A service that does not answer shows
as such in the panel; the rest still shows."""

import time

import flask

from dashboard import rest

VOLUME_BUSY = {'creating', 'attaching', 'detaching', 'deleting', 'extending', 'uploading',
               'downloading', 'backing-up', 'restoring-backup', 'reserved', 'maintenance',
               'retyping', 'awaiting-transfer'}
IMAGE_BUSY = {'queued', 'saving', 'importing', 'uploading', 'pending_delete'}
SLOW_EVERY = 3.0   # seconds between looks at volumes and images
_actions = {}      # (server id, task) -> (request id, action)


def _server_action(conn, server_id, task):
    key = (server_id, task)
    if key not in _actions:
        if len(_actions) > 4096:
            _actions.clear()
        found, _err = rest.attempt('compute', 'GET', '/servers/%s/os-instance-actions' % server_id,
                                   conn=conn, limit=1)
        actions = (found or {}).get('instanceActions') or []
        _actions[key] = ((actions[0].get('request_id'), actions[0].get('action'))
                         if actions else (None, None))
    return _actions[key]


class Panel:
    """One page's view of the tasks; volumes and images are looked at every
    SLOW_EVERY seconds, servers at every poll (from the stream's changes)."""

    def __init__(self, conn):
        self.conn = conn
        self.servers = {}
        self._slow_at = 0.0
        self._slow = ([], [], [])   # volume tasks, image tasks, errors

    def update_servers(self, servers):
        for s in servers:
            if s.get('status') == 'DELETED':
                self.servers.pop(s['id'], None)
            else:
                self.servers[s['id']] = s

    def _slow_tasks(self):
        if time.monotonic() < self._slow_at:
            return self._slow
        self._slow_at = time.monotonic() + SLOW_EVERY
        errors = []
        vols, err = rest.attempt('volumev3', 'GET', '/volumes/detail', conn=self.conn)
        vols = (vols or {}).get('volumes')
        if err:
            errors.append(err)
        imgs, err2 = rest.attempt('image', 'GET', '/images', conn=self.conn, limit=200)
        imgs = (imgs or {}).get('images')
        if err2:
            errors.append(err2)
        vol_tasks = [{'kind': 'volume', 'id': v['id'], 'name': v.get('name') or v['id'],
                      'what': v['status'], 'request_id': None,
                      'url': (flask.url_for('volumes.detail', volume_id=v['id'])
                              if 'volumes.detail' in flask.current_app.view_functions
                              else flask.url_for('instances.index'))}
                     for v in vols or () if v.get('status') in VOLUME_BUSY]
        img_tasks = [{'kind': 'image', 'id': i['id'], 'name': i.get('name') or i['id'],
                      'what': i['status'], 'request_id': None, 'url': None}
                     for i in imgs or () if i.get('status') in IMAGE_BUSY]
        self._slow = (vol_tasks, img_tasks, errors)
        return self._slow

    def tasks(self):
        out = []
        for s in self.servers.values():
            task = s.get('OS-EXT-STS:task_state')
            if not task and s.get('status') not in ('BUILD', 'MIGRATING', 'RESIZE',
                                                    'REBUILD', 'REBOOT', 'HARD_REBOOT'):
                continue
            request_id, action = _server_action(self.conn, s['id'], task)
            out.append({'kind': 'server', 'id': s['id'], 'name': s.get('name') or s['id'],
                        'what': '%s%s' % (action + ': ' if action else '',
                                          task or s.get('status', '').lower()),
                        'request_id': request_id,
                        'url': flask.url_for('instances.index')})
        vol_tasks, img_tasks, errors = self._slow_tasks()
        return out + vol_tasks + img_tasks, errors

    def render(self):
        tasks, errors = self.tasks()
        return flask.render_template('_tasks.html', tasks=tasks, errors=errors)
