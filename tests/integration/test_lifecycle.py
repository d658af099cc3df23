# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The edits a user makes to the inventory of a live fleet, one after another on the same two hosts.

Every edit goes through site.yml three times: check mode first, whose predicted actions must be exactly the
real run's, host by host and part by part; the real run, which must change something; and a second real run,
which must change nothing. After each edit the kernels (link dumps, routes, nft tables, FDB entries) and traffic
show the result."""

from __future__ import annotations

import copy
import json
import re

import pytest

from labkit import recording
from test_playbooks import SITE, TEARDOWN, inventory

H1, H2 = 'docker-node1', 'docker-node2'
NETS = [{'name': 'front', 'subnet': '10.80.0.0/24'}, {'name': 'back', 'subnet': '10.81.0.0/24'},
        {'name': 'ov', 'driver': 'overlay', 'subnet': '10.82.0.0/24'}]


@pytest.fixture(scope='module')
def life(lab2):
    """The session's two-host lab (conftest.lab2): every test here tears down what it converged."""
    return lab2


def base():
    return {
        H1: {'linuxnet_networks': NETS, 'linuxnet_containers': [
            {'name': 'a', 'networks': [{'name': 'front', 'ipv4_address': '10.80.0.5', 'aliases': ['alpha']}]},
            {'name': 'b', 'networks': ['front'], 'ports': ['8080:80']},
            {'name': 'd'},
            {'name': 'e', 'links': ['d']},
            {'name': 'o1', 'networks': ['ov']},
        ]},
        H2: {'linuxnet_networks': NETS, 'linuxnet_containers': [{'name': 'c'}, {'name': 'o2', 'networks': ['ov']}]},
    }


def container(host_vars, host, name):
    return next(c for c in host_vars[host]['linuxnet_containers'] if c['name'] == name)


def changed_tasks(out):
    """The tasks of a playbook's output that reported a change, with what they said."""
    tasks = re.split(r'\n(?=TASK \[)', out)
    return '\n'.join(task for task in tasks if 'changed: [' in task)


class Fleet:
    """site.yml runs against the lab with an inventory the test edits."""

    def __init__(self, lab, tmp_path):
        self.lab, self.tmp_path, self.runs = lab, tmp_path, 0

    def converge(self, host_vars, check=False, hosts=None):
        """Run site.yml; return {(host, task, part): actions} of every host_network call, and the output."""
        inv = inventory(self.lab, self.tmp_path, host_vars)
        if hosts is not None:  # a host that left the inventory
            data = json.load(open(inv))
            lab_hosts = data['all']['children']['lab']['hosts']
            data['all']['children']['lab']['hosts'] = {h: v for h, v in lab_hosts.items() if h in hosts}
            with open(inv, 'w') as handle:
                json.dump(data, handle)
        self.runs += 1
        record = self.tmp_path / ('site-%d.jsonl' % self.runs)
        proc = self.lab.playbook(SITE, self.tmp_path, inventory=inv, extra=['--diff'] + (['--check'] if check else []),
                                 env=recording(record))
        assert proc.returncode == 0, '%s\n%s' % (proc.stdout[-6000:], proc.stderr[-2000:])
        actions = {}
        for line in record.read_text().splitlines():
            entry = json.loads(line)
            for part, result in (entry['result'].get('parts') or {}).items():
                actions[(entry['host'], entry['task'], part)] = result.get('actions', [])
        return actions, proc.stdout

    def edit(self, host_vars, hosts=None):
        """Check mode, the real run, and the real run again; return the real run's actions."""
        checked, _out = self.converge(host_vars, check=True, hosts=hosts)
        real, out = self.converge(host_vars, hosts=hosts)
        assert real == checked, 'check mode predicted\n%s\nthe real run did\n%s' % (
            json.dumps({str(k): v for k, v in checked.items() if v}, indent=1),
            json.dumps({str(k): v for k, v in real.items() if v}, indent=1))
        assert any(real.values()) and re.search(r'changed=[1-9]', out), out
        again, out = self.converge(host_vars, hosts=hosts)
        assert not any(again.values()), {str(k): v for k, v in again.items() if v}
        assert not re.search(r'changed=[1-9]', out), changed_tasks(out)
        return {k: v for k, v in real.items() if v}


def ns(lab, host, name, command):
    return lab.ssh(host, 'ip netns exec %s %s' % (name, command))


def reach(lab, host, name, command):
    return lab.ssh(host, 'ip netns exec %s %s >/dev/null 2>&1 && echo yes || echo no' % (name, command)).strip() == 'yes'


def eth(lab, host, name):
    """A container's one interface (besides lo) as the kernel reports it: name, MAC, IPv4 addresses, default route."""
    link = next(x for x in json.loads(ns(lab, host, name, 'ip -j addr show')) if x['ifname'] != 'lo')
    routes = json.loads(ns(lab, host, name, 'ip -j route show dev %s' % link['ifname']))
    return {'ifname': link['ifname'], 'mac': link['address'],
            'addresses': sorted('%s/%d' % (a['local'], a['prefixlen']) for a in link['addr_info'] if a['family'] == 'inet'),
            'default': [r.get('gateway') for r in routes if r['dst'] == 'default']}


def overlay_ns(lab, host):
    return next(n for n in lab.namespaces(host) if n.startswith('1-'))


def remote_vteps(lab, host):
    """The underlay addresses the host's overlay VXLAN device sends to (its FDB), read from the kernel."""
    fdb = json.loads(ns(lab, host, overlay_ns(lab, host), 'bridge -j fdb show dev vxlan0'))
    return sorted({e['dst'] for e in fdb if e.get('dst')})


def test_every_edit_of_a_live_fleet_converges_and_is_predicted(life, tmp_path):
    fleet = Fleet(life, tmp_path)
    hv = base()
    try:
        fleet.edit(hv)
        assert eth(life, H1, 'a') == {'ifname': 'eth0', 'mac': '02:42:0a:50:00:05', 'addresses': ['10.80.0.5/24'], 'default': ['10.80.0.1']}
        assert reach(life, H1, 'b', 'ping -c1 -W1 alpha') and reach(life, H1, 'e', 'ping -c1 -W1 d')
        assert reach(life, H1, 'o1', 'ping -c1 -W1 o2') and remote_vteps(life, H1) == ['192.0.2.12']

        # A static address changes: the old one goes (its secondaries would go with it), the route stays.
        container(hv, H1, 'a')['networks'][0]['ipv4_address'] = '10.80.0.9'
        done = fleet.edit(hv)
        assert any('remove address 10.80.0.5/24' in a for acts in done.values() for a in acts), done
        assert eth(life, H1, 'a') == {'ifname': 'eth0', 'mac': '02:42:0a:50:00:09', 'addresses': ['10.80.0.9/24'], 'default': ['10.80.0.1']}
        assert ns(life, H1, 'b', 'getent hosts a').split()[0] == '10.80.0.9'
        assert reach(life, H1, 'b', 'ping -c1 -W1 a') and reach(life, H1, 'a', 'ping -c1 -W1 10.80.0.1')

        # A MAC address set by the user and an alias renamed, in one edit (each edit is three site.yml runs).
        container(hv, H1, 'a')['networks'][0]['mac_address'] = '02:42:0a:50:00:99'
        container(hv, H1, 'a')['networks'][0]['aliases'] = ['beta']
        done = fleet.edit(hv)
        assert any('02:42:0a:50:00:99' in a for acts in done.values() for a in acts), done
        assert eth(life, H1, 'a')['mac'] == '02:42:0a:50:00:99'
        assert reach(life, H1, 'b', 'ping -c1 -W1 a') and reach(life, H1, 'b', 'ping -c1 -W1 beta')
        assert not reach(life, H1, 'b', 'getent hosts alpha')

        # A link dropped: e no longer resolves d (default network: only links resolve); and, in the same edit, a
        # published port moves: the old one is gone from the kernel's table, the new one answers from the other host.
        container(hv, H1, 'e')['links'] = []
        container(hv, H1, 'b')['ports'] = ['8081:80']
        fleet.edit(hv)
        assert not reach(life, H1, 'e', 'getent hosts d') and reach(life, H1, 'e', 'ping -c1 -W1 172.17.0.1')
        table = life.ssh(H1, 'nft -j list table ip linuxnet_ports')
        assert '8081' in table and '8080' not in table
        server = int(life.ssh(H1, 'ip netns exec b setsid python3 -m http.server 80 --bind 0.0.0.0 >/dev/null 2>&1 '
                                  '< /dev/null & echo $!'))
        try:
            life.ssh(H1, 'for i in $(seq 50); do ip netns exec b curl -s -m1 -o /dev/null http://127.0.0.1/ && exit 0; '
                         'sleep 0.1; done; exit 1')
            assert reach(life, H2, 'c', 'curl -s -m2 -o /dev/null http://192.0.2.11:8081/')
            assert not reach(life, H2, 'c', 'curl -s -m2 -o /dev/null http://192.0.2.11:8080/')
        finally:
            life.ssh(H1, 'kill %d' % server)

        # A container moves to another network: a new endpoint there (eth1, as after docker network disconnect and
        # connect: the interfaces a container keeps are never renamed), nothing left on the old one.
        container(hv, H1, 'a')['networks'] = ['back']
        fleet.edit(hv)
        moved = eth(life, H1, 'a')
        assert moved['ifname'] == 'eth1', moved
        assert moved['addresses'][0].startswith('10.81.0.') and moved['default'] == ['10.81.0.1'], moved
        assert not reach(life, H1, 'b', 'ping -c1 -W1 %s' % moved['addresses'][0].split('/')[0])
        assert reach(life, H1, 'a', 'ping -c1 -W1 10.81.0.1')

        # A network and a container on it come, then both go; a container goes.
        hv[H1]['linuxnet_networks'] = NETS + [{'name': 'extra', 'subnet': '10.83.0.0/24'}]
        hv[H1]['linuxnet_containers'].append({'name': 'x', 'networks': ['extra']})
        fleet.edit(hv)
        assert reach(life, H1, 'x', 'ping -c1 -W1 10.83.0.1')
        bridges = {link['ifname'] for link in json.loads(life.ssh(H1, 'ip -j link show type bridge'))}
        hv[H1]['linuxnet_networks'] = NETS
        hv[H1]['linuxnet_containers'] = [c for c in hv[H1]['linuxnet_containers'] if c['name'] not in ('x', 'd')]
        fleet.edit(hv)
        after = {link['ifname'] for link in json.loads(life.ssh(H1, 'ip -j link show type bridge'))}
        assert len(bridges - after) == 1 and '10.83.0.1' not in life.ssh(H1, 'ip -br addr')
        assert 'x' not in life.namespaces(H1) and 'd' not in life.namespaces(H1)

        # A host leaves the inventory: the other one forgets its VTEP (FDB, filter); it comes back, and so do they.
        far = eth(life, H2, 'o2')['addresses'][0].split('/')[0]
        fleet.edit(hv, hosts=[H1])
        assert remote_vteps(life, H1) == []
        assert '192.0.2.12' not in life.ssh(H1, 'nft -j list table inet linuxnet_vtep')
        assert not reach(life, H1, 'o1', 'ping -c1 -W1 %s' % far)
        fleet.edit(hv)
        assert remote_vteps(life, H1) == ['192.0.2.12'] and reach(life, H1, 'o1', 'ping -c1 -W1 o2')

        # The last overlay container leaves a host: its overlay namespace and VTEP filter go, and the record of the
        # overlay call with them in the same run (the next run skips that call: it must find nothing to change).
        hv[H2]['linuxnet_containers'] = [c for c in hv[H2]['linuxnet_containers'] if c['name'] != 'o2']
        fleet.edit(hv)
        assert not [n for n in life.namespaces(H2) if n.startswith('1-')]
        assert 'linuxnet_vtep' not in life.ssh(H2, 'nft -j list tables')
        record = json.loads(life.ssh(H2, 'cat /var/lib/linuxnet-container/desired.json'))
        assert [r['name'] for r in record['records']] == ['bridge_network'], record
        assert remote_vteps(life, H1) == []
    finally:
        assert life.playbook(TEARDOWN, tmp_path, inventory=inventory(life, tmp_path, copy.deepcopy(hv))).returncode == 0


def kernel_state(lab, host):
    """What a converge sets on a host, as the kernel reports it: per link (host, every namespace) its MTU, MAC, up,
    master, hairpin, addresses and routes; sysctls; hosts and resolv.conf files; FDB entries; nftables (no handles)."""
    def links(prefix):
        found = {}
        for link in json.loads(lab.ssh(host, '%sip -j -d addr show' % prefix)):
            slave = (link.get('linkinfo') or {}).get('info_slave_data') or {}
            found[link['ifname'].split('@')[0]] = {
                'mtu': link['mtu'], 'mac': link.get('address'), 'up': 'UP' in link['flags'], 'master': link.get('master'),
                'hairpin': slave.get('hairpin'),
                'addresses': sorted('%s/%d' % (a['local'], a['prefixlen']) for a in link['addr_info']
                                    if not a['local'].startswith('fe80'))}
        found['routes'] = sorted(json.dumps(r, sort_keys=True) for r in json.loads(lab.ssh(host, '%sip -j route' % prefix)))
        return found
    state = {'': links('')}
    for name in lab.namespaces(host):
        state[name] = links('ip netns exec %s ' % name)
        state[name]['files'] = lab.ssh(host, 'cat /etc/netns/%s/hosts /etc/netns/%s/resolv.conf 2>/dev/null; true' % (name, name))
        if name.startswith('1-'):
            state[name]['fdb'] = sorted(json.dumps(e, sort_keys=True) for e in json.loads(lab.ssh(
                host, 'ip netns exec %s bridge -j fdb show dev vxlan0' % name)) if e.get('dst'))
            state[name]['neigh'] = lab.ssh(host, 'ip netns exec %s ip neigh show dev vxlan0 nud permanent' % name)
    state['sysctl'] = lab.ssh(host, 'sysctl -n net.ipv4.ip_forward net.bridge.bridge-nf-call-iptables')
    ruleset = json.loads(lab.ssh(host, 'nft -j list ruleset'))['nftables']
    state['nft'] = sorted(json.dumps({k: {f: v for f, v in body.items() if f != 'handle'} for k, body in item.items()},
                                     sort_keys=True) for item in ruleset if 'metainfo' not in item)
    return state
