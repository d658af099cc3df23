#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: N named namespaces with lo up, by the netns module against the shell floor.

Runs on one bare lab host prepared by the prerequisites role, to the same end state each way:
  floor:  ip -batch 'netns add' for all, then 'ip -n NAME link set lo up' per namespace
          (ip -batch lines take no -n, so that part is one process per namespace);
  module: one linuxnet.container.netns call through ansible (end to end, ssh included),
          then the same call again (the no-op re-run), then prune.
Prints seconds and ratios; asserts nothing about time. --smoke: 5 namespaces; checks that the kernel holds them
after the create, the no-op re-run changed nothing and the prune left none.

    sudo .venv/bin/python bench/bench_netns.py [--count 500] [--lab bench-netns] [--keep] [--smoke]
"""

from __future__ import annotations

import json
import os
import sys

import _bench


def ansible(lab, host, args):
    """One ad hoc netns call through ansible; returns (seconds, changed)."""
    elapsed, proc = _bench.timed(_bench.run, [os.path.join(_bench.BIN, 'ansible'), '-i', lab.inventory, host.name, '-m',
                                              'linuxnet.container.netns', '-a', json.dumps(args)], env=_bench.ansible_env())
    if proc.returncode != 0:
        raise SystemExit('ansible netns failed: %s' % proc.stdout[-2000:])
    return elapsed, '| CHANGED' in proc.stdout


def main():
    opts, count, inv = _bench.options(__doc__, 'bench-netns', 500)
    with _bench.Lab(opts.lab, 1, keep=opts.keep) as lab:
        host = lab.hosts[0]
        names = ['c%d' % i for i in range(count)]
        floor, dummy = _bench.timed(host.run, 'bash', '-c', 'for n in %s; do echo netns add $n; done | ip -batch - && '
                                    'for n in %s; do ip -n $n link set lo up; done' % (' '.join(names), ' '.join(names)))
        inv.equal('floor namespaces', _bench.netns_count(host), count)
        host.run('bash', '-c', 'for n in %s; do echo netns del $n; done | ip -batch -' % ' '.join(names))
        baseline, dummy = ansible(lab, host, {'namespaces': [], 'prune': True})
        create, changed = ansible(lab, host, {'namespaces': [{'name': n} for n in names]})
        inv.check('create changed', changed)
        inv.equal('namespaces after create', _bench.netns_count(host), count)
        noop, changed = ansible(lab, host, {'namespaces': [{'name': n} for n in names]})
        inv.check('no-op re-run changed=0', not changed)
        prune, changed = ansible(lab, host, {'namespaces': [], 'prune': True})
        inv.equal('namespaces after prune', _bench.netns_count(host), 0)
    _bench.table('bench_netns: %d namespaces with lo up, one lab host' % count, [
        ('floor: ip -batch netns add + ip -n lo up', floor),
        ('ansible call that changes nothing (overhead)', baseline),
        ('module create, end to end', create),
        ('module create, less the call overhead', create - baseline),
        ('module no-op re-run, end to end', noop),
        ('module prune of all, end to end', prune)])
    return inv.report()


if __name__ == '__main__':
    sys.exit(main())
