# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Netlink sessions for the host namespace and for other network namespaces.

Private to the collection. Every module reaches the kernel through a
:class:`Netlink` object: it hands out one pyroute2 ``IPRoute`` socket per
namespace, opened *inside* that namespace with ``setns(2)`` and never through a
code path that creates a namespace as a side effect (pyroute2's default
``flags=os.O_CREAT`` does that, which a check-mode run must never do).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import socket
import traceback
from contextlib import contextmanager

try:
    from pyroute2 import IPRoute, NetlinkError
    from pyroute2 import netns as _pyroute2_netns
    from pyroute2.netlink import NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR
    from pyroute2.netlink.rtnl import RTM_GETADDR, RTM_GETLINK, RTM_GETNSID, RTM_GETROUTE
    from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
    from pyroute2.netlink.rtnl.marshal import MarshalRtnl
    from pyroute2.netlink.rtnl.nsidmsg import nsidmsg
    from pyroute2.netlink.rtnl.rtmsg import rtmsg
except ImportError:  # pragma: no cover - exercised by the missing-library test
    HAS_PYROUTE2 = False
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()

    class NetlinkError(Exception):  # type: ignore[no-redef]
        """Stand-in so ``except NetlinkError`` stays valid without pyroute2."""

        code = 0
else:
    HAS_PYROUTE2 = True
    PYROUTE2_IMPORT_ERROR = None

NETNS_RUN_DIR = '/run/netns'
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MS_REC = 16384
MS_SHARED = 1 << 20
NETNS_ETC_DIR = '/etc/netns'
PYROUTE2_REQUIREMENT = 'pyroute2>=0.9'


class LinuxnetError(Exception):
    """An error the user can act on: what failed, on which object, and how to fix it."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


# errno -> (what it means, what to do). Messages name the object; the hint names the fix.
_ERRNO_HINTS = {
    errno.EPERM: ('operation not permitted',
                  'managing network objects needs CAP_NET_ADMIN: run the task as root (become: true)'),
    errno.EACCES: ('permission denied',
                   'run the task as root (become: true)'),
    errno.EEXIST: ('already exists',
                   'another object already uses that name or address: pick another one or remove the existing object'),
    errno.ENODEV: ('no such device',
                   'the interface does not exist (it vanished or was never created): check the name and its namespace'),
    errno.ENOENT: ('not found',
                   'the object does not exist: check its name and namespace'),
    errno.EOPNOTSUPP: ('not supported by this kernel',
                       'the kernel lacks this link kind or feature: load its module (modprobe) or use a kernel that has it'),
    errno.ERANGE: ('value out of range',
                   'a numeric value (MTU, VNI, ID) is outside what the kernel accepts for this object'),
    errno.EINVAL: ('invalid argument',
                   'the kernel rejected a value: check addresses, prefix lengths, MTU and names'),
    errno.EBUSY: ('device or resource busy',
                  'the object is in use (enslaved, or held by another process): release it first'),
    errno.EADDRNOTAVAIL: ('address not available',
                          'the address is not configured on that interface'),
    errno.ENETUNREACH: ('network unreachable',
                        'the gateway is not on a connected subnet of that interface: add the address first'),
    errno.ENOSPC: ('no space left',
                   'a kernel table is full (too many entries): raise the limit or remove unused objects'),
}


def explain(err, obj, action):
    """Turn a NetlinkError/OSError into a message naming the object and the fix."""
    code = getattr(err, 'code', None) or getattr(err, 'errno', None) or 0
    meaning, hint = _ERRNO_HINTS.get(code, (os.strerror(code) if code else str(err), None))
    msg = '%s: cannot %s: %s (errno %s)' % (obj, action, meaning, code)
    if hint:
        msg += '. Fix: ' + hint
    return msg


@contextmanager
def netlink_errors(obj, action):
    """Re-raise kernel errors inside the block as LinuxnetError with a hint."""
    try:
        yield
    except LinuxnetError:
        raise
    except (NetlinkError, OSError) as err:
        raise LinuxnetError(explain(err, obj, action), errno=getattr(err, 'code', None) or getattr(err, 'errno', None))


def is_gone(err):
    """True for the errors a delete raises when the object is already gone."""
    code = getattr(err, 'code', None) or getattr(err, 'errno', None)
    return code in (errno.ENODEV, errno.ENOENT, errno.ESRCH)


def validate_netns_name(name):
    """Return an error message for an invalid named namespace, or None (iproute2's rules)."""
    if not isinstance(name, str) or not name:
        return 'namespace name must be a non-empty string'
    if '/' in name or name in ('.', '..'):
        return "namespace name %r must not contain '/' and must not be '.' or '..'" % name
    if len(name.encode('utf-8')) > 255:
        return 'namespace name %r is longer than 255 bytes' % name
    if any(c.isspace() for c in name):
        return 'namespace name %r must not contain white space' % name
    return None


class NamespaceRef:
    """Where a namespace lives.

    ``spec`` is one of: ``None`` or ``''`` (the namespace the module runs in,
    the host's); a name (``/run/netns/NAME``, what ``ip netns`` manages); an
    absolute path to a namespace file (``/proc/1234/ns/net``, a runtime's bind
    mount); or a process ID as an int or ``'pid:1234'``.
    """

    __slots__ = ('spec', 'label', 'path', 'name')

    def __init__(self, spec=None):
        self.spec = spec
        self.name = None
        if spec is None or spec == '':
            self.label, self.path = 'host', None
        elif isinstance(spec, int) or (isinstance(spec, str) and (spec.isdigit() or spec.startswith('pid:'))):
            pid = int(str(spec)[4:] if str(spec).startswith('pid:') else spec)
            self.label, self.path = 'pid:%d' % pid, '/proc/%d/ns/net' % pid
        elif isinstance(spec, str) and spec.startswith('/'):
            self.label, self.path = spec, spec
        elif isinstance(spec, str):
            problem = validate_netns_name(spec)
            if problem:
                raise LinuxnetError(problem)
            self.label, self.path, self.name = spec, os.path.join(NETNS_RUN_DIR, spec), spec
        else:
            raise LinuxnetError('namespace must be a name, an absolute path or a PID, not %r' % (spec,))

    @property
    def is_host(self):
        return self.path is None

    def exists(self):
        return self.path is None or os.path.exists(self.path)

    def __repr__(self):
        return 'NamespaceRef(%r)' % (self.label,)


def _setns(fd):
    _pyroute2_netns.setns(fd, flags=0)


NETLINK_ROUTE = 0


class Dumper:
    """Link, address and route dumps of one namespace over a plain netlink socket, decoded by pyroute2.

    pyroute2 0.9's IPRoute takes every request through its asyncio core: on a namespace with two links that costs
    about as much as decoding the answer (a socket 0.28 ms, three dumps 1.9 ms, against 0.015 ms and 1.37 ms here,
    bench/bench_bridge_network.py's 500 namespaces). A module that reads hundreds of namespaces spent most of its
    time there, so dumps come here: the same request messages (pyroute2's ifinfmsg, ifaddrmsg, rtmsg), sent as they
    are and answered with the same decoded messages (pyroute2's MarshalRtnl), with the same method names as IPRoute
    for what the collection reads. Everything else, every write included, stays on IPRoute.
    """

    def __init__(self):
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self._sock.bind((0, 0))
        self._marshal = MarshalRtnl()
        self._seq = 0

    def _request(self, msg, msg_type, flags):
        self._seq += 1
        msg['header']['type'] = msg_type
        msg['header']['flags'] = flags
        msg['header']['sequence_number'] = self._seq
        msg.encode()
        self._sock.send(msg.data)
        out = []
        while True:
            for answer in self._marshal.parse(self._sock.recv(1 << 16)):
                header = answer['header']
                if header['sequence_number'] != self._seq:
                    continue  # the answer to an earlier, abandoned request
                if header['type'] == NLMSG_DONE:
                    return out
                if header['type'] == NLMSG_ERROR:
                    if header.get('error'):
                        raise header['error']
                    return out
                out.append(answer)
                if not flags & NLM_F_DUMP:
                    return out

    def _dump(self, msg_class, msg_type, **fields):
        msg = msg_class()
        for key, value in fields.items():
            msg[key] = value
        return self._request(msg, msg_type, NLM_F_REQUEST | NLM_F_DUMP)

    def get_netnsid(self, fd):
        """The id this namespace gives the namespace open as ``fd``, as IPRoute.get_netnsid(fd=fd) returns it."""
        msg = nsidmsg()
        msg['attrs'].append(('NETNSA_FD', fd))
        for answer in self._request(msg, RTM_GETNSID, NLM_F_REQUEST):
            return {'nsid': answer.get_attr('NETNSA_NSID'), 'current_nsid': answer.get_attr('NETNSA_CURRENT_NSID')}
        return None

    def link(self, command):
        if command != 'dump':
            raise ValueError('Dumper.link: only dump')
        return self._dump(ifinfmsg, RTM_GETLINK, family=socket.AF_UNSPEC)

    def addr(self, command, family=socket.AF_UNSPEC):
        if command != 'dump':
            raise ValueError('Dumper.addr: only dump')
        return self._dump(ifaddrmsg, RTM_GETADDR, family=family)

    def route(self, command, family=socket.AF_UNSPEC, table=None):
        if command != 'dump':
            raise ValueError('Dumper.route: only dump')
        msgs = self._dump(rtmsg, RTM_GETROUTE, family=family)
        return msgs if table is None else [msg for msg in msgs if msg.get('table') == table]

    def close(self):
        self._sock.close()


class Netlink:
    """One netlink socket per namespace for the life of a module run.

    Sockets are opened inside the target namespace by switching this process
    into it with setns(2), creating the socket and switching back at once; a
    socket stays bound to the namespace it was created in. Opening a socket
    never creates a namespace: a missing one raises a LinuxnetError that names
    it.
    """

    def __init__(self):
        if not HAS_PYROUTE2:
            raise LinuxnetError('the Python library pyroute2 is required on the target')
        self._home = os.open('/proc/self/ns/net', os.O_RDONLY)
        self._sockets = {}
        self._dumpers = {}

    def ref(self, spec):
        return spec if isinstance(spec, NamespaceRef) else NamespaceRef(spec)

    def ipr(self, spec=None):
        """The IPRoute socket of a namespace (cached)."""
        ref = self.ref(spec)
        key = ref.path
        sock = self._sockets.get(key)
        if sock is None:
            if ref.is_host:
                sock = IPRoute()
            else:
                with self.inside(ref):
                    sock = IPRoute()
            self._sockets[key] = sock
        return sock

    def dumper(self, spec=None):
        """The :class:`Dumper` of a namespace (cached): for link, address and route dumps."""
        ref = self.ref(spec)
        dumper = self._dumpers.get(ref.path)
        if dumper is None:
            if ref.is_host:
                dumper = Dumper()
            else:
                with self.inside(ref):
                    dumper = Dumper()
            self._dumpers[ref.path] = dumper
        return dumper

    @contextmanager
    def inside(self, spec):
        """Run the block with this process in the namespace (for /proc/sys/net and sockets)."""
        ref = self.ref(spec)
        if ref.is_host:
            yield ref
            return
        try:
            fd = os.open(ref.path, os.O_RDONLY)
        except FileNotFoundError:
            raise LinuxnetError('network namespace %s does not exist (no %s). Fix: create it first '
                                '(linuxnet.container.netns) or check the name/path' % (ref.label, ref.path))
        except OSError as err:
            raise LinuxnetError(explain(err, 'network namespace %s' % ref.label, 'open'))
        try:
            try:
                _setns(fd)
            except OSError as err:
                raise LinuxnetError(explain(err, 'network namespace %s' % ref.label, 'enter') +
                                    ' (is %s a network namespace file?)' % ref.path)
            try:
                yield ref
            finally:
                _setns(self._home)
        finally:
            os.close(fd)

    def create_netns(self, name):
        """Create the named namespace /run/netns/NAME (fails if it exists)."""
        create_named_netns(name, self._home)

    def forget(self, spec):
        """Close the cached socket of a namespace (before it is deleted)."""
        ref = self.ref(spec)
        for cache in (self._sockets, self._dumpers):
            sock = cache.pop(ref.path, None)
            if sock is not None:
                sock.close()

    def close(self):
        for sock in list(self._sockets.values()) + list(self._dumpers.values()):
            try:
                sock.close()
            except Exception:  # pylint: disable=broad-except
                pass
        self._sockets = {}
        self._dumpers = {}
        if self._home is not None:
            os.close(self._home)
            self._home = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_LIBC = None


def _libc():
    global _LIBC  # pylint: disable=global-statement
    if _LIBC is None:
        _LIBC = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
    return _LIBC


def _os_error(what, path):
    code = ctypes.get_errno()
    return OSError(code, '%s: %s' % (what, os.strerror(code)), path)


def _prepare_run_dir():
    """Make /run/netns a shared mount point, as ``ip netns add`` does, so the namespaces'
    bind mounts propagate to every mount namespace that shares it."""
    libc = _libc()
    os.makedirs(NETNS_RUN_DIR, mode=0o755, exist_ok=True)
    run_dir = NETNS_RUN_DIR.encode()
    bound = False
    while libc.mount(b'none', run_dir, None, MS_SHARED | MS_REC, None) != 0:
        if bound or ctypes.get_errno() != errno.EINVAL:
            raise _os_error('make %s a shared mount' % NETNS_RUN_DIR, NETNS_RUN_DIR)
        if libc.mount(run_dir, run_dir, b'none', MS_BIND | MS_REC, None) != 0:
            raise _os_error('bind-mount %s onto itself' % NETNS_RUN_DIR, NETNS_RUN_DIR)
        bound = True


def create_named_netns(name, home_fd):
    """Create /run/netns/NAME like ``ip netns add``: in this process, without forking.

    unshare(2) puts this process into a new network namespace, a bind mount of it
    onto /run/netns/NAME keeps it alive, and setns(2) returns home at once (the
    same steps as iproute2; pyroute2's netns.create forks a child per namespace,
    about 15 times slower). ``home_fd`` is an open fd of the namespace to return to.
    """
    obj = 'network namespace %s' % name
    with netlink_errors(obj, 'create'):
        _prepare_run_dir()
        path = os.path.join(NETNS_RUN_DIR, name)
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
        libc = _libc()
        try:
            if libc.unshare(CLONE_NEWNET) != 0:
                raise _os_error('unshare', path)
            try:
                if libc.mount(b'/proc/thread-self/ns/net', path.encode(), b'none', MS_BIND, None) != 0:
                    raise _os_error('bind-mount the new namespace', path)
            finally:
                _setns(home_fd)
        except OSError:
            os.unlink(path)
            raise


def bind_named_netns(name, target):
    """Give the namespace /run/netns/TARGET a second name, /run/netns/NAME (a bind mount, like
    ``ip netns attach`` does with a process's namespace): ``ip netns exec`` works under both."""
    obj = 'network namespace %s (a second name of %s)' % (name, target)
    with netlink_errors(obj, 'create'):
        _prepare_run_dir()
        path = os.path.join(NETNS_RUN_DIR, name)
        source = os.path.join(NETNS_RUN_DIR, target)
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
        if _libc().mount(source.encode(), path.encode(), b'none', MS_BIND, None) != 0:
            err = _os_error('bind-mount %s' % source, path)
            os.unlink(path)
            raise err


def netns_identity(name):
    """(st_dev, st_ino) of a named namespace: two names with the same identity are one namespace."""
    try:
        st = os.stat(os.path.join(NETNS_RUN_DIR, name))
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def remove_named_netns(name):
    """Remove /run/netns/NAME like ``ip netns delete``; True if it was there."""
    try:
        _pyroute2_netns.remove(name)
    except OSError as err:
        if is_gone(err):
            return False
        raise LinuxnetError(explain(err, 'network namespace %s' % name, 'remove'))
    return True


def list_named_netns():
    try:
        return sorted(os.listdir(NETNS_RUN_DIR))
    except FileNotFoundError:
        return []


def pids_by_netns_inode():
    """Map (st_dev, st_ino) of every process's network namespace to its PIDs: one /proc scan."""
    found = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            st = os.stat('/proc/%s/ns/net' % entry)
        except OSError:
            continue
        found.setdefault((st.st_dev, st.st_ino), []).append(int(entry))
    return found
