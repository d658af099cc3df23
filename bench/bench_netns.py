#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: N named namespaces with lo up, by the netns module against the shell floor.

Runs in a one-host lab of its own, to the same end state each way:
  floor:  ip -batch 'netns add' for all, then 'ip -n NAME link set lo up' per namespace
          (ip -batch lines take no -n, so that part is one process per namespace);
  module: one linuxnet.container.netns call through ansible (end to end, ssh included),
          then the same call again (the no-op re-run), then prune.
Prints seconds and ratios; asserts nothing about time.   usage: bench_netns.py [N]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = 'bench-netns'
BIN = os.path.dirname(sys.executable)


def sh(host_ssh, script):
    start = time.perf_counter()
    subprocess.run(host_ssh + [script], check=True, capture_output=True)
    return time.perf_counter() - start


def ansible(inventory, args):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'))
    start = time.perf_counter()
    proc = subprocess.run([os.path.join(BIN, 'ansible'), '-i', inventory, 'all', '-m', 'linuxnet.container.netns',
                           '-a', json.dumps(args)], check=True, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc.stdout


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    subprocess.run([sys.executable, os.path.join(ROOT, 'lab', 'lab.py'), 'up', '--name', LAB, '--hosts', '1'],
                   check=True, capture_output=True)
    try:
        state_dir = '/var/lib/linuxnet-lab/%s' % LAB
        host_ssh = ['ssh', '-F', os.path.join(state_dir, 'ssh_config'), 'docker-node1']
        inventory = os.path.join(state_dir, 'inventory.json')
        names = ['c%d' % i for i in range(count)]
        floor = sh(host_ssh, "for n in %s; do echo netns add $n; done | ip -batch - && "
                             "for n in %s; do ip -n $n link set lo up; done" % (' '.join(names), ' '.join(names)))
        sh(host_ssh, "for n in %s; do echo netns del $n; done | ip -batch -" % ' '.join(names))
        baseline, _out = ansible(inventory, {'namespaces': [], 'prune': True})
        create, out = ansible(inventory, {'namespaces': [{'name': n} for n in names]})
        assert 'CHANGED' in out
        noop, out = ansible(inventory, {'namespaces': [{'name': n} for n in names]})
        assert 'SUCCESS' in out and 'CHANGED' not in out
        prune, _out = ansible(inventory, {'namespaces': [], 'prune': True})
    finally:
        subprocess.run([sys.executable, os.path.join(ROOT, 'lab', 'lab.py'), 'down', '--name', LAB],
                       check=True, capture_output=True)
    print('namespaces: %d' % count)
    print('floor (ip -batch netns add + ip -n lo up):     %6.2f s' % floor)
    print('ansible call that changes nothing (overhead):  %6.2f s' % baseline)
    print('module create, end to end:                     %6.2f s  ratio to floor %.2f' % (create, create / floor))
    print('module create, less the call overhead:         %6.2f s  ratio to floor %.2f'
          % (create - baseline, (create - baseline) / floor))
    print('module no-op re-run, end to end:               %6.2f s' % noop)
    print('module prune of all, end to end:               %6.2f s' % prune)


if __name__ == '__main__':
    main()
