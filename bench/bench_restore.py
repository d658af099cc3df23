#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: a host restores itself with no controller - boot-to-ready and flush-to-restored.

One bare lab host (lab/lab.py, lab bench-restore; prepared by the prerequisites role, not timed) with N containers on the default network, every tenth
publishing a port. Measured in one run, each against its floor:

  * converge: ``ansible-playbook playbooks/site.yml`` of that inventory, first run on a host whose
    prerequisites are installed (the floor: what a controller costs to build the same state);
  * boot-to-ready: after ``lab.py reboot`` (every namespace, link and table gone), how long
    linuxnet-container.service's apply took to rebuild it (systemd's own timestamps of its main process), and
    the wall time from the reboot command until the unit is done (and every namespace is back);
  * flush-to-restored: ``nft flush ruleset`` on the host, then, measured on the host itself, the time
    until the watcher has put every table back (``nft list tables``); the floor is one ``nft list tables``.

Prints a table with the ratios; asserts nothing about time. Exit status 1 when a step failed or the state
did not come back (the invariants). ``--smoke``: 5 containers, one flush (tests/integration/test_bench_smoke.py).

    sudo .venv/bin/python bench/bench_restore.py [--containers 500] [--flushes 5] [--lab bench-restore] [--keep] [--smoke]
"""

from __future__ import annotations

import json
import os
import sys
import time

import _bench

SITE = os.path.join(_bench.ROOT, 'playbooks', 'site.yml')
# On the host: flush, then spin until every table is back; prints the seconds it took and the floor.
FLUSH_PROBE = r"""
want=$(nft list tables | wc -l)
t0=$(date +%s%N); nft list tables >/dev/null; t1=$(date +%s%N)
nft flush ruleset; start=$(date +%s%N)
for i in $(seq 1 2000); do [ "$(nft list tables | wc -l)" -ge "$want" ] && break; sleep 0.005; done
end=$(date +%s%N)
[ "$(nft list tables | wc -l)" -ge "$want" ] || { echo "not restored"; exit 1; }
echo "$(( (end - start) / 1000 )) $(( (t1 - t0) / 1000 ))"
"""


def unit_seconds(host, unit):
    """How long the unit's main process ran, from systemd's own timestamps."""
    proc = host.ssh('systemctl show -p ExecMainStartTimestampMonotonic -p ExecMainExitTimestampMonotonic %s' % unit)
    values = dict(line.split('=', 1) for line in proc.stdout.split())
    return (int(values['ExecMainExitTimestampMonotonic']) - int(values['ExecMainStartTimestampMonotonic'])) / 1e6


def unit_state(host, unit):
    return host.ssh('systemctl is-active %s' % unit, check=False).stdout.strip()


def main():
    parser = _bench.parser(__doc__, 'bench-restore')
    parser.add_argument('--containers', type=int, default=500)
    parser.add_argument('--flushes', type=int, default=5)
    args = parser.parse_args()
    if args.smoke:
        args.containers, args.flushes = 5, 1
    inv = _bench.Invariants()
    with _bench.Lab(args.lab, 1, keep=args.keep) as lab:
        host = lab.hosts[0]
        inventory = lab.inventory_data()
        hostvars = inventory['all']['children']['lab']['hosts'][host.name]
        hostvars['linuxnet_restore_watch'] = True
        hostvars['linuxnet_containers'] = [dict({'name': 'c%d' % i}, **({'ports': ['%d:80' % (20000 + i)]} if i % 10 == 0 else {}))
                                           for i in range(args.containers)]
        path = os.path.join(lab.workdir, 'inventory.json')
        with open(path, 'w') as handle:
            json.dump(inventory, handle)
        # The floor: the converge a controller runs on a prepared host.
        converge, proc = _bench.timed(lab.playbook, SITE, path, '-l', host.name)
        if not inv.check('site.yml converge', proc.returncode == 0, proc.stdout[-3000:]):
            return inv.report()
        want = _bench.netns_count(host)
        inv.equal('namespaces after the converge', want, args.containers)

        started = time.monotonic()
        lab.cli('reboot', '--name', args.lab, host.name)
        lab.refresh()
        host = lab.hosts[0]
        while unit_state(host, 'linuxnet-container.service') not in ('active', 'failed') and time.monotonic() - started < 120:
            time.sleep(0.1)
        wall = time.monotonic() - started
        inv.equal('linuxnet-container.service after the reboot', unit_state(host, 'linuxnet-container.service'), 'active')
        boot_apply = unit_seconds(host, 'linuxnet-container.service')
        inv.equal('namespaces back after the reboot', _bench.netns_count(host), want)

        flushes, floors = [], []
        host.ssh('for i in $(seq 100); do systemctl -q is-active linuxnet-container-watch.service && exit 0; sleep 0.1; done',
                 check=False)
        for dummy in range(args.flushes):
            out = host.ssh(FLUSH_PROBE, check=False)
            if not inv.check('nft tables back after a flush', out.returncode == 0, out.stdout + out.stderr):
                break
            restored, floor = (int(v) / 1e6 for v in out.stdout.split())
            flushes.append(restored)
            floors.append(floor)
            time.sleep(0.5)
    rows = [('site.yml converge (floor)', converge), ('boot: linuxnet-container.service', boot_apply),
            ('boot: reboot command to the unit done', wall)]
    _bench.table('bench_restore: %d containers on one lab host' % args.containers, rows)
    if flushes:
        _bench.table('  flush-to-restored (%d flushes)' % len(flushes), [
            ('floor: nft list tables', min(floors)), ('flush-to-restored, best', min(flushes)), ('flush-to-restored, worst', max(flushes))])
    return inv.report()


if __name__ == '__main__':
    sys.exit(main())
