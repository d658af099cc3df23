#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: N container endpoints by one veth module call against iproute2 doing the same.

Runs in one simulated lab host (lab/lab.py, its own lab name). Each endpoint is a veth pair whose host
end is a port of a bridge and whose peer, eth0, is created directly in its own namespace with a
Docker MAC, an address and a default route via the bridge's gateway, everything up.

  * module: one run of plugins/modules/veth.py (the module file run as Ansible runs it on the
    target, without the ssh transport), timed from process start to exit;
  * ip: one ``ip -batch`` on the host side (link add ... peer ... netns, master, up) whose lines also
    run ``netns exec pN ip -batch FILE`` for the inside of each namespace (ip has no per-line -n);
  * no-op: the module again with the same arguments; the netlink writes it made are counted twice,
    by the module itself (netlink_writes) and by ``ip monitor`` in the host namespace during the run.

Prints times and ratios; asserts only correctness (both sides built the same thing, no-op wrote
nothing), never timings.

    sudo .venv/bin/python bench/bench_veth.py [--count 500] [--lab bench-veth] [--keep]
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = os.path.join(ROOT, '.venv', 'bin', 'python')
LAB = os.path.join(ROOT, 'lab', 'lab.py')
MODULE = os.path.join(ROOT, 'plugins', 'modules', 'veth.py')
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--count', type=int, default=500)
    parser.add_argument('--lab', default='bench-veth')
    parser.add_argument('--keep', action='store_true', help='leave the lab up afterwards')
    opts = parser.parse_args()
    n = opts.count
    subprocess.run([PY, LAB, 'up', '--name', opts.lab, '--hosts', '1'], check=True, capture_output=True)
    host = Host(opts.lab)
    workdir = tempfile.mkdtemp(prefix='bench-veth-')
    try:
        gw_m, addrs_m = endpoints(n, '10.64.0.0/16')
        gw_p, addrs_p = endpoints(n, '10.65.0.0/16')
        # Setup, not timed: the namespaces of both sides and one bridge each.
        setup = os.path.join(workdir, 'setup.batch')
        with open(setup, 'w') as handle:
            for i in range(n):
                handle.write('netns add bm%d\nnetns add bp%d\n' % (i, i))
            handle.write('link add brm type bridge\naddress add %s/16 dev brm\nlink set brm up\n' % gw_m)
            handle.write('link add brp type bridge\naddress add %s/16 dev brp\nlink set brp up\n' % gw_p)
        host.run('ip', '-batch', setup)

        # iproute2: one ip -batch for everything (inside each namespace through netns exec).
        batch = os.path.join(workdir, 'ip.batch')
        with open(batch, 'w') as handle:
            for i, address in enumerate(addrs_p):
                inner = os.path.join(workdir, 'in%d.batch' % i)
                with open(inner, 'w') as sub:
                    sub.write('address add %s/16 dev eth0\nlink set eth0 up\nroute add default via %s\n' % (address, gw_p))
                handle.write('link add vp%d type veth peer name eth0 netns bp%d address %s\n' % (i, i, docker_mac(address)))
                handle.write('link set vp%d master brp up\n' % i)
                handle.write('netns exec bp%d ip -batch %s\n' % (i, inner))
        started = time.perf_counter()
        host.run('ip', '-batch', batch)
        t_ip = time.perf_counter() - started

        # The module: one call.
        pairs = [{'name': 'vm%d' % i, 'master': 'brm',
                  'peer': {'name': 'eth0', 'namespace': 'bm%d' % i, 'addresses': ['%s/16' % address], 'mac_from_ip': True,
                           'routes': [{'dst': 'default', 'gateway': gw_m}]}}
                 for i, address in enumerate(addrs_m)]
        args = {'pairs': pairs}
        t_baseline, dummy = run_module(host, workdir, {'pairs': []}, 'empty')
        t_mod, first = run_module(host, workdir, args, 'create')

        # The no-op re-run, with ip monitor watching the host namespace.
        monitor = subprocess.Popen(host.argv('ip', 'monitor', 'link', 'address', 'route'), stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)
        t_noop, again = run_module(host, workdir, args, 'noop')
        time.sleep(0.3)
        monitor.terminate()
        # Only events about the module's objects count (the ip side's ports may still report carrier changes).
        events = [line for line in monitor.communicate()[0].splitlines() if re.search(r'\b(vm\d+|brm)\b', line)]

        # Both sides built the same thing.
        ports_m = host.run('ip', '-o', 'link', 'show', 'master', 'brm').stdout.count('\n')
        ports_p = host.run('ip', '-o', 'link', 'show', 'master', 'brp').stdout.count('\n')
        last = n - 1
        route_m = host.run('ip', '-n', 'bm%d' % last, 'route', 'show', 'default').stdout.strip()
        addr_m = host.run('ip', '-n', 'bm%d' % last, '-br', 'addr', 'show', 'eth0').stdout.split()
        host.run('ip', 'netns', 'exec', 'bm0', 'ping', '-c', '1', '-W', '2', addrs_m[last])
        host.run('ip', 'netns', 'exec', 'bp0', 'ping', '-c', '1', '-W', '2', addrs_p[last])
        problems = []
        if ports_m != n or ports_p != n:
            problems.append('ports: module %d, ip %d, expected %d' % (ports_m, ports_p, n))
        if 'via %s' % gw_m not in route_m or addr_m[1] != 'UP' or '%s/16' % addrs_m[last] not in addr_m:
            problems.append('endpoint bm%d: %s / %s' % (last, route_m, addr_m))
        if again['changed'] or again['netlink_writes'] or events:
            problems.append('no-op re-run wrote: changed=%s writes=%s monitor=%s' % (again['changed'], again['netlink_writes'], events[:5]))

        print('endpoints                         %d (peer in its own netns, bridge port, address, default route, up)' % n)
        print('ip -batch (+ netns exec per ns)   %.2f s' % t_ip)
        print('module, one call                  %.2f s  (%d netlink writes, %d actions)'
              % (t_mod, first['netlink_writes'], len(first['actions'])))
        print('module start-up alone (no pairs)  %.2f s' % t_baseline)
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
