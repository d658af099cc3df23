# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

from ansible_collections.linuxnet.container.plugins.module_utils._inventory import inventory_problems, namespaces_for


def problems(**hosts):
    return inventory_problems(hosts, list(hosts))


def test_valid_inventory_has_no_problems():
    assert problems(n1={'linuxnet_containers': [
        {'name': 'web'}, {'name': 'side', 'network_mode': 'container:web'},
        {'name': 'iso', 'network_mode': 'none'}, {'name': 'h', 'network_mode': 'host'}]}, n2={}) == []


def test_every_problem_is_reported_with_host_variable_and_fix():
    found = problems(
        n1={'linuxnet_containers': [{'name': 'web'}, {'name': 'web'}, {'name': 'a/b'},
                                    {'name': 'x', 'network_mode': 'overlay'},
                                    {'name': 'y', 'network_mode': 'container:ghost'},
                                    {'name': 'z', 'network_mode': 'container:z'}]},
        n2={'linuxnet_state': 'gone', 'linuxnet_containers': {'web': {}}})
    text = '\n'.join(found)
    assert len(found) == 7, text
    assert 'host n1: linuxnet_containers[1] (web): Conflict. The container name "/web" is already in use by linuxnet_containers[0]' in text
    assert "host n1: linuxnet_containers[2] (a/b): namespace name 'a/b' must not contain '/'" in text
    assert "network_mode 'overlay' is not valid. Fix: use bridge, host, none or container:<name>" in text
    assert 'network_mode container:ghost: No such container: ghost. Fix: declare ghost' in text
    assert 'network_mode container:z names the container itself' in text
    assert "host n2: linuxnet_state is 'gone'" in text
    assert 'host n2: linuxnet_containers must be a list' in text
    assert all('Fix:' in p for p in found)


def test_namespaces_for_modes():
    containers = [{'name': 'a'}, {'name': 'b', 'network_mode': 'none'}, {'name': 'c', 'network_mode': 'host'},
                  {'name': 'd', 'network_mode': 'container:a'}]
    assert namespaces_for(containers) == ['a', 'b']
    assert namespaces_for(None) == []


def test_a_network_problem_that_hosts_share_is_printed_once_naming_them():
    shared = [{'name': 'front', 'subnet': '10.0.0.300/24'}]  # group_vars: the same list on every host
    problems = inventory_problems({'a': {'linuxnet_networks': shared}, 'b': {'linuxnet_networks': shared},
                                   'c': {'linuxnet_networks': [{'name': 'other', 'driver': 'nope'}]}}, ['a', 'b', 'c'])
    front = [p for p in problems if '(front)' in p]
    assert len(front) == 1 and front[0].startswith('hosts a, b: linuxnet_networks[0] (front): '), problems
    other = [p for p in problems if '(other)' in p]
    assert len(other) == 1 and other[0].startswith('host c: linuxnet_networks[0] (other): '), problems
    # Problems of one host's own containers keep their line each.
    per_host = inventory_problems({'a': {'linuxnet_containers': [{'name': 'x', 'network_mode': 'container:nope'}]},
                                   'b': {'linuxnet_containers': [{'name': 'x', 'network_mode': 'container:nope'}]}}, ['a', 'b'])
    assert [p.split(':')[0] for p in per_host] == ['host a', 'host b'], per_host
