# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv6 on bridge networks: validation in Docker's words, subnets (the user's, else the host's ULA /64s), stable
addresses from the one allocator, the bridge's and endpoints' addresses, the IPv6 default route, hosts files."""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.fleet import PlanError, plan_host
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.ipam import Allocator, PoolExhausted
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.topology import host_problems, read_networks, ula_pool

DUAL = {'name': 'front', 'subnet': '173.20.0.0/16', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:20::/64'}


def problems(networks, containers=()):
    return host_problems('h1', {'linuxnet_networks': networks, 'linuxnet_containers': list(containers)})


def plan(containers, networks=(DUAL,), facts=None):
    hv = {'linuxnet_networks': list(networks), 'linuxnet_containers': containers}
    assert host_problems('h1', hv) == []
    return plan_host('h1', hv, facts or {})


def peers(result):
    return {(p['peer']['namespace'], p['peer']['name']): p['peer'] for p in result['pairs']}


@pytest.mark.parametrize('network,message', [
    (dict(DUAL, ipv6_subnet='fd00:db8:20::/zz'),
     'host h1: linuxnet_networks[0] (front): invalid CIDR address: fd00:db8:20::/zz (ipv6_subnet). Fix: write it like fd00:db8:20::/64'),
    (dict(DUAL, ipv6_subnet='173.21.0.0/16'),
     'host h1: linuxnet_networks[0] (front): invalid CIDR address: 173.21.0.0/16 (ipv6_subnet). Fix: write it like fd00:db8:20::/64'),
    (dict(DUAL, ipv6_subnet='fd00:db8:20::1/64'),
     'host h1: linuxnet_networks[0] (front): invalid subnet fd00:db8:20::1/64 : it should be fd00:db8:20::/64. '
     'Fix: write ipv6_subnet: fd00:db8:20::/64'),
    (dict(DUAL, ipv6_gateway='fd00:db8:21::1'),
     'host h1: linuxnet_networks[0] (front): no matching subnet for gateway fd00:db8:21::1 (ipv6_subnet fd00:db8:20::/64). '
     'Fix: use an address inside fd00:db8:20::/64'),
    (dict(DUAL, ipv6_ip_range='fd00:db8:21::/80'),
     'host h1: linuxnet_networks[0] (front): no matching subnet for range fd00:db8:21::/80 (ipv6_subnet fd00:db8:20::/64). '
     'Fix: choose a range inside fd00:db8:20::/64'),
    ({'name': 'front', 'ipv6_subnet': 'fd00:db8:20::/64'},
     'host h1: linuxnet_networks[0] (front): ipv6_subnet needs enable_ipv6: true (the network has no IPv6). '
     'Fix: set enable_ipv6: true, or drop ipv6_subnet'),
    ({'name': 'demo', 'driver': 'overlay', 'enable_ipv6': True},
     'host h1: linuxnet_networks[0] (demo): could not find an available, non-overlapping IPv6 address pool among the '
     'defaults to assign to the network (an overlay takes no IPv6 subnet from a default pool). Fix: set ipv6_subnet, '
     'like fd00:db8:40::/64, the same on every host'),
    ({'name': 'mac', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24', 'enable_ipv6': 'yes'},
     "host h1: linuxnet_networks[0] (mac): a macvlan network with enable_ipv6 needs an ipv6_subnet (its addresses live on "
     "the parent's segment, which no default pool knows). Fix: set ipv6_subnet to the IPv6 prefix of that segment, like "
     'fd00:db8:50::/64, the same on every host'),
    (dict(DUAL, enable_ipv6='maybe'), "host h1: linuxnet_networks[0] (front): enable_ipv6 must be true or false, got 'maybe'"),
])
def test_network_problems_in_dockers_words(network, message):
    assert problems([network]) == [message]


def test_an_evpn_overlay_takes_ipv6_as_a_static_one_does():
    evpn = {'name': 'demo', 'driver': 'overlay', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:40::/64', 'control_plane': 'evpn'}
    assert problems([evpn]) == []
    # It needs its ipv6_subnet as a static overlay does.
    assert problems([dict(evpn, ipv6_subnet=None)]) == [
        'host h1: linuxnet_networks[0] (demo): could not find an available, non-overlapping IPv6 address pool among the '
        'defaults to assign to the network (an overlay takes no IPv6 subnet from a default pool). Fix: set ipv6_subnet, '
        'like fd00:db8:40::/64, the same on every host']


def test_overlapping_ipv6_subnets():
    assert problems([DUAL, {'name': 'back', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:20:0:1::/80'}]) == [
        'host h1: linuxnet_networks: ipv6_subnet fd00:db8:20:0:1::/80 of back overlaps ipv6_subnet fd00:db8:20::/64 of front '
        '(Pool overlaps with other one on this address space). Fix: give the networks disjoint subnets']


@pytest.mark.parametrize('network,endpoint,message', [
    (DUAL, {'ipv6_address': 'fd00:db8:21::5'},
     "host h1: linuxnet_containers[0] (web): Invalid address fd00:db8:21::5: It does not belong to any of this network's "
     'subnets (front is fd00:db8:20::/64). Fix: use an address inside fd00:db8:20::/64'),
    ({'name': 'front', 'enable_ipv6': True}, {'ipv6_address': 'fd00:db8:20::5'},
     'host h1: linuxnet_containers[0] (web): user specified IP address is supported only when connecting to networks with '
     'user configured subnets (ipv6_address fd00:db8:20::5 on front). Fix: set ipv6_subnet on network front, or drop ipv6_address'),
    ({'name': 'front', 'subnet': '173.20.0.0/16'}, {'ipv6_address': 'fd00:db8:20::5'},
     'host h1: linuxnet_containers[0] (web): ipv6_address fd00:db8:20::5 on front, a network without IPv6 (enable_ipv6 is not '
     'set). Fix: set enable_ipv6: true and an ipv6_subnet on network front, or drop ipv6_address'),
    (DUAL, {'ipv6_address': '173.20.0.5'},
     'host h1: linuxnet_containers[0] (web): invalid IPv6 address 173.20.0.5 on network front. Fix: write an address like '
     'fd00:db8:20::4'),
    (DUAL, {'ipv6_address': 'fd00:db8:20::1'},
     'host h1: linuxnet_containers[0] (web): Address already in use: fd00:db8:20::1 is the network, broadcast or gateway '
     'address of front. Fix: choose another address'),
])
def test_endpoint_problems_in_dockers_words(network, endpoint, message):
    assert problems([network], [{'name': 'web', 'networks': [dict(endpoint, name='front')]}]) == [message]


def test_two_containers_with_one_ipv6_address():
    containers = [{'name': c, 'networks': [{'name': 'front', 'ipv6_address': 'fd00:db8:20::5'}]} for c in ('web', 'db')]
    assert problems([DUAL], containers) == [
        'host h1: linuxnet_containers (db): Address already in use: fd00:db8:20::5 on front is also the ipv6_address of web. '
        'Fix: give each container its own address']


def test_ipv4_only_inventories_plan_as_before():
    result = plan([{'name': 'web', 'networks': ['front']}], networks=[{'name': 'front', 'subnet': '173.20.0.0/16'}])
    assert result['bridges'][0]['addresses'] == ['173.20.0.1/16']
    assert peers(result)[('web', 'eth0')]['addresses'] == ['173.20.0.2/16']
    assert 'ipv6' not in result['isolation'][0]


def test_dual_stack_bridge_endpoints_routes_and_hosts():
    result = plan([{'name': 'web', 'networks': ['front']},
                   {'name': 'db', 'networks': [{'name': 'front', 'ipv6_address': 'fd00:db8:20::2', 'aliases': ['sql']}]}])
    assert result['bridges'][0]['addresses'] == ['173.20.0.1/16', 'fd00:db8:20::1/64']
    web, db = peers(result)[('web', 'eth0')], peers(result)[('db', 'eth0')]
    # The static address is reserved first: web takes the next one.
    assert web['addresses'] == ['173.20.0.2/16', 'fd00:db8:20::3/64']
    assert db['addresses'] == ['173.20.0.3/16', 'fd00:db8:20::2/64']
    assert web['routes'] == [{'dst': 'default', 'gateway': '173.20.0.1'}, {'dst': '::/0', 'gateway': 'fd00:db8:20::1'}]
    assert result['isolation'][0]['ipv6'] is True
    shared = result['hosts_sets']['front']
    assert {'address': 'fd00:db8:20::2', 'names': ['db', 'sql']} in shared
    assert {'address': '173.20.0.3', 'names': ['db', 'sql']} in shared
    own = {ns['name']: ns['hosts'] for ns in result['namespaces']}['web']
    assert [entry['address'] for entry in own] == ['173.20.0.2', 'fd00:db8:20::3']


def test_container_on_an_ipv4_network_gets_no_ipv6():
    result = plan([{'name': 'web', 'networks': ['front', 'plain']}],
                  networks=[DUAL, {'name': 'plain', 'subnet': '10.9.0.0/24'}])
    plain = peers(result)[('web', 'eth1')]
    assert plain['addresses'] == ['10.9.0.2/24'] and 'routes' not in plain


def test_automatic_ipv6_subnet_is_the_hosts_first_free_ula_64_and_stays():
    first, second = _first_two('h1')
    network = {'name': 'front', 'enable_ipv6': True}
    result = plan([{'name': 'web', 'networks': ['front']}], networks=[network])
    assert result['bridges'][0]['addresses'][1] == '%s/64' % (first.network_address + 1)
    assert first.subnet_of(ipaddress.ip_network('fd00::/8')) and first.prefixlen == 64
    # A host that routes the first /64 already gets the next one.
    routed = plan([{'name': 'web', 'networks': ['front']}], networks=[network],
                  facts={'routes6': [{'dst': str(first), 'dev': 'eth0'}]})
    assert routed['bridges'][0]['addresses'][1] == '%s/64' % (second.network_address + 1)
    # A bridge that holds a subnet keeps it, and an endpoint keeps its address, whatever is added before it.
    facts = {'networks': [{'Name': 'front', 'IPAM': {'Config': [{'Subnet': str(second), 'Gateway': str(second[1])}]}}],
             'endpoints': [{'container': 'web', 'network': 'front', 'addresses': ['172.18.0.2/16', '%s/64' % second[7]]}]}
    again = plan([{'name': 'new', 'networks': ['front']}, {'name': 'web', 'networks': ['front']}], networks=[network], facts=facts)
    assert peers(again)[('web', 'eth0')]['addresses'][1] == '%s/64' % second[7]
    assert peers(again)[('new', 'eth0')]['addresses'][1] == '%s/64' % second[2]


def _first_two(host):
    pool = ula_pool(host)
    return next(pool), next(pool)


def test_user_ipv6_subnet_routed_on_the_host_is_refused():
    with pytest.raises(PlanError) as err:
        plan([{'name': 'web', 'networks': ['front']}], facts={'routes6': [{'dst': 'fd00:db8:20::/48', 'dev': 'eth0'}]})
    assert str(err.value) == (
        'host h1: network front: ipv6_subnet fd00:db8:20::/64 overlaps the route to fd00:db8:20::/48 on eth0, which this host '
        'has already (Pool overlaps with other one on this address space). Fix: give front an ipv6_subnet that the host does '
        'not route yet')


def test_ipv6_allocator_takes_the_lowest_free_and_the_last_address_too():
    net = read_networks([dict(DUAL, ipv6_subnet='fd00:db8:20::/126')], 'host h1', [])['front']
    allocator = Allocator(net.ipam(6))
    assert [str(allocator.take()), str(allocator.take())] == ['fd00:db8:20::2', 'fd00:db8:20::3']  # no broadcast in IPv6
    with pytest.raises(PoolExhausted):
        allocator.take()


def test_ipv6_ip_range_is_where_automatic_addresses_come_from():
    result = plan([{'name': 'web', 'networks': ['front']}], networks=[dict(DUAL, ipv6_ip_range='fd00:db8:20:0:1::/80')])
    assert peers(result)[('web', 'eth0')]['addresses'][1] == 'fd00:db8:20:0:1::/64'


def test_the_default_network_is_dual_stack_when_asked_and_takes_no_static_ipv6_address():
    network = {'name': 'bridge', 'enable_ipv6': True}
    result = plan([{'name': 'web'}], networks=[network])
    first, _second = _first_two('h1')
    docker0 = result['bridges'][0]
    assert docker0['name'] == 'docker0' and docker0['addresses'] == ['172.17.0.1/16', '%s/64' % first[1]]
    assert peers(result)[('web', 'eth0')]['addresses'] == ['172.17.0.2/16', '%s/64' % first[2]]
    assert problems([dict(network, ipv6_subnet='fd00:db8:17::/64')],
                    [{'name': 'web', 'networks': [{'name': 'bridge', 'ipv6_address': 'fd00:db8:17::5'}]}]) == [
        'host h1: linuxnet_containers[0] (web): user specified IP address is supported on user defined networks only '
        '(ipv6_address fd00:db8:17::5 on bridge). Fix: drop ipv6_address or use a user-defined network']


def test_ipv6_is_off_in_containers_without_an_ipv6_network_and_on_with_one():
    v4 = {'name': 'back', 'subnet': '173.21.0.0/16'}
    result = plan([{'name': 'web', 'networks': ['front']}, {'name': 'db', 'networks': ['back']},
                   {'name': 'both', 'networks': ['back', 'front']}, {'name': 'lonely', 'network_mode': 'none'},
                   {'name': 'side', 'network_mode': 'container:db'}], networks=(DUAL, v4))
    items = {item['name']: item for item in result['namespaces']}
    assert {name: item.get('ipv6') for name, item in items.items()} == {
        'web': True, 'db': False, 'both': True, 'lonely': False, 'side': None}
    assert items['side']['share'] == 'db'


def test_ports_lead_to_the_ipv6_address_too_and_nat66_unless_routed():
    routed = {'name': 'direct', 'subnet': '10.79.0.0/24', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:40::/64',
              'gateway_mode_ipv6': 'routed'}
    result = plan([{'name': 'web', 'networks': ['front'], 'ports': ['8080:80', '[::]:8081:80']},
                   {'name': 'legacy', 'networks': ['plain'], 'ports': ['8090:80']}, {'name': 'probe', 'networks': ['direct']}],
                  networks=(DUAL, routed, {'name': 'plain', 'subnet': '10.78.0.0/24'}))
    items = {item['name']: item for item in result['ports']}
    assert items['web']['container_ip6'] == 'fd00:db8:20::2' and items['web']['publish'] == ['8080:80', '[::]:8081:80']
    assert 'container_ip6' not in items['legacy']
    isolation = {item['subnet']: item for item in result['isolation']}
    front, direct, plain = isolation['173.20.0.0/16'], isolation['10.79.0.0/24'], isolation['10.78.0.0/24']
    assert 'ipv6_subnet' not in plain
    assert front['ipv6_subnet'] == 'fd00:db8:20::/64' and 'ipv6_masquerade' not in front
    assert direct['ipv6_subnet'] == 'fd00:db8:40::/64' and direct['ipv6_masquerade'] is False


@pytest.mark.parametrize('network,containers,message', [
    (dict(DUAL, gateway_mode_ipv6='bridged'), [],
     "host h1: linuxnet_networks[0] (front): gateway_mode_ipv6 'bridged' is not valid (Docker's "
     'com.docker.network.bridge.gateway_mode_ipv6). Fix: use nat (NAT66, the default), nat-unprotected (NAT66, direct '
     'routing from outside not filtered) or routed (no NAT66)'),
    ({'name': 'front', 'subnet': '173.20.0.0/16', 'gateway_mode_ipv6': 'routed'}, [],
     'host h1: linuxnet_networks[0] (front): gateway_mode_ipv6 needs enable_ipv6: true (the network has no IPv6). '
     'Fix: set enable_ipv6: true, or drop gateway_mode_ipv6'),
    ({'name': 'front', 'subnet': '173.20.0.0/16'}, [{'name': 'web', 'networks': ['front'], 'ports': ['[::]:8080:80']}],
     'host h1: linuxnet_containers[0] (web): ports: [::]:8080:80 publishes on the IPv6 host address ::, but its ports lead '
     'to network front, which has no IPv6 (the userland proxy Docker would use for it is not there). Fix: set '
     'enable_ipv6: true on front, or publish on an IPv4 address'),
    (DUAL, [{'name': 'web', 'networks': ['front'], 'ports': ['[::1]:8081:80/udp']}],
     'host h1: linuxnet_containers[0] (web): ports: [::1]:8081:80/udp: a publication on the IPv6 loopback address [::1] '
     'is served by systemd-socket-proxyd, which relays TCP only, not UDP. Fix: publish it on 127.0.0.1 '
     '(127.0.0.1:8081:80/udp) for the host alone'),
    (DUAL, [{'name': 'web', 'networks': ['front'], 'ports': ['[::]:8081:80', '[::1]:8081:81']}],
     'host h1: linuxnet_containers: web and web both publish [::1]:8081/tcp. Fix: use another host port or '
     'host address for one of them (Bind failed: port is already allocated)'),
    (DUAL, [{'name': 'web', 'networks': ['front'], 'ports': ['8080:80']},
            {'name': 'db', 'networks': ['front'], 'ports': ['[fd00:192:0:2::11]:8080:80']}],
     'host h1: linuxnet_containers: web and db both publish [fd00:192:0:2::11]:8080/tcp. Fix: use another host port or '
     'host address for one of them (Bind failed: port is already allocated)'),
])
def test_ipv6_ports_and_gateway_mode_problems(network, containers, message):
    assert problems([network], containers) == [message]


def test_direct_routing_modes_reach_the_isolation_items_and_routed_ports_open_instead_of_ipv6_dnat():
    """Docker 28: nat (the default) is left out of the items; nat-unprotected and routed are passed per family. On a
    routed IPv6 network a publication's IPv6 side is not DNATed: its container port opens at the container's address."""
    routed = {'name': 'direct', 'subnet': '10.79.0.0/24', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:40::/64',
              'gateway_mode_ipv6': 'routed'}
    loose = {'name': 'plain', 'subnet': '10.78.0.0/24', 'gateway_mode_ipv4': 'nat-unprotected'}
    result = plan([{'name': 'web', 'networks': ['front'], 'ports': ['8080:80']},
                   {'name': 'probe', 'networks': ['direct'],
                    'ports': ['8091:80', '[::]:8053:53/udp', '192.0.2.11:8092:81', '9000-9001:7000-7001']},
                   {'name': 'legacy', 'networks': ['plain']}],
                  networks=(dict(DUAL, gateway_mode_ipv6='nat-unprotected'), routed, loose))
    isolation = {item['subnet']: item for item in result['isolation']}
    front, direct, plain = (isolation[n] for n in ('173.20.0.0/16', '10.79.0.0/24', '10.78.0.0/24'))
    assert 'gateway_mode_ipv4' not in front and front['gateway_mode_ipv6'] == 'nat-unprotected' and 'routed_ports' not in front
    assert plain['gateway_mode_ipv4'] == 'nat-unprotected' and 'gateway_mode_ipv6' not in plain
    assert direct['gateway_mode_ipv6'] == 'routed' and 'gateway_mode_ipv4' not in direct
    # 8091:80 and the two ranges on both families: their container ports; [::]:8053:53/udp IPv6 only; 192.0.2.11 IPv4 only.
    assert direct['routed_ports'] == [{'address': 'fd00:db8:40::2', 'protocol': 'tcp', 'port': 80},
                                      {'address': 'fd00:db8:40::2', 'protocol': 'udp', 'port': 53},
                                      {'address': 'fd00:db8:40::2', 'protocol': 'tcp', 'port': 7000},
                                      {'address': 'fd00:db8:40::2', 'protocol': 'tcp', 'port': 7001}]
    ports = {item['name']: item for item in result['ports']}
    assert 'container_ip6' not in ports['probe'] and ports['probe']['publish'] == ['8091:80', '192.0.2.11:8092:81', '9000-9001:7000-7001']
    assert ports['web']['container_ip6'] == 'fd00:db8:20::2'
    assert result['warnings'] == []


def test_a_routed_publication_on_one_ipv6_host_address_warns_that_the_address_is_not_used():
    routed = {'name': 'direct', 'subnet': '10.79.0.0/24', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:40::/64',
              'gateway_mode_ipv6': 'routed'}
    result = plan([{'name': 'probe', 'networks': ['direct'], 'ports': ['[fd00:192:0:2::11]:8082:80']},
                   {'name': 'twin', 'networks': ['direct'], 'ports': ['[::]:8082:80']}], networks=(routed,))
    assert result['ports'] == []  # IPv6 only: nothing to DNAT, and no host port taken (no conflict between the two)
    assert result['isolation'][0]['routed_ports'] == [
        {'address': 'fd00:db8:40::2', 'protocol': 'tcp', 'port': 80}, {'address': 'fd00:db8:40::3', 'protocol': 'tcp', 'port': 80}]
    assert result['warnings'] == [
        'host h1: container probe: ports: [fd00:192:0:2::11]:8082:80: on network direct (gateway_mode_ipv6: routed) the '
        'IPv6 host address fd00:192:0:2::11 and the host port are not used, as in Docker: container port 80 opens at '
        'fd00:db8:40::2']


@pytest.mark.parametrize('network,message', [
    ({'name': 'front', 'subnet': '173.20.0.0/16', 'gateway_mode_ipv4': 'routed'},
     "host h1: linuxnet_networks[0] (front): gateway_mode_ipv4 routed is not supported (the collection always masquerades "
     "IPv4 and publishes IPv4 ports on the host's addresses). Fix: use nat (the default) or nat-unprotected; for direct "
     'routing, use gateway_mode_ipv6: routed with enable_ipv6'),
    ({'name': 'front', 'subnet': '173.20.0.0/16', 'gateway_mode_ipv4': 'isolated'},
     "host h1: linuxnet_networks[0] (front): gateway_mode_ipv4 'isolated' is not valid (Docker's "
     'com.docker.network.bridge.gateway_mode_ipv4). Fix: use nat (the default) or nat-unprotected (direct routing from '
     'outside not filtered)'),
    ({'name': 'over', 'driver': 'overlay', 'subnet': '10.0.9.0/24', 'gateway_mode_ipv4': 'nat'},
     'host h1: linuxnet_networks[0] (over): gateway_mode_ipv4 applies to bridge networks only. Fix: remove it'),
    ({'name': 'over', 'driver': 'overlay', 'subnet': '10.0.9.0/24', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:9::/64',
      'gateway_mode_ipv6': 'routed'},
     'host h1: linuxnet_networks[0] (over): gateway_mode_ipv6 applies to bridge networks only. Fix: remove it'),
])
def test_gateway_mode_ipv4_problems(network, message):
    assert problems([network]) == [message]
