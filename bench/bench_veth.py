#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: N container endpoints by one veth module call against iproute2 doing the same.

Runs in one simulated lab host (lab/lab.py, its own lab name). Each endpoint is a veth pair whose host
end is a port of a bridge and whose peer, eth0, is created directly in its own namespace with a
Docker MAC, an address and a default route via the bridge's gateway, everything up.

  * module: one run of the veth module as Ansible runs it on the target (its AnsiballZ payload, the host's
    Python), without the ssh transport, timed from process start to exit;
  * ip: one ``ip -batch`` on the host side (link add ... peer ... netns, master, up) whose lines also
    run ``netns exec pN ip -batch FILE`` for the inside of each namespace (ip has no per-line -n);
  * no-op: the module again with the same arguments; the netlink writes it made are counted twice,
    by the module itself (netlink_writes) and by ``ip monitor`` in the host namespace during the run.

Runs on a bare lab host prepared by the prerequisites role; the module is its AnsiballZ payload run by the host's
Python (bench/_bench.py). Prints times and ratios; checks only correctness (both sides built the same thing, no-op
wrote nothing), never timings. --smoke: 5 endpoints.

    sudo .venv/bin/python bench/bench_veth.py [--count 500] [--lab bench-veth] [--keep] [--smoke]
"""

from __future__ import annotations

import json
import re
import sys
import time

import _bench

BATCH = '/tmp/linuxnet-bench/veth'  # on the lab host


def links(host, *args):
    return json.loads(host.run('ip', '-j', *args).stdout or '[]')


def main():
    opts, n, inv = _bench.options(__doc__, 'bench-veth', 500)
    with _bench.Lab(opts.lab, 1, keep=opts.keep) as lab:
        host = lab.hosts[0]
        # Setup, not timed: the namespaces of both sides and one bridge each.
        bridges = 'link add brm type bridge\naddress add %s/16 dev brm\nlink set brm up\n'
        (gw_m, addrs_m), (gw_p, addrs_p) = _bench.two_sides(host, n, ('10.64.0.0/16', '10.65.0.0/16'), BATCH,
                                                            bridges + bridges.replace('brm', 'brp'))

        # iproute2: one ip -batch for everything (inside each namespace through netns exec).
        lines = []
        for i, address in enumerate(addrs_p):
            inner = host.put(BATCH + '/in%d.batch' % i, 'address add %s/16 dev eth0\nlink set eth0 up\nroute add default via %s\n'
                             % (address, gw_p))
            lines += ['link add vp%d type veth peer name eth0 netns bp%d address %s' % (i, i, _bench.docker_mac(address)),
                      'link set vp%d master brp up' % i, 'netns exec bp%d ip -batch %s' % (i, inner)]
        batch = host.put(BATCH + '/ip.batch', '\n'.join(lines) + '\n')
        t_ip, dummy = _bench.timed(host.run, 'ip', '-batch', batch)

        # The module: one call.
        pairs = [{'name': 'vm%d' % i, 'master': 'brm',
                  'peer': {'name': 'eth0', 'namespace': 'bm%d' % i, 'addresses': ['%s/16' % address], 'mac_from_ip': True,
                           'routes': [{'dst': 'default', 'gateway': gw_m}]}}
                 for i, address in enumerate(addrs_m)]
        args = {'pairs': pairs}
        t_baseline, dummy = host.module('veth', {'pairs': []}, 'empty')
        t_mod, first = host.module('veth', args, 'create')

        # The no-op re-run, with ip monitor watching the host namespace (its output to a file: a pipe nobody reads
        # would fill), once the kernel's own IPv6 duplicate address detection on the new links is over.
        time.sleep(2.5)
        (t_noop, again), seen = host.monitored(('ip', 'monitor', 'link', 'address', 'route'), host.module, 'veth', args, 'noop')
        # Only events about the module's objects count (the ip side's ports may still report carrier changes).
        events = [line for line in seen if re.search(r'\b(vm\d+|brm)\b', line)]

        # Both sides built the same thing (ip -j, JSON), and it carries traffic.
        last = n - 1
        inv.equal('module bridge ports', len(links(host, 'link', 'show', 'master', 'brm')), n)
        inv.equal('ip bridge ports', len(links(host, 'link', 'show', 'master', 'brp')), n)
        route = links(host, '-n', 'bm%d' % last, 'route', 'show', 'default')
        inv.equal('endpoint default route', [r.get('gateway') for r in route], [gw_m])
        addr = links(host, '-n', 'bm%d' % last, 'addr', 'show', 'eth0')[0]
        inv.equal('endpoint address and state', (addr['operstate'], [a['local'] for a in addr['addr_info'] if a['family'] == 'inet'],
                                                 addr['address']), ('UP', [addrs_m[last]], _bench.docker_mac(addrs_m[last])))
        inv.check('module endpoints ping', host.ping('bm0', addrs_m[last]))
        inv.check('ip endpoints ping', host.ping('bp0', addrs_p[last]))
    return _bench.endpoint_report('bench_veth', 'endpoints: %d (peer in its own netns, bridge port, address, default route, up)' % n,
                                  inv, (t_ip, t_mod, t_baseline, t_noop), first, again, events)


if __name__ == '__main__':
    sys.exit(main())
