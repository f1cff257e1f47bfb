"""Microversion negotiation shared by the compute and volume APIs.

A request names its version in ``OpenStack-API-Version: <service> X.Y``
(or a legacy header); none means the minimum, ``latest`` the maximum, and
anything out of range is a 406.
"""

import re

import flask

from common import exception

_VER = re.compile(r'^(\d+)\.(\d+)$')


class Version(tuple):
    def __new__(cls, major, minor):
        return super().__new__(cls, (int(major), int(minor)))

    @classmethod
    def parse(cls, text):
        m = _VER.match(text.strip())
        if not m:
            raise ValueError(text)
        return cls(*m.groups())

    def __str__(self):
        return '%d.%d' % self


class Negotiator:
    def __init__(self, service_type, minimum, maximum, legacy_header=None):
        self.service_type = service_type
        self.min = Version.parse(minimum)
        self.max = Version.parse(maximum)
        self.legacy_header = legacy_header

    def _requested(self, headers):
        raw = headers.get('OpenStack-API-Version')
        if raw:
            for part in raw.split(','):
                words = part.strip().split()
                if len(words) == 2 and words[0].lower() == self.service_type:
                    return words[1]
        if self.legacy_header:
            return headers.get(self.legacy_header)
        return None

    def negotiate(self, headers):
        raw = self._requested(headers)
        if raw is None:
            return self.min
        if raw.strip().lower() == 'latest':
            return self.max
        try:
            ver = Version.parse(raw)
        except ValueError:
            raise exception.BadRequest(
                'Invalid API version request "%s": a version looks like 2.1.' % raw) from None
        if not self.min <= ver <= self.max:
            raise exception.NotAcceptable(
                reason='Version %s is not supported by the API. Minimum is %s and maximum '
                       'is %s.' % (ver, self.min, self.max))
        return ver

    def set_headers(self, resp, ver):
        resp.headers['OpenStack-API-Version'] = '%s %s' % (self.service_type, ver)
        if self.legacy_header:
            resp.headers[self.legacy_header] = str(ver)
        resp.headers['Vary'] = 'OpenStack-API-Version' + (
            ', ' + self.legacy_header if self.legacy_header else '')


def current():
    return flask.g.microversion


def at_least(text):
    return flask.g.microversion >= Version.parse(text)
