# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dual-stack bridge networks through site.yml on one lab host: check mode predicts the real run, the kernel holds
the IPv6 addresses (usable at once) and routes, ping -6 by address and by name, isolation over IPv6, a second run
changes nothing, teardown restores the IPv6 forwarding sysctl.

Runs on its own one-host lab (LINUXNET_ITEST_LAB-v6, see labkit.lab_name), started and stopped here. What the kernel
holds is read as JSON (ip -j) from the lab host, never from the modules' own results.
"""

from __future__ import annotations

import json
import os

import pytest

from labkit import ROOT, Lab, lab as lab_cli, lab_name, recording

HOST = 'docker-node1'
SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
TEARDOWN = os.path.join(ROOT, 'playbooks', 'teardown.yml')
CONVERGE = 'Namespaces, bridges, endpoints, overlays, macvlan endpoints, isolation, published ports and the VTEP filter'
FORWARDING6 = '/proc/sys/net/ipv6/conf/all/forwarding'
NETWORKS = [
    {'name': 'front', 'bridge_name': 'br-front', 'subnet': '173.20.0.0/16', 'enable_ipv6': True,
     'ipv6_subnet': 'fd00:db8:20::/64'},
    {'name': 'back', 'bridge_name': 'br-back', 'subnet': '10.77.0.0/24', 'enable_ipv6': True},  # IPv6 subnet picked
    {'name': 'sealed', 'bridge_name': 'br-sealed', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:30::/64', 'internal': True},
    {'name': 'plain', 'bridge_name': 'br-plain', 'subnet': '10.78.0.0/24'},
]
CONTAINERS = [
    {'name': 'web', 'networks': ['front']},
    {'name': 'db', 'networks': [{'name': 'front', 'ipv6_address': 'fd00:db8:20::99', 'aliases': ['sql']}]},
    {'name': 'other', 'networks': ['back']},
    {'name': 'vault', 'networks': ['sealed']},
    {'name': 'legacy', 'networks': ['plain']},
]


@pytest.fixture(scope='module')
def lab():
    name = lab_name('v6')
    lab_cli('down', '--name', name)  # leftovers of an interrupted run
    running = Lab(name, 1)
    try:
        yield running
    finally:
        running.down()


def inventory(lab, tmp_path, containers=CONTAINERS, name='inventory.json'):
    data = json.load(open(lab.inventory))
    data['all']['children']['lab']['hosts'][HOST].update(linuxnet_networks=NETWORKS, linuxnet_containers=containers)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def site(lab, tmp_path, inv, *extra, playbook=SITE):
    """Run a playbook; return (process, {task name: result} of HOST) from the recording callback."""
    record = tmp_path / ('record-%d.jsonl' % len(list(tmp_path.glob('record-*'))))
    proc = lab.playbook(playbook, tmp_path, inventory=inv, extra=list(extra), env=recording(record))
    results = {}
    for line in record.read_text().splitlines() if record.exists() else []:
        entry = json.loads(line)
        if entry['host'] == HOST:  # a role's task is named "ROLE : NAME"
            results[entry['task'].rsplit(' : ', 1)[-1]] = entry['result']
    return proc, results


def ip_json(lab, netns, *args):
    prefix = 'ip -n %s ' % netns if netns else 'ip '
    return json.loads(lab.ssh(HOST, prefix + '-j ' + ' '.join(args)) or '[]')


def global_v6(lab, netns, dev):
    """The global IPv6 addresses of a link, with their flags, as the kernel reports them."""
    return [a for link in ip_json(lab, netns, '-6', 'addr', 'show', 'dev', dev) for a in link['addr_info']
            if a.get('scope') == 'global']


def all_v6(lab, netns):
    """{link: [(address, scope)]} of every IPv6 address in a namespace, links without one left out."""
    return {link['ifname']: [(a['local'], a['scope']) for a in link['addr_info'] if a.get('local')]
            for link in ip_json(lab, netns, '-6', 'addr', 'show') if any(a.get('local') for a in link['addr_info'])}


def sysctl(lab, netns, key):
    return lab.ssh(HOST, 'ip netns exec %s cat /proc/sys/net/ipv6/conf/%s' % (netns, key.replace('.', '/'))).strip()


def pings(lab, netns, target):
    """Whether one ping -6 from namespace ``netns`` to ``target`` (an address or a name from its hosts file) answers."""
    out = lab.ssh(HOST, 'ip netns exec %s ping -6 -n -c 1 -W 2 %s >/dev/null 2>&1; echo $?' % (netns, target))
    return out.strip() == '0'


def test_dual_stack_bridge_networks(lab, tmp_path):
    inv = inventory(lab, tmp_path)
    forwarding_before = lab.ssh(HOST, 'cat %s' % FORWARDING6).strip()

    checked_proc, checked = site(lab, tmp_path, inv, '--check')
    assert checked_proc.returncode == 0, checked_proc.stdout[-4000:]
    assert lab.namespaces(HOST) == [], 'check mode changed the host'
    real_proc, real = site(lab, tmp_path, inv)
    assert real_proc.returncode == 0, real_proc.stdout[-4000:]
    assert checked[CONVERGE]['changed'] and real[CONVERGE]['changed']
    for part, result in real[CONVERGE]['parts'].items():
        assert result['actions'] == checked[CONVERGE]['parts'][part]['actions'], part
    actions = real[CONVERGE]['parts']['bridge']['actions']
    assert any('add address fd00:db8:20::1/64 to' in action for action in actions), actions

    # The bridge holds both gateways; the containers their addresses, usable at once (nodad: never tentative).
    assert [a['local'] for a in global_v6(lab, None, 'br-front')] == ['fd00:db8:20::1']
    web = global_v6(lab, 'web', 'eth0')
    assert [a['local'] for a in web] == ['fd00:db8:20::2'] and web[0]['prefixlen'] == 64
    assert web[0].get('nodad') and not web[0].get('tentative') and not web[0].get('dadfailed')
    assert [a['local'] for a in global_v6(lab, 'db', 'eth0')] == ['fd00:db8:20::99']
    assert [(r['dst'], r['gateway']) for r in ip_json(lab, 'web', '-6', 'route', 'show', 'default')] == [('default', 'fd00:db8:20::1')]
    assert [(r['dst'], r['gateway']) for r in ip_json(lab, 'web', '-4', 'route', 'show', 'default')] == [('default', '173.20.0.1')]
    # back's IPv6 subnet is a /64 of the host's ULA /48 (fd00::/8), its gateway the first address.
    back_gateway = global_v6(lab, None, 'br-back')
    assert len(back_gateway) == 1 and back_gateway[0]['local'].startswith('fd') and back_gateway[0]['prefixlen'] == 64
    other = global_v6(lab, 'other', 'eth0')
    assert len(other) == 1 and other[0]['local'].rsplit(':', 1)[1] == '2'
    # A container on no network with IPv6 gets no IPv6 at all, as in Docker: no ::1 on lo, no fe80:: on eth0, no route.
    assert all_v6(lab, 'legacy') == {} and ip_json(lab, 'legacy', '-6', 'route', 'show') == []
    assert sysctl(lab, 'legacy', 'all.disable_ipv6') == sysctl(lab, 'legacy', 'default.disable_ipv6') == '1'
    # One with IPv6 keeps what the kernel gives: ::1 on lo, a link-local address next to its global one.
    assert all_v6(lab, 'web')['lo'] == [('::1', 'host')]
    assert sorted(scope for _addr, scope in all_v6(lab, 'web')['eth0']) == ['global', 'link']
    assert lab.ssh(HOST, 'cat %s' % FORWARDING6).strip() == '1'

    # Hosts files carry both families; ping -6 by address and by name, at once.
    hosts = lab.ssh(HOST, 'ip netns exec web cat /etc/hosts')
    assert 'fd00:db8:20::99\tdb sql' in hosts and '173.20.0.3\tdb sql' in hosts and 'fd00:db8:20::2\t' in hosts
    assert pings(lab, 'web', 'fd00:db8:20::99')
    assert pings(lab, 'web', 'db') and pings(lab, 'web', 'sql') and pings(lab, 'db', 'web')
    assert pings(lab, 'web', 'fd00:db8:20::1')
    # Isolation between networks and internal hold over IPv6.
    assert not pings(lab, 'web', other[0]['local'])
    assert not pings(lab, 'other', 'fd00:db8:20::2')
    assert not pings(lab, 'vault', 'fd00:db8:20::2')
    assert not pings(lab, 'web', 'fd00:db8:30::2')

    # What network_info reports (docker network inspect).
    info = lab.ansible(HOST, 'linuxnet.container.network_info', {'networks': [{'name': 'front', 'bridge': 'br-front'}]},
                       tmp_path)[HOST][1]
    front = info['networks'][0]
    assert front['EnableIPv6'] is True
    assert front['IPAM']['Config'] == [{'Subnet': '173.20.0.0/16', 'Gateway': '173.20.0.1'},
                                       {'Subnet': 'fd00:db8:20::/64', 'Gateway': 'fd00:db8:20::1'}]
    db = next(ep for ep in info['endpoints'] if ep['container'] == 'db')
    assert (db['GlobalIPv6Address'], db['GlobalIPv6PrefixLen']) == ('fd00:db8:20::99', 64)

    again_proc, again = site(lab, tmp_path, inv)
    assert again_proc.returncode == 0 and not again[CONVERGE]['changed'], again[CONVERGE]
    assert 'changed=0' in again_proc.stdout, again_proc.stdout[-3000:]

    # IPv6 follows the networks: legacy joins front (IPv6 on: ::1, link-local, its global address), other leaves back
    # for plain (IPv6 off, its addresses gone). Check mode predicts it, the second run changes nothing.
    moved = [dict(c, networks=['plain', 'front']) if c['name'] == 'legacy' else
             dict(c, networks=['plain']) if c['name'] == 'other' else c for c in CONTAINERS]
    inv_moved = inventory(lab, tmp_path, moved, name='moved.json')
    checked_proc, checked = site(lab, tmp_path, inv_moved, '--check')
    assert checked_proc.returncode == 0, checked_proc.stdout[-4000:]
    netns_actions = checked[CONVERGE]['parts']['netns']['actions']
    assert any('net.ipv6.conf.all.disable_ipv6=0' in a and 'legacy' in a for a in netns_actions), netns_actions
    assert any('net.ipv6.conf.all.disable_ipv6=1' in a and 'other' in a for a in netns_actions), netns_actions
    assert all_v6(lab, 'legacy') == {}, 'check mode changed legacy'
    real_proc, real = site(lab, tmp_path, inv_moved)
    assert real_proc.returncode == 0, real_proc.stdout[-4000:]
    assert real[CONVERGE]['parts']['netns']['actions'] == netns_actions
    legacy = all_v6(lab, 'legacy')
    assert legacy['lo'] == [('::1', 'host')] and sorted(s for _a, s in legacy['eth1']) == ['global', 'link']
    assert [(r['dst'], r['gateway']) for r in ip_json(lab, 'legacy', '-6', 'route', 'show', 'default')] == [
        ('default', 'fd00:db8:20::1')]
    assert pings(lab, 'legacy', 'web')
    assert all_v6(lab, 'other') == {} and sysctl(lab, 'other', 'all.disable_ipv6') == '1'
    again_proc, again = site(lab, tmp_path, inv_moved)
    assert again_proc.returncode == 0 and not again[CONVERGE]['changed'], again[CONVERGE]

    down_proc, _down = site(lab, tmp_path, inv, playbook=TEARDOWN)
    assert down_proc.returncode == 0, down_proc.stdout[-4000:]
    assert lab.namespaces(HOST) == []
    assert lab.ssh(HOST, 'cat %s' % FORWARDING6).strip() == forwarding_before
