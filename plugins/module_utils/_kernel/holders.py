# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Processes that hold a network namespace, and stopping exactly those (private to the collection).

A named namespace lives as long as something refers to it: its bind mount under /run/netns, and every
process inside it (a runtime's container started with ``--network ns:/run/netns/NAME``, ``ip netns exec``).
Removing the mount while processes run inside leaves the namespace, and the links in it, alive. A process
is inside a namespace when its ``/proc/PID/ns/net`` has the namespace file's device and inode.
"""

from __future__ import annotations

import os
import select
import signal
import time

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import netns_key

PROC = '/proc'
KILL_WAIT = 5.0  # seconds to wait for SIGKILL to take effect before a process counts as surviving


def pids_by_netns(proc=PROC):
    """{(st_dev, st_ino): [PIDs]} of every process's network namespace: one scan of /proc, this process left out."""
    found = {}
    own = os.getpid()
    for entry in os.listdir(proc):
        if not entry.isdigit() or int(entry) == own:
            continue
        key = netns_key(os.path.join(proc, entry, 'ns', 'net'))
        if key is not None:
            found.setdefault(key, []).append(int(entry))
    for pids in found.values():
        pids.sort()
    return found


def describe(pids, proc=PROC):
    """'123 (sleep), 456 (conmon)': PIDs with their command names, for messages."""
    out = []
    for pid in pids:
        try:
            with open(os.path.join(proc, str(pid), 'comm')) as handle:
                out.append('%d (%s)' % (pid, handle.read().strip()))
        except OSError:
            out.append(str(pid))
    return ', '.join(out)


def _open(pid, key, proc):
    """A pidfd of the process when it is still inside the namespace ``key``, else None (it exited or left).
    The pidfd is opened before the check, so the signal reaches the process that was checked, not a new one
    that took its PID."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return None
    if netns_key(os.path.join(proc, str(pid), 'ns', 'net')) != key:
        os.close(fd)
        return None
    return fd


def _signal_all(fds, signum):
    for fd in list(fds.values()):
        try:
            signal.pidfd_send_signal(fd, signum)
        except ProcessLookupError:
            pass


def _wait(fds, timeout):
    """Wait until every process of ``fds`` ({pid: pidfd}) exited or ``timeout`` passed; return those still running."""
    deadline = time.monotonic() + timeout
    running = dict(fds)
    poller = select.poll()
    for fd in running.values():
        poller.register(fd, select.POLLIN)
    by_fd = {fd: pid for pid, fd in running.items()}
    while running:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        for fd, _event in poller.poll(left * 1000):
            poller.unregister(fd)
            running.pop(by_fd[fd], None)
    return running


def stop_processes(pids, key, timeout, proc=PROC):
    """SIGTERM every process of ``pids`` still inside the namespace ``key``, SIGKILL those still running after
    ``timeout`` seconds. Returns {'terminated': [...], 'killed': [...], 'surviving': [...]} (sorted PIDs)."""
    fds = {}
    for pid in pids:
        fd = _open(pid, key, proc)
        if fd is not None:
            fds[pid] = fd
    try:
        _signal_all(fds, signal.SIGTERM)
        running = _wait(fds, timeout)
        _signal_all(running, signal.SIGKILL)
        surviving = _wait(running, KILL_WAIT)
    finally:
        for fd in fds.values():
            os.close(fd)
    return {'terminated': sorted(set(fds) - set(running)), 'killed': sorted(set(running) - set(surviving)),
            'surviving': sorted(surviving)}
