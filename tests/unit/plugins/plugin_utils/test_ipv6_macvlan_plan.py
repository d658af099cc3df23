# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv6 on macvlan networks (docker network create -d macvlan --ipv6 --subnet fd..::/64): the fleet's IPv6 addresses
(static, kept, lowest free in ipv6_ip_range), the IPv6 default route via ipv6_gateway, IPv6 on in the namespace, hosts
files across hosts; the checks, in Docker's words where Docker has them; what inspect asks network_info for."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.filter.inventory import FilterModule
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.fleet import PlanError, plan_fleet
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.inventory import inventory_problems

MV6 = {'name': 'mv6', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24', 'enable_ipv6': True,
       'ipv6_subnet': 'fd00:db8:50::/64'}
DUAL = {'name': 'front', 'subnet': '173.20.0.0/16', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:20::/64'}


def facts(ip, interfaces=()):
    return {'routes': [{'dst': 'default', 'dev': 'eth0'}],
            'links': [{'name': 'eth0', 'kind': 'veth', 'mtu': 1500, 'addresses': [ip + '/24']}],
            'interfaces': list(interfaces)}


def fleet(containers1, containers2, networks=(MV6,), interfaces1=()):
    return [('node1', {'linuxnet_networks': list(networks), 'linuxnet_containers': containers1}, facts('192.0.2.11', interfaces1)),
            ('node2', {'linuxnet_networks': list(networks), 'linuxnet_containers': containers2}, facts('192.0.2.12'))]


def endpoint(result, container):
    return next(m for m in result['macvlans'] if m['namespace'] == container)


def hosts_of(result, container):
    item = next(n for n in result['namespaces'] if n['name'] == container)
    return item.get('hosts', []) + result['hosts_sets'].get(item.get('hosts_set'), [])


def problems(hostvars):
    return inventory_problems(hostvars, sorted(hostvars))


def test_dual_stack_endpoints_hang_from_the_parent_with_both_default_routes_ipv6_on_and_names_across_hosts():
    plans = plan_fleet(fleet([{'name': 'a', 'networks': ['mv6']}],
                             [{'name': 'b', 'networks': [{'name': 'mv6', 'ipv6_address': 'fd00:db8:50::99'}]}]))
    one, two = plans['node1'], plans['node2']
    # Docker's MAC from the IPv4 address; the IPv6 default route via the subnet's first address, as Docker's gateway.
    assert endpoint(one, 'a') == {
        'name': 'eth0', 'namespace': 'a', 'addresses': ['198.51.100.2/24', 'fd00:db8:50::2/64'], 'mac': '02:42:c6:33:64:02',
        'routes': [{'dst': 'default', 'gateway': '198.51.100.1'}, {'dst': '::/0', 'gateway': 'fd00:db8:50::1'}],
        'parent': 'eth0', 'mode': 'bridge'}
    assert endpoint(two, 'b')['addresses'] == ['198.51.100.3/24', 'fd00:db8:50::99/64']
    # No bridge, no veth, no isolation item: a macvlan network has no kernel object of the host's own.
    assert one['pairs'] == [] and one['bridges'] == [] and one['isolation'] == []
    # IPv6 is on in the containers' namespaces, their resolv.conf keeps IPv6 nameservers, the hosts files both families.
    item = next(n for n in one['namespaces'] if n['name'] == 'a')
    assert item['ipv6'] is True and item['resolv_conf']['ipv6'] is True
    assert {'address': 'fd00:db8:50::99', 'names': ['b']} in hosts_of(one, 'a')
    assert {'address': 'fd00:db8:50::2', 'names': ['a']} in hosts_of(two, 'b')
    assert {'address': '198.51.100.2', 'names': ['a']} in hosts_of(two, 'b')


def test_ipv6_gateway_and_ipv6_ip_range_are_honoured():
    net = dict(MV6, ipv6_gateway='fd00:db8:50::fe', ipv6_ip_range='fd00:db8:50::100/120')
    plans = plan_fleet(fleet([{'name': 'a', 'networks': ['mv6']}], [{'name': 'b', 'networks': ['mv6']}], networks=(net,)))
    assert endpoint(plans['node1'], 'a')['addresses'][1] == 'fd00:db8:50::100/64'
    assert endpoint(plans['node2'], 'b')['addresses'][1] == 'fd00:db8:50::101/64'
    assert endpoint(plans['node1'], 'a')['routes'][1] == {'dst': '::/0', 'gateway': 'fd00:db8:50::fe'}


def test_ipv6_addresses_are_stable_and_unique_across_the_fleet():
    # a holds fd00:db8:50::7 already: it keeps it; a new container on either host takes the lowest free one.
    held = [{'container': 'a', 'ifname': 'eth0', 'kind': 'macvlan', 'addresses': ['198.51.100.2/24', 'fd00:db8:50::7/64']}]
    plans = plan_fleet(fleet([{'name': 'new', 'networks': ['mv6']}, {'name': 'a', 'networks': ['mv6']}],
                             [{'name': 'b', 'networks': ['mv6']}], interfaces1=held))
    assert endpoint(plans['node1'], 'a')['addresses'] == ['198.51.100.2/24', 'fd00:db8:50::7/64']
    assert endpoint(plans['node1'], 'new')['addresses'][1] == 'fd00:db8:50::2/64'
    assert endpoint(plans['node2'], 'b')['addresses'][1] == 'fd00:db8:50::3/64'


def test_the_ipv6_default_route_follows_dockers_choice_of_gateway_endpoint():
    # On a bridge network with IPv6 first, then the macvlan one: both default routes go through the bridge's gateways.
    plans = plan_fleet(fleet([{'name': 'a', 'networks': ['front', 'mv6']}], [], networks=(DUAL, MV6)))
    assert 'routes' not in endpoint(plans['node1'], 'a')
    # A macvlan network without IPv6 next to a bridge network with IPv6: IPv4 via the macvlan, IPv6 via the bridge.
    plain = {'name': 'mac', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24'}
    plans = plan_fleet(fleet([{'name': 'a', 'networks': ['mac', 'front']}], [], networks=(plain, DUAL)))
    assert endpoint(plans['node1'], 'a')['routes'] == [{'dst': 'default', 'gateway': '198.51.100.1'}]
    veth = next(p['peer'] for p in plans['node1']['pairs'] if p['peer']['namespace'] == 'a')
    assert veth['routes'] == [{'dst': '::/0', 'gateway': 'fd00:db8:20::1'}]


def test_an_exhausted_ipv6_range_names_the_ipv6_keys():
    net = dict(MV6, ipv6_ip_range='fd00:db8:50::2/128')
    with pytest.raises(PlanError, match='container b: no available IPv6 addresses on network mv6 .*Fix: widen ipv6_ip_range'):
        plan_fleet(fleet([{'name': 'a', 'networks': ['mv6']}], [{'name': 'b', 'networks': ['mv6']}], networks=(net,)))


@pytest.mark.parametrize('network,message', [
    (dict(MV6, ipv6_subnet=None),
     "host n1: linuxnet_networks[0] (mv6): a macvlan network with enable_ipv6 needs an ipv6_subnet (its addresses live on "
     "the parent's segment, which no default pool knows). Fix: set ipv6_subnet to the IPv6 prefix of that segment, like "
     'fd00:db8:50::/64, the same on every host'),
    (dict(MV6, gateway_mode_ipv6='routed'),
     'host n1: linuxnet_networks[0] (mv6): gateway_mode_ipv6 applies to bridge networks only. Fix: remove it'),
    (dict(MV6, enable_ipv6=False),
     'host n1: linuxnet_networks[0] (mv6): ipv6_subnet needs enable_ipv6: true (the network has no IPv6). Fix: set '
     'enable_ipv6: true, or drop ipv6_subnet'),
])
def test_network_problems(network, message):
    # (The IPv6 keys' own syntax is checked as on a bridge network, by the same reader: test_ipv6_plan.)
    assert problems({'n1': {'linuxnet_networks': [network]}}) == [message]


def test_an_ipv6_subnet_overlapping_another_networks_is_refused():
    assert problems({'n1': {'linuxnet_networks': [MV6, dict(DUAL, ipv6_subnet='fd00:db8:50::/56')]}}) == [
        'host n1: linuxnet_networks: ipv6_subnet fd00:db8:50::/64 of mv6 overlaps ipv6_subnet fd00:db8:50::/56 of front '
        '(Pool overlaps with other one on this address space). Fix: give the networks disjoint subnets']


@pytest.mark.parametrize('endpoint_keys,message', [
    ({'ipv6_address': 'fd00:db8:51::5'},
     "host n1: linuxnet_containers[0] (a): Invalid address fd00:db8:51::5: It does not belong to any of this network's "
     'subnets (mv6 is fd00:db8:50::/64). Fix: use an address inside fd00:db8:50::/64'),
    ({'ipv6_address': 'fd00:db8:50::1'},
     'host n1: linuxnet_containers[0] (a): Address already in use: fd00:db8:50::1 is the network, broadcast or gateway '
     'address of mv6. Fix: choose another address'),
])
def test_static_ipv6_addresses_in_dockers_words(endpoint_keys, message):
    hv = {'n1': {'linuxnet_networks': [MV6], 'linuxnet_containers': [{'name': 'a', 'networks': [dict(endpoint_keys, name='mv6')]}]}}
    assert problems(hv) == [message]


def test_a_static_ipv6_address_used_on_two_hosts_is_refused_across_the_fleet():
    hv = {'n1': {'linuxnet_networks': [MV6], 'linuxnet_containers': [{'name': 'a', 'networks': [{'name': 'mv6', 'ipv6_address': 'fd00:db8:50::5'}]}]},
          'n2': {'linuxnet_networks': [MV6], 'linuxnet_containers': [{'name': 'b', 'networks': [{'name': 'mv6', 'ipv6_address': 'fd00:db8:50::5'}]}]}}
    assert problems(hv) == [
        'host n2: linuxnet_containers (b): Address already in use: fd00:db8:50::5 on mv6 is also the ipv6_address of a on '
        'host n1. Fix: give each container its own address']


def test_inspect_asks_network_info_for_the_ipv6_entry():
    macvlan_networks = FilterModule().filters()['macvlan_networks']
    assert macvlan_networks({'linuxnet_networks': [dict(MV6, ipv6_ip_range='fd00:db8:50::/80')]}) == [{
        'name': 'mv6', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24', 'gateway': '198.51.100.1',
        'ipv6_subnet': 'fd00:db8:50::/64', 'ipv6_gateway': 'fd00:db8:50::1', 'ipv6_ip_range': 'fd00:db8:50::/80'}]
    assert 'ipv6_subnet' not in macvlan_networks({'linuxnet_networks': [dict(MV6, enable_ipv6=False, ipv6_subnet=None)]})[0]
    # ... and inspect's readable summary shows the IPv6 entry and address network_info then reports.
    info = {'networks': [{'Name': 'mv6', 'Driver': 'macvlan', 'Options': {'parent': 'eth0'},
                          'IPAM': {'Config': [{'Subnet': '198.51.100.0/24', 'Gateway': '198.51.100.1'},
                                              {'Subnet': 'fd00:db8:50::/64', 'Gateway': 'fd00:db8:50::1'}]},
                          'Containers': {'x': {'Name': 'm1', 'IPv4Address': '198.51.100.2/24', 'MacAddress': '02:42:c6:33:64:02',
                                               'IPv6Address': 'fd00:db8:50::100/64'}}}]}
    assert FilterModule().filters()['network_summary'](info, 'n1') == [
        'n1 network mv6: 198.51.100.0/24 on eth0, gateway 198.51.100.1, IPv6 fd00:db8:50::/64 gateway fd00:db8:50::1 (macvlan)',
        '    m1               198.51.100.2/24    02:42:c6:33:64:02  fd00:db8:50::100/64']
