# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet-wide planning of overlays and macvlan networks (docs/examples/s8-overlay.md) and the checks across hosts."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._parts import vtep_filter
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.fleet import PlanError, plan_fleet, plan_host
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.inventory import inventory_problems
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.overlay import overlay_namespace

NETS = [{'name': 'demo', 'driver': 'overlay'},
        {'name': 'ov_net2', 'driver': 'overlay', 'subnet': '10.0.1.0/24', 'vni': 257},
        {'name': 'mac', 'driver': 'macvlan', 'subnet': '198.51.100.0/24', 'gateway': '198.51.100.1', 'parent': 'eth0'}]


def facts(ip, mtu=1500, interfaces=()):
    return {'routes': [{'dst': 'default', 'dev': 'eth0'}],
            'links': [{'name': 'eth0', 'kind': 'veth', 'mtu': mtu, 'addresses': [ip + '/24']}],
            'interfaces': list(interfaces)}


def fleet(*hosts):
    """hosts: (name, containers, facts) -> [(name, hv, facts)]"""
    return [(name, {'linuxnet_networks': NETS, 'linuxnet_containers': containers}, f) for name, containers, f in hosts]


def plan(name, members):
    return plan_fleet(members)[name]


def peer_addresses(result):
    return {(p['peer']['namespace'], p['peer']['name']): p['peer']['addresses'][0] for p in result['pairs'] if 'peer' in p}


def test_s8_two_hosts_get_10_0_0_2_and_3_vni_256_mtu_1450_and_each_others_fdb():
    members = fleet(('node1', [{'name': 'test1', 'networks': ['demo']}], facts('192.0.2.11')),
                    ('node2', [{'name': 'test2', 'networks': ['demo']}], facts('192.0.2.12')))
    one, two = plan('node1', members), plan('node2', members)
    assert peer_addresses(one)[('test1', 'eth0')] == '10.0.0.2/24'
    assert peer_addresses(two)[('test2', 'eth0')] == '10.0.0.3/24'
    ns = overlay_namespace('demo')
    assert {'name': ns} in one['namespaces']
    # br0's MAC is fixed (Docker's 02:42 + the gateway's IPv4), the same on both hosts, as its address.
    assert {'name': 'br0', 'namespace': ns, 'mtu': 1450, 'purge_addresses': True, 'addresses': ['10.0.0.1/24'],
            'mac': '02:42:0a:00:00:01'} in one['bridges']
    assert next(b for b in two['bridges'] if b['name'] == 'br0')['mac'] == '02:42:0a:00:00:01'
    device = one['vxlan'][0]
    assert (device['vni'], device['local'], device['dev'], device['mtu'], device['peers']) == (256, '192.0.2.11', 'eth0', 1450, ['192.0.2.12'])
    assert device['fdb'] == [{'mac': '02:42:0a:00:00:03', 'dst': '192.0.2.12'}]
    assert device['neighbors'] == [{'address': '10.0.0.3', 'mac': '02:42:0a:00:00:03'}]
    assert one['vteps'] == ['192.0.2.11', '192.0.2.12']
    hosts = {n['name']: n.get('hosts', []) + one['hosts_sets'].get(n.get('hosts_set'), []) for n in one['namespaces']}
    assert {'address': '10.0.0.3', 'names': ['test2']} in hosts['test1']
    # docker_gwbridge carries the default route, with icc off and masquerade
    gw = [p for p in one['pairs'] if p['master'] == 'docker_gwbridge'][0]
    assert gw['peer']['name'] == 'eth1' and gw['peer']['routes'][0]['dst'] == 'default'
    assert {'bridge': 'docker_gwbridge', 'subnet': '172.18.0.0/16', 'icc': False, 'masquerade': True,
            'internal': False} in one['isolation']


def test_addresses_stay_when_hosts_or_containers_are_added_before_them():
    existing = [{'container': 'test2', 'ifname': 'eth0', 'kind': 'veth', 'addresses': ['10.0.0.2/24']}]
    members = fleet(('node0', [{'name': 'new', 'networks': ['demo']}], facts('192.0.2.10')),
                    ('node2', [{'name': 'test2', 'networks': ['demo']}], facts('192.0.2.12', interfaces=existing)))
    assert peer_addresses(plan('node2', members))[('test2', 'eth0')] == '10.0.0.2/24'
    assert peer_addresses(plan('node0', members))[('new', 'eth0')] == '10.0.0.3/24'


def test_smallest_underlay_mtu_wins_and_a_too_large_mtu_fails():
    members = fleet(('node1', [{'name': 'a', 'networks': ['demo']}], facts('192.0.2.11', mtu=9000)),
                    ('node2', [{'name': 'b', 'networks': ['demo']}], facts('192.0.2.12', mtu=1400)))
    assert plan('node1', members)['vxlan'][0]['mtu'] == 1350
    nets = NETS[:1] + [{'name': 'big', 'driver': 'overlay', 'mtu': 1400}]
    bad = [(n, dict(hv, linuxnet_networks=nets, linuxnet_containers=[{'name': 'x' + n, 'networks': ['big']}]), f) for n, hv, f in members]
    with pytest.raises(PlanError, match='mtu 1400 is larger than the smallest underlay MTU minus the VXLAN overhead'):
        plan('node1', bad)


def test_a_host_that_left_is_no_longer_a_peer():
    members = fleet(('node1', [{'name': 'test1', 'networks': ['demo']}], facts('192.0.2.11')),
                    ('node2', [], facts('192.0.2.12')))
    device = plan('node1', members)['vxlan'][0]
    assert device['peers'] == [] and device['fdb'] == [] and device['neighbors'] == [] and device['purge']


def test_overlays_are_separate_namespaces_and_vnis_are_allocated_in_order():
    members = fleet(('node1', [{'name': 'a', 'networks': ['demo', 'ov_net2']}], facts('192.0.2.11')))
    result = plan('node1', members)
    assert sorted(d['vni'] for d in result['vxlan']) == [256, 257]
    assert len({d['namespace'] for d in result['vxlan']}) == 2


def test_the_vtep_filter_accepts_each_overlay_only_from_the_hosts_on_it():
    # node1 is on both overlays, node2 on demo (VNI 256) only, node3 on ov_net2 (VNI 257) only, node4 on macvlan only
    members = fleet(('node1', [{'name': 'a', 'networks': ['demo', 'ov_net2']}], facts('192.0.2.11')),
                    ('node2', [{'name': 'b', 'networks': ['demo']}], facts('192.0.2.12')),
                    ('node3', [{'name': 'c', 'networks': ['ov_net2']}], facts('192.0.2.13')),
                    ('node4', [{'name': 'm', 'networks': ['mac']}], facts('192.0.2.14')))
    plans = plan_fleet(members)
    assert plans['node1']['vtep_members'] == [{'vni': 256, 'vteps': ['192.0.2.11', '192.0.2.12']},
                                              {'vni': 257, 'vteps': ['192.0.2.11', '192.0.2.13']}]
    assert plans['node2']['vtep_members'] == [{'vni': 256, 'vteps': ['192.0.2.11', '192.0.2.12']}]
    assert plans['node3']['vtep_members'] == [{'vni': 257, 'vteps': ['192.0.2.11', '192.0.2.13']}]
    # node3 is a VTEP of the fleet, yet node2 accepts nothing from it: they share no overlay
    assert plans['node2']['vteps'] == ['192.0.2.11', '192.0.2.12']
    assert plans['node4']['vtep_members'] == [] and plans['node4']['vteps'] == []
    # the plan is what the module takes
    wanted = vtep_filter.desired_state({'members': plans['node1']['vtep_members'], 'ports': [4789], 'state': 'present'})
    assert wanted['members'] == {4: [('192.0.2.11', 256), ('192.0.2.11', 257), ('192.0.2.12', 256), ('192.0.2.13', 257)], 6: []}


def test_macvlan_endpoints_hang_from_the_parent_and_route_via_its_gateway():
    members = fleet(('node1', [{'name': 'm1', 'networks': ['mac']}], facts('192.0.2.11')),
                    ('node2', [{'name': 'm2', 'networks': ['mac']}], facts('192.0.2.12')))
    assert plan('node2', members)['macvlans'] == [{
        'name': 'eth0', 'namespace': 'm2', 'addresses': ['198.51.100.3/24'], 'mac': '02:42:c6:33:64:03',
        'routes': [{'dst': 'default', 'gateway': '198.51.100.1'}], 'parent': 'eth0', 'mode': 'bridge'}]
    nets = [dict(NETS[2], parent='eth7')]
    bad = [(n, dict(hv, linuxnet_networks=nets), f) for n, hv, f in members]
    with pytest.raises(PlanError, match='parent eth7 does not exist on the host'):
        plan('node1', bad)


def test_missing_vtep_is_a_plan_error_naming_the_fix():
    members = fleet(('node1', [{'name': 'a', 'networks': ['demo']}], {'routes': [], 'links': []}))
    with pytest.raises(PlanError, match='no VTEP address.*Fix: set linuxnet_vtep_address'):
        plan('node1', members)


def test_fleet_problems_name_host_and_fix():
    hv = {
        'n1': {'linuxnet_networks': NETS + [{'name': 'o3', 'driver': 'overlay', 'vni': 257}], 'linuxnet_vtep_address': '192.0.2.11',
               'linuxnet_containers': [{'name': 'test1', 'networks': [{'name': 'ov_net2', 'ipv4_address': '10.0.1.9'}]}]},
        'n2': {'linuxnet_networks': NETS, 'linuxnet_vtep_address': '192.0.2.11',
               'linuxnet_containers': [{'name': 'test1', 'networks': ['ov_net2']},
                                       {'name': 'x', 'networks': [{'name': 'ov_net2', 'ipv4_address': '10.0.1.9'}]}]},
    }
    text = '\n'.join(inventory_problems(hv, ['n1', 'n2']))
    assert 'vni 257 is also the VNI of overlay ov_net2' in text
    assert 'linuxnet_vtep_address 192.0.2.11 is also the VTEP of host n1' in text
    assert 'endpoint with name test1 already exists in network ov_net2 (on host n1)' in text
    assert 'Address already in use: 10.0.1.9 on ov_net2 is also the ipv4_address of test1 on host n1' in text


def test_absent_plans_every_hosts_removal():
    members = fleet(('node1', [{'name': 'test1', 'networks': ['demo']}], facts('192.0.2.11')),
                    ('node2', [{'name': 'test2', 'networks': ['demo', 'mac']}], facts('192.0.2.12')))
    gone = plan_fleet(members, state='absent')
    assert all(p['namespaces'] == [] and p['vxlan'] == [] and p['vteps'] == [] for p in gone.values())


def test_a_host_planned_alone_is_a_fleet_of_its_own():
    members = fleet(('node1', [{'name': 'test1', 'networks': ['demo']}], facts('192.0.2.11')))
    assert plan_host('node1', members[0][1], members[0][2]) == plan('node1', members)


def test_connecting_another_network_renames_nothing_and_takes_the_next_eth():
    # test3 on ov_net2 (eth0) with docker_gwbridge (eth1) is connected to demo: demo gets eth2, as in Docker.
    existing = [{'container': 'test3', 'ifname': 'eth0', 'kind': 'veth', 'addresses': ['10.0.1.2/24']},
                {'container': 'test3', 'ifname': 'eth1', 'kind': 'veth', 'addresses': ['172.18.0.2/16']}]
    node_facts = facts('192.0.2.13', interfaces=existing)
    node_facts['endpoints'] = [{'container': 'test3', 'network': 'docker_gwbridge', 'ifname': 'eth1',
                                'addresses': ['172.18.0.2/16'], 'host_ifname': 'vethx'}]
    members = fleet(('node3', [{'name': 'test3', 'networks': ['ov_net2', 'demo']}], node_facts))
    names = {p['peer']['name']: p['peer']['addresses'][0] for p in plan('node3', members)['pairs']}
    assert names == {'eth0': '10.0.1.2/24', 'eth1': '172.18.0.2/16', 'eth2': '10.0.0.2/24'}


def test_an_overlay_address_whose_docker_mac_a_mac_address_takes_is_not_handed_out():
    members = fleet(('node1', [{'name': 'test1', 'networks': ['demo']},
                               {'name': 'test2', 'networks': [{'name': 'demo', 'mac_address': '02:42:0a:00:00:03'}]}], facts('192.0.2.11')),
                    ('node2', [{'name': 'test3', 'networks': ['demo']}], facts('192.0.2.12')))
    one, two = plan('node1', members), plan('node2', members)
    assert peer_addresses(one)[('test1', 'eth0')] == '10.0.0.2/24'
    assert peer_addresses(one)[('test2', 'eth0')] == '10.0.0.4/24'
    assert peer_addresses(two)[('test3', 'eth0')] == '10.0.0.5/24'
    assert {'mac': '02:42:0a:00:00:03', 'dst': '192.0.2.11'} in two['vxlan'][0]['fdb']


def test_an_overlay_mac_address_equal_to_a_kept_address_docker_mac_is_a_plan_error():
    kept = {'container': 'test1', 'ifname': 'eth0', 'kind': 'veth', 'addresses': ['10.0.1.7/24']}
    members = fleet(('node1', [{'name': 'test1', 'networks': ['ov_net2']}], facts('192.0.2.11', interfaces=[kept])),
                    ('node2', [{'name': 'test2', 'networks': [{'name': 'ov_net2', 'mac_address': '02:42:0a:00:01:07'}]}],
                     facts('192.0.2.12')))
    with pytest.raises(PlanError) as err:
        plan('node1', members)
    assert ("host node2: container test2: mac_address 02:42:0a:00:01:07 on ov_net2 is also the MAC of test1 on host node1 "
            "(Docker's 02:42 + its address 10.0.1.7)") in str(err.value)
