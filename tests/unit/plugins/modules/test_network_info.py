# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""network_info's pure parts: option checks and the shaping of kernel state into docker's views."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._parts import inspect
from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import container_id, endpoint_id, network_id
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.nft import TableState
from ansible_collections.linuxnet.container.plugins.module_utils._converge.read import _requested

# What `nft -j list table` printed for docker_isolation and port_map tables on a lab host (handles dropped).
ISOLATION_JSON = [
    {'table': {'family': 'inet', 'name': 'linuxnet_isolation'}},
    {'set': {'family': 'inet', 'name': 'owned_by_linuxnet_container', 'table': 'linuxnet_isolation', 'type': 'ifname'}},
    {'set': {'name': 'bridges', 'type': 'ifname', 'elem': ['br-a', 'br-b', 'br-c']}},
    {'set': {'name': 'self_pairs', 'type': ['ifname', 'ifname'],
             'elem': [{'concat': ['br-a', 'br-a']}, {'concat': ['br-b', 'br-b']}, {'concat': ['br-c', 'br-c']}]}},
    {'set': {'name': 'icc_off_pairs', 'type': ['ifname', 'ifname'], 'elem': [{'concat': ['br-b', 'br-b']}]}},
    {'set': {'name': 'internal', 'type': 'ifname', 'elem': ['br-c']}},
    {'set': {'name': 'masq_subnets', 'type': 'ipv4_addr', 'flags': ['interval'],
             'elem': [{'prefix': {'addr': '10.0.0.0', 'len': 16}}, {'prefix': {'addr': '10.1.0.0', 'len': 16}}]}},
    {'set': {'name': 'masq_self', 'type': ['ipv4_addr', 'ifname'], 'flags': ['interval'],
             'elem': [{'concat': [{'prefix': {'addr': '10.0.0.0', 'len': 16}}, 'br-a']},
                      {'concat': [{'prefix': {'addr': '10.1.0.0', 'len': 16}}, 'br-b']}]}},
]
PORTS_JSON = [
    {'table': {'family': 'ip', 'name': 'linuxnet_ports'}},
    {'set': {'name': 'owned_by_linuxnet_container', 'type': 'ifname'}},
    {'map': {'name': 'any_addr', 'map': 'ipv4_addr', 'elem': [[{'concat': ['tcp', 8080]}, '10.0.0.2'],
                                                              [{'concat': ['tcp', 5432]}, '10.0.0.3']]}},
    {'map': {'name': 'any_port', 'map': 'inet_service', 'elem': [[{'concat': ['tcp', 8080]}, 80],
                                                                 [{'concat': ['tcp', 5432]}, 5432]]}},
    {'map': {'name': 'addr_addr', 'map': 'ipv4_addr', 'elem': [[{'concat': ['127.0.0.1', 'udp', 5353]}, '10.1.0.2']]}},
    {'map': {'name': 'addr_port', 'map': 'inet_service', 'elem': [[{'concat': ['127.0.0.1', 'udp', 5353]}, 53]]}},
    {'set': {'name': 'hairpin', 'type': ['ipv4_addr', 'ipv4_addr'], 'elem': [{'concat': ['10.0.0.2', '10.0.0.2']}]}},
]


def _params(**kwargs):
    params = {'networks': [], 'containers': None, 'namespace': None, 'discover': True}
    params.update(kwargs)
    for net in params['networks']:
        for key in ('bridge', 'parent', 'subnet', 'gateway', 'ip_range', 'ipv6_ip_range'):
            net.setdefault(key, None)
    return params


def _link(index, name, kind=None, master=None, link=None, nsid=None, mac=None, alias=None, mtu=1500):
    return {'index': index, 'name': name, 'kind': kind, 'mac': mac, 'mtu': mtu, 'alias': alias,
            'master_index': master, 'link': link, 'link_netnsid': nsid}


# Host: two bridges (10, 11), ports 20 (peer eth0=2 in web), 21 (peer eth1=3 in web), 22 (peer eth0=2 in db),
# 23 a port whose peer is on the host (24), 25 a veth not on any bridge (peer eth9=9 in web).
HOST = {
    1: _link(1, 'lo'),
    10: _link(10, 'br-a', 'bridge', alias='linuxnet.container'),
    11: _link(11, 'br-b', 'bridge'),
    20: _link(20, 'vetha', 'veth', master=10, link=2, nsid=0),
    21: _link(21, 'vethb', 'veth', master=11, link=3, nsid=0),
    22: _link(22, 'vethc', 'veth', master=10, link=2, nsid=1),
    23: _link(23, 'vhost', 'veth', master=10, link=24),
    24: _link(24, 'vhost-peer', 'veth', link=23),
    25: _link(25, 'vfree', 'veth', link=9, nsid=0),
}
BRIDGES = {10: 'net_a', 11: 'net_b'}
WEB = {
    1: _link(1, 'lo'),
    2: _link(2, 'eth0', 'veth', link=20, nsid=0, mac='02:42:0a:00:00:02'),
    3: _link(3, 'eth1', 'veth', link=21, nsid=0, mac='02:42:0a:01:00:02'),
    9: _link(9, 'eth9', 'veth', link=25, nsid=0, mac='02:00:00:00:00:09'),
}


def docker_shape(name, driver, subnet, gateway, mac, address, options):
    """What docker network inspect shows for a local network with one container, web."""
    return {
        'Name': name, 'Id': network_id(name), 'Scope': 'local', 'Driver': driver, 'EnableIPv6': False,
        'IPAM': {'Driver': 'default', 'Options': {}, 'Config': [{'Subnet': subnet, 'Gateway': gateway}]},
        'Internal': False, 'Attachable': False, 'Ingress': False,
        'Containers': {container_id('web'): {'Name': 'web', 'EndpointID': endpoint_id('web', name),
                                             'MacAddress': mac, 'IPv4Address': address, 'IPv6Address': ''}},
        'Options': options, 'Labels': {}, 'Exists': True,
    }


def test_requested_networks_are_checked():
    nets, containers = _requested(_params(networks=[{'name': 'a', 'bridge': 'br-a', 'driver': 'bridge'}],
                                          containers=['web', 'db', 'web']))
    assert nets == [{'name': 'a', 'bridge': 'br-a', 'driver': 'bridge', 'ip_range': None, 'ipv6_ip_range': None}]
    assert containers == ['web', 'db']
    mac = {'name': 'm', 'bridge': None, 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.7/24', 'gateway': '198.51.100.1'}
    assert _requested(_params(networks=[mac]))[0] == [{'name': 'm', 'bridge': None, 'driver': 'macvlan', 'parent': 'eth0',
                                                       'subnet': '198.51.100.0/24', 'gateway': '198.51.100.1', 'ip_range': None,
                                                       'ipv6_subnet': None, 'ipv6_gateway': None, 'ipv6_ip_range': None}]
    # A macvlan network with IPv6: its IPv6 entry normalised as the IPv4 one.
    mac6 = dict(mac, ipv6_subnet='fd00:db8:50:0::5/64', ipv6_gateway='fd00:db8:50:0::1', ipv6_ip_range='fd00:db8:50::/80')
    found = _requested(_params(networks=[mac6]))[0][0]
    assert (found['ipv6_subnet'], found['ipv6_gateway'], found['ipv6_ip_range']) == ('fd00:db8:50::/64', 'fd00:db8:50::1', 'fd00:db8:50::/80')
    assert _requested(_params())[1] is None


@pytest.mark.parametrize('networks, containers, words', [
    ([{'name': 'a', 'bridge': 'br-a', 'driver': 'bridge'}, {'name': 'a', 'bridge': 'br-b', 'driver': 'bridge'}], None,
     'network a is listed twice'),
    ([{'name': 'a', 'bridge': 'br-a', 'driver': 'bridge'}, {'name': 'b', 'bridge': 'br-a', 'driver': 'bridge'}], None,
     r'bridge br-a is also the bridge of networks\[0\]'),
    ([{'name': 'a', 'bridge': 'br-much-too-long-name', 'driver': 'bridge'}], None, 'at most 15'),
    ([], ['ok', 'bad/name'], r"containers\[1\]: namespace name 'bad/name'"),
    ([{'name': 'm', 'driver': 'macvlan'}], None, r'networks\[0\] \(m\): parent is required for a macvlan network'),
    ([{'name': 'b', 'driver': 'bridge'}], None, r'networks\[0\] \(b\): bridge is required for a bridge network'),
    ([{'name': 'm', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '2001:db8::/64'}], None, 'subnet: 2001:db8::/64 is not IPv4'),
    ([{'name': 'm', 'driver': 'macvlan', 'parent': 'eth0', 'ipv6_subnet': '198.51.100.0/24'}], None,
     'ipv6_subnet: 198.51.100.0/24 is not IPv6. Fix: give an IPv6 network like fd00:db8:50::/64'),
    ([{'name': 'm', 'driver': 'macvlan', 'parent': 'eth0', 'ipv6_gateway': '198.51.100.1'}], None,
     'ipv6_gateway: .*Fix: give an IPv6 address'),
    ([{'name': 'm', 'driver': 'macvlan', 'parent': 'eth0'}, {'name': 'm', 'bridge': 'br-m', 'driver': 'bridge'}], None,
     'network m is listed twice'),
])
def test_requested_errors_name_the_item_and_fix(networks, containers, words):
    with pytest.raises(LinuxnetError, match=words):
        _requested(_params(networks=networks, containers=containers))


def test_match_endpoints_follows_link_and_netnsid_both_ways():
    found = inspect.match_endpoints(HOST, BRIDGES, 'web', WEB, 0)
    assert [(e['ifname'], e['host_ifname'], e['network'], e['bridge'], e['mac']) for e in found] == [
        ('eth0', 'vetha', 'net_a', 'br-a', '02:42:0a:00:00:02'),
        ('eth1', 'vethb', 'net_b', 'br-b', '02:42:0a:01:00:02'),
    ]
    # db's eth0 has the same index as web's; only the netnsid tells them apart.
    db = {1: _link(1, 'lo'), 2: _link(2, 'eth0', 'veth', link=22, nsid=5, mac='02:42:0a:00:00:03')}
    assert [e['host_ifname'] for e in inspect.match_endpoints(HOST, BRIDGES, 'db', db, 5)] == ['vethc']
    # The same links seen through another namespace id lead elsewhere: nothing matches.
    assert inspect.match_endpoints(HOST, BRIDGES, 'web', WEB, 7) == []
    assert inspect.match_endpoints(HOST, BRIDGES, 'web', WEB, None) == []
    assert inspect.match_endpoints(HOST, BRIDGES, 'web', WEB, 4294967295) == []
    # A peer that does not point back is not an endpoint (same indexes in another namespace).
    liar = {4: _link(4, 'eth0', 'veth', link=22, nsid=0)}
    assert inspect.match_endpoints(HOST, BRIDGES, 'x', liar, 0) == []


def test_match_endpoints_ignores_unlisted_bridges_and_non_veth():
    assert [e['ifname'] for e in inspect.match_endpoints(HOST, {11: 'net_b'}, 'web', WEB, 0)] == ['eth1']
    dummy = {2: _link(2, 'eth0', 'dummy', link=20, nsid=0)}
    assert inspect.match_endpoints(HOST, BRIDGES, 'web', dummy, 0) == []
    assert inspect.candidate_links(HOST, BRIDGES, WEB) is True
    assert inspect.candidate_links(HOST, BRIDGES, {1: _link(1, 'lo')}) is False


def test_addresses_sorted_numerically_and_primary_in_kernel_order():
    entries = [('10.0.0.10/16', False), ('10.0.0.9/16', True), ('fe80::1/64', False), ('fd00::2/64', False)]
    assert inspect.sorted_addresses(entries) == ['10.0.0.9/16', '10.0.0.10/16', 'fd00::2/64']
    assert inspect.primary_address(entries, 4) == '10.0.0.10/16'
    assert inspect.primary_address(entries, 6) == 'fd00::2/64'
    assert inspect.primary_address([('fe80::1/64', False)], 6) == ''
    assert inspect.primary_address([('10.0.0.9/16', True)], 4) == '10.0.0.9/16'
    # IPv4 entries first, then IPv6 ones (Docker's order), link-local left out.
    assert inspect.ipam_config(entries) == [{'Subnet': '10.0.0.0/16', 'Gateway': '10.0.0.10'},
                                            {'Subnet': '10.0.0.0/16', 'Gateway': '10.0.0.9'},
                                            {'Subnet': 'fd00::/64', 'Gateway': 'fd00::2'}]


def test_an_ipv6_ip_range_is_checked_and_shown_on_the_ipv6_entry():
    net = {'name': 'a', 'bridge': 'br-a', 'driver': 'bridge', 'ip_range': '10.0.0.128/25', 'ipv6_ip_range': 'fd00:db8:0000:0:1::/80'}
    nets, _containers = _requested(_params(networks=[net]))
    assert (nets[0]['ip_range'], nets[0]['ipv6_ip_range']) == ('10.0.0.128/25', 'fd00:db8:0:0:1::/80')
    with pytest.raises(LinuxnetError, match=r'networks\[0\] \(a\): ipv6_ip_range: 10.0.0.0/25 is not IPv6. Fix: give an IPv6 network'):
        _requested(_params(networks=[{'name': 'a', 'bridge': 'br-a', 'driver': 'bridge', 'ipv6_ip_range': '10.0.0.0/25'}]))
    with pytest.raises(LinuxnetError, match=r'ip_range: fd00::/80 is not IPv4'):
        _requested(_params(networks=[{'name': 'a', 'bridge': 'br-a', 'driver': 'bridge', 'ip_range': 'fd00::/80'}]))
    config = inspect.ipam_config([('10.0.0.1/24', False), ('fd00:db8::1/64', False)], '10.0.0.128/25', 'fd00:db8::/80')
    assert config == [{'Subnet': '10.0.0.0/24', 'Gateway': '10.0.0.1', 'IPRange': '10.0.0.128/25'},
                      {'Subnet': 'fd00:db8::/64', 'Gateway': 'fd00:db8::1', 'IPRange': 'fd00:db8::/80'}]
    # A range no entry holds is left out, as Docker shows none for it.
    assert 'IPRange' not in inspect.ipam_config([('fd00:db8::1/64', False)], None, 'fd00:db9::/80')[0]


def test_dual_stack_network_and_endpoint():
    raw = inspect.match_endpoints(HOST, BRIDGES, 'web', WEB, 0)[0]
    ep = inspect.endpoint_entry(raw, [('10.0.0.2/16', False), ('fe80::42:aff:fe00:2/64', False), ('fd00:db8::2/64', False)])
    assert (ep['ipv6'], ep['GlobalIPv6Address'], ep['GlobalIPv6PrefixLen']) == ('fd00:db8::2/64', 'fd00:db8::2', 64)
    net = {'name': 'net_a', 'bridge': 'br-a', 'driver': 'bridge', 'ip_range': 'fd00:db8::/80'}
    shaped = inspect.network_inspect(net, HOST[10], [('10.0.0.1/16', False), ('fd00:db8::1/64', False)], [ep],
                                     inspect.DEFAULT_FLAGS)
    assert shaped['EnableIPv6'] is True
    assert shaped['IPAM']['Config'] == [{'Subnet': '10.0.0.0/16', 'Gateway': '10.0.0.1'},
                                        {'Subnet': 'fd00:db8::/64', 'Gateway': 'fd00:db8::1', 'IPRange': 'fd00:db8::/80'}]
    assert shaped['Containers'][container_id('web')]['IPv6Address'] == 'fd00:db8::2/64'


def test_isolation_flags_from_the_real_table():
    flags = inspect.isolation_flags(TableState(ISOLATION_JSON).sets)
    # A table of the version before the direct-routing filter (no set protected) filters nothing: nat-unprotected.
    old = {'gateway_mode_ipv4': 'nat-unprotected', 'gateway_mode_ipv6': 'nat-unprotected'}
    assert flags == {
        'br-a': dict(old, internal=False, icc=True, masquerade=True),
        'br-b': dict(old, internal=False, icc=False, masquerade=True),
        'br-c': dict(old, internal=True, icc=True, masquerade=False),
    }
    protected = ISOLATION_JSON + [
        {'set': {'name': 'protected', 'type': ['nf_proto', 'ifname'],
                 'elem': [{'concat': ['ipv4', 'br-a']}, {'concat': ['ipv6', 'br-a']}, {'concat': ['ipv4', 'br-b']}]}},
        {'set': {'name': 'routed_icmp', 'type': ['inet_proto', 'ifname'], 'elem': [{'concat': ['ipv6-icmp', 'br-b']}]}}]
    modes = {bridge: (f['gateway_mode_ipv4'], f['gateway_mode_ipv6'])
             for bridge, f in inspect.isolation_flags(TableState(protected).sets).items()}
    assert modes == {'br-a': ('nat', 'nat'), 'br-b': ('nat', 'routed'), 'br-c': ('nat-unprotected', 'nat-unprotected')}
    assert inspect.isolation_flags(None) == {}


def test_published_ports_as_docker_port_prints_them():
    maps = inspect.published_maps(TableState(PORTS_JSON).sets)
    assert maps == {('0.0.0.0', 'tcp', 8080): (('10.0.0.2', 80), 'published 0.0.0.0:8080/tcp'),
                    ('0.0.0.0', 'tcp', 5432): (('10.0.0.3', 5432), 'published 0.0.0.0:5432/tcp'),
                    ('127.0.0.1', 'udp', 5353): (('10.1.0.2', 53), 'published 127.0.0.1:5353/udp')}
    endpoints = [
        {'container': 'web', 'addresses': ['10.0.0.2/16']},
        {'container': 'web', 'addresses': ['10.1.0.2/16']},
        {'container': 'db', 'addresses': ['10.0.0.3/16']},
        {'container': 'idle', 'addresses': ['10.0.0.9/16']},
    ]
    assert inspect.port_lines(maps, endpoints) == {
        'db': ['5432/tcp -> 0.0.0.0:5432'],
        'idle': [],
        'web': ['53/udp -> 127.0.0.1:5353', '80/tcp -> 0.0.0.0:8080'],
    }
    assert inspect.port_lines({}, endpoints[:1]) == {'web': []}
    assert inspect.published_maps({}) == {}


def test_network_inspect_shape():
    raw = inspect.match_endpoints(HOST, BRIDGES, 'web', WEB, 0)[0]
    ep = inspect.endpoint_entry(raw, [('10.0.0.2/16', False)])
    assert ep == {'container': 'web', 'network': 'net_a', 'bridge': 'br-a', 'ifname': 'eth0', 'host_ifname': 'vetha',
                  'mac': '02:42:0a:00:00:02', 'addresses': ['10.0.0.2/16'], 'ipv4': '10.0.0.2/16', 'ipv6': '',
                  'GlobalIPv6Address': '', 'GlobalIPv6PrefixLen': 0}
    net = {'name': 'net_a', 'bridge': 'br-a', 'driver': 'bridge'}
    flags = {'internal': False, 'icc': False, 'masquerade': True}
    shaped = inspect.network_inspect(net, HOST[10], [('10.0.0.1/16', False)], [ep], flags)
    assert shaped == docker_shape('net_a', 'bridge', '10.0.0.0/16', '10.0.0.1', '02:42:0a:00:00:02', '10.0.0.2/16', {
        'com.docker.network.bridge.name': 'br-a', 'com.docker.network.bridge.enable_icc': 'false',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0', 'com.docker.network.driver.mtu': '1500'})
    missing = inspect.network_inspect(dict(net, driver='overlay'), None, [], [ep], inspect.DEFAULT_FLAGS)
    assert missing['Exists'] is False and missing['Containers'] == {} and missing['IPAM']['Config'] == []
    assert missing['Scope'] == 'swarm' and missing['Options'] == {}
    gone = inspect.network_inspect(net, None, [], [ep], inspect.DEFAULT_FLAGS)
    assert 'com.docker.network.driver.mtu' not in gone['Options']
    assert gone['Options']['com.docker.network.bridge.enable_icc'] == 'true'


def test_overlay_shows_its_vni_and_ip_range():
    net = {'name': 'demo', 'bridge': 'br0', 'driver': 'overlay', 'ip_range': '10.0.0.128/25'}
    vxlan = inspect.vxlan_device(dict(_link(5, 'vxlan0', 'vxlan', master=4), vni=256, local='192.0.2.11'),
                                 ['192.0.2.13', '192.0.2.12', '192.0.2.13'], {4: 'br0'})
    assert vxlan == {'name': 'vxlan0', 'vni': 256, 'local': '192.0.2.11', 'master': 'br0', 'remotes': ['192.0.2.12', '192.0.2.13']}
    shaped = inspect.network_inspect(net, _link(4, 'br0', 'bridge'), [('10.0.0.1/24', False)], [], inspect.DEFAULT_FLAGS, vxlan)
    assert (shaped['Scope'], shaped['Driver'], shaped['Internal']) == ('swarm', 'overlay', False)
    assert shaped['Options'] == {'com.docker.network.driver.overlay.vxlanid_list': '256', 'com.docker.network.driver.mtu': '1500'}
    assert shaped['IPAM']['Config'] == [{'Subnet': '10.0.0.0/24', 'Gateway': '10.0.0.1', 'IPRange': '10.0.0.128/25'}]
    # A range outside every subnet shows nowhere.
    assert 'IPRange' not in inspect.ipam_config([('10.0.0.1/24', False)], '10.9.0.0/25')[0]


# Host eth0 (2) and eth1 (3) are parents; web has two macvlans on eth0 (one per network) and one on eth1, db one
# whose lower device is in another namespace (nsid 7).
MAC_HOST = {2: _link(2, 'eth0', 'veth'), 3: _link(3, 'eth1', 'veth')}
MAC_WEB = {
    1: _link(1, 'lo'),
    4: _link(4, 'eth0', 'macvlan', link=2, nsid=0, mac='02:42:c6:33:64:02'),
    5: _link(5, 'eth1', 'macvlan', link=2, nsid=0, mac='02:42:c6:33:65:02'),
    6: _link(6, 'eth2', 'macvlan', link=3, nsid=0, mac='02:42:c0:00:02:09'),
    7: _link(7, 'eth3', 'macvlan', link=2, nsid=7),
}
MACNETS = [{'name': 'mac_a', 'parent': 'eth0', 'subnet': '198.51.100.0/24'},
           {'name': 'mac_b', 'parent': 'eth0', 'subnet': '198.51.101.0/24'}]


def test_macvlan_endpoints_by_parent_and_subnet():
    assert inspect.candidate_links(MAC_HOST, {}, MAC_WEB, 'web', {2})
    assert not inspect.candidate_links(MAC_HOST, {}, MAC_WEB, 'web', set())
    found = inspect.match_macvlans(MAC_HOST, {2}, 'web', MAC_WEB, 0)
    assert [(e['ifname'], e['bridge'], e['host_ifname'], e['network']) for e in found] == [('eth0', 'eth0', None, None), ('eth1', 'eth0', None, None)]
    assert inspect.match_macvlans(MAC_HOST, {2}, 'web', MAC_WEB, None) == []
    assert inspect.macvlan_network('eth0', [('198.51.100.2/24', False)], MACNETS) == 'mac_a'
    assert inspect.macvlan_network('eth0', [('198.51.101.2/24', False)], MACNETS) == 'mac_b'
    assert inspect.macvlan_network('eth0', [('203.0.113.2/24', False)], MACNETS) is None
    assert inspect.macvlan_network('eth1', [('198.51.100.2/24', False)], MACNETS) is None
    assert inspect.macvlan_network('eth1', [], [{'name': 'loose', 'parent': 'eth1', 'subnet': None}]) == 'loose'


def test_macvlan_network_inspect_shape():
    net = {'name': 'macnet', 'bridge': None, 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24',
           'gateway': '198.51.100.1', 'ip_range': None}
    raw = inspect.match_macvlans(MAC_HOST, {2}, 'web', MAC_WEB, 0)[0]
    ep = inspect.endpoint_entry(dict(raw, network='macnet'), [('198.51.100.2/24', False)])
    shaped = inspect.network_inspect(net, MAC_HOST[2], [], [ep], inspect.DEFAULT_FLAGS)
    assert shaped == docker_shape('macnet', 'macvlan', '198.51.100.0/24', '198.51.100.1', '02:42:c6:33:64:02', '198.51.100.2/24',
                                  {'parent': 'eth0'})
    missing = inspect.network_inspect(net, None, [], [ep], inspect.DEFAULT_FLAGS)
    assert missing['Exists'] is False and missing['Containers'] == {} and missing['Options'] == {'parent': 'eth0'}


def test_macvlan_network_with_ipv6_shows_enable_ipv6_its_ipv6_entry_and_the_endpoints_ipv6_address():
    net = {'name': 'macnet', 'bridge': None, 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24',
           'gateway': '198.51.100.1', 'ip_range': None, 'ipv6_subnet': 'fd00:db8:50::/64', 'ipv6_gateway': 'fd00:db8:50::1',
           'ipv6_ip_range': 'fd00:db8:50::/80'}
    raw = inspect.match_macvlans(MAC_HOST, {2}, 'web', MAC_WEB, 0)[0]
    entries = [('198.51.100.2/24', False), ('fd00:db8:50::2/64', False), ('fe80::42:c6ff:fe33:6402/64', False)]
    ep = inspect.endpoint_entry(dict(raw, network='macnet'), entries)
    assert (ep['GlobalIPv6Address'], ep['GlobalIPv6PrefixLen']) == ('fd00:db8:50::2', 64)
    shaped = inspect.network_inspect(net, MAC_HOST[2], [], [ep], inspect.DEFAULT_FLAGS)
    assert shaped['EnableIPv6'] is True
    assert shaped['IPAM']['Config'] == [{'Subnet': '198.51.100.0/24', 'Gateway': '198.51.100.1'},
                                        {'Subnet': 'fd00:db8:50::/64', 'Gateway': 'fd00:db8:50::1', 'IPRange': 'fd00:db8:50::/80'}]
    assert shaped['Containers'][container_id('web')]['IPv6Address'] == 'fd00:db8:50::2/64'
    # The network is still told by its IPv4 subnet, as before.
    assert inspect.macvlan_network('eth0', entries, [dict(net, name='macnet')]) == 'macnet'
    # Without IPv6: one entry, EnableIPv6 false.
    plain = inspect.network_inspect(dict(net, ipv6_subnet=None, ipv6_gateway=None, ipv6_ip_range=None), MAC_HOST[2], [], [ep],
                                    inspect.DEFAULT_FLAGS)
    assert plain['EnableIPv6'] is False and len(plain['IPAM']['Config']) == 1


def test_routes_of_the_main_table():
    names = {2: 'eth0', 10: 'br-a'}
    msgs = [
        {'table': 254, 'type': 1, 'dst': None, 'dst_len': 0, 'oif': 2, 'gateway': '192.0.2.1', 'multipath': None},
        {'table': 254, 'type': 1, 'dst': '10.0.0.0', 'dst_len': 16, 'oif': 10, 'gateway': None, 'multipath': None},
        {'table': 254, 'type': 6, 'dst': '10.9.0.0', 'dst_len': 16, 'oif': None, 'gateway': None, 'multipath': None},
        {'table': 254, 'type': 1, 'dst': '10.8.0.0', 'dst_len': 16, 'oif': None, 'gateway': None,
         'multipath': [{'oif': 2, 'gateway': '192.0.2.5'}, {'oif': 10, 'gateway': '10.0.0.5'}]},
        {'table': 255, 'type': 2, 'dst': '10.0.0.1', 'dst_len': 32, 'oif': 10, 'gateway': None, 'multipath': None},
        {'table': 100, 'type': 1, 'dst': '10.7.0.0', 'dst_len': 16, 'oif': 2, 'gateway': None, 'multipath': None},
    ]
    assert inspect.route_entries(msgs, names) == [
        {'dst': 'default', 'dev': 'eth0', 'gateway': '192.0.2.1'},
        {'dst': '10.0.0.0/16', 'dev': 'br-a', 'gateway': None},
        {'dst': '10.8.0.0/16', 'dev': 'eth0', 'gateway': '192.0.2.5'},
        {'dst': '10.9.0.0/16', 'dev': None, 'gateway': None},
    ]


def test_a_host_end_taken_off_its_bridge_is_still_the_endpoint_its_name_says():
    """Drift: ``ip link set vethX nomaster``. The host end bears host_veth_name(container, network), so the
    endpoint is still found (and the converge puts it back on the bridge) rather than planned anew as eth1."""
    from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import host_veth_name
    name = host_veth_name('web', 'net_a')
    host = dict(HOST)
    host.update({30: _link(30, name, 'veth', link=2, nsid=0), 31: _link(31, 'vethother', 'veth', link=3, nsid=0)})
    links = {2: _link(2, 'eth0', 'veth', link=30, nsid=0), 3: _link(3, 'eth1', 'veth', link=31, nsid=0)}
    found = inspect.match_endpoints(host, BRIDGES, 'web', links, 0)
    assert [(e['ifname'], e['host_ifname'], e['network'], e['bridge']) for e in found] == [('eth0', name, 'net_a', 'br-a')]
    assert inspect.candidate_links(host, BRIDGES, links, 'web') is True
    assert inspect.candidate_links(host, BRIDGES, {3: links[3]}, 'web') is False


def test_an_endpoint_whose_bridge_is_gone_is_still_found_by_its_host_end_name():
    """Drift: ``ip link del br-x``. The bridge takes no veth with it; the container's end keeps its name and address,
    so the converge makes the bridge and puts the host end back on it, rather than planning eth1 beside eth0 with a
    host end name that is taken (which failed: "its peer is not eth1")."""
    from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import host_veth_name
    name = host_veth_name('web', 'net_x')
    host = dict(HOST)
    host.update({30: _link(30, name, 'veth', link=2, nsid=0), 31: _link(31, 'vethother', 'veth', link=3, nsid=0)})
    links = {2: _link(2, 'eth0', 'veth', link=30, nsid=0), 3: _link(3, 'eth1', 'veth', link=31, nsid=0)}
    missing = {'net_x': 'br-x'}
    found = inspect.match_endpoints(host, BRIDGES, 'web', links, 0, missing)
    assert [(e['ifname'], e['host_ifname'], e['network'], e['bridge']) for e in found] == [('eth0', name, 'net_x', 'br-x')]
    assert inspect.match_endpoints(host, BRIDGES, 'web', links, 0) == []
    assert inspect.match_endpoints(host, BRIDGES, 'db', links, 0, missing) == []  # another container's name
    assert inspect.candidate_links(host, {}, links, 'web', (), missing) is True
    assert inspect.candidate_links(host, {}, links, 'web') is False
