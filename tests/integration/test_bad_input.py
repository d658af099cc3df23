# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bad input (issue 20): site.yml refuses it before any host changes, naming the host, the variable and the fix.

A converged two-host fleet is edited with inventories that used to get through (the hosts changed) or to fail half-way
with the kernel's 'address not available'; every one fails, prints its message, and leaves both hosts as they were:
the same namespaces, the same links on the host and in every namespace."""

from __future__ import annotations

import json

import pytest

from test_playbooks import SITE, TEARDOWN, inventory

NODE1, NODE2 = 'docker-node1', 'docker-node2'
NETS = [{'name': 'front', 'subnet': '10.61.0.0/24'}, {'name': 'ov', 'driver': 'overlay', 'subnet': '10.62.0.0/24'}]
GOOD = {
    NODE1: {'linuxnet_networks': NETS, 'linuxnet_containers': [
        {'name': 'web', 'networks': [{'name': 'front', 'ipv4_address': '10.61.0.5', 'aliases': ['www']}, 'ov']},
        {'name': 'db', 'networks': [{'name': 'front', 'mac_address': '02:00:00:00:61:01'}]}]},
    NODE2: {'linuxnet_networks': NETS, 'linuxnet_containers': [
        {'name': 'app'}, {'name': 'api', 'networks': [{'name': 'ov', 'mac_address': '02:00:00:00:62:01'}]}]},
}


def edit(host, *containers):
    """GOOD with ``containers`` added to ``host``'s."""
    edited = json.loads(json.dumps(GOOD))
    edited[host]['linuxnet_containers'].extend(containers)
    return edited


def edit_networks(host, networks, *containers):
    """GOOD with ``networks`` added to ``host``'s networks and ``containers`` to its containers."""
    edited = edit(host, *containers)
    edited[host]['linuxnet_networks'] = NETS + list(networks)
    return edited


V6 = {'name': 'v6', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:63::/64'}

CASES = [
    # Refused by the kernel half-way before: 'address not available'.
    (edit(NODE2, {'name': 'new', 'networks': [{'name': 'front', 'mac_address': '01:00:5e:00:00:01'}]}),
     'host docker-node2: linuxnet_containers[2] (new): networks[0] (front): mac_address 01:00:5e:00:00:01 is a multicast '
     'address (the low bit of its first octet is set): no interface can hold it (cannot assign requested address). Fix: use '
     'a unicast MAC'),
    (edit(NODE1, {'name': 'new', 'networks': [{'name': 'front', 'mac_address': '00:00:00:00:00:00'}]}),
     'host docker-node1: linuxnet_containers[2] (new): networks[0] (front): mac_address 00:00:00:00:00:00 is all zeros'),
    # Got through before: two endpoints of one segment with one MAC.
    (edit(NODE1, {'name': 'new', 'networks': [{'name': 'front', 'mac_address': '02:00:00:00:61:01'}]}),
     'host docker-node1: linuxnet_containers[2] (new): mac_address 02:00:00:00:61:01 on front is also the MAC of db (its '
     'mac_address). Fix: give every endpoint of front its own MAC'),
    (edit(NODE1, {'name': 'new', 'networks': [{'name': 'front', 'mac_address': '02:42:0a:3d:00:05'}]}),
     "host docker-node1: linuxnet_containers[2] (new): mac_address 02:42:0a:3d:00:05 on front is also the MAC of web (Docker's "
     '02:42 + its address 10.61.0.5)'),
    (edit(NODE1, {'name': 'new', 'networks': [{'name': 'ov', 'mac_address': '02:00:00:00:62:01'}]}),
     'host docker-node2: linuxnet_containers[1] (api): mac_address 02:00:00:00:62:01 on ov is also the MAC of new on host '
     'docker-node1 (its mac_address)'),
    # Aliases: a name the hosts files cannot hold, and one that shadows another container's name.
    (edit(NODE1, {'name': 'new', 'networks': [{'name': 'front', 'aliases': ['my db']}]}),
     "host docker-node1: linuxnet_containers[2] (new): networks[0] (front): alias 'my db' has the label 'my db'"),
    (edit(NODE1, {'name': 'new', 'networks': [{'name': 'front', 'aliases': ['-db']}]}),
     "host docker-node1: linuxnet_containers[2] (new): networks[0] (front): alias '-db' has the label '-db'"),
    (edit(NODE2, {'name': 'new', 'networks': [{'name': 'ov', 'aliases': ['web']}]}),
     'host docker-node2: linuxnet_containers[2] (new): alias web on ov is also the name of container web on host docker-node1'),
    # Names and links in Docker's words.
    (edit(NODE1, {'name': '-new'}), 'host docker-node1: linuxnet_containers[2] (-new): Invalid container name (-new), only '
                                    '[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed'),
    (edit(NODE2, {'name': 'new', 'links': ['app:a:b']}), 'host docker-node2: linuxnet_containers[2] (new): links: bad format '
                                                         'for links: app:a:b'),
    # IPv6 in Docker's words: an invalid CIDR, overlapping IPv6 subnets, a static address without a user IPv6 subnet.
    (edit_networks(NODE1, [dict(V6, ipv6_subnet='fd00:db8:63::/zz')]),
     'host docker-node1: linuxnet_networks[2] (v6): invalid CIDR address: fd00:db8:63::/zz (ipv6_subnet). Fix: write it like '
     'fd00:db8:20::/64'),
    (edit_networks(NODE1, [V6, dict(V6, name='v6b', ipv6_subnet='fd00:db8:63:0:1::/80')]),
     'host docker-node1: linuxnet_networks: ipv6_subnet fd00:db8:63:0:1::/80 of v6b overlaps ipv6_subnet fd00:db8:63::/64 of v6 '
     '(Pool overlaps with other one on this address space)'),
    (edit_networks(NODE1, [{'name': 'v6', 'enable_ipv6': True}], {'name': 'new', 'networks': [
        {'name': 'v6', 'ipv6_address': 'fd00:db8:63::5'}]}),
     'host docker-node1: linuxnet_containers[2] (new): user specified IP address is supported only when connecting to networks '
     'with user configured subnets (ipv6_address fd00:db8:63::5 on v6)'),
    # Valid for the controller; the host's planner refuses it before any host changes: app holds 172.17.0.2 already.
    (edit(NODE2, {'name': 'new', 'networks': [{'name': 'bridge', 'mac_address': '02:42:ac:11:00:02'}]}),
     "host docker-node2: container new: mac_address 02:42:ac:11:00:02 on bridge is also the MAC of app (Docker's 02:42 + "
     'its address 172.17.0.2)'),
]


@pytest.fixture(scope='module')
def lab(lab2):
    """The session's two-host lab (conftest.lab2): its tests leave it as they found it."""
    return lab2


def state(lab_, host):
    """What a host holds: its namespaces, and the links of the host and of every namespace (what a converge would
    change: names, indexes, MTUs, MACs, masters, up or down; not carrier or operstate, which settle on their own for a while
    after a converge)."""
    def links_of(command):
        return [dict({key: link.get(key) for key in ('ifindex', 'ifname', 'mtu', 'address', 'master')},
                     up='UP' in link.get('flags', ())) for link in json.loads(lab_.ssh(host, command))]
    namespaces = lab_.namespaces(host)
    links = {'': links_of('ip -j link')}
    for ns in namespaces:
        links[ns] = links_of('ip -n %s -j link' % ns)
    return namespaces, links


def test_bad_input_fails_before_any_host_changes(lab, tmp_path):
    good = inventory(lab, tmp_path, GOOD)
    proc = lab.playbook(SITE, tmp_path, inventory=good)
    assert proc.returncode == 0, proc.stdout
    try:
        before = {h: state(lab, h) for h in (NODE1, NODE2)}
        assert before[NODE1][0] != [] and before[NODE2][0] != []
        for host_vars, message in CASES:
            proc = lab.playbook(SITE, tmp_path, inventory=inventory(lab, tmp_path, host_vars))
            assert proc.returncode != 0, (message, proc.stdout)
            assert message in proc.stdout, (message, proc.stdout[-4000:])
            assert {h: state(lab, h) for h in (NODE1, NODE2)} == before, message
        # The good inventory (written again: inventory() writes one file) still converges with no change.
        good = inventory(lab, tmp_path, GOOD)
        again = lab.playbook(SITE, tmp_path, inventory=good)
        assert again.returncode == 0 and 'changed=0' in again.stdout and 'changed=1' not in again.stdout, again.stdout
    finally:
        assert lab.playbook(TEARDOWN, tmp_path, inventory=inventory(lab, tmp_path, GOOD)).returncode == 0
