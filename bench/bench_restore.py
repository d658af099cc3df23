#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: a host restores itself with no controller - boot-to-ready and flush-to-restored.

One lab host (lab/lab.py, lab bench-restore) with N containers on the default network, every tenth
publishing a port. Measured in one run, each against its floor:

  * converge: ``ansible-playbook playbooks/site.yml`` of that inventory, first run on a host whose
    prerequisites are installed (the floor: what a controller costs to build the same state);
  * boot-to-ready: after ``lab.py reboot`` (every namespace, link and table gone), how long
    linuxnet-container.service's apply took to rebuild it (systemd's own timestamps of its main process), and
    the wall time from the reboot command until the unit is done (and every namespace is back);
  * flush-to-restored: ``nft flush ruleset`` on the host, then, measured on the host itself, the time
    until the watcher has put every table back (``nft list tables``); the floor is one ``nft list tables``.

Prints a table with the ratios; asserts nothing about time. Exit status 1 when a step failed or the state
did not come back. ``--smoke``: 5 containers, one flush (the test suite runs it so that the bench cannot rot).

    sudo .venv/bin/python bench/bench_restore.py [--containers 500] [--flushes 5] [--smoke] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = os.path.join(ROOT, '.venv', 'bin', 'python')
LAB = os.path.join(ROOT, 'lab', 'lab.py')
SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
STATE_ROOT = '/var/lib/linuxnet-lab'
HOST = 'docker-node1'
# On the host: flush, then spin until every table is back; prints the seconds it took and the floor.
FLUSH_PROBE = r'''
want=$(nft list tables | wc -l)
t0=$(date +%s%N); nft list tables >/dev/null; t1=$(date +%s%N)
nft flush ruleset; start=$(date +%s%N)
for i in $(seq 1 2000); do [ "$(nft list tables | wc -l)" -ge "$want" ] && break; sleep 0.005; done
end=$(date +%s%N)
[ "$(nft list tables | wc -l)" -ge "$want" ] || { echo "not restored"; exit 1; }
echo "$(( (end - start) / 1000 )) $(( (t1 - t0) / 1000 ))"
'''


def run(cmd, **kwargs):
    kwargs.setdefault('stdin', subprocess.DEVNULL)
    return subprocess.run(cmd, check=False, capture_output=True, text=True, **kwargs)  # pylint: disable=subprocess-run-check


def ssh(lab, command):
    return run(['ssh', '-F', os.path.join(STATE_ROOT, lab, 'ssh_config'), HOST, command])


def lab_cli(*args):
    proc = run([PY, LAB] + list(args))
    if proc.returncode != 0:
        raise SystemExit('lab.py %s failed: %s' % (' '.join(args), proc.stderr))
    return proc.stdout


def unit_seconds(lab, unit):
    """How long the unit's main process ran, from systemd's own timestamps."""
    proc = ssh(lab, 'systemctl show -p ExecMainStartTimestampMonotonic -p ExecMainExitTimestampMonotonic %s' % unit)
    values = dict(line.split('=', 1) for line in proc.stdout.split())
    return (int(values['ExecMainExitTimestampMonotonic']) - int(values['ExecMainStartTimestampMonotonic'])) / 1e6


def unit_state(lab, unit):
    return ssh(lab, 'systemctl is-active %s' % unit).stdout.strip()


def namespaces(lab):
    proc = ssh(lab, 'ls /run/netns 2>/dev/null | wc -l')
    return int(proc.stdout.strip() or 0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    parser.add_argument('--containers', type=int, default=500)
    parser.add_argument('--flushes', type=int, default=5)
    parser.add_argument('--smoke', action='store_true', help='5 containers, one flush: proves the bench runs')
    parser.add_argument('--keep', action='store_true', help='leave the lab up')
    parser.add_argument('--name', default='bench-restore')
    args = parser.parse_args(argv)
    if args.smoke:
        args.containers, args.flushes = 5, 1
    lab_cli('down', '--name', args.name)
    lab_cli('up', '--name', args.name, '--hosts', '1')
    failed = False
    try:
        with tempfile.TemporaryDirectory() as tmp:
            inventory = json.load(open(os.path.join(STATE_ROOT, args.name, 'inventory.json')))
            inventory['all']['children']['lab']['hosts'][HOST]['linuxnet_restore_watch'] = True
            inventory['all']['children']['lab']['hosts'][HOST]['linuxnet_containers'] = [
                dict({'name': 'c%d' % i}, **({'ports': ['%d:80' % (20000 + i)]} if i % 10 == 0 else {}))
                for i in range(args.containers)]
            path = os.path.join(tmp, 'inventory.json')
            with open(path, 'w') as handle:
                json.dump(inventory, handle)
            env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'),
                       ANSIBLE_HOST_KEY_CHECKING='False')
            playbook = os.path.join(ROOT, '.venv', 'bin', 'ansible-playbook')
            # The prerequisites first (not timed): the floor is the converge a controller runs on a prepared host.
            proc = run([playbook, '-i', path, os.path.join(ROOT, 'playbooks', 'prerequisites.yml')], env=env, cwd=tmp)
            if proc.returncode != 0:
                print(proc.stdout[-3000:])
                raise SystemExit('prerequisites.yml failed')
            started = time.monotonic()
            proc = run([playbook, '-i', path, SITE], env=env, cwd=tmp)
            converge = time.monotonic() - started
            if proc.returncode != 0:
                print(proc.stdout[-3000:])
                raise SystemExit('site.yml failed')
            want = namespaces(args.name)

            started = time.monotonic()
            lab_cli('reboot', '--name', args.name, HOST)
            while unit_state(args.name, 'linuxnet-container.service') not in ('active', 'failed') \
                    and time.monotonic() - started < 120:
                time.sleep(0.1)
            wall = time.monotonic() - started
            failed = unit_state(args.name, 'linuxnet-container.service') != 'active'
            boot_apply = unit_seconds(args.name, 'linuxnet-container.service')
            ready = namespaces(args.name) >= want
            failed = failed or not ready

            flushes, floors = [], []
            ssh(args.name, 'for i in $(seq 100); do systemctl -q is-active linuxnet-container-watch.service && exit 0; '
                           'sleep 0.1; done')
            for _flush in range(args.flushes):
                out = ssh(args.name, FLUSH_PROBE)
                if out.returncode != 0:
                    failed = True
                    print('flush: %s %s' % (out.stdout, out.stderr))
                    break
                restored, floor = (int(v) / 1e6 for v in out.stdout.split())
                flushes.append(restored)
                floors.append(floor)
                time.sleep(0.5)
        load = ' '.join(open('/proc/loadavg').read().split()[:3])
        print('bench_restore: %d containers on one lab host (load %s)' % (args.containers, load))
        print('%-44s %10s %10s' % ('step', 'seconds', 'ratio'))
        print('%-44s %10.2f %10s' % ('site.yml converge (floor)', converge, '1.00'))
        print('%-44s %10.2f %10.2f' % ('boot: linuxnet-container.service', boot_apply, boot_apply / converge))
        print('%-44s %10.2f %10.2f' % ('boot: reboot command to the unit done', wall, wall / converge))
        if flushes:
            best, worst = min(flushes), max(flushes)
            floor = min(floors)
            print('%-44s %10.3f %10.1f' % ('flush-to-restored, best (floor: nft list)', best, best / floor))
            print('%-44s %10.3f %10.1f' % ('flush-to-restored, worst', worst, worst / floor))
        print('namespaces back after the reboot: %s' % ('yes' if ready else 'NO'))
    finally:
        if not args.keep:
            lab_cli('down', '--name', args.name)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
