# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reading many namespaces with several processes: items shared out by cost between this process and forked
workers, each with its own Netlink, outcomes pickled back through pipes (private)."""

from __future__ import annotations

import os
import pickle

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.netlink import Netlink

MAX_WORKERS = 4


def worker_count(items, min_items=64):
    """How many processes share ``items``: one per CPU this process may run on (at most MAX_WORKERS), one when
    there are fewer than ``min_items`` (forking costs a few milliseconds)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return 1 if len(items) < min_items else max(1, min(cpus, MAX_WORKERS, len(items)))


def _child(work, chunk, write_fd):
    """In a forked worker: run ``work`` on each item with its own Netlink, send the outcomes and exit."""
    try:
        out = []
        with Netlink() as own:
            for item in chunk:
                try:
                    out.append(('ok', work(own, item)))
                except LinuxnetError as err:
                    out.append(('error', err.msg, err.details))
                    break
        data = pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as err:  # pylint: disable=broad-except
        data = pickle.dumps([('error', 'a reading worker failed: %s: %s' % (type(err).__name__, err), {})])
    try:
        with os.fdopen(write_fd, 'wb') as pipe:
            pipe.write(data)
    finally:
        os._exit(0)  # never run the module's exit handlers (AnsibleModule cleans its temporary directory)


def _share(items, workers, cost):
    """Item positions per process: the costliest first, each to the least loaded process (greedy), in order."""
    loads = [0] * workers
    shares = [[] for _worker in range(workers)]
    for position in sorted(range(len(items)), key=lambda position: -cost(items[position])):
        k = loads.index(min(loads))
        loads[k] += cost(items[position])
        shares[k].append(position)
    return [sorted(share) for share in shares]


def fan_out(netlink, work, items, cost=None, min_items=64):
    """``[work(netlink, item) for item in items]``, the items shared between this process and forked workers.

    Reading hundreds of namespaces is CPU-bound Python (pyroute2 decodes about 0.1 ms per message), so it scales
    with the CPUs: the items are shared out by ``cost`` (default 1 each; the host's namespace, with a link per
    container, costs as much as hundreds of containers'), each worker opens its own sockets (its own Netlink) and
    sends back what ``work`` returned (plain data, pickled through a pipe). ``work`` must only read. The first
    LinuxnetError, in item order, is raised once every worker is done.
    """
    items = list(items)
    workers = worker_count(items, min_items)
    if workers == 1:
        return [work(netlink, item) for item in items]
    netlink.flush()  # the workers inherit the sockets: nothing may be left to read on them
    shares = _share(items, workers, cost or (lambda item: 1))
    children = []
    outcomes = {}
    try:
        mine = list(shares[0])
        for share in shares[1:]:
            read_fd, write_fd = os.pipe()
            try:
                pid = os.fork()
            except OSError:  # no process to spare (a limit, a sandbox): this process reads that share too
                os.close(read_fd)
                os.close(write_fd)
                mine.extend(share)
                continue
            if pid == 0:  # pragma: no cover - the worker exits in _child
                os.close(read_fd)
                _child(work, [items[position] for position in share], write_fd)
            os.close(write_fd)
            children.append((pid, read_fd, share))
        for position in sorted(mine):
            try:
                outcomes[position] = ('ok', work(netlink, items[position]))
            except LinuxnetError as err:
                outcomes[position] = ('error', err.msg, err.details)
                break
    finally:
        for pid, read_fd, share in children:
            with os.fdopen(read_fd, 'rb') as pipe:
                data = pipe.read()
            os.waitpid(pid, 0)
            answers = pickle.loads(data) if data else [('error', 'a reading worker (pid %d) died' % pid, {})]
            outcomes.update(zip(share, answers))
    failures = sorted((position, outcome) for position, outcome in outcomes.items() if outcome[0] != 'ok')
    if failures:
        _kind, msg, details = failures[0][1]
        raise LinuxnetError(msg, **details)
    return [outcomes[position][1] for position in range(len(items))]
