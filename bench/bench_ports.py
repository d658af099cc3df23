#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: port_map against nft -f of the same maps (the floor), in the same run, on a bare lab host.

  apply N maps (N = 1,000 and 10,000):  module call vs nft -f of a table with the same maps and rules;
  add one map with N present:           module call publishing just that port (incremental, not
                                        exclusive, as a new container does) vs two nft add element;
  no-op re-run with N present.
The module is timed three ways: end to end through ansible-playbook; less an ansible call that
does nothing (both measured in the same run); and in-process on the lab host (the module's own
read, plan and transaction, without Ansible moving 10,000 arguments and results: its part
module_utils/_parts/port_map.py run by the host's collection virtualenv from host_network's unpacked
AnsiballZ payload, which holds the part's code and _converge/part.py). Prints seconds and ratios; asserts nothing about time. --smoke: N = 20; checks
the changed flags and that the kernel's map holds N elements after the apply and N+1 after the add.

    sudo .venv/bin/python bench/bench_ports.py [--counts 1000,10000] [--lab bench-ports] [--keep] [--smoke]
"""

from __future__ import annotations

import json
import os
import sys

import _bench

INPROC = r'''
import json, sys, time
from ansible_collections.linuxnet.container.plugins.module_utils._converge.part import PartModule, validate_part
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.netlink import Netlink
from ansible_collections.linuxnet.container.plugins.module_utils._parts import port_map as part


def call(params):
    validated, errors = validate_part('port_map', part.module_spec(), params)
    if errors:
        raise SystemExit('; '.join(errors))
    module = PartModule('port_map', validated, False, lambda msg: None)
    start = time.perf_counter()
    with Netlink() as netlink:
        res = part.run(module, netlink)
    return time.perf_counter() - start, res['changed']


with open(sys.argv[1]) as handle:
    pubs = json.load(handle)
out = {'apply': call({'ports': pubs}), 'noop': call({'ports': pubs}),
       'add_one': call({'ports': [{'container_ip': '172.17.0.2', 'publish': ['65000:80']}], 'exclusive': False})}
call({'ports': [], 'state': 'absent'})
print(json.dumps(out))
'''
PLAYBOOK = '- hosts: all\n  gather_facts: false\n  tasks:\n    - linuxnet.container.port_map: "{{ bench_args }}"\n'


def ports(count, first=20000):
    """count publications spread over 250 containers in 172.17.0.0/16."""
    by_ip = {}
    for i in range(count):
        by_ip.setdefault('172.17.%d.%d' % (1 + i % 250 // 250, 2 + i % 250), []).append('%d:80' % (first + i))
    return [{'container_ip': ip, 'publish': specs} for ip, specs in sorted(by_ip.items())]


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


def map_elements(host):
    """Elements of the module's map any_addr, read from the kernel (nft -j)."""
    found = _bench.nft_json(host, 'map', 'ip', 'linuxnet_ports', 'any_addr')
    return sum(len(item['map'].get('elem', [])) for item in found['nftables'] if 'map' in item)


class Ports:
    def __init__(self, lab, workdir):
        self.lab, self.workdir = lab, workdir
        self.book = os.path.join(workdir, 'ports.yml')
        with open(self.book, 'w') as handle:
            handle.write(PLAYBOOK)

    def module(self, args):
        """One port_map call through ansible-playbook (arguments from a file: 10,000 ports exceed argv limits)."""
        path = os.path.join(self.workdir, 'args.json')
        with open(path, 'w') as handle:
            json.dump({'bench_args': args}, handle)
        elapsed, proc = _bench.timed(self.lab.playbook, self.book, None, '-l', self.lab.hosts[0].name, '-e', '@' + path)
        if proc.returncode != 0:
            raise SystemExit('module failed: %s' % proc.stdout[-2000:])
        return elapsed, 'changed=1' in proc.stdout


def main():
    parser = _bench.parser(__doc__, 'bench-ports')
    parser.add_argument('--counts', default='1000,10000')
    opts = parser.parse_args()
    counts = [20] if opts.smoke else [int(c) for c in opts.counts.split(',')]
    inv = _bench.Invariants()
    rows = []
    with _bench.Lab(opts.lab, 1, keep=opts.keep) as lab:
        host = lab.hosts[0]
        ports_ = Ports(lab, lab.workdir)
        path = host.explode('host_network')
        host.run('bash', '-c', 'ip link add docker0 type bridge && ip addr add 172.17.0.1/16 dev docker0 && ip link set docker0 up')
        overhead, dummy = ports_.module({'ports': [], 'state': 'absent'})
        for count in counts:
            pubs = ports(count)
            floor, dummy = _bench.timed(host.run, 'nft', '-f', '-', input=floor_ruleset(pubs))
            add_floor, dummy = _bench.timed(host.run, 'bash', '-c', 'nft add element ip floor any_addr "{ tcp . 65000 : 172.17.0.2 }" && '
                                            'nft add element ip floor any_port "{ tcp . 65000 : 80 }"')
            host.run('nft', 'delete', 'table', 'ip', 'floor')
            apply_time, changed = ports_.module({'ports': pubs, 'exclusive': True})
            inv.check('%d: apply changed' % count, changed)
            inv.equal('%d: map elements after the apply' % count, map_elements(host), count)
            noop, changed = ports_.module({'ports': pubs, 'exclusive': True})
            inv.check('%d: no-op re-run changed=0' % count, not changed)
            add_one, changed = ports_.module({'ports': [{'container_ip': '172.17.0.2', 'publish': ['65000:80']}]})
            inv.check('%d: add one changed' % count, changed)
            inv.equal('%d: map elements after adding one' % count, map_elements(host), count + 1)
            ports_.module({'state': 'absent'})
            pubs_path = host.put('/tmp/linuxnet-bench/ports-%d.json' % count, json.dumps(pubs))
            proc = host.python(INPROC, pubs_path, env=dict(os.environ, PYTHONPATH=path))
            inproc = json.loads(proc.stdout)
            inv.equal('%d: in-process changed flags (apply, no-op, add one)' % count,
                      (inproc['apply'][1], inproc['noop'][1], inproc['add_one'][1]), (True, False, True))
            rows.append((count, floor, apply_time, noop, add_floor, add_one, inproc))
    for count, floor, apply_time, noop, add_floor, add_one, inproc in rows:
        _bench.table('bench_ports: %d published ports on one lab host (ansible call overhead %.2f s)' % (count, overhead), [
            ('floor: nft -f of the same maps', floor),
            ('module in-process (read, plan, transaction)', inproc['apply'][0]),
            ('module end to end (ansible-playbook)', apply_time),
            ('module end to end, less the call overhead', apply_time - overhead),
            ('no-op re-run, in-process', inproc['noop'][0]),
            ('no-op re-run, end to end', noop)])
        _bench.table('  add one with %d present' % count, [
            ('floor: nft add element x2', add_floor),
            ('module in-process', inproc['add_one'][0]),
            ('module end to end', add_one)])
    return inv.report()


if __name__ == '__main__':
    sys.exit(main())
