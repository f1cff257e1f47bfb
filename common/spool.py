"""Request bodies that waitress spools to disk, safe against a full disk.

waitress receives a whole request body before the app runs, keeping big
ones in a temporary file. When that disk fills up, waitress's own buffer
raises in its I/O loop and the connection is dropped: the client sees a
reset instead of an answer. With ``SpoolChannel`` the body is still read
to its end (so the client can be answered), the spooled part is dropped at
once (its space comes back) and the app finds a ``wsgi.input`` whose reads
raise OSError(ENOSPC): it answers as it answers any full disk.

    WSGIServer(..., channel_class=spool.SpoolChannel)
"""

import errno
import io

from oslo_log import log as logging
from waitress import channel
from waitress import parser

LOG = logging.getLogger(__name__)

DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def is_disk_full(error):
    return isinstance(error, OSError) and error.errno in DISK_FULL


class FullBody(io.RawIOBase):
    """The body of a request that did not fit on the disk."""
    storage_full = True

    def readable(self):
        return True

    def readinto(self, b):
        raise OSError(errno.ENOSPC, 'No space left on device to receive the request body')


class _Buffer:
    """waitress's body buffer, which stops keeping data once the disk is full."""

    def __init__(self, inner):
        self._inner = inner
        self._received = 0
        self.full = False

    def __len__(self):
        return self._received if self.full else len(self._inner)

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def append(self, data):
        self._received += len(data)
        if self.full:
            return
        try:
            self._inner.append(data)
        except OSError as e:
            if not is_disk_full(e):
                raise
            LOG.warning('No space left to receive a request body (%d bytes in); '
                        'reading the rest without keeping it', self._received)
            self.full = True
            self.close()

    def close(self):
        try:
            self._inner.close()
        except OSError:
            pass

    def getfile(self):
        if not self.full:
            f = self._inner.getfile()
            try:
                f.flush()  # the last bytes may still wait in the file's buffer
                return f
            except OSError as e:
                if not is_disk_full(e):
                    raise
                self.full = True
                self.close()
        return FullBody()


class SpoolParser(parser.HTTPRequestParser):
    def parse_header(self, header_plus):
        super().parse_header(header_plus)
        if self.body_rcv is not None:
            self.body_rcv.buf = _Buffer(self.body_rcv.buf)


class SpoolChannel(channel.HTTPChannel):
    parser_class = SpoolParser
