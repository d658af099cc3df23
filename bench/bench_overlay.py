#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: TCP throughput across the collection's VXLAN overlay against the same overlay by hand.

Runs on a lab of two bare lab hosts (lab/lab.py; --lab, prepared by the prerequisites role). iperf3,
one stream and four streams (-P4), between:

  (a) underlay: the two hosts' own namespaces, 192.0.2.11 -> 192.0.2.12 over eth0 (no tunnel);
  (b) by hand:  per host a namespace with bridge br0, a VXLAN device made with
                ``ip link add vxb type vxlan id 256 dstport 4789 dev eth0 local ... nolearning`` in the host
                namespace and moved there (Docker's layout), a static all-zero FDB entry towards the other
                host, and a container namespace whose eth0 (a veth into br0) has MTU 1450;
  (c) modules:  the same overlay built by the collection's netns, bridge, veth and vxlan modules through
                ansible-playbook over the lab's ssh.

(b) and (c) share VNI 256 and port 4789, which the kernel allows once per underlay namespace, so (b) is
removed before (c) is built. Every iperf3 server handles one test (-s -1), is started and, if still there,
stopped by its PID. Each test runs --time seconds after --omit seconds of slow start that do not count.
Prints the rates and the ratios (c)/(b) and (c)/(a); asserts only that each overlay carries a full
1450-byte packet and not one byte more (the invariants, with: the modules' second run changed nothing).
--smoke: one round of 1-second tests.

    sudo .venv/bin/python bench/bench_overlay.py [--time 10] [--omit 1] [--lab bench-overlay] [--keep] [--smoke]
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time

import _bench

VNI = 256
PORT = 4789
MTU = 1450
IPERF_PORT = 5201

PLAYBOOK = r'''
- name: The overlay of the benchmark, built by the collection's modules
  hosts: all
  gather_facts: false
  tasks:
    - name: Overlay and container namespaces
      linuxnet.container.netns:
        namespaces: [{name: ov1}, {name: c1}]
    - name: Bridge br0 in the overlay namespace
      linuxnet.container.bridge:
        name: br0
        namespace: ov1
    - name: The container's eth0, MTU 1450, its other end on br0
      linuxnet.container.veth:
        pairs:
          - name: veth0
            namespace: ov1
            master: br0
            mtu: %(mtu)d
            peer: {name: eth0, namespace: c1, addresses: ["{{ endpoint }}/24"], mac_from_ip: true}
    - name: VXLAN device in ov1, tunnel over the host's eth0, the other host as peer
      linuxnet.container.vxlan:
        name: vxlan0
        namespace: ov1
        vni: %(vni)d
        port: %(port)d
        dev: eth0
        local: "{{ vtep }}"
        learning: false
        master: br0
        peers: ["{{ peer }}"]
''' % {'mtu': MTU, 'vni': VNI, 'port': PORT}


def netns(ns, *cmd):
    return ('ip', 'netns', 'exec', ns) + cmd if ns else cmd


def stop_by_pid(proc, expected='iperf3'):
    """Stop a process this bench started, by its PID, after checking it is still the one (its cmdline)."""
    if proc.poll() is not None:
        return
    try:
        with open('/proc/%d/cmdline' % proc.pid, 'rb') as handle:
            cmdline = handle.read().split(b'\0')[0].decode()
    except FileNotFoundError:
        return
    if os.path.basename(cmdline) in (expected, 'nsenter', 'ip'):
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def iperf(server, server_ns, client, client_ns, address, streams, seconds, omit):
    """One iperf3 test; returns the receiver's rate in Gbit/s."""
    argv = server.argv(*netns(server_ns, 'iperf3', '-s', '-1', '-B', address, '-p', str(IPERF_PORT), '--forceflush'), pid=False)
    srv = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        seen = []
        while not any('listening' in line for line in seen):  # "Server listening on 5201" once the socket is bound
            line = srv.stdout.readline()
            if not line:
                raise SystemExit('iperf3 server on %s did not start: %r' % (server.name, seen))
            seen.append(line.lower())
        out = client.run(*netns(client_ns, 'iperf3', '-c', address, '-p', str(IPERF_PORT), '-t', str(seconds),
                                '-O', str(omit), '-P', str(streams), '-J'), check=False)
        result = json.loads(out.stdout)
        if 'error' in result:
            raise SystemExit('iperf3 %s -> %s: %s' % (client.name, address, result['error']))
        end = result['end']
        return end['sum_received']['bits_per_second'] / 1e9, end['sum_sent'].get('retransmits')
    finally:
        stop_by_pid(srv)
        srv.stdout.close()


def median(samples):
    return statistics.median(rate for rate, dummy in samples)


# Link attributes that could change throughput; names, indexes, MACs, timers and counters are left out.
_LINK_KEYS = ('mtu', 'txqlen', 'qdisc', 'num_tx_queues', 'num_rx_queues', 'gso_max_size', 'gso_max_segs',
              'gro_max_size', 'tso_max_size', 'tso_max_segs', 'operstate')
_DATA_KEYS = {'vxlan': ('id', 'port', 'local', 'learning', 'proxy', 'ttl', 'tos', 'df', 'udp_csum', 'udp_zero_csum6_tx',
                        'udp_zero_csum6_rx', 'ageing', 'limit', 'port_range', 'l2miss', 'l3miss', 'gbp', 'remcsum_tx'),
              'bridge': ('stp_state', 'forward_delay', 'ageing_time', 'vlan_filtering', 'mcast_snooping', 'nf_call_iptables',
                         'nf_call_ip6tables', 'nf_call_arptables'),
              'veth': ()}


def link_attributes(host, overlay_ns, vxlan, container_ns):
    """The throughput-relevant attributes of an overlay's VXLAN device, bridge and container eth0 (ip -d -j, JSON)."""
    out = {}
    for role, ns, ifname in (('vxlan', overlay_ns, vxlan), ('bridge', overlay_ns, 'br0'), ('eth0', container_ns, 'eth0')):
        link = json.loads(host.run('ip', '-d', '-j', '-n', ns, 'link', 'show', ifname).stdout)[0]
        kind = link.get('linkinfo', {}).get('info_kind')
        data = link.get('linkinfo', {}).get('info_data') or {}
        out.update({'%s.%s' % (role, key): link.get(key) for key in _LINK_KEYS})
        out.update({'%s.%s' % (role, key): data.get(key) for key in _DATA_KEYS.get(kind, ())})
    return out


def check_mtu(inv, label, client, ns, address):
    """A full 1450-byte packet crosses with DF set, one byte more does not; eth0 has MTU 1450."""
    ok = client.run(*netns(ns, 'ping', '-c', '2', '-W', '2', '-M', 'do', '-s', str(MTU - 28), address), check=False)
    big = client.run(*netns(ns, 'ping', '-c', '1', '-W', '1', '-M', 'do', '-s', str(MTU - 27), address), check=False)
    inv.equal('%s: a full %d-byte packet crosses, one byte more does not' % (label, MTU), (ok.returncode, big.returncode != 0), (0, True))
    mtu = json.loads(client.run('ip', '-j', '-n', ns, 'link', 'show', 'eth0').stdout)[0]['mtu']
    inv.equal('%s: eth0 MTU' % label, mtu, MTU)


def build_by_hand(hosts, subnet):
    """(b): the overlay with ip and bridge commands, Docker's layout; returns the endpoint addresses."""
    endpoints = []
    for host, peer in ((hosts[0], hosts[1]), (hosts[1], hosts[0])):
        endpoint = '%s.%s' % (subnet, host.address.rsplit('.', 1)[1])
        endpoints.append(endpoint)
        for cmd in (
            ('ip', 'netns', 'add', 'hov'),
            ('ip', 'netns', 'add', 'hc'),
            ('ip', '-n', 'hov', 'link', 'add', 'br0', 'type', 'bridge'),
            ('ip', '-n', 'hov', 'link', 'set', 'br0', 'up'),
            ('ip', 'link', 'add', 'vxb', 'type', 'vxlan', 'id', str(VNI), 'dstport', str(PORT), 'dev', 'eth0',
             'local', host.address, 'nolearning'),
            ('ip', 'link', 'set', 'vxb', 'netns', 'hov'),
            ('ip', '-n', 'hov', 'link', 'set', 'vxb', 'master', 'br0', 'up'),
            ('bridge', '-n', 'hov', 'fdb', 'append', '00:00:00:00:00:00', 'dev', 'vxb', 'dst', peer.address),
            ('ip', '-n', 'hov', 'link', 'add', 'vb0', 'mtu', str(MTU), 'type', 'veth', 'peer', 'name', 'eth0',
             'mtu', str(MTU), 'netns', 'hc'),
            ('ip', '-n', 'hov', 'link', 'set', 'vb0', 'master', 'br0', 'up'),
            ('ip', '-n', 'hc', 'address', 'add', endpoint + '/24', 'dev', 'eth0'),
            ('ip', '-n', 'hc', 'link', 'set', 'eth0', 'up'),
            ('ip', '-n', 'hc', 'link', 'set', 'lo', 'up'),
        ):
            host.run(*cmd)
    return endpoints


def remove(hosts, overlay_ns, vxlan, container_ns):
    """Remove one overlay: the VXLAN device first (at once, so its VNI and port are free), then the namespaces."""
    for host in hosts:
        host.run('ip', '-n', overlay_ns, 'link', 'delete', vxlan)
        host.run('ip', 'netns', 'delete', container_ns)
        host.run('ip', 'netns', 'delete', overlay_ns)  # takes br0 and the veth pair with it


def build_by_modules(hosts, lab, subnet):
    """(c): the overlay through ansible-playbook and the collection's modules; returns the endpoints, the time and the
    recap."""
    endpoints = {h.name: '%s.%s' % (subnet, h.address.rsplit('.', 1)[1]) for h in hosts}
    inventory = lab.inventory_data()
    inventory['all']['children']['lab']['hosts'] = {
        h.name: {'vtep': h.address, 'peer': p.address, 'endpoint': endpoints[h.name]}
        for h, p in ((hosts[0], hosts[1]), (hosts[1], hosts[0]))}
    path = os.path.join(lab.workdir, 'inventory.json')
    with open(path, 'w') as handle:
        json.dump(inventory, handle)
    with open(os.path.join(lab.workdir, 'overlay.yml'), 'w') as handle:
        handle.write(PLAYBOOK)
    elapsed, proc = _bench.timed(lab.playbook, os.path.join(lab.workdir, 'overlay.yml'), path, env={'ANSIBLE_PIPELINING': '1'})
    if proc.returncode != 0:
        raise SystemExit('ansible-playbook failed:\n%s' % proc.stdout[-3000:])
    return [endpoints[hosts[0].name], endpoints[hosts[1].name]], elapsed, _bench.recap(proc.stdout)


def main():
    parser = _bench.parser(__doc__, 'bench-overlay')
    parser.add_argument('--time', type=int, default=10, help='seconds per iperf3 test (after --omit)')
    parser.add_argument('--omit', type=int, default=1, help='seconds of slow start left out of each test')
    parser.add_argument('--repeat', type=int, default=3, help='rounds of (a), (b), (c); the median of each cell is reported')
    opts = parser.parse_args()
    if opts.smoke:
        opts.time, opts.omit, opts.repeat = 1, 0, 1
    rates = {}
    inv = _bench.Invariants()
    with _bench.Lab(opts.lab, 2, keep=opts.keep) as lab:
        hosts = lab.hosts
        node1, node2 = hosts

        def measure(label, client_ns, server_ns, address):
            for streams in (1, 4):
                rates.setdefault((label, streams), []).append(
                    iperf(node2, server_ns, node1, client_ns, address, streams, opts.time, opts.omit))

        # Rounds of a, b, c, so that a slow moment of the machine does not land on one path only. (b) and (c)
        # cannot exist together (same VNI and port in one underlay namespace): each is built, measured and
        # removed in turn; the VXLAN device is deleted first, synchronously, before its namespaces go.
        builds = {'b': [], 'c': []}
        device_diff = None
        for dummy in range(opts.repeat):
            measure('a', None, None, node2.address)

            started = time.perf_counter()
            ends_b = build_by_hand(hosts, '10.1.0')
            builds['b'].append(time.perf_counter() - started)
            check_mtu(inv, '(b)', node1, 'hc', ends_b[1])
            attrs_b = link_attributes(node1, 'hov', 'vxb', 'hc')
            measure('b', 'hc', 'hc', ends_b[1])
            remove(hosts, 'hov', 'vxb', 'hc')

            ends_c, elapsed, dummy = build_by_modules(hosts, lab, '10.2.0')
            builds['c'].append(elapsed)
            if not builds.get('noop'):
                builds['noop'] = build_by_modules(hosts, lab, '10.2.0')[2]
                inv.equal("(c): the modules' second run changed", sorted(r['changed'] for r in builds['noop'].values()), [0, 0])
            check_mtu(inv, '(c)', node1, 'c1', ends_c[1])
            attrs_c = link_attributes(node1, 'ov1', 'vxlan0', 'c1')
            device_diff = {k: (attrs_b.get(k), attrs_c.get(k)) for k in sorted(set(attrs_b) | set(attrs_c))
                           if attrs_b.get(k) != attrs_c.get(k)}
            measure('c', 'c1', 'c1', ends_c[1])
            remove(hosts, 'ov1', 'vxlan0', 'c1')
        paths = [('a', 'underlay, host to host (eth0, MTU 1500)', ''),
                 ('b', 'overlay by hand (ip link add ... type vxlan id 256 dstport 4789)',
                  '%.2f s to build' % statistics.median(builds['b'])),
                 ('c', "overlay by the collection's modules (ansible-playbook)",
                  '%.2f s to build' % statistics.median(builds['c']))]

        print('iperf3 TCP, node1 -> node2, %d s per test after %d s omitted, %d tests per cell: median receiver rate in '
              'Gbit/s [min-max]' % (opts.time, opts.omit, opts.repeat))
        print('%-4s %-68s %-20s %-20s' % ('', 'path', '1 stream', '4 streams (-P4)'))
        for key, label, note in paths:
            cells = ['%5.2f [%.2f-%.2f]' % (median(rates[(key, s)]), min(r for r, x in rates[(key, s)]),
                                            max(r for r, x in rates[(key, s)])) for s in (1, 4)]
            print('(%s)  %-68s %-20s %-20s %s' % (key, label, cells[0], cells[1], note))
        for num, den in (('c', 'b'), ('c', 'a'), ('b', 'a')):
            print('ratio (%s)/(%s)  1 stream %.2f   4 streams %.2f' % (
                num, den, median(rates[(num, 1)]) / median(rates[(den, 1)]), median(rates[(num, 4)]) / median(rates[(den, 4)])))
        if device_diff:
            print('attributes that differ between (b) and (c), (b) first: %s' % device_diff)
        else:
            print('(b) and (c) have the same VXLAN, bridge and eth0 attributes (ip -d -j link: vni, port, local, learning, '
                  'ttl, udp csum, MTU, queues, GSO/GRO sizes, STP, snooping)')
        inv.check('every iperf3 test carried data', all(rate > 0 for cell in rates.values() for rate, dummy in cell))
    return inv.report()


if __name__ == '__main__':
    sys.exit(main())
