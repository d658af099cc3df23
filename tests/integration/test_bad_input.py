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
    """What a host holds: its namespaces, and the links of the host and of every namespace."""
    namespaces = lab_.namespaces(host)
    links = {'': json.loads(lab_.ssh(host, 'ip -j link'))}
    for ns in namespaces:
        links[ns] = json.loads(lab_.ssh(host, 'ip -n %s -j link' % ns))
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
