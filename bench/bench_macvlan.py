#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: N macvlan container endpoints by one macvlan module call against iproute2 doing the same.

Runs in one simulated lab host (lab/lab.py, its own lab name). Each endpoint is a macvlan child of the host's
eth0 in bridge mode, created directly in its own namespace as eth0, with a Docker MAC, an address and a
default route via the network's gateway, up.

  * module: one run of plugins/modules/macvlan.py (the module file run as Ansible runs it on the target,
    without the ssh transport), timed from process start to exit;
  * ip: one ``ip -batch`` on the host side (link add link eth0 name eth0 netns ... type macvlan mode bridge
    address ...) whose lines also run ``netns exec pN ip -batch FILE`` for the inside of each namespace
    (ip has no per-line -n);
  * no-op: the module again with the same arguments; the netlink writes it made are counted by the module
    itself (netlink_writes) and by ``ip monitor`` in one endpoint namespace during the run.

Prints times and ratios; asserts only correctness (both sides built the same thing, no-op wrote nothing),
never timings.

    sudo .venv/bin/python bench/bench_macvlan.py [--count 200] [--lab bench-macvlan] [--keep]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = os.path.join(ROOT, '.venv', 'bin', 'python')
LAB = os.path.join(ROOT, 'lab', 'lab.py')
MODULE = os.path.join(ROOT, 'plugins', 'modules', 'macvlan.py')
COLLECTIONS = os.path.join(ROOT, '.build', 'collections')


def docker_mac(address):
    return '02:42:' + ':'.join('%02x' % o for o in ipaddress.IPv4Address(address).packed)


class Host:
    def __init__(self, lab):
        state = json.loads(subprocess.run([PY, LAB, 'status', '--name', lab], check=True,
                                          capture_output=True, text=True).stdout)
        self.pid = state['hosts'][0]['pid']

    def argv(self, *cmd):
        return ['nsenter', '--target', str(self.pid), '--net', '--mount', '--uts', '--'] + list(cmd)

    def run(self, *cmd, **kwargs):
        return subprocess.run(self.argv(*cmd), check=True, capture_output=True, text=True, **kwargs)


def endpoints(count, subnet):
    net = ipaddress.ip_network(subnet)
    hosts = net.hosts()
    gateway = str(next(hosts))
    return gateway, [str(next(hosts)) for dummy in range(count)]


def run_module(host, workdir, args, label):
    path = os.path.join(workdir, 'args-%s.json' % label)
    with open(path, 'w') as handle:
        json.dump({'ANSIBLE_MODULE_ARGS': args}, handle)
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    started = time.perf_counter()
    proc = subprocess.run(host.argv(PY, MODULE, path), capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    result = json.loads(proc.stdout)
    if result.get('failed'):
        raise SystemExit('module failed: %s' % result.get('msg'))
    return elapsed, result


def macvlans(host, ns):
    """(mode, parent ifindex, mac) of eth0 in a namespace, from ip's JSON output (the bench's own check)."""
    link = json.loads(host.run('ip', '-n', ns, '-d', '-j', 'link', 'show', 'eth0').stdout)[0]
    return link['linkinfo']['info_kind'], link['linkinfo']['info_data']['mode'], link['address'], link['operstate']


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--count', type=int, default=200)
    parser.add_argument('--lab', default='bench-macvlan')
    parser.add_argument('--keep', action='store_true', help='leave the lab up afterwards')
    opts = parser.parse_args()
    n = opts.count
    subprocess.run([PY, LAB, 'up', '--name', opts.lab, '--hosts', '1'], check=True, capture_output=True)
    host = Host(opts.lab)
    workdir = tempfile.mkdtemp(prefix='bench-macvlan-')
    try:
        # Two subnets of their own on the underlay's L2 segment, only inside the lab's namespaces.
        gw_m, addrs_m = endpoints(n, '10.66.0.0/16')
        gw_p, addrs_p = endpoints(n, '10.67.0.0/16')
        # Setup, not timed: the namespaces of both sides.
        setup = os.path.join(workdir, 'setup.batch')
        with open(setup, 'w') as handle:
            for i in range(n):
                handle.write('netns add bm%d\nnetns add bp%d\n' % (i, i))
        host.run('ip', '-batch', setup)

        # iproute2: one ip -batch for everything (inside each namespace through netns exec).
        batch = os.path.join(workdir, 'ip.batch')
        with open(batch, 'w') as handle:
            for i, address in enumerate(addrs_p):
                inner = os.path.join(workdir, 'in%d.batch' % i)
                with open(inner, 'w') as sub:
                    sub.write('link set eth0 up\naddress add %s/16 dev eth0\nroute add default via %s\n' % (address, gw_p))
                handle.write('link add link eth0 name eth0 netns bp%d address %s type macvlan mode bridge\n'
                             % (i, docker_mac(address)))
                handle.write('netns exec bp%d ip -batch %s\n' % (i, inner))
        started = time.perf_counter()
        host.run('ip', '-batch', batch)
        t_ip = time.perf_counter() - started

        # The module: one call.
        items = [{'name': 'eth0', 'namespace': 'bm%d' % i, 'parent': 'eth0', 'addresses': ['%s/16' % address],
                  'mac_from_ip': True, 'routes': [{'dst': 'default', 'gateway': gw_m}]}
                 for i, address in enumerate(addrs_m)]
        args = {'endpoints': items}
        t_baseline, dummy = run_module(host, workdir, {'endpoints': []}, 'empty')
        t_mod, first = run_module(host, workdir, args, 'create')

        # The no-op re-run, with ip monitor watching the last endpoint's namespace (once the kernel's own IPv6
        # duplicate address detection on the new links is over, so that only writes would show).
        last = n - 1
        time.sleep(2)
        monitor = subprocess.Popen(host.argv('ip', '-n', 'bm%d' % last, 'monitor', 'link', 'address', 'route'),
                                   stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
        t_noop, again = run_module(host, workdir, args, 'noop')
        time.sleep(0.3)
        monitor.terminate()
        events = [line for line in monitor.communicate()[0].splitlines() if line.strip()]

        # Both sides built the same thing, and it carries traffic (bridge mode: children of eth0 reach each other).
        problems = []
        got_m, got_p = macvlans(host, 'bm%d' % last), macvlans(host, 'bp%d' % last)
        if got_m != ('macvlan', 'bridge', docker_mac(addrs_m[last]), 'UP') or got_p[:2] != ('macvlan', 'bridge'):
            problems.append('endpoints: module %s, ip %s' % (got_m, got_p))
        route_m = host.run('ip', '-n', 'bm%d' % last, 'route', 'show', 'default').stdout
        if 'via %s' % gw_m not in route_m:
            problems.append('bm%d default route: %s' % (last, route_m.strip()))
        host.run('ip', 'netns', 'exec', 'bm0', 'ping', '-c', '1', '-W', '2', addrs_m[last])
        host.run('ip', 'netns', 'exec', 'bp0', 'ping', '-c', '1', '-W', '2', addrs_p[last])
        if again['changed'] or again['netlink_writes'] or events:
            problems.append('no-op re-run wrote: changed=%s writes=%s monitor=%s' % (again['changed'], again['netlink_writes'], events[:5]))

        print('endpoints                         %d (macvlan of eth0 created in its own netns, Docker MAC, address, '
              'default route, up)' % n)
        print('ip -batch (+ netns exec per ns)   %.2f s' % t_ip)
        print('module, one call                  %.2f s  (%d netlink writes, %d actions)'
              % (t_mod, first['netlink_writes'], len(first['actions'])))
        print('module start-up alone (none)      %.2f s' % t_baseline)
        print('module no-op re-run               %.2f s  (netlink writes: %d counted by the module, %d seen by ip monitor)'
              % (t_noop, again['netlink_writes'], len(events)))
        print('ratio module / ip                 %.2f' % (t_mod / t_ip))
        print('ratio module minus start-up / ip  %.2f' % ((t_mod - t_baseline) / t_ip))
        print('ratio no-op / ip                  %.2f' % (t_noop / t_ip))
        if problems:
            print('PROBLEMS: ' + '; '.join(problems))
            return 1
        return 0
    finally:
        if not opts.keep:
            subprocess.run([PY, LAB, 'down', '--name', opts.lab], capture_output=True, check=False)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
