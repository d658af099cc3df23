# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Network namespaces: where one lives (NamespaceRef), and named ones under /run/netns created, named twice,
identified, listed and removed in this process, as ``ip netns`` does (private)."""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os

from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import validate_netns_name
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError, explain, is_gone, netlink_errors

try:
    from pyroute2 import netns as _pyroute2_netns
except ImportError:  # pragma: no cover - netlink.HAS_PYROUTE2 reports it
    _pyroute2_netns = None

NETNS_RUN_DIR = '/run/netns'
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MS_REC = 16384
MS_SHARED = 1 << 20
NETNS_ETC_DIR = '/etc/netns'
MNT_DETACH = 2
# The overlay namespaces that FRR sees (EVPN): a second name of each, under a directory that a drop-in of frr.service
# binds onto FRR's own /run/netns, so that zebra (-n, netns as VRF) adopts these and no other namespace of the host.
EVPN_NETNS_DIR = '/run/linuxnet-container/evpn'


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


def setns(fd):
    """Enter the namespace of the open fd (this thread)."""
    _pyroute2_netns.setns(fd, flags=0)


_LIBC = None


def _libc():
    global _LIBC  # pylint: disable=global-statement
    if _LIBC is None:
        _LIBC = ctypes.CDLL(ctypes.util.find_library('c'), use_errno=True)
    return _LIBC


def _os_error(what, path):
    code = ctypes.get_errno()
    return OSError(code, '%s: %s' % (what, os.strerror(code)), path)


_RUN_DIR_READY = []  # one call per process is enough: 500 namespaces made 500 mount(2) calls


def _prepare_run_dir():
    """Make /run/netns a shared mount point, as ``ip netns add`` does, so the namespaces'
    bind mounts propagate to every mount namespace that shares it (once per process)."""
    if _RUN_DIR_READY:
        return
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
    _RUN_DIR_READY.append(True)


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
                setns(home_fd)
        except OSError:
            os.unlink(path)
            raise


def bind_named_netns(name, target):
    """Give the namespace /run/netns/TARGET a second name, /run/netns/NAME (a bind mount, like
    ``ip netns attach`` does with a process's namespace): ``ip netns exec`` works under both."""
    with netlink_errors('network namespace %s (a second name of %s)' % (name, target), 'create'):
        _prepare_run_dir()
        _bind_file(os.path.join(NETNS_RUN_DIR, target), os.path.join(NETNS_RUN_DIR, name))


def _bind_file(source, path):
    """Bind-mount the namespace file ``source`` onto a new file ``path`` (removed again when the mount fails)."""
    os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
    if _libc().mount(source.encode(), path.encode(), b'none', MS_BIND, None) != 0:
        err = _os_error('bind-mount %s' % source, path)
        os.unlink(path)
        raise err


def netns_key(path):
    """(st_dev, st_ino) of a namespace file (/run/netns/NAME, /proc/PID/ns/net), or None when it is gone: two files
    with the same key are one namespace."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def netns_identity(name):
    """The netns_key of a named namespace: two names with the same identity are one namespace."""
    return netns_key(os.path.join(NETNS_RUN_DIR, name))


def evpn_netns_bound(name):
    """Whether /run/netns/NAME has its second name in EVPN_NETNS_DIR (the same namespace, not an older one)."""
    have = netns_key(os.path.join(EVPN_NETNS_DIR, name))
    return have is not None and have == netns_identity(name)


def evpn_netns_bind(name):
    """Give /run/netns/NAME its second name EVPN_NETNS_DIR/NAME (replacing one of an older namespace of that name).
    FRR's view of /run/netns is that directory: a mount made here propagates into it."""
    evpn_netns_unbind(name)
    with netlink_errors('network namespace %s (its name in %s, for FRR)' % (name, EVPN_NETNS_DIR), 'create'):
        os.makedirs(EVPN_NETNS_DIR, mode=0o755, exist_ok=True)
        _bind_file(os.path.join(NETNS_RUN_DIR, name), os.path.join(EVPN_NETNS_DIR, name))


def evpn_netns_unbind(name):
    """Remove EVPN_NETNS_DIR/NAME; True if it was there. Detached lazily: zebra holds the namespace open until it sees
    the name go (inotify), then lets it go."""
    path = os.path.join(EVPN_NETNS_DIR, name)
    if not os.path.lexists(path):
        return False
    with netlink_errors('network namespace %s (its name in %s, for FRR)' % (name, EVPN_NETNS_DIR), 'remove'):
        if _libc().umount2(path.encode(), MNT_DETACH) != 0 and ctypes.get_errno() != errno.EINVAL:
            raise _os_error('unmount', path)
        os.unlink(path)
    return True


def _names_in(directory):
    try:
        return sorted(os.listdir(directory))
    except FileNotFoundError:
        return []


def list_evpn_netns():
    return _names_in(EVPN_NETNS_DIR)


def remove_named_netns(name):
    """Remove /run/netns/NAME like ``ip netns delete`` (and its name for FRR); True if it was there."""
    evpn_netns_unbind(name)
    try:
        _pyroute2_netns.remove(name)
    except OSError as err:
        if is_gone(err):
            return False
        raise LinuxnetError(explain(err, 'network namespace %s' % name, 'remove'))
    return True


def list_named_netns():
    return _names_in(NETNS_RUN_DIR)
