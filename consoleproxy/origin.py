"""Which web pages may open a console websocket (both console proxies).

A browser always sends an Origin header with a websocket handshake; its
host must be the host of the proxy's own base URL (the console page, or a
dashboard on the same host) or one of ``[console] allowed_origins``, and
its scheme http or https. A client that sends no Origin (not a browser:
the CLI, websocat, a test) goes on to the token check, as in Nova.
"""

import urllib.parse

ORIGIN_SCHEMES = ('http', 'https')


def _hostname(value):
    """The lower-case host of a URL or of a bare host name ('' if none)."""
    if '://' not in value:
        value = '//' + value
    try:
        return (urllib.parse.urlsplit(value).hostname or '').lower()
    except ValueError:
        return ''


def allowed_hosts(base_url, allowed_origins=()):
    """The hosts whose pages may open a console websocket: the console
    page's own (the host of the base URL) and the configured ones (host
    names, or origins such as https://dashboard.example.com)."""
    hosts = {_hostname(base_url)} | {_hostname(o) for o in allowed_origins or ()}
    return frozenset(h for h in hosts if h)


def refusal(origin, hosts):
    """None when a handshake with Origin header ``origin`` (None: no
    header, not a browser) may go on, else why not."""
    if origin is None:
        return None
    try:
        url = urllib.parse.urlsplit(origin.strip())
        host = (url.hostname or '').lower()
    except ValueError:
        url, host = None, ''
    if url is None or url.scheme not in ORIGIN_SCHEMES or not host:
        return 'the Origin %r is not a web page\'s' % origin[:200]
    if host not in hosts:
        return 'the Origin %s is not allowed (allowed hosts: %s)' % (
            origin[:200], ', '.join(sorted(hosts)) or 'none')
    return None
