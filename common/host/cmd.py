"""The one way the host agents run host commands: ip, nft, dnsmasq and
sysctl for the compute agent's data plane, qemu-img and
qemu-storage-daemon for the volume service; each with a timeout (the
runner's own, else [network] command_timeout). Cheap questions (does this
link, namespace or process exist?) are answered by reading /sys,
/run/netns and /proc instead of forking.

A failed command raises common.host.exception.NetworkCommandFailed with
its stderr. Unit tests swap the whole Runner for a fake one.
"""

import json
import os
import signal
import subprocess
import time

from oslo_log import log as logging

from common.conf import CONF
from common.host import exception

LOG = logging.getLogger(__name__)

NETNS_DIR = '/run/netns'
SYS_NET = '/sys/class/net'


class Result:
    __slots__ = ('argv', 'returncode', 'stdout', 'stderr')

    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self):
        return self.returncode == 0


class Runner:
    """Runs commands for real. ``timeout`` None: [network] command_timeout."""

    def __init__(self, timeout=None):
        self._timeout = timeout

    @property
    def timeout(self):
        return self._timeout if self._timeout is not None else CONF.network.command_timeout

    # -- commands ---------------------------------------------------------
    def _execute(self, argv, input_text):
        """(returncode, stdout, stderr); the fake runner replaces this."""
        try:
            res = subprocess.run(argv, input=input_text, capture_output=True, text=True,
                                 timeout=self.timeout, stdin=None if input_text is not None
                                 else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            return -1, '', 'timed out after %ss' % e.timeout
        except OSError as e:
            return -1, '', str(e)
        return res.returncode, res.stdout, res.stderr

    def run(self, argv, input_text=None, check=True, netns=None):
        """Run ``argv`` (in namespace ``netns`` through ip netns exec)."""
        argv = [str(a) for a in argv]
        if netns:
            argv = ['ip', 'netns', 'exec', netns] + argv
        t0 = time.monotonic()
        code, out, err = self._execute(argv, input_text)
        LOG.debug('%s -> %s (%.3fs)', ' '.join(argv), code, time.monotonic() - t0)
        res = Result(argv, code, out, err)
        if check and code != 0:
            raise exception.NetworkCommandFailed(cmd=' '.join(argv), code=code,
                                                 stderr=(err or out).strip()[:2000])
        return res

    def ip(self, *args, netns=None, check=True):
        """``ip [-n NS] ARGS``."""
        argv = ['ip'] + (['-n', netns] if netns else []) + list(args)
        return self.run(argv, check=check)

    def ip_json(self, *args, netns=None):
        """``ip -j [-n NS] ARGS`` parsed; [] when it fails (e.g. no such device)."""
        argv = ['ip', '-j'] + (['-n', netns] if netns else []) + list(args)
        res = self.run(argv, check=False)
        if not res.ok or not res.stdout.strip():
            return []
        try:
            return json.loads(res.stdout)
        except ValueError:
            return []

    def nft(self, ruleset, netns=None):
        """Load ``ruleset`` (nft -f -) in one transaction."""
        return self.run(['nft', '-f', '-'], input_text=ruleset, netns=netns)

    # -- cheap probes -----------------------------------------------------
    def link_exists(self, name):
        """A network device of the root namespace."""
        return os.path.exists(os.path.join(SYS_NET, name))

    def netns_exists(self, name):
        return os.path.exists(os.path.join(NETNS_DIR, name))

    def bridge_ports(self, bridge):
        try:
            return sorted(os.listdir(os.path.join(SYS_NET, bridge, 'brif')))
        except OSError:
            return []

    def br_netfilter_loaded(self):
        """True if bridged traffic can reach the inet hooks (br_netfilter)."""
        return os.path.isdir('/proc/sys/net/bridge')

    def link_master(self, name):
        """The bridge a root-namespace device is enslaved to, or None."""
        try:
            return os.path.basename(os.readlink(os.path.join(SYS_NET, name, 'master')))
        except OSError:
            return None

    def process_cmdline(self, pid):
        """The argv of process ``pid`` or None if there is none."""
        try:
            with open('/proc/%d/cmdline' % int(pid), 'rb') as f:
                raw = f.read()
        except (OSError, ValueError):
            return None
        if not raw:
            return None  # a zombie
        return [a.decode('utf-8', 'replace') for a in raw.rstrip(b'\0').split(b'\0')]

    def kill(self, pid, sig=signal.SIGTERM):
        try:
            os.kill(int(pid), sig)
            return True
        except (ProcessLookupError, ValueError):
            return False

    def sleep(self, seconds):
        time.sleep(seconds)
