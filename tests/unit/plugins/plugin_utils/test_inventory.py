# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.inventory import inventory_problems
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.names import namespaces_for


def problems(**hosts):
    found = inventory_problems(hosts, list(hosts))
    # Every message of every test here: one fix, said once (issue 20: one message had two Fix: clauses).
    assert all(p.count('Fix:') <= 1 for p in found), [p for p in found if p.count('Fix:') > 1]
    return found


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


# -- issue 20: bad input that got through (the hosts changed) or failed half-way with a kernel message
NETS = [{'name': 'front', 'subnet': '10.10.0.0/24'}, {'name': 'back'},
        {'name': 'ov', 'driver': 'overlay', 'subnet': '10.20.0.0/24'},
        {'name': 'mv', 'driver': 'macvlan', 'subnet': '198.51.100.0/24', 'parent': 'eth0'}]


def on(network, **endpoint):
    return {'name': network, **endpoint}


def host(*containers, networks=None):
    return {'linuxnet_networks': NETS if networks is None else networks, 'linuxnet_containers': list(containers)}


def assert_only(found, *messages):
    """Exactly one problem per message, each containing it, each with a fix."""
    text = '\n'.join(found)
    assert len(found) == len(messages), text
    for message in messages:
        assert message in text, text
    assert all('Fix:' in p for p in found), text


@pytest.mark.parametrize('mac, why', [
    ('01:00:5e:00:00:01', 'is a multicast address (the low bit of its first octet is set)'),
    ('07:51:9A:4D:8F:30', 'is a multicast address (the low bit of its first octet is set)'),
    ('33-33-00-00-00-01', 'is a multicast address (the low bit of its first octet is set)'),
    ('ff:ff:ff:ff:ff:ff', 'is a broadcast address'),
    ('00:00:00:00:00:00', 'is all zeros'),
])
def test_a_mac_no_interface_can_hold_is_refused_before_the_kernel_refuses_it(mac, why):
    found = problems(n1=host({'name': 'web', 'networks': [on('front', mac_address=mac)]}))
    normal = mac.lower().replace('-', ':')
    assert found == ['host n1: linuxnet_containers[0] (web): networks[0] (front): mac_address %s %s: no interface can hold it '
                     '(cannot assign requested address). Fix: use a unicast MAC, whose first octet is even, like '
                     '02:42:ac:11:00:02' % (normal, why)]


@pytest.mark.parametrize('mac', ['02:42:ac:11:00', '02:42:ac:11:00:zz', '02:42:ac:11:00:02:03', '0242ac110002', 12, ''])
def test_a_mac_that_is_not_six_hex_octets_is_refused(mac):
    found = problems(n1=host({'name': 'web', 'networks': [on('front', mac_address=mac)]}))
    assert found == ['host n1: linuxnet_containers[0] (web): networks[0] (front): invalid MAC address %s. Fix: write it like '
                     '02:42:ac:11:00:02' % mac]


@pytest.mark.parametrize('containers, message', [
    # the same mac_address twice on one bridge network of a host
    ([{'name': 'a', 'networks': [on('front', mac_address='02:00:00:00:00:01')]},
      {'name': 'b', 'networks': [on('front', mac_address='02:00:00:00:00:01')]}],
     'host n1: linuxnet_containers[1] (b): mac_address 02:00:00:00:00:01 on front is also the MAC of a (its mac_address). '
     'Fix: give every endpoint of front its own MAC, or drop mac_address (Docker derives one from the address)'),
    ([{'name': 'a', 'networks': [on('back', mac_address='02:00:00:00:00:01')]},
      {'name': 'b', 'networks': ['front', on('back', mac_address='02:00:00:00:00:01')]}],
     'host n1: linuxnet_containers[1] (b): mac_address 02:00:00:00:00:01 on back is also the MAC of a (its mac_address)'),
    # the MAC Docker derives for another endpoint's static address (02:42 + IPv4)
    ([{'name': 'a', 'networks': [on('front', ipv4_address='10.10.0.5')]},
      {'name': 'b', 'networks': [on('front', mac_address='02:42:0A:0A:00:05')]}],
     "host n1: linuxnet_containers[1] (b): mac_address 02:42:0a:0a:00:05 on front is also the MAC of a (Docker's 02:42 + "
     'its address 10.10.0.5)'),
    # the gateway's, which is the bridge's own MAC
    ([{'name': 'b', 'networks': [on('front', mac_address='02:42:0a:0a:00:01')]}],
     'host n1: linuxnet_containers[0] (b): mac_address 02:42:0a:0a:00:01 on front is also the MAC of the gateway 10.10.0.1 '
     '(the MAC of its bridge)'),
])
def test_a_mac_two_endpoints_of_a_bridge_network_would_share_is_refused(containers, message):
    assert_only(problems(n1=host(*containers)), message)


def test_macs_of_separate_segments_and_an_endpoints_own_address_are_no_clash():
    mac = '02:00:00:00:00:01'
    assert problems(
        # one MAC on two networks of a container, and on the bridge networks of two hosts (each its own segment)
        n1=host({'name': 'a', 'networks': [on('front', mac_address=mac), on('back', mac_address=mac)]}),
        n2=host({'name': 'b', 'networks': [on('front', mac_address=mac)]}),
        # a static address and the MAC Docker derives for it, on one endpoint; a MAC outside the subnet's 02:42 range
        n3=host({'name': 'c', 'networks': [on('front', ipv4_address='10.10.0.5', mac_address='02:42:0a:0a:00:05')]},
                {'name': 'd', 'networks': [on('front', mac_address='02:42:0a:0b:00:01')]})) == []


@pytest.mark.parametrize('n1, n2, message', [
    ([{'name': 'a', 'networks': [on('ov', mac_address='02:00:00:00:00:01')]}],
     [{'name': 'b', 'networks': [on('ov', mac_address='02:00:00:00:00:01')]}],
     'host n2: linuxnet_containers[0] (b): mac_address 02:00:00:00:00:01 on ov is also the MAC of a on host n1 (its mac_address)'),
    ([{'name': 'a', 'networks': [on('mv', mac_address='02:00:00:00:00:01')]}],
     [{'name': 'x'}, {'name': 'b', 'networks': [on('mv', mac_address='02:00:00:00:00:01')]}],
     'host n2: linuxnet_containers[1] (b): mac_address 02:00:00:00:00:01 on mv is also the MAC of a on host n1 (its mac_address)'),
    ([{'name': 'a', 'networks': [on('ov', ipv4_address='10.20.0.9')]}],
     [{'name': 'b', 'networks': [on('ov', mac_address='02:42:0a:14:00:09')]}],
     "host n2: linuxnet_containers[0] (b): mac_address 02:42:0a:14:00:09 on ov is also the MAC of a on host n1 (Docker's 02:42 "
     '+ its address 10.20.0.9)'),
    # two macvlan children of one parent with one MAC: refused on the controller, not by the kernel half-way
    ([{'name': 'a', 'networks': [on('mv', mac_address='02:00:00:00:00:07')]},
      {'name': 'b', 'networks': [on('mv', mac_address='02:00:00:00:00:07')]}], [],
     'host n1: linuxnet_containers[1] (b): mac_address 02:00:00:00:00:07 on mv is also the MAC of a on host n1 (its mac_address)'),
])
def test_a_mac_two_endpoints_of_an_overlay_or_macvlan_network_would_share_anywhere_in_the_fleet_is_refused(n1, n2, message):
    assert_only(problems(n1=host(*n1), n2=host(*n2)), message)


@pytest.mark.parametrize('alias, why', [
    ('my db', "has the label 'my db'"),
    ('-db', "has the label '-db'"),
    ('db#1', "has the label 'db#1'"),
    ('db..internal', 'has an empty label'),
    ('x' * 64, 'has a label of 64 characters'),
    ('.'.join(['x' * 50] * 5), 'is 254 characters long; a DNS name has at most 253'),
])
def test_an_alias_a_hosts_file_cannot_hold_is_refused(alias, why):
    found = problems(n1=host({'name': 'web', 'networks': [on('front', aliases=['ok', alias])]}))
    assert len(found) == 1 and found[0].startswith('host n1: linuxnet_containers[0] (web): networks[0] (front): alias %r %s'
                                                   % (alias, why)), found
    assert found[0].endswith(', so it cannot be a name in the hosts files. Fix: use letters, digits, - and _ in dot-separated '
                             'labels of at most 63 characters, like db or db.internal'), found


@pytest.mark.parametrize('aliases', ['db', [''], [None], ['db', 5], {'db': 1}])
def test_aliases_that_are_not_a_list_of_names_are_refused(aliases):
    found = problems(n1=host({'name': 'web', 'networks': [on('front', aliases=aliases)]}))
    assert found == ['host n1: linuxnet_containers[0] (web): networks[0] (front): aliases must be a list of names. '
                     'Fix: write them like [db, db.internal]']


@pytest.mark.parametrize('hosts, message', [
    ({'n1': host({'name': 'db', 'networks': ['front']}, {'name': 'cache', 'networks': [on('front', aliases=['db'])]})},
     "host n1: linuxnet_containers[1] (cache): alias db on front is also the name of container db, so that name would "
     "resolve to cache in some hosts files (Docker's DNS answers both addresses). Fix: give cache another alias"),
    ({'n1': host({'name': 'cache', 'networks': [on('back', aliases=['www', 'db'])]}, {'name': 'db', 'networks': ['back']})},
     'host n1: linuxnet_containers[0] (cache): alias db on back is also the name of container db, so'),
    ({'n1': host({'name': 'db', 'networks': ['ov']}), 'n2': host({'name': 'cache', 'networks': [on('ov', aliases=['db'])]})},
     'host n2: linuxnet_containers[0] (cache): alias db on ov is also the name of container db on host n1, so that name '
     'would resolve to cache'),
])
def test_an_alias_that_is_another_containers_name_on_the_network_is_refused(hosts, message):
    assert_only(inventory_problems(hosts, list(hosts)), message)


def test_aliases_docker_accepts_are_accepted():
    # One alias on several containers (Docker's round-robin names), a container's own name as its alias, a name that is
    # an alias on another network only, and on another host's bridge network.
    assert problems(n1=host({'name': 'w1', 'networks': [on('front', aliases=['www', 'w1', 'db'])]},
                            {'name': 'w2', 'networks': [on('front', aliases=['www', 'web.internal'])]},
                            {'name': 'db', 'networks': ['back']}),
                    n2=host({'name': 'w1', 'networks': ['front']}, {'name': 'x', 'networks': [on('front', aliases=['w2'])]})) == []


@pytest.mark.parametrize('name', ['-web', '.web', '_web', 'web:1', 'wéb', 'web+1', 'web@x'])
def test_a_container_name_docker_refuses_is_refused(name):
    found = problems(n1=host({'name': name}))
    assert found == ['host n1: linuxnet_containers[0] (%s): Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are '
                     'allowed. Fix: use a plain name like web1' % (name, name)]


def test_container_names_docker_accepts_are_accepted():
    assert problems(n1=host(*[{'name': n} for n in ('w', 'web1', 'Web_1', 'web.1', 'web-1', '1web', 'a' * 200)])) == []


@pytest.mark.parametrize('links, message', [
    ('db', 'links must be a list of container names. Fix: write them like [db, db:database]'),
    ([''], 'links: empty string specified for links. Fix: write each link as NAME or NAME:ALIAS'),
    ([None], 'links: empty string specified for links. Fix: write each link as NAME or NAME:ALIAS'),
    ([{'db': 'x'}], "links: {'db': 'x'} is not a string. Fix: write each link as NAME or NAME:ALIAS"),
    (['db:x:y'], 'links: bad format for links: db:x:y. Fix: write it as NAME or NAME:ALIAS'),
    (['db:my db'], "links: alias 'my db' of db:my db has the label 'my db'"),
    (['db:-x'], "links: alias '-x' of db:-x has the label '-x'"),
    (['ghost'], 'links: could not get container for ghost. Fix: declare ghost on this host or drop the link'),
])
def test_links_docker_refuses_are_refused(links, message):
    found = problems(n1=host({'name': 'db'}, {'name': 'web', 'links': links}))
    assert_only(found, 'host n1: linuxnet_containers[1] (web): ' + message)


@pytest.mark.parametrize('network, message', [
    ({'name': 'x', 'mtu': 1500.5}, 'mtu 1500.5 is not a whole number in range (68-65535). Fix: use a number like 1500'),
    ({'name': 'x', 'mtu': '1500.5'}, "mtu '1500.5' is not a whole number in range (68-65535)"),
    ({'name': 'x', 'mtu': True}, 'mtu True is not a whole number in range (68-65535)'),
    ({'name': 'x', 'mtu': [1500]}, 'mtu [1500] is not a whole number in range (68-65535)'),
    ({'name': 'x', 'mtu': 67}, 'mtu 67 is not a whole number in range (68-65535)'),
    ({'name': 'x', 'mtu': 65536}, 'mtu 65536 is not a whole number in range (68-65535)'),
    ({'name': 'x', 'subnet': '224.1.0.0/16'}, "multicast subnet '224.1.0.0/16' is not allowed. Fix: use a unicast subnet"),
    ({'name': 'x', 'driver': 'overlay', 'subnet': '239.0.0.0/24'}, "multicast subnet '239.0.0.0/24' is not allowed"),
    ({'name': 'x', 'driver': 'macvlan', 'subnet': '10.5.0.0/24', 'parent': 'eth0 '},
     "parent 'eth0 ': interface name 'eth0 ' must not be '.' or '..' nor contain '/', ':' or white space. Fix: name the host "
     'interface, like eth0'),
    ({'name': 'x', 'driver': 'macvlan', 'subnet': '10.5.0.0/24', 'parent': 'a-very-long-parent'},
     "parent 'a-very-long-parent': interface name 'a-very-long-parent' is 18 bytes; Linux allows at most 15. Fix: name the host"),
    ({'name': 'x', 'driver': 'macvlan', 'subnet': '10.5.0.0/24', 'parent': 7}, 'parent 7: must be a string. Fix: name the host'),
])
def test_network_keys_the_kernel_refuses_are_refused(network, message):
    assert_only(problems(n1=host(networks=[network])), 'host n1: linuxnet_networks[0] (x): ' + message)


def test_whole_number_mtus_are_accepted():
    assert problems(n1=host(networks=[{'name': 'x', 'mtu': 1400}, {'name': 'y', 'mtu': '9000'}, {'name': 'z', 'mtu': 1500.0}])) == []


def test_a_bridge_name_too_long_or_with_a_slash_gets_one_fix():
    found = problems(n1={'linuxnet_networks': [{'name': 'a', 'bridge_name': 'br-much-too-long-0'},
                                               {'name': 'b', 'bridge_name': 'br/x'}]})
    assert len(found) == 2, found
    assert all('bridge_name' in p and p.endswith('Fix: use at most 15 bytes of letters, digits, - and _') for p in found), found
