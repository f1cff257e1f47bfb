"""The bus: oslo.messaging RPC over RabbitMQ with the threading executor.

Every service's rpcapi.py builds its client with ``get_client``; a service
runner builds its server with ``get_server``. Contexts travel through the
serializer. Every call has a timeout.
"""

import os
import sys
import threading
import time

import oslo_messaging as messaging
from oslo_concurrency import lockutils
from oslo_log import log as logging
from oslo_messaging import opts as messaging_opts
from oslo_messaging.rpc import dispatcher

from common import context as ctx_mod
from common import unit_of_work
from common.conf import CONF

LOG = logging.getLogger(__name__)

_lock = threading.Lock()
_transport = None
_notification_transport = None
_service_name = None

RABBIT_GROUP = 'oslo_messaging_rabbit'


def set_service_name(binary):
    """Name this process's queues after the service ``binary`` it runs.

    With ``[oslo_messaging_rabbit] use_queue_manager`` oslo.messaging names
    reply (and fanout) queues ``<hostname>:<processname>:<n>``, so a
    restarted service finds its queues again. Its default processname is
    ``argv[0]``, which is ``cmd.py`` or ``-c`` for every service run as a
    module: two services of one host would then share a reply queue and
    take each other's replies. A service calls this before its first RPC
    client; a process that never does (a command-line tool, of which
    several may run at once) gets a name of its own with its pid in it.
    """
    global _service_name
    _service_name = binary


def queue_names():
    """(hostname, processname) for the queue manager: the operator's
    settings when given, else this host's ``[DEFAULT] host`` (namespaced
    hosts of one machine share the kernel's hostname) and the service's
    name, or the program's name and pid."""
    prog = os.path.basename(sys.argv[0] or '') or 'python'
    processname = _service_name or '%s-%d' % (prog, os.getpid())
    return CONF.host, processname


def register_rabbit_opts():
    """Register ``[oslo_messaging_rabbit]`` now (the same option objects the
    driver registers when a transport is made), to read or set them first."""
    for group, opts in messaging_opts.list_opts():
        if group == RABBIT_GROUP:
            CONF.register_opts(opts, group=RABBIT_GROUP)


def _set_queue_name_defaults():
    # The driver builds its queue manager when the transport is made, from
    # these two options: their defaults must be ours before that.
    register_rabbit_opts()
    hostname, processname = queue_names()
    CONF.set_default('hostname', hostname, group=RABBIT_GROUP)
    CONF.set_default('processname', processname, group=RABBIT_GROUP)
    if _service_name is None:
        # A process that is no service (a CLI, a script) names its queues
        # with its pid: it gains nothing from the queue manager, whose
        # counter would only leave one /dev/shm file behind per run, and
        # it runs in whatever process group its caller gives it, which the
        # queue manager needs alive (/proc/<group leader>/stat; see
        # common.service.lead_process_group). Such a process uses plain
        # random reply queue names whatever the configuration says.
        CONF.set_override('use_queue_manager', False, group=RABBIT_GROUP)
    else:
        CONF.clear_override('use_queue_manager', group=RABBIT_GROUP)
    # The queue manager counts queues of one name across the processes of
    # a service under an external (file) lock: give it a directory unless
    # the operator did.
    lockutils.set_defaults(os.path.join(CONF.state_path, 'lock'))


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
            _set_queue_name_defaults()
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
            _set_queue_name_defaults()
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
