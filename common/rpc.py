"""The bus: oslo.messaging RPC over RabbitMQ with the threading executor.

Every service's rpcapi.py builds its client with ``get_client``; a service
runner builds its server with ``get_server``. Contexts travel through the
serializer. Every call has a timeout.
"""

import threading
import time

import oslo_messaging as messaging
from oslo_log import log as logging
from oslo_messaging.rpc import dispatcher

from common import context as ctx_mod
from common import unit_of_work
from common.conf import CONF

LOG = logging.getLogger(__name__)

_lock = threading.Lock()
_transport = None
_notification_transport = None


class ContextSerializer(messaging.NoOpSerializer):
    """Sends a RequestContext as a dict and rebuilds it on the far side."""

    def serialize_context(self, context):
        # Every call and cast passes here: a unit of work that sent one
        # must not be run again.
        unit_of_work.note_sent()
        return context.to_dict()

    def deserialize_context(self, context):
        return ctx_mod.RequestContext.from_dict(context)


def get_transport():
    global _transport
    with _lock:
        if _transport is None:
            # Our own errors cross the bus as themselves, not RemoteError.
            _transport = messaging.get_rpc_transport(
                CONF, allowed_remote_exmods=['common.exception', 'common.db.instances',
                                             'common.quota', 'imagestore.exception',
                                             'imagestore.states', 'compute.virt.exception'])
    return _transport


def get_notification_transport():
    global _notification_transport
    with _lock:
        if _notification_transport is None:
            _notification_transport = messaging.get_notification_transport(CONF)
    return _notification_transport


def cleanup():
    global _transport, _notification_transport
    with _lock:
        for t in (_transport, _notification_transport):
            if t is not None:
                t.cleanup()
        _transport = _notification_transport = None


def version_cap(topic):
    """The ``[upgrade_levels]`` cap of ``topic`` (None: no cap, or a topic
    without an option)."""
    levels = CONF.upgrade_levels
    return levels[topic] if topic in levels else None


def get_client(topic, version, server=None):
    """A client of ``topic`` that sends at most ``[upgrade_levels] <topic>``:
    ``cctxt.can_send_version(v)`` is False above it, and a call or cast
    prepared above it raises RPCVersionCapError."""
    target = messaging.Target(topic=topic, version=version, server=server)
    return messaging.get_rpc_client(
        get_transport(), target, version_cap=version_cap(topic),
        serializer=ContextSerializer(), timeout=CONF.rpc_call_timeout)


def get_server(topic, host, endpoints):
    """Each endpoint method runs as a unit of work (common/unit_of_work.py):
    re-run whole when the database lost its first writing transaction."""
    target = messaging.Target(topic=topic, server=host)
    endpoints = [unit_of_work.Endpoints(e) for e in endpoints]
    return messaging.get_rpc_server(
        get_transport(), target, endpoints, executor='threading',
        serializer=ContextSerializer(),
        access_policy=dispatcher.DefaultRPCAccessPolicy)


def get_notifier(publisher_id):
    # The driver and topics come from [oslo_messaging_notifications]; the
    # default sends nothing, so no queue fills up without a consumer.
    return messaging.Notifier(get_notification_transport(), publisher_id=publisher_id,
                              serializer=ContextSerializer())


def call_until_answered(call, what, tries=5, max_backoff=10):
    """``call()`` again while the other side does not answer (MessagingTimeout),
    up to ``tries`` times, backing off 1, 2, 4 ... ``max_backoff`` seconds.

    For an agent's reports that must not be lost to a busy or restarting
    peer. Returns what ``call`` returns; after the last try the last
    MessagingTimeout is raised, and the caller says who settles it instead.
    ``what`` names the call in the warnings ("the resize report of X").
    """
    for attempt in range(tries):
        try:
            return call()
        except messaging.MessagingTimeout:
            LOG.warning('No answer to %s (try %d of %d)', what, attempt + 1, tries)
            if attempt + 1 == tries:
                raise
            time.sleep(min(2 ** attempt, max_backoff))
