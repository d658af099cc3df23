#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: port_map against nft -f of the same maps (the floor), in the same run, in a lab host.

  apply N maps (N = 1,000 and 10,000):  module call vs nft -f of a table with the same maps and rules;
  add one map with N present:           module call publishing just that port (incremental, not
                                        exclusive, as a new container does) vs two nft add element;
  no-op re-run with N present.
The module is timed three ways: end to end through ansible-playbook; less an ansible call that
does nothing (both measured in the same run); and in-process on the lab host (the module's own
read, plan and transaction, without Ansible moving 10,000 arguments and results). Prints seconds
and ratios; asserts nothing about time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = 'bench-ports'
BIN = os.path.dirname(sys.executable)


def ports(count, first=20000):
    """count publications spread over 250 containers in 172.17.0.0/16."""
    by_ip = {}
    for i in range(count):
        by_ip.setdefault('172.17.%d.%d' % (1 + i % 250 // 250, 2 + i % 250), []).append('%d:80' % (first + i))
    return [{'container_ip': ip, 'publish': specs} for ip, specs in sorted(by_ip.items())]


INPROC = r'''
import json, sys, time
sys.path.insert(0, sys.argv[1] + '/.build/collections')
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.netlink import Netlink
from ansible_collections.linuxnet.container.plugins.modules import port_map as M
class Module:
    check_mode = False
    def __init__(self, params):
        self.params = dict({'exclusive': True, 'forwarding': True, 'namespace': None, 'state': 'present'}, **params)
    def warn(self, msg):
        pass
def call(params):
    module = Module(params)
    start = time.perf_counter()
    with Netlink() as netlink:
        ns = NamespaceRef(None)
        res = M.PortMapReconciler(module, netlink, ns).run(M._desired(module.params, netlink, ns))
    return time.perf_counter() - start, res['changed']
pubs = json.load(sys.stdin)
out = {'apply': call({'ports': pubs}), 'noop': call({'ports': pubs}),
       'add_one': call({'ports': [{'container_ip': '172.17.0.2', 'publish': ['65000:80']}], 'exclusive': False})}
call({'ports': [], 'state': 'absent'})
print(json.dumps(out))
'''


def floor_ruleset(publications):
    addr, port = [], []
    for item in publications:
        for spec in item['publish']:
            host = spec.split(':')[0]
            addr.append('tcp . %s : %s' % (host, item['container_ip']))
            port.append('tcp . %s : 80' % host)
    return ('table ip floor {\n'
            ' map any_addr { type inet_proto . inet_service : ipv4_addr; elements = { %s } }\n'
            ' map any_port { type inet_proto . inet_service : inet_service; elements = { %s } }\n'
            ' chain prerouting { type nat hook prerouting priority -100; policy accept;\n'
            '  fib daddr type local dnat to meta l4proto . th dport map @any_addr : meta l4proto . th dport map @any_port; }\n'
            ' chain output { type nat hook output priority -100; policy accept;\n'
            '  fib daddr type local dnat to meta l4proto . th dport map @any_addr : meta l4proto . th dport map @any_port; }\n'
            '}\n') % (', '.join(addr), ', '.join(port))


class Host:
    def __init__(self):
        directory = '/var/lib/linuxnet-lab/%s' % LAB
        self.ssh = ['ssh', '-F', os.path.join(directory, 'ssh_config'), 'docker-node1']
        self.inventory = os.path.join(directory, 'inventory.json')
        self.env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'))

    def sh(self, script, stdin=None):
        start = time.perf_counter()
        subprocess.run(self.ssh + [script], input=stdin, check=True, capture_output=True, text=True)
        return time.perf_counter() - start

    def module(self, args):
        """One port_map call through ansible-playbook (arguments from a file: 10,000 ports exceed argv limits)."""
        with open('/tmp/linuxnet-bench-ports-args.json', 'w') as handle:
            json.dump({'bench_args': args}, handle)
        with open('/tmp/linuxnet-bench-ports.yml', 'w') as handle:
            handle.write('- hosts: all\n  gather_facts: false\n  tasks:\n'
                         '    - linuxnet.container.port_map: "{{ bench_args }}"\n')
        start = time.perf_counter()
        proc = subprocess.run([os.path.join(BIN, 'ansible-playbook'), '-i', self.inventory, '-e', '@/tmp/linuxnet-bench-ports-args.json',
                               '/tmp/linuxnet-bench-ports.yml'], capture_output=True, text=True, env=self.env, check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit('module failed: %s' % proc.stdout[-2000:])
        return elapsed, 'changed=1' in proc.stdout


def main():
    subprocess.run([sys.executable, os.path.join(ROOT, 'lab', 'lab.py'), 'up', '--name', LAB, '--hosts', '1'],
                   check=True, capture_output=True)
    rows = []
    try:
        host = Host()
        host.sh('ip link add docker0 type bridge && ip addr add 172.17.0.1/16 dev docker0 && ip link set docker0 up')
        overhead, _changed = host.module({'ports': [], 'state': 'absent'})
        for count in (1000, 10000):
            pubs = ports(count)
            floor = host.sh('nft -f -', stdin=floor_ruleset(pubs))
            add_floor = host.sh('nft add element ip floor any_addr "{ tcp . 65000 : 172.17.0.2 }" && '
                                'nft add element ip floor any_port "{ tcp . 65000 : 80 }"')
            host.sh('nft delete table ip floor')
            apply_time, changed = host.module({'ports': pubs, 'exclusive': True})
            assert changed
            noop, changed = host.module({'ports': pubs, 'exclusive': True})
            assert not changed
            add_one, changed = host.module({'ports': [{'container_ip': '172.17.0.2', 'publish': ['65000:80']}]})
            assert changed
            host.module({'state': 'absent'})
            script = INPROC.replace('pubs = json.load(sys.stdin)', 'pubs = json.loads(%r)' % json.dumps(pubs))
            proc = subprocess.run(host.ssh + ['%s - %s' % (sys.executable, ROOT)], input=script,
                                  capture_output=True, text=True, check=True)
            inproc = json.loads(proc.stdout)
            assert inproc['apply'][1] and not inproc['noop'][1] and inproc['add_one'][1]
            rows.append((count, floor, apply_time, noop, add_floor, add_one, inproc))
    finally:
        subprocess.run([sys.executable, os.path.join(ROOT, 'lab', 'lab.py'), 'down', '--name', LAB],
                       check=True, capture_output=True)
    print('ansible call overhead (a module call that changes nothing): %.2f s' % overhead)
    for count, floor, apply_time, noop, add_floor, add_one, inproc in rows:
        net = apply_time - overhead
        print('%6d maps: nft -f %.3f s | module in-process %.3f s (ratio %.1f), end to end %.2f s, less overhead %.2f s (ratio %.1f)'
              % (count, floor, inproc['apply'][0], inproc['apply'][0] / floor, apply_time, net, net / floor))
        print('        no-op re-run: in-process %.3f s, end to end %.2f s' % (inproc['noop'][0], noop))
        print('        add one with %d present: nft add element x2 %.3f s | module in-process %.3f s (ratio %.1f), end to end %.2f s'
              % (count, add_floor, inproc['add_one'][0], inproc['add_one'][0] / add_floor, add_one))


if __name__ == '__main__':
    main()
