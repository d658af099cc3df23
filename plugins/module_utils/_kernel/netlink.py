# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Netlink sessions for the host namespace and for other network namespaces.

Private to the collection. Every module reaches the kernel through a
:class:`Netlink` object: it hands out one :class:`Channel` (and, for the few
requests a channel does not make, one pyroute2 ``IPRoute``) per namespace,
opened *inside* that namespace with ``setns(2)`` and never through a code path
that creates a namespace as a side effect (pyroute2's default
``flags=os.O_CREAT`` does that, which a check-mode run must never do).
"""

from __future__ import annotations

import itertools
import os
import socket
import traceback
from contextlib import contextmanager

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError, explain
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef, create_named_netns, setns

try:
    from pyroute2.iproute.linux import IPRoute
    from pyroute2 import netns as _pyroute2_netns
    from pyroute2.iproute.linux import get_arguments_processor
    from pyroute2.netlink import NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR
    from pyroute2.netlink import rtnl
    from pyroute2.netlink.nlsocket import NetlinkRequest
    from pyroute2.netlink.rtnl import RTM_GETADDR, RTM_GETLINK, RTM_GETNSID, RTM_GETROUTE
    from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
    from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg
    from pyroute2.netlink.rtnl.marshal import MarshalRtnl
    from pyroute2.netlink.rtnl.nsidmsg import nsidmsg
    from pyroute2.netlink.rtnl.rtmsg import rtmsg
except ImportError:  # pragma: no cover - exercised by the missing-library test
    HAS_PYROUTE2 = False
    PYROUTE2_IMPORT_ERROR = traceback.format_exc()
else:
    # An older pyroute2 (Debian 12's python3-pyroute2 is 0.7.2) would import and then fail mid-run.
    try:
        from pyroute2.config.version import __version__ as _PYROUTE2_VERSION
    except ImportError:
        _PYROUTE2_VERSION = '0'
    HAS_PYROUTE2 = tuple(int(part) for part in (_PYROUTE2_VERSION.split('.') + ['0'])[:2] if part.isdigit()) >= (0, 9)
    PYROUTE2_IMPORT_ERROR = None if HAS_PYROUTE2 else 'pyroute2 %s is older than 0.9' % _PYROUTE2_VERSION
    _MESSAGES = {'ifinfmsg': ifinfmsg, 'ifaddrmsg': ifaddrmsg, 'rtmsg': rtmsg}

PYROUTE2_REQUIREMENT = 'pyroute2>=0.9'


NETLINK_ROUTE = 0
SOL_NETLINK = 270
NETLINK_GET_STRICT_CHK = 12
SO_RCVBUFFORCE = 33
RTEXT_FILTER_SKIP_STATS = 1 << 3
RECV_SIZE = 1 << 16  # one datagram per recv: the kernel fills dump datagrams up to 32 KiB
RCVBUF = 1 << 23  # room for the acknowledgements of thousands of pipelined writes (each skb takes ~1 KiB)

# The request IPRoute sends for each write the collection makes: (message class, type, pyroute2 flag mode).
_WRITES = {
    ('link', 'add'): ('ifinfmsg', 'RTM_NEWLINK', 'create'),
    ('link', 'set'): ('ifinfmsg', 'RTM_NEWLINK', 'req'),
    ('link', 'del'): ('ifinfmsg', 'RTM_DELLINK', 'req'),
    ('link', 'get'): ('ifinfmsg', 'RTM_GETLINK', 'get'),
    ('addr', 'add'): ('ifaddrmsg', 'RTM_NEWADDR', 'create'),
    ('addr', 'del'): ('ifaddrmsg', 'RTM_DELADDR', 'req'),
    ('addr', 'replace'): ('ifaddrmsg', 'RTM_NEWADDR', 'replace'),
    ('route', 'replace'): ('rtmsg', 'RTM_NEWROUTE', 'replace'),
    ('route', 'del'): ('rtmsg', 'RTM_DELROUTE', 'req'),
}


class Channel:
    """One namespace's netlink socket: dumps and writes, encoded and decoded by pyroute2, without its asyncio core.

    pyroute2 0.9's IPRoute takes every request through an asyncio event loop and waits for each answer: at
    hundreds of objects that cost more than the kernel's own work (a socket 0.28 ms against 0.015 ms here; 1.4 ms
    against 0.9 ms per veth pair created; 2.1 ms against 0.8 ms for a namespace's lo, address and route,
    bench/bench_bridge_network.py's 500 containers). A Channel builds the very messages IPRoute builds (the same
    pyroute2 request filters, ``get_arguments_processor``, fill the same pyroute2 message classes), sends them on a
    plain netlink socket and decodes answers with pyroute2's ``MarshalRtnl``.

    Writes are pipelined: :meth:`write` sends and returns; the kernel has executed the request when ``send``
    returns (rtnetlink runs in the sender's context, in order), only its acknowledgement waits in the socket.
    :meth:`flush` collects them and raises the first error, naming the object and the action that failed.
    Anything that waits for an answer (a dump, a get) flushes every channel of the
    :class:`Netlink` first, so errors surface in the order the writes were made.

    Dumps ask the kernel to filter (NETLINK_GET_STRICT_CHK): a route dump of one table returns that table only.
    """

    def __init__(self, before_wait=None, order=None, dirty=None, generation=None):
        self._sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        except OSError:  # without CAP_NET_ADMIN: the default buffer, flushed more often
            pass
        try:
            self._sock.setsockopt(SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1)
            self.strict = True
        except OSError:  # kernels before 4.20: dumps come unfiltered and are filtered here
            self.strict = False
        self._sock.bind((0, 0))
        self._marshal = MarshalRtnl()
        self._seq = 0
        self._pending = {}  # sequence number -> (order, object, action) of a write not acknowledged yet
        self._error = None  # (order, LinuxnetError) of the first write that failed
        self._before_wait = before_wait
        self._order = order if order is not None else itertools.count()
        self._dirty = dirty if dirty is not None else set()  # the channels with pending writes (shared)
        self._generation = generation if generation is not None else [0]  # bumped by every write (shared)
        self._dumps = {}  # (request) -> (generation, answers): a dump repeated with no write in between is not re-read

    # -- receiving -------------------------------------------------------------------------
    def _settle(self, header):
        """Account for the acknowledgement of a pipelined write; keep the first error."""
        context = self._pending.pop(header['sequence_number'], None)
        if context is not None and header.get('error') and (self._error is None or context[0] < self._error[0]):
            err = header['error']
            self._error = (context[0], LinuxnetError(explain(err, context[1], context[2]), errno=getattr(err, 'code', None)))

    def _receive(self, seq=None, flags=0):
        """Read until the answer to request ``seq`` is complete (its NLMSG_DONE for a dump, its acknowledgement
        when it asked for one, else its one answer); without ``seq``, until no write is pending."""
        out = []
        while seq is not None or self._pending:
            for answer in self._marshal.parse(self._sock.recv(RECV_SIZE)):
                header = answer['header']
                number = header['sequence_number']
                if number in self._pending:
                    if header['type'] == NLMSG_ERROR:
                        self._settle(header)
                    continue  # only acknowledgements come back for writes
                if seq is None or number != seq:
                    continue  # the answer to an earlier, abandoned request
                if header['type'] == NLMSG_DONE:
                    return out
                if header['type'] == NLMSG_ERROR:
                    if header.get('error'):
                        raise header['error']
                    return out
                out.append(answer)
                if not flags & (NLM_F_DUMP | NLM_F_ACK):
                    return out
        return out

    def collect(self):
        """Read every pending acknowledgement; return (order, LinuxnetError) of the first failed write, or None."""
        if self._pending:
            self._receive()
        self._dirty.discard(self)
        error, self._error = self._error, None
        return error

    def flush(self):
        """Read every pending acknowledgement; raise the first error (LinuxnetError naming object and action)."""
        error = self.collect()
        if error is not None:
            raise error[1]

    # -- sending ---------------------------------------------------------------------------
    def _send(self, msg, msg_type, flags):
        self._seq += 1
        msg['header']['type'] = msg_type
        msg['header']['flags'] = flags
        msg['header']['sequence_number'] = self._seq
        msg.encode()
        self._sock.send(msg.data)
        return self._seq

    def _wait(self, msg, msg_type, flags):
        if self._before_wait is not None:
            self._before_wait()
        self.flush()
        return self._receive(self._send(msg, msg_type, flags), flags)

    @staticmethod
    def build(mode, command, kwargs):
        """(message, type, flags) of an IPRoute-style call, e.g. build('link', 'set', {'index': 3, 'state': 'up'})."""
        class_name, type_name, flag_mode = _WRITES[(mode, command)]
        msg = _MESSAGES[class_name]()
        kwargs = dict(kwargs)
        if mode == 'route' and command != 'del':
            kwargs['proto'] = kwargs.get('proto') or 'static'  # IPRoute.route()'s defaults
            kwargs['type'] = kwargs.get('type') or 'unicast'
        # IPRoute passes its strict_check status to the route filters; it shapes gets and dumps, which a
        # write is not: False, IPRoute's default.
        processor = get_arguments_processor(mode, command, kwargs, {'strict_check': False} if mode == 'route' else None)
        for field in msg.fields:
            msg[field[0]] = processor.get_value(field[0], default=0, mode='field')
        for key, value in processor.items():
            nla = type(msg).name2nla(key)
            if msg.valid_nla(nla) and value is not None:
                msg['attrs'].append([nla, value])
        if 'attrs' in processor:
            msg['attrs'].extend(processor['attrs'])
        return msg, getattr(rtnl, type_name), NetlinkRequest.flags[flag_mode]

    def write(self, mode, command, kwargs, obj, action):
        """Make one change (as IPRoute.<mode>(command, **kwargs) would), pipelined: its error, if any, is raised
        by a later flush, naming ``obj`` and ``action``."""
        msg, msg_type, flags = self.build(mode, command, kwargs)
        self._generation[0] += 1
        if len(self._pending) >= 4096:
            self.flush()
        self._pending[self._send(msg, msg_type, flags)] = (next(self._order), obj, action)
        self._dirty.add(self)
        return None

    # -- reading ---------------------------------------------------------------------------
    def get(self, mode, kwargs):
        """The answer to a get request (e.g. get('link', {'ifname': 'eth0'})), as IPRoute returns it."""
        msg, msg_type, flags = self.build(mode, 'get', kwargs)
        return self._wait(msg, msg_type, flags)

    def _dump(self, msg_class, msg_type, attrs=(), **fields):
        """The answers to a dump. The same dump asked again before anything was written (through any channel of
        the Netlink, or Netlink.invalidate()) returns the same answers: host_network's parts each read the host's
        links, and a run that changes nothing reads them once. Callers must not modify the answers."""
        key = (msg_type, tuple(sorted(fields.items())), tuple(attrs))
        cached = self._dumps.get(key)
        if cached is not None and cached[0] == self._generation[0]:
            return cached[1]
        msg = msg_class()
        for name, value in fields.items():
            msg[name] = value
        for attr in attrs:
            msg['attrs'].append(attr)
        answers = self._wait(msg, msg_type, NLM_F_REQUEST | NLM_F_DUMP)
        self._dumps[key] = (self._generation[0], answers)
        return answers

    def get_netnsid(self, fd):
        """The id this namespace gives the namespace open as ``fd``, as IPRoute.get_netnsid(fd=fd) returns it."""
        msg = nsidmsg()
        msg['attrs'].append(('NETNSA_FD', fd))
        for answer in self._wait(msg, RTM_GETNSID, NLM_F_REQUEST):
            return {'nsid': answer.get_attr('NETNSA_NSID'), 'current_nsid': answer.get_attr('NETNSA_CURRENT_NSID')}
        return None

    def link(self, command):
        if command != 'dump':
            raise ValueError('Channel.link: only dump (writes go through write())')
        # Statistics: never read, a third of each link.
        return self._dump(ifinfmsg, RTM_GETLINK, attrs=[('IFLA_EXT_MASK', RTEXT_FILTER_SKIP_STATS)], family=socket.AF_UNSPEC)

    def addr(self, command, family=socket.AF_UNSPEC):
        if command != 'dump':
            raise ValueError('Channel.addr: only dump (writes go through write())')
        return self._dump(ifaddrmsg, RTM_GETADDR, family=family)

    def route(self, command, family=socket.AF_UNSPEC, table=None):
        """Routes of every table, or of one (the kernel filters it: strict checking; below too, for old kernels)."""
        if command != 'dump':
            raise ValueError('Channel.route: only dump (writes go through write())')
        fields = {'family': family}
        if table is not None and self.strict and table < 256:
            fields['table'] = table
        msgs = self._dump(rtmsg, RTM_GETROUTE, **fields)
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
        self._channels = {}
        self._order = itertools.count()  # one order for the writes of every channel
        self._dirty = set()  # the channels with writes not acknowledged yet
        self._generation = [0]  # bumped by every write: the channels' dump caches hold for one generation

    def ref(self, spec):
        return spec if isinstance(spec, NamespaceRef) else NamespaceRef(spec)

    def ipr(self, spec=None):
        """The IPRoute socket of a namespace (cached), for what a Channel does not do (FDB and neighbour entries).
        Pipelined writes are flushed first, so that errors keep their order."""
        self.flush()
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

    def channel(self, spec=None):
        """The :class:`Channel` of a namespace (cached): dumps, gets and pipelined writes."""
        ref = self.ref(spec)
        channel = self._channels.get(ref.path)
        if channel is None:
            if ref.is_host:
                channel = Channel(self.flush, self._order, self._dirty, self._generation)
            else:
                with self.inside(ref):
                    channel = Channel(self.flush, self._order, self._dirty, self._generation)
            self._channels[ref.path] = channel
        return channel

    def invalidate(self):
        """Forget every cached dump: the kernel changed other than through a channel (a namespace created or
        removed, a sysctl, a whole plan applied)."""
        self._generation[0] += 1

    def flush(self):
        """Collect the acknowledgements of every pipelined write; raise the error of the first write that failed
        (in the order the writes were made, across namespaces)."""
        errors = [error for error in (channel.collect() for channel in list(self._dirty)) if error is not None]
        if errors:
            raise min(errors, key=lambda error: error[0])[1]

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
                setns(fd)
            except OSError as err:
                raise LinuxnetError(explain(err, 'network namespace %s' % ref.label, 'enter') +
                                    ' (is %s a network namespace file?)' % ref.path)
            try:
                yield ref
            finally:
                setns(self._home)
        finally:
            os.close(fd)

    def create_netns(self, name):
        """Create the named namespace /run/netns/NAME (fails if it exists)."""
        self.invalidate()
        create_named_netns(name, self._home)

    def forget(self, spec):
        """Close the cached socket of a namespace (before it is deleted)."""
        ref = self.ref(spec)
        channel = self._channels.pop(ref.path, None)
        if channel is not None:
            try:
                channel.flush()
            finally:
                channel.close()
        sock = self._sockets.pop(ref.path, None)
        if sock is not None:
            sock.close()

    def close(self):
        for sock in list(self._sockets.values()) + list(self._channels.values()):
            try:
                sock.close()
            except Exception:  # pylint: disable=broad-except
                pass
        self._sockets = {}
        self._channels = {}
        if self._home is not None:
            os.close(self._home)
            self._home = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
