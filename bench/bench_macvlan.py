#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: N macvlan container endpoints by one macvlan module call against iproute2 doing the same.

Runs in one simulated lab host (lab/lab.py, its own lab name). Each endpoint is a macvlan child of the host's
eth0 in bridge mode, created directly in its own namespace as eth0, with a Docker MAC, an address and a
default route via the network's gateway, up.

  * module: one run of the macvlan module as Ansible runs it on the target (its AnsiballZ payload, the host's
    Python), without the ssh transport, timed from process start to exit;
  * ip: one ``ip -batch`` on the host side (link add link eth0 name eth0 netns ... type macvlan mode bridge
    address ...) whose lines also run ``netns exec pN ip -batch FILE`` for the inside of each namespace
    (ip has no per-line -n);
  * no-op: the module again with the same arguments; the netlink writes it made are counted by the module
    itself (netlink_writes) and by ``ip monitor`` in one endpoint namespace during the run.

Runs on a bare lab host prepared by the prerequisites role (bench/_bench.py). Prints times and ratios; checks only
correctness (both sides built the same thing, no-op wrote nothing), never timings. --smoke: 5 endpoints.

    sudo .venv/bin/python bench/bench_macvlan.py [--count 200] [--lab bench-macvlan] [--keep] [--smoke]
"""

from __future__ import annotations

import json
import sys
import time

import _bench

BATCH = '/tmp/linuxnet-bench/macvlan'  # on the lab host


def macvlans(host, ns):
    """(kind, mode, mac, operstate) of eth0 in a namespace, from ip's JSON output (the bench's own check)."""
    link = json.loads(host.run('ip', '-n', ns, '-d', '-j', 'link', 'show', 'eth0').stdout)[0]
    return link['linkinfo']['info_kind'], link['linkinfo']['info_data']['mode'], link['address'], link['operstate']


def main():
    opts, n, inv = _bench.options(__doc__, 'bench-macvlan', 200)
    with _bench.Lab(opts.lab, 1, keep=opts.keep) as lab:
        host = lab.hosts[0]
        # Setup, not timed: the namespaces of both sides; two subnets of their own on the underlay's L2 segment, only
        # inside the lab's namespaces.
        (gw_m, addrs_m), (gw_p, addrs_p) = _bench.two_sides(host, n, ('10.66.0.0/16', '10.67.0.0/16'), BATCH)

        # iproute2: one ip -batch for everything (inside each namespace through netns exec).
        lines = []
        for i, address in enumerate(addrs_p):
            inner = host.put(BATCH + '/in%d.batch' % i, 'link set eth0 up\naddress add %s/16 dev eth0\nroute add default via %s\n'
                             % (address, gw_p))
            lines += ['link add link eth0 name eth0 netns bp%d address %s type macvlan mode bridge' % (i, _bench.docker_mac(address)),
                      'netns exec bp%d ip -batch %s' % (i, inner)]
        batch = host.put(BATCH + '/ip.batch', '\n'.join(lines) + '\n')
        t_ip, dummy = _bench.timed(host.run, 'ip', '-batch', batch)

        # The module: one call.
        items = [{'name': 'eth0', 'namespace': 'bm%d' % i, 'parent': 'eth0', 'addresses': ['%s/16' % address],
                  'mac_from_ip': True, 'routes': [{'dst': 'default', 'gateway': gw_m}]}
                 for i, address in enumerate(addrs_m)]
        args = {'endpoints': items}
        t_baseline, dummy = host.module('macvlan', {'endpoints': []}, 'empty')
        t_mod, first = host.module('macvlan', args, 'create')

        # The no-op re-run, with ip monitor watching the last endpoint's namespace (once the kernel's own IPv6
        # duplicate address detection on the new links is over, so that only writes would show).
        last = n - 1
        time.sleep(2)
        (t_noop, again), events = host.monitored(('ip', '-n', 'bm%d' % last, 'monitor', 'link', 'address', 'route'),
                                                 host.module, 'macvlan', args, 'noop')

        # Both sides built the same thing, and it carries traffic (bridge mode: children of eth0 reach each other).
        got_m, got_p = macvlans(host, 'bm%d' % last), macvlans(host, 'bp%d' % last)
        inv.equal('module endpoint', got_m, ('macvlan', 'bridge', _bench.docker_mac(addrs_m[last]), 'UP'))
        inv.equal('ip endpoint', got_p[:2], ('macvlan', 'bridge'))
        route = json.loads(host.run('ip', '-j', '-n', 'bm%d' % last, 'route', 'show', 'default').stdout)
        inv.equal('endpoint default route', [r.get('gateway') for r in route], [gw_m])
        inv.check('module endpoints ping', host.ping('bm0', addrs_m[last]))
        inv.check('ip endpoints ping', host.ping('bp0', addrs_p[last]))
    return _bench.endpoint_report('bench_macvlan', 'endpoints: %d (macvlan of eth0 created in its own netns, Docker MAC, address, '
                                  'default route, up)' % n, inv, (t_ip, t_mod, t_baseline, t_noop), first, again, events)


if __name__ == '__main__':
    sys.exit(main())
