# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bridge_network planner and the inventory validation behind it (docs/examples/s2-default-bridge.md to s7-published-ports.md)."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.fleet import PlanError, plan_host
from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import bridge_name, container_id, host_veth_name
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.topology import host_problems

NETS = [
    {'name': 'test_net1'},
    {'name': 'test_net2', 'subnet': '173.20.0.0/16', 'gateway': '173.20.0.1'},
]


def plan(containers, networks=None, facts=None, state='present'):
    hv = {'linuxnet_networks': NETS if networks is None else networks, 'linuxnet_containers': containers}
    assert host_problems('n1', hv) == []
    return plan_host('n1', hv, facts or {}, state)


def addresses(result):
    return {(p['peer']['namespace'], p['peer']['name']): p['peer']['addresses'][0] for p in result['pairs'] if 'peer' in p}


def test_default_network_is_docker0_with_docker_macs_and_a_default_route():
    result = plan([{'name': 'c1'}, {'name': 'c2'}])
    assert result['bridges'] == [{'name': 'docker0', 'addresses': ['172.17.0.1/16'], 'purge_addresses': True,
                                  'mac': '02:42:ac:11:00:01', 'mtu': 1500}]  # fixed MAC: never the lowest port's
    first = result['pairs'][0]
    assert first['name'] == host_veth_name('c1', 'bridge') and first['master'] == 'docker0' and first['hairpin']
    assert first['mtu'] == 1500  # always set, so that an MTU changed by hand is repaired
    assert first['peer'] == {'name': 'eth0', 'namespace': 'c1', 'addresses': ['172.17.0.2/16'], 'mac': '02:42:ac:11:00:02',
                             'routes': [{'dst': 'default', 'gateway': '172.17.0.1'}]}
    assert addresses(result)[('c2', 'eth0')] == '172.17.0.3/16'
    assert result['isolation'] == [{'bridge': 'docker0', 'subnet': '172.17.0.0/16', 'icc': True, 'masquerade': True,
                                    'internal': False}]


def test_default_network_only_resolves_links():
    result = plan([{'name': 'test1'}, {'name': 'test2', 'links': ['test1']}])
    hosts = {ns['name']: ns['hosts'] for ns in result['namespaces']}
    assert hosts['test1'] == [{'address': '172.17.0.2', 'names': [container_id('test1')[:12], 'test1']}]
    assert {'address': '172.17.0.2', 'names': ['test1', container_id('test1')[:12]]} in hosts['test2']


def test_user_networks_pick_free_pools_and_resolve_names_and_aliases():
    result = plan([{'name': 'a', 'networks': ['test_net1']},
                   {'name': 'b', 'networks': [{'name': 'test_net1', 'aliases': ['www']}]}],
                  facts={'routes': [{'dst': '172.18.0.0/16', 'dev': 'eth9'}, {'dst': 'default', 'dev': 'eth0'}]})
    bridge = result['bridges'][0]
    assert bridge['name'] == bridge_name('test_net1') and len(bridge['name']) == 15
    assert bridge['addresses'] == ['172.19.0.1/16']  # 172.18 is routed on the host
    hosts = {ns['name']: ns['hosts'] + result['hosts_sets'][ns['hosts_set']] for ns in result['namespaces']}
    assert {'address': '172.19.0.3', 'names': ['b', 'www']} in hosts['a']
    assert {'address': '172.19.0.2', 'names': ['a']} in hosts['b']
    # one shared set for both: the netns arguments grow with the containers, not their square
    assert list(result['hosts_sets']) == ['test_net1']


def test_default_subnet_moves_when_taken_and_pools_run_out():
    result = plan([{'name': 'c1'}], facts={'routes': [{'dst': '172.16.0.0/12', 'dev': 'eth0'}]})
    assert result['bridges'][0]['addresses'] == ['192.168.0.1/20']
    routes = [{'dst': '172.16.0.0/12', 'dev': 'eth0'}, {'dst': '192.168.0.0/16', 'dev': 'eth1'}]
    with pytest.raises(PlanError, match='network bridge: could not find an available, non-overlapping IPv4 address pool'):
        plan([{'name': 'c1'}], facts={'routes': routes})


def test_existing_bridge_keeps_its_subnet_even_if_pools_would_pick_another():
    facts = {'networks': [{'Name': 'test_net1', 'Exists': True, 'Options': {'com.docker.network.bridge.name': bridge_name('test_net1')},
                           'IPAM': {'Config': [{'Subnet': '172.30.0.0/16', 'Gateway': '172.30.0.1'}]}}],
             'routes': [{'dst': '172.30.0.0/16', 'dev': bridge_name('test_net1')}]}
    result = plan([{'name': 'a', 'networks': ['test_net1']}], facts=facts)
    assert result['bridges'][0]['addresses'] == ['172.30.0.1/16']
    assert addresses(result)[('a', 'eth0')] == '172.30.0.2/16'


def test_addresses_are_stable_when_containers_are_added_anywhere():
    before = plan([{'name': 'a', 'networks': ['test_net2']}, {'name': 'b', 'networks': ['test_net2']}])
    assert addresses(before) == {('a', 'eth0'): '173.20.0.2/16', ('b', 'eth0'): '173.20.0.3/16'}
    facts = {'endpoints': [{'container': 'a', 'network': 'test_net2', 'addresses': ['173.20.0.2/16'], 'host_ifname': 'x'},
                           {'container': 'b', 'network': 'test_net2', 'addresses': ['173.20.0.3/16'], 'host_ifname': 'y'}]}
    after = plan([{'name': 'new', 'networks': ['test_net2']}, {'name': 'b', 'networks': ['test_net2']},
                  {'name': 'a', 'networks': ['test_net2']}], facts=facts)
    assert addresses(after) == {('a', 'eth0'): '173.20.0.2/16', ('b', 'eth0'): '173.20.0.3/16', ('new', 'eth0'): '173.20.0.4/16'}


def test_static_addresses_are_reserved_first_and_ip_range_is_honoured():
    nets = [{'name': 'n', 'subnet': '10.9.0.0/16', 'ip_range': '10.9.5.0/24'}]
    result = plan([{'name': 'a', 'networks': ['n']}, {'name': 'b', 'networks': [{'name': 'n', 'ipv4_address': '10.9.5.0'}]}],
                  networks=nets)
    assert addresses(result) == {('a', 'eth0'): '10.9.5.1/16', ('b', 'eth0'): '10.9.5.0/16'}


def test_many_networks_eth_order_default_route_on_first_non_internal_and_ports_on_it():
    nets = NETS + [{'name': 'inner', 'subnet': '10.50.0.0/24', 'internal': True, 'icc': False, 'mtu': 1400}]
    result = plan([{'name': 'c', 'networks': ['inner', 'test_net2'], 'ports': ['8080:80']}], networks=nets)
    peers = {p['peer']['name']: p for p in result['pairs']}
    assert 'routes' not in peers['eth0']['peer'] and peers['eth0']['mtu'] == 1400
    assert peers['eth1']['peer']['routes'] == [{'dst': 'default', 'gateway': '173.20.0.1'}]
    assert result['ports'] == [{'name': 'c', 'container_ip': '173.20.0.2', 'publish': ['8080:80']}]
    assert {'bridge': bridge_name('inner'), 'subnet': '10.50.0.0/24', 'icc': False, 'masquerade': True,
            'internal': True} in result['isolation']


def test_a_container_only_on_internal_networks_keeps_a_default_route_and_publishes_nothing():
    # As Docker: internal endpoints come last but still carry the gateway; isolation drops what leaves by it.
    nets = NETS + [{'name': 'inner', 'subnet': '10.50.0.0/24', 'internal': True}]
    result = plan([{'name': 'c', 'networks': ['inner'], 'ports': ['8080:80']}], networks=nets)
    assert result['pairs'][0]['peer']['routes'] == [{'dst': 'default', 'gateway': '10.50.0.1'}]
    assert result['ports'] == [] and 'were not published' in result['warnings'][0]


def test_modes_none_host_and_container():
    result = plan([{'name': 'web', 'ports': ['80:80']}, {'name': 'side', 'network_mode': 'container:web'},
                   {'name': 'iso', 'network_mode': 'none'}, {'name': 'h', 'network_mode': 'host', 'ports': ['81:81']}])
    names = {ns['name']: ns for ns in result['namespaces']}
    assert set(names) == {'web', 'side', 'iso'}
    assert names['side']['share'] == 'web' and names['side']['hosts'] == names['web']['hosts']
    assert names['iso']['hosts'] == []
    assert [p['peer']['namespace'] for p in result['pairs']] == ['web']
    assert result['warnings'] == ['host n1: container h: Published ports are discarded when using host network mode']


def test_prunes_bridges_and_endpoints_that_left_the_inventory():
    facts = {'networks': [{'Name': 'test_net1', 'Exists': True, 'Options': {'com.docker.network.bridge.name': 'br-old'}},
                          {'Name': 'docker_gwbridge', 'Exists': True}],
             'endpoints': [{'container': 'a', 'network': 'test_net1', 'addresses': ['172.18.0.2/16'], 'host_ifname': 'vethold'}]}
    result = plan([{'name': 'a', 'networks': ['test_net2']}], facts=facts)
    assert {'name': 'br-old', 'state': 'absent'} in result['bridges']
    assert {'name': 'docker_gwbridge', 'state': 'absent'} in result['bridges']  # no overlay container needs it
    assert {'name': 'vethold', 'state': 'absent'} in result['pairs']


def test_absent_plans_nothing_but_removals():
    facts = {'networks': [{'Name': 'bridge', 'Exists': True, 'Options': {'com.docker.network.bridge.name': 'docker0'}}]}
    result = plan([{'name': 'a'}], facts=facts, state='absent')
    assert result['namespaces'] == [] and result['ports'] == [] and result['isolation'] == []
    assert result['bridges'] == [{'name': 'docker0', 'state': 'absent'}]


def test_500_containers_on_5_networks_plan_quickly_and_uniquely():
    nets = [{'name': 'n%d' % i} for i in range(5)]
    result = plan([{'name': 'c%d' % i, 'networks': ['n%d' % (i % 5)]} for i in range(500)], networks=nets)
    assert len(result['pairs']) == 500 and len({p['name'] for p in result['pairs']}) == 500
    assert len(set(addresses(result).values())) == 500


@pytest.mark.parametrize('networks, containers, message', [
    (NETS, [{'name': 'c', 'networks': [{'name': 'test_net1', 'ipv4_address': '172.18.0.9'}]}],
     'user specified IP address is supported only when connecting to networks with user configured subnets'),
    (NETS, [{'name': 'c', 'networks': [{'name': 'test_net2', 'ipv4_address': '172.20.0.2'}]}],
     "Invalid address 172.20.0.2: It does not belong to any of this network's subnets"),
    (NETS, [{'name': 'c', 'networks': [{'name': 'bridge', 'ipv4_address': '172.17.0.9'}]}],
     'user specified IP address is supported on user defined networks only'),
    (NETS, [{'name': 'c', 'networks': [{'name': 'test_net2', 'ipv4_address': '173.20.0.4'}]},
            {'name': 'd', 'networks': [{'name': 'test_net2', 'ipv4_address': '173.20.0.4'}]}],
     'Address already in use: 173.20.0.4 on test_net2 is also the ipv4_address of c'),
    (NETS, [{'name': 'c', 'networks': [{'name': 'test_net2', 'ipv4_address': '173.20.0.1'}]}], 'Address already in use'),
    ([{'name': 'x', 'subnet': '10.0.0.0/24', 'gateway': '10.0.1.1'}], [], 'no matching subnet for gateway 10.0.1.1'),
    ([{'name': 'x', 'subnet': '10.0.0.0/16'}, {'name': 'y', 'subnet': '10.0.5.0/24'}], [],
     'subnet 10.0.5.0/24 of y overlaps subnet 10.0.0.0/16 of x (Pool overlaps with other one on this address space)'),
    ([{'name': 'x', 'subnet': '10.0.0.0/33'}], [], 'invalid CIDR address: 10.0.0.0/33'),
    ([{'name': 'x', 'subnet': '10.0.0.5/24'}], [], 'invalid subnet 10.0.0.5/24 : it should be 10.0.0.0/24'),
    ([{'name': 'x', 'subnet': '10.0.0.0/24', 'ip_range': '10.0.1.0/28'}], [], 'no matching subnet for range 10.0.1.0/28'),
    ([{'name': 'x', 'bridge_name': 'a-bridge-name-too-long'}], [], "bridge_name 'a-bridge-name-too-long'"),
    ([{'name': 'x'}, {'name': 'x'}], [], 'network with name x already exists'),
    ([{'name': 'host'}], [], 'operation is not permitted on predefined host network'),
    ([{'name': 'x', 'driver': 'weave'}], [], 'plugin "weave" not found'),
    (NETS, [{'name': 'c', 'networks': ['nope']}], 'network nope not found'),
    (NETS, [{'name': 'c', 'networks': ['test_net1', 'test_net1']}], 'endpoint with name c already exists in network test_net1'),
    (NETS, [{'name': 'c'}, {'name': 'c'}], 'Conflict. The container name "/c" is already in use'),
    (NETS, [{'name': 'c', 'network_mode': 'container:ghost'}], 'No such container: ghost'),
    (NETS, [{'name': 'w'}, {'name': 'c', 'network_mode': 'container:w', 'ports': ['80:80']}],
     'conflicting options: port publishing and the container type network mode'),
    (NETS, [{'name': 'a', 'ports': ['8080:80']}, {'name': 'b', 'ports': ['0.0.0.0:8080:81']}],
     'port is already allocated'),
    (NETS, [{'name': 'a', 'ports': ['99999:80']}], 'host port 99999 is out of range'),
    (NETS, [{'name': 'a', 'ports': ['80:80/icmp']}], "protocol 'icmp' is not one of tcp, udp, sctp"),
    (NETS, [{'name': 'a' * 256}], 'linuxnet_containers[0] (' + 'a' * 256),
    (NETS, [{'name': 'a', 'links': ['b']}, {'name': 'b', 'networks': ['test_net1']}],
     'Cannot link to /b, as it does not belong to the default network'),
    (NETS, [{'name': 'a', 'networks': [{'name': 'bridge', 'aliases': ['x']}]}],
     'network-scoped alias is supported only for containers in user defined networks'),
])
def test_docker_errors_name_the_host_the_variable_and_the_fix(networks, containers, message):
    problems = host_problems('n1', {'linuxnet_networks': networks, 'linuxnet_containers': containers})
    text = '\n'.join(problems)
    assert message in text
    assert all(p.startswith('host n1: linuxnet_') and 'Fix:' in p for p in problems), text


def test_addresses_the_host_holds_are_never_handed_out_even_those_nobody_assigned():
    """A user's or a runtime's address on a bridge or in a container's namespace (network_info's read-back) is skipped;
    the gateway on its own bridge, the endpoints and the overlay interfaces are not foreign."""
    facts = {'links': [{'name': 'docker0', 'addresses': ['172.17.0.1/16', '172.17.0.2/16']},
                       {'name': 'eth0', 'addresses': ['192.0.2.11/24']}],
             'endpoints': [{'container': 'db', 'network': 'bridge', 'ifname': 'eth0', 'addresses': ['172.17.0.4/16'],
                            'host_ifname': 'x'}],
             'interfaces': [{'container': 'db', 'ifname': 'eth0', 'addresses': ['172.17.0.4/16']},
                            {'container': 'db', 'ifname': 'extra', 'addresses': ['172.17.0.3/16', 'fd00::3/64']}]}
    result = plan([{'name': 'web'}, {'name': 'db'}, {'name': 'new'}], facts=facts)
    assert addresses(result) == {('web', 'eth0'): '172.17.0.5/16', ('db', 'eth0'): '172.17.0.4/16',
                                 ('new', 'eth0'): '172.17.0.6/16'}


def test_a_static_address_the_host_already_holds_is_an_error_naming_both():
    facts = {'interfaces': [{'container': 'db', 'ifname': 'extra', 'addresses': ['173.20.0.4/16']}]}
    with pytest.raises(PlanError) as err:
        plan([{'name': 'web', 'networks': [{'name': 'test_net2', 'ipv4_address': '173.20.0.4'}]}, {'name': 'db'}], facts=facts)
    assert str(err.value) == ('host n1: container web: network test_net2: ipv4_address 173.20.0.4: Address already in use: '
                              'extra in network namespace db already holds it (not an endpoint of this inventory). Fix: give '
                              'web another ipv4_address, or remove 173.20.0.4 from extra in network namespace db')


# -- subnets that collide with what a host has already (Docker: "Pool overlaps with other one on this address space")
DEFAULT = 'bridge (the default network, docker0)'


@pytest.mark.parametrize('subnet,later,earlier', [
    ('172.17.0.0/16', ('172.17.0.0/16', 'front'), ('172.17.0.0/16', DEFAULT)),
    ('172.17.5.0/24', ('172.17.5.0/24', 'front'), ('172.17.0.0/16', DEFAULT)),
    ('172.16.0.0/12', ('172.17.0.0/16', DEFAULT), ('172.16.0.0/12', 'front')),
])
def test_a_user_network_on_the_default_networks_subnet_is_refused(subnet, later, earlier):
    problems = host_problems('n1', {'linuxnet_networks': [{'name': 'front', 'subnet': subnet}]})
    assert problems == ['host n1: linuxnet_networks: subnet %s of %s overlaps subnet %s of %s (Pool overlaps with other '
                        'one on this address space). Fix: give the networks disjoint subnets' % (later + earlier)]


def test_the_default_networks_own_subnet_and_overlays_do_not_collide_with_it():
    # A declared default subnet replaces 172.17.0.0/16; an overlay lives in the global address space, as in Docker.
    assert host_problems('n1', {'linuxnet_networks': [{'name': 'bridge', 'subnet': '10.99.0.0/16'},
                                                      {'name': 'front', 'subnet': '172.17.0.0/16'}]}) == []
    assert host_problems('n1', {'linuxnet_networks': [{'name': 'ov', 'driver': 'overlay', 'subnet': '172.17.0.0/16'}]}) == []
    problems = host_problems('n1', {'linuxnet_networks': [{'name': 'bridge', 'subnet': '10.99.0.0/16'},
                                                          {'name': 'front', 'subnet': '10.99.1.0/24'}]})
    assert len(problems) == 1 and 'subnet 10.99.1.0/24 of front overlaps subnet 10.99.0.0/16 of bridge' in problems[0]


ROUTES = {'routes': [{'dst': 'default', 'gateway': '192.0.2.1', 'dev': 'eth0'},
                     {'dst': '192.0.2.0/24', 'gateway': None, 'dev': 'eth0'},
                     {'dst': '10.50.0.0/16', 'gateway': None, 'dev': 'br-stale00000'},
                     {'dst': '10.60.0.0/16', 'gateway': None, 'dev': 'wg0'}],
          'links': [{'name': 'eth0', 'kind': 'veth', 'owned': False}, {'name': 'br-stale00000', 'kind': 'bridge', 'owned': True},
                    {'name': 'wg0', 'kind': 'wireguard', 'owned': False}]}


@pytest.mark.parametrize('subnet,route,dev', [('192.0.2.0/24', '192.0.2.0/24', 'eth0'), ('192.0.2.128/25', '192.0.2.0/24', 'eth0'),
                                              ('10.0.0.0/8', '10.60.0.0/16', 'wg0')])
def test_a_set_subnet_that_the_host_routes_already_is_refused(subnet, route, dev):
    with pytest.raises(PlanError) as err:
        plan([{'name': 'c1', 'networks': ['front']}], networks=[{'name': 'front', 'subnet': subnet}], facts=ROUTES)
    assert ('host n1: network front: subnet %s overlaps the route to %s on %s, which this host has already (Pool overlaps '
            'with other one on this address space). Fix: give front a subnet that the host does not route yet'
            % (subnet, route, dev)) in str(err.value)


def test_routes_of_the_collections_own_links_and_unused_networks_do_not_collide():
    # The stale bridge is the collection's (a network about to be pruned, its subnet taken over by another name);
    # a network no container uses is not created on this host; the default route never counts.
    result = plan([{'name': 'c1', 'networks': ['front']}], facts=ROUTES,
                  networks=[{'name': 'front', 'subnet': '10.50.0.0/16'}, {'name': 'idle', 'subnet': '10.60.0.0/16'}])
    assert any(b['addresses'] == ['10.50.0.1/16'] for b in result['bridges'])


def test_an_address_whose_docker_mac_a_mac_address_takes_is_not_handed_out():
    # b's MAC is Docker's MAC of 172.17.0.3, the address c would have got: c takes the next one, so no two MACs clash.
    result = plan([{'name': 'a'}, {'name': 'b', 'networks': [{'name': 'bridge', 'mac_address': '02:42:ac:11:00:03'}]}, {'name': 'c'}])
    assert addresses(result) == {('a', 'eth0'): '172.17.0.2/16', ('b', 'eth0'): '172.17.0.4/16', ('c', 'eth0'): '172.17.0.5/16'}
    macs = [p['peer']['mac'] for p in result['pairs']]
    assert macs == ['02:42:ac:11:00:02', '02:42:ac:11:00:03', '02:42:ac:11:00:05']


@pytest.mark.parametrize('mac, facts, message', [
    # an existing endpoint keeps its address (nobody is renumbered): a MAC equal to its Docker MAC is refused
    ('02:42:ac:11:00:02', {'endpoints': [{'container': 'a', 'network': 'bridge', 'ifname': 'eth0', 'addresses': ['172.17.0.2/16'],
                                          'host_ifname': 'x'}]},
     "host n1: container b: mac_address 02:42:ac:11:00:02 on bridge is also the MAC of a (Docker's 02:42 + its address "
     '172.17.0.2). Fix: give every endpoint of bridge its own MAC, or drop mac_address'),
    # docker0's MAC, where the default network's subnet is picked on the host
    ('02:42:ac:11:00:01', {}, 'host n1: container b: mac_address 02:42:ac:11:00:01 on bridge is also the MAC of the gateway '
                              '172.17.0.1 (the MAC of its bridge)'),
    ('02:42:c0:a8:00:01', {'routes': [{'dst': '172.16.0.0/12', 'dev': 'eth0'}]},
     'host n1: container b: mac_address 02:42:c0:a8:00:01 on bridge is also the MAC of the gateway 192.168.0.1'),
])
def test_a_mac_address_that_clashes_only_on_the_host_fails_before_any_change(mac, facts, message):
    with pytest.raises(PlanError) as err:
        plan([{'name': 'a'}, {'name': 'b', 'networks': [{'name': 'bridge', 'mac_address': mac}]}], facts=facts)
    assert message in str(err.value)
