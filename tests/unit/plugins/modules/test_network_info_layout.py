# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""network_info reads back what the parts write with the parts' own definitions: tables, set layouts, VXLAN records."""

from __future__ import annotations

import socket

from pyroute2.netlink.rtnl.ndmsg import ndmsg

from ansible_collections.linuxnet.container.plugins.module_utils._kernel import nft
from ansible_collections.linuxnet.container.plugins.module_utils._parts import docker_isolation, inspect, port_map, vtep_filter
from ansible_collections.linuxnet.container.plugins.module_utils._converge import read as network_info
from ansible_collections.linuxnet.container.tests.unit.netlink_messages import link_msg


def written(family, table, sets, elements):
    """The listing of a table holding ``elements`` ({name: normalised elements}) in the set layout ``sets``, as nft -j
    prints what the part's transaction added."""
    objs = [{'table': {'family': family, 'name': table}}, {'set': {'name': nft.OWNER_SET, 'type': 'ifname'}}]
    for name, (ktype, dtype, _flags) in sets.items():
        body = {'name': name, 'type': ktype, 'elem': [[nft.element_json(k), nft.element_json(v)] if dtype else nft.element_json(e)
                                                      for e in elements[name] for k, v in ([e] if dtype else [(None, None)])]}
        objs.append({'map': dict(body, map=dtype)} if dtype else {'set': body})
    return nft.TableState(objs)


def test_the_tables_are_the_parts_tables():
    assert inspect.ISOLATION_TABLE == (docker_isolation.FAMILY, docker_isolation.TABLE) == ('inet', 'linuxnet_isolation')
    assert inspect.PORTS_TABLE == (port_map.FAMILY, port_map.TABLE) == ('ip', 'linuxnet_ports')
    assert inspect.VTEP_TABLE == (vtep_filter.FAMILY, vtep_filter.NAME) == ('inet', 'linuxnet_vtep')


def test_isolation_flags_read_back_what_docker_isolation_writes():
    networks = [{'bridge': 'br-a', 'subnet': '10.0.0.0/16', 'icc': True, 'masquerade': True, 'internal': False},
                {'bridge': 'br-b', 'subnet': '10.1.0.0/16', 'icc': False, 'masquerade': True, 'internal': False},
                {'bridge': 'br-c', 'subnet': '10.2.0.0/16', 'icc': True, 'masquerade': True, 'internal': True},
                {'bridge': 'br-d', 'subnet': None, 'icc': True, 'masquerade': False, 'internal': False}]
    desired = docker_isolation._desired({'networks': networks, 'forwarding': True, 'state': 'present'})
    table = written('inet', docker_isolation.TABLE, docker_isolation.SETS, desired['sets'])
    nat = {'gateway_mode_ipv4': 'nat', 'gateway_mode_ipv6': 'nat'}
    assert inspect.isolation_flags(table.sets) == {
        'br-a': dict(nat, internal=False, icc=True, masquerade=True),
        'br-b': dict(nat, internal=False, icc=False, masquerade=True),
        'br-c': dict(nat, internal=True, icc=True, masquerade=False),
        'br-d': dict(inspect.DEFAULT_FLAGS)}
    assert inspect.isolation_flags(None) == {} and inspect.isolation_flags({}) == {}


def test_published_ports_read_back_what_port_map_writes():
    params = {'ports': [{'name': 'web', 'container_ip': '172.17.0.2', 'publish': ['8080:80', '127.0.0.1:5353:53/udp'],
                         'allow': ['10.0.0.0/8']},
                        {'name': 'db', 'container_ip': '172.17.0.3', 'publish': ['192.0.2.11:5432:5432'], 'allow': []}]}
    maps, allow = port_map._maps(params)
    table = written('ip', port_map.TABLE, port_map.MAPS, port_map.elements_for(maps, allow))
    published = inspect.published_maps(table.sets)
    targets = {k: v[0] for k, v in published.items()}
    assert targets == {('0.0.0.0', 'tcp', 8080): ('172.17.0.2', 80), ('127.0.0.1', 'udp', 5353): ('172.17.0.2', 53),
                       ('192.0.2.11', 'tcp', 5432): ('172.17.0.3', 5432)}
    endpoints = [{'container': 'web', 'addresses': ['172.17.0.2/16']}, {'container': 'db', 'addresses': ['172.17.0.3/16']}]
    assert inspect.port_lines(published, endpoints) == {'db': ['5432/tcp -> 192.0.2.11:5432'],
                                                        'web': ['53/udp -> 127.0.0.1:5353', '80/tcp -> 0.0.0.0:8080']}
    assert inspect.port_allow(published, port_map.allow_from_elements(table.sets), endpoints) == {
        'web': {'80/tcp -> 0.0.0.0:8080': ['10.0.0.0/8'], '53/udp -> 127.0.0.1:5353': ['10.0.0.0/8']}}  # an item's list: all its ports


def test_brief_link_decodes_vxlan_as_the_vxlan_part_does():
    for local, attr in (('192.0.2.11', 'IFLA_VXLAN_LOCAL'), ('2001:db8::11', 'IFLA_VXLAN_LOCAL6')):
        msg = link_msg(5, 'vxlan0', '6a:1f:00:00:00:05', 1450, 1, master=4, kind='vxlan',
                       info_data=[('IFLA_VXLAN_ID', 4096), (attr, local), ('IFLA_VXLAN_PORT', 4789)])
        info = inspect.brief_link(msg)
        assert (info['kind'], info['vni'], info['local'], info['master_index']) == ('vxlan', 4096, local, 4)
    plain = inspect.brief_link(link_msg(4, 'br0', '02:42:00:00:00:04', 1450, 1, kind='bridge'))
    assert 'vni' not in plain and plain['kind'] == 'bridge'


def _fdb(index, mac, dst=None):
    msg = ndmsg()
    msg['family'], msg['ifindex'], msg['state'], msg['flags'] = socket.AF_BRIDGE, index, 0x80, 0x02
    msg['attrs'] = [('NDA_LLADDR', mac)] + ([('NDA_DST', dst)] if dst else [])
    msg.encode()
    decoded = ndmsg(msg.data)
    decoded.decode()
    return decoded


class Socket:
    """An IPRoute whose FDB dump is recorded: two VXLAN devices (5, 7) and a bridge port (9) without a dst."""

    def __init__(self):
        self.dumps = []

    def fdb(self, command, **kwargs):
        self.dumps.append((command, kwargs))
        return [_fdb(5, '00:00:00:00:00:00', '192.0.2.12'), _fdb(9, '02:42:ac:11:00:02'), _fdb(7, '00:00:00:00:00:00', '192.0.2.13'),
                _fdb(5, '02:42:0a:00:00:03', '192.0.2.12'), _fdb(5, '00:00:00:00:00:00', '192.0.2.14')]


class Netlink:
    def __init__(self):
        self.sock = Socket()

    def ipr(self, ref):
        return self.sock


def _link(index, name, kind, master=None, vni=None):
    return {'index': index, 'name': name, 'kind': kind, 'mac': None, 'mtu': 1450, 'alias': None, 'master_index': master,
            'link': None, 'link_netnsid': None, 'vni': vni, 'local': '192.0.2.11'}


def test_one_fdb_dump_serves_every_vxlan_device():
    netlink = Netlink()
    links = {4: _link(4, 'br0', 'bridge'), 5: _link(5, 'vxlan0', 'vxlan', master=4, vni=256),
             6: _link(6, 'br1', 'bridge'), 7: _link(7, 'vxlan1', 'vxlan', master=6, vni=257), 9: _link(9, 'veth0', 'veth', master=4)}
    devices = network_info._vxlan_devices(netlink, None, 'the host namespace', links)
    assert netlink.sock.dumps == [('dump', {})]
    assert devices == [{'name': 'vxlan0', 'vni': 256, 'local': '192.0.2.11', 'master': 'br0',
                        'remotes': ['192.0.2.12', '192.0.2.14']},
                       {'name': 'vxlan1', 'vni': 257, 'local': '192.0.2.11', 'master': 'br1', 'remotes': ['192.0.2.13']}]
    quiet = Netlink()
    assert network_info._vxlan_devices(quiet, None, 'the host namespace', {4: links[4]}) == [] and quiet.sock.dumps == []
