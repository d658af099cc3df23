# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv6 on overlay networks: the fleet's IPv6 addresses (static, kept, lowest free), br0's IPv6 gateway, IPv6
neighbours on every VTEP, hosts files; VTEPs over an IPv6 underlay (MTU less 70 bytes, one family per overlay, the
VTEP filter's IPv6 members); the checks across hosts."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._parts import vtep_filter
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.fleet import PlanError, plan_fleet
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.inventory import inventory_problems
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.overlay import overlay_namespace
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.topology import fleet_problems

OV6 = {'name': 'ov6', 'driver': 'overlay', 'subnet': '10.0.9.0/24', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:40::/64'}
PLAIN = {'name': 'plain', 'driver': 'overlay', 'subnet': '10.0.8.0/24'}


def facts(ip, mtu=1500, ip6=None, interfaces=()):
    return {'routes': [{'dst': 'default', 'dev': 'eth0'}],
            'links': [{'name': 'eth0', 'kind': 'veth', 'mtu': mtu, 'addresses': [ip + '/24'],
                       'addresses6': [ip6 + '/64'] if ip6 else []}],
            'interfaces': list(interfaces)}


def fleet(*hosts, networks=(OV6, PLAIN)):
    """hosts: (name, containers, facts[, extra host vars]) -> [(name, hv, facts)]"""
    out = []
    for name, containers, found, *extra in hosts:
        hv = {'linuxnet_networks': list(networks), 'linuxnet_containers': containers}
        hv.update(*extra)
        out.append((name, hv, found))
    return out


def two(vtep6=False, containers1=None, interfaces1=()):
    extra1 = {'linuxnet_vtep_address': 'fd00:192:0:2::11'} if vtep6 else {}
    extra2 = {'linuxnet_vtep_address': 'fd00:192:0:2::12'} if vtep6 else {}
    return fleet(('node1', containers1 or [{'name': 'a', 'networks': ['ov6']}],
                  facts('192.0.2.11', ip6='fd00:192:0:2::11', interfaces=interfaces1), extra1),
                 ('node2', [{'name': 'b', 'networks': [{'name': 'ov6', 'ipv6_address': 'fd00:db8:40::99'}]}],
                  facts('192.0.2.12', ip6='fd00:192:0:2::12'), extra2))


def peer(result, container):
    return next(p['peer'] for p in result['pairs'] if p['peer']['namespace'] == container)


def hosts_of(result, container):
    item = next(n for n in result['namespaces'] if n['name'] == container)
    return item.get('hosts', []) + result['hosts_sets'].get(item.get('hosts_set'), [])


def test_ipv6_addresses_gateway_neighbours_and_hosts_files_over_an_ipv4_underlay():
    plans = plan_fleet(two())
    one, other = plans['node1'], plans['node2']
    assert peer(one, 'a')['addresses'] == ['10.0.9.2/24', 'fd00:db8:40::2/64']
    assert peer(other, 'b')['addresses'] == ['10.0.9.3/24', 'fd00:db8:40::99/64']
    # No IPv6 default route on an overlay (Docker's docker_gwbridge is IPv4): the IPv4 one goes through docker_gwbridge.
    assert 'routes' not in peer(one, 'a')
    ns = overlay_namespace('ov6')
    assert {'name': 'br0', 'namespace': ns, 'mtu': 1450, 'purge_addresses': True,
            'addresses': ['10.0.9.1/24', 'fd00:db8:40::1/64'], 'mac': '02:42:0a:00:09:01'} in one['bridges']
    device = one['vxlan'][0]
    assert (device['local'], device['peers'], device['mtu']) == ('192.0.2.11', ['192.0.2.12'], 1450)
    assert device['fdb'] == [{'mac': '02:42:0a:00:09:03', 'dst': '192.0.2.12'}]
    assert device['neighbors'] == [{'address': '10.0.9.3', 'mac': '02:42:0a:00:09:03'},
                                   {'address': 'fd00:db8:40::99', 'mac': '02:42:0a:00:09:03'}]
    assert {'address': 'fd00:db8:40::99', 'names': ['b']} in hosts_of(one, 'a')
    assert {'address': 'fd00:db8:40::2', 'names': ['a']} in hosts_of(other, 'b')
    # IPv6 is on in the containers (a network with IPv6), and their resolv.conf keeps the host's IPv6 nameservers.
    item = next(n for n in one['namespaces'] if n['name'] == 'a')
    assert item['ipv6'] is True and item['resolv_conf']['ipv6'] is True


def test_ipv6_addresses_are_stable_and_statics_are_reserved_first():
    # a holds fd00:db8:40::7 already: it keeps it; a new container takes the lowest free one.
    held = [{'container': 'a', 'ifname': 'eth0', 'kind': 'veth', 'addresses': ['10.0.9.2/24', 'fd00:db8:40::7/64']}]
    containers = [{'name': 'new', 'networks': ['ov6']}, {'name': 'a', 'networks': ['ov6']}]
    plans = plan_fleet(two(containers1=containers, interfaces1=held))
    assert peer(plans['node1'], 'a')['addresses'][1] == 'fd00:db8:40::7/64'
    assert peer(plans['node1'], 'new')['addresses'][1] == 'fd00:db8:40::2/64'


def test_vxlan_over_an_ipv6_underlay_takes_70_bytes_and_the_filter_lists_ipv6_vteps():
    plans = plan_fleet(two(vtep6=True))
    one = plans['node1']
    device = one['vxlan'][0]
    assert (device['local'], device['peers'], device['mtu']) == ('fd00:192:0:2::11', ['fd00:192:0:2::12'], 1430)
    assert device['fdb'] == [{'mac': '02:42:0a:00:09:03', 'dst': 'fd00:192:0:2::12'}]
    assert one['vteps'] == ['fd00:192:0:2::11', 'fd00:192:0:2::12']
    wanted = vtep_filter.desired_state({'members': one['vtep_members'], 'ports': [4789], 'state': 'present'})
    assert wanted['members'] == {4: [], 6: [('fd00:192:0:2::11', 256), ('fd00:192:0:2::12', 256)]}
    # An IPv4-only overlay over IPv6 VTEPs works the same way: the MTU is the smallest underlay's less 70.
    plain = fleet(('node1', [{'name': 'a', 'networks': ['plain']}], facts('192.0.2.11', mtu=1400, ip6='fd00:192:0:2::11'),
                   {'linuxnet_vtep_address': 'fd00:192:0:2::11'}))
    assert plan_fleet(plain)['node1']['vxlan'][0]['mtu'] == 1330


def test_an_ipv6_only_host_takes_its_ipv6_default_route_address_as_vtep():
    only6 = {'routes': [], 'routes6': [{'dst': 'default', 'dev': 'eth0'}],
             'links': [{'name': 'eth0', 'kind': 'veth', 'mtu': 1500, 'addresses': [], 'addresses6': ['fd00:192:0:2::11/64']}]}
    members = fleet(('node1', [{'name': 'a', 'networks': ['ov6']}], only6))
    device = plan_fleet(members)['node1']['vxlan'][0]
    assert (device['local'], device['dev'], device['mtu']) == ('fd00:192:0:2::11', 'eth0', 1430)


def test_mixed_vtep_families_on_one_overlay_are_refused_naming_host_variable_and_fix():
    members = two()
    members[1][1]['linuxnet_vtep_address'] = 'fd00:192:0:2::12'
    with pytest.raises(PlanError) as err:
        plan_fleet(members)
    assert str(err.value) == (
        "host node2: its VTEP address fd00:192:0:2::12 (linuxnet_vtep_address, else the default route's) is IPv6, but "
        'that of host node1 on overlay ov6 is IPv4 192.0.2.11: the VTEPs of one overlay share one address family. Fix: '
        'set linuxnet_vtep_address of node2 to its IPv4 underlay address, or that of every host of ov6 to an IPv6 one')


def test_an_ipv6_overlay_needs_1280_bytes():
    members = fleet(('node1', [{'name': 'a', 'networks': ['ov6']}], facts('192.0.2.11', mtu=1320)))
    # The figure to raise the underlay to counts the outer headers of this overlay's VTEPs: 50 bytes over IPv4.
    with pytest.raises(PlanError, match=r'the overlay MTU would be 1270, below the 1280 bytes IPv6 needs .*Fix: raise the '
                                        r'underlay MTU to 1330 or more'):
        plan_fleet(members)
    over6 = fleet(('node1', [{'name': 'a', 'networks': ['ov6']}], facts('192.0.2.11', mtu=1340, ip6='fd00:192:0:2::11'),
                   {'linuxnet_vtep_address': 'fd00:192:0:2::11'}))
    with pytest.raises(PlanError, match=r'the overlay MTU would be 1270, below .*Fix: raise the underlay MTU to 1350 or more'):
        plan_fleet(over6)
    small = fleet(('node1', [{'name': 'a', 'networks': ['ov6']}], facts('192.0.2.11')), networks=(dict(OV6, mtu=1200),))
    with pytest.raises(PlanError, match='Fix: raise mtu to 1280 or more'):
        plan_fleet(small)


def test_an_exhausted_ipv6_range_names_the_ipv6_keys():
    members = fleet(('node1', [{'name': 'a', 'networks': ['ov6']}, {'name': 'b', 'networks': ['ov6']}], facts('192.0.2.11')),
                    networks=(dict(OV6, ipv6_ip_range='fd00:db8:40::2/128'),))
    with pytest.raises(PlanError, match='container b: no available IPv6 addresses on network ov6 .*Fix: widen ipv6_ip_range'):
        plan_fleet(members)


def test_fleet_problems_catch_a_static_ipv6_address_used_on_two_hosts():
    one = [{'name': 'a', 'networks': [{'name': 'ov6', 'ipv6_address': 'fd00:db8:40::5'}]}]
    two = [{'name': 'b', 'networks': [{'name': 'ov6', 'ipv6_address': 'fd00:db8:40::5'}]}]
    hv = {'n1': {'linuxnet_networks': [OV6], 'linuxnet_containers': one},
          'n2': {'linuxnet_networks': [OV6], 'linuxnet_containers': two}}
    assert fleet_problems(hv, ['n1', 'n2']) == [
        'host n2: linuxnet_containers (b): Address already in use: fd00:db8:40::5 on ov6 is also the ipv6_address of a on '
        'host n1. Fix: give each container its own address']
    # and the whole validation agrees: nothing else is wrong with an IPv6 overlay
    assert inventory_problems(hv, ['n1', 'n2'])[-1].startswith('host n2: linuxnet_containers (b): Address already in use')


@pytest.mark.parametrize('endpoint,message', [
    ({'ipv6_address': 'fd00:db8:41::5'}, "Invalid address fd00:db8:41::5: It does not belong to any of this network's subnets"),
    ({'ipv6_address': 'fd00:db8:40::1'}, 'Address already in use: fd00:db8:40::1 is the network, broadcast or gateway'),
])
def test_static_ipv6_addresses_on_an_overlay_in_dockers_words(endpoint, message):
    hv = {'n1': {'linuxnet_networks': [OV6], 'linuxnet_containers': [{'name': 'a', 'networks': [dict(endpoint, name='ov6')]}]}}
    assert any(message in p for p in inventory_problems(hv, ['n1']))


def test_the_inspect_summary_shows_the_ipv6_entry_and_addresses_of_an_overlay():
    from ansible_collections.linuxnet.container.plugins.filter.inventory import FilterModule  # pylint: disable=import-outside-toplevel
    info = {'networks': [{'Name': 'ov6', 'Driver': 'overlay', 'Options': {'com.docker.network.driver.overlay.vxlanid_list': '4600'},
                          'IPAM': {'Config': [{'Subnet': '10.0.60.0/24', 'Gateway': '10.0.60.1'},
                                              {'Subnet': 'fd00:db8:60::/64', 'Gateway': 'fd00:db8:60::1'}]},
                          'Containers': {'x': {'Name': 'c1', 'IPv4Address': '10.0.60.2/24', 'MacAddress': '02:42:0a:00:3c:02',
                                               'IPv6Address': 'fd00:db8:60::11/64'}}}]}
    assert FilterModule().filters()['network_summary'](info, 'n1') == [
        'n1 network ov6: 10.0.60.0/24 on br0, gateway 10.0.60.1, IPv6 fd00:db8:60::/64 gateway fd00:db8:60::1 (overlay, VNI 4600)',
        '    c1               10.0.60.2/24       02:42:0a:00:3c:02  fd00:db8:60::11/64']


def test_the_ipv6_ip_range_reaches_network_info_for_bridge_and_overlay_networks():
    from ansible_collections.linuxnet.container.plugins.filter.inventory import FilterModule  # pylint: disable=import-outside-toplevel
    filters = FilterModule().filters()
    bridge = {'name': 'b6', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:70::/64', 'ipv6_ip_range': 'fd00:db8:70::/80'}
    overlay = dict(OV6, ipv6_ip_range='fd00:db8:60::/80', ip_range='10.0.60.128/25')
    hv = {'linuxnet_networks': [bridge, overlay, {'name': 'off', 'ipv6_ip_range': 'fd00:db8:71::/80'}]}
    items = {item['name']: item for item in filters['bridge_networks'](hv)}
    assert items['b6']['ipv6_ip_range'] == 'fd00:db8:70::/80'
    # Without enable_ipv6 (which validation refuses anyway), no IPv6 range is shown.
    assert 'ipv6_ip_range' not in items['off']
    (ov,) = filters['overlay_networks'](hv)
    assert (ov['ip_range'], ov['ipv6_ip_range']) == ('10.0.60.128/25', 'fd00:db8:60::/80')


def test_an_overlay_mtu_too_small_for_ipv4_names_what_to_raise():
    # The user's own mtu: raise that; the underlay's: raise the underlay MTU.
    own = fleet(('node1', [{'name': 'a', 'networks': ['plain']}], facts('192.0.2.11')), networks=(dict(PLAIN, mtu=1100),))
    with pytest.raises(PlanError, match=r'the overlay MTU would be 1100, too small for IPv4 containers to work well '
                                        r'\(the smallest underlay MTU is 1500\). Fix: raise mtu to 1230 or more, or leave it out'):
        plan_fleet(own)
    underlay = fleet(('node1', [{'name': 'a', 'networks': ['plain']}], facts('192.0.2.11', mtu=1200)), networks=(PLAIN,))
    with pytest.raises(PlanError, match=r'the overlay MTU would be 1150, .*\(the smallest underlay MTU is 1200\). Fix: raise '
                                        r'the underlay MTU$'):
        plan_fleet(underlay)
