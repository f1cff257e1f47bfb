"""Live rows for lists the compute API's ``changes-since`` does not cover
(volumes, volume snapshots): a page asks the page's one event stream to
watch them (``?watch=volumes``, views/events.py) and gets, as ready HTML:

``<kind>-<id>``         the item's list row ('' once it is gone: the row goes)
``<kind>-<id>-status``  its status badge (detail pages re-fetch on it)
``<kind>-new``          the row of an item made after the page was opened
``<kind>s-down``        an alert when its service stops answering (and '' back)

The volume API has no ``changes-since``: the watcher lists the items and
compares each one's stamp (status, size, attachments, name...) with what it
sent last. It looks every poll while an item is in transition, and every
IDLE_EVERY seconds otherwise; a failure of that service shows in the page
and never stops the rest of the stream.
"""

import datetime
import time

import flask

from dashboard import cloud

IDLE_EVERY = 2.0
RECENT = datetime.timedelta(seconds=10)


def sse(event, data):
    lines = ''.join('data: %s\n' % line for line in (data.splitlines() or ['']))
    return 'event: %s\n%s\n' % (event, lines)


def parse_time(text):
    """A datetime (UTC) from the APIs' ISO times, with or without
    fractions and zone; None if unreadable."""
    if not text:
        return None
    text = text.rstrip('Z').split('+')[0]
    for fmt in ('%Y-%m-%dT%H:%M:%S.%f', '%Y-%m-%dT%H:%M:%S'):
        try:
            return datetime.datetime.strptime(text, fmt).replace(
                tzinfo=datetime.timezone.utc)
        except ValueError:
            continue
    return None


class ListWatch:
    """One list of one kind for one stream. Subclasses say how to list,
    decorate and draw: ``kind``, ``service``, ``busy``, ``fetch()``,
    ``stamp(item)``, ``row(item)``, ``badge(item)``."""

    kind = None
    service = None
    busy = frozenset()

    def __init__(self, conn):
        self.conn = conn
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.seen = {}
        self.next_at = 0.0
        self.down = None
        self.primed = False

    def fetch(self):
        raise NotImplementedError

    def stamp(self, item):
        return (item.get('status'), item.get('name'), item.get('updated_at'))

    def row(self, item):
        raise NotImplementedError

    def badge(self, item):
        raise NotImplementedError

    def _fresh(self, item):
        moment = parse_time(item.get('updated_at') or item.get('created_at'))
        return moment is not None and moment >= self.started - RECENT

    def events(self):
        if time.monotonic() < self.next_at:
            return
        items, err = cloud.attempt(self.service, self.fetch)
        if err is not None:
            self.next_at = time.monotonic() + IDLE_EVERY
            if str(err) != self.down:
                self.down = str(err)
                yield sse('%ss-down' % self.kind, flask.render_template(
                    '_alert.html', kind='error', title='Live %ss paused' % self.kind,
                    message=err.message, err=err))
            return
        if self.down is not None:
            self.down = None
            yield sse('%ss-down' % self.kind, '')
        busy = any(i.get('status') in self.busy for i in items)
        self.next_at = time.monotonic() + (0 if busy else IDLE_EVERY)
        current = {}
        for item in items:
            current[item['id']] = item
            stamp = self.stamp(item)
            before = self.seen.get(item['id'])
            self.seen[item['id']] = stamp
            if before == stamp:
                continue
            # The page drew every item it shows just before the stream
            # opened: at the first look, send only what may have moved since.
            if not self.primed and not (item.get('status') in self.busy or
                                        self._fresh(item)):
                continue
            row = self.row(item)
            yield sse('%s-%s' % (self.kind, item['id']), row)
            yield sse('%s-%s-status' % (self.kind, item['id']), self.badge(item))
            if before is None and self.primed:
                yield sse('%s-new' % self.kind, row)
        for gone in [i for i in self.seen if i not in current]:
            del self.seen[gone]
            yield sse('%s-%s' % (self.kind, gone), '')
            yield sse('%s-%s-status' % (self.kind, gone), self.badge(
                {'id': gone, 'status': 'deleted'}))
        self.primed = True
