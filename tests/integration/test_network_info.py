# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""network_info on a lab host: state built with the other modules, read back field by field."""

from __future__ import annotations

import os
import sys

import pytest
from pyroute2 import IPRoute
from pyroute2 import netns as pnetns

from labkit import ROOT, Lab

sys.path.insert(0, os.path.join(ROOT, '.build', 'collections'))

from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import (  # noqa: E402
    container_id,
    endpoint_id,
    host_veth_name,
    network_id,
)

HOST = 'docker-node1'
MODULE = 'linuxnet.container.network_info'
NETWORKS = [
    {'name': 'net_a', 'bridge': 'br-info-a', 'subnet': '173.20.0.0/16', 'gateway': '173.20.0.1', 'icc': False},
    {'name': 'net_b', 'bridge': 'br-info-b', 'subnet': '10.10.0.0/24', 'gateway': '10.10.0.1', 'internal': True},
]
# container -> [(network, address, mac or None for Docker's)]; web is on both networks (eth0, eth1).
CONTAINERS = {
    'web': [('net_a', '173.20.0.2/16', None), ('net_b', '10.10.0.2/24', None)],
    'db': [('net_a', '173.20.0.3/16', None)],
    'cache': [('net_b', '10.10.0.3/24', '02:00:00:00:be:ef')],
}
PUBLISH = {'web': ['8080:80', '127.0.0.1:5353:53/udp'], 'db': ['5432:5432']}
QUERY = {'networks': [{'name': n['name'], 'bridge': n['bridge']} for n in NETWORKS] +
         [{'name': 'ghost', 'bridge': 'br-info-ghost'}]}


def _net(name):
    return next(n for n in NETWORKS if n['name'] == name)


def _docker_mac(cidr):
    return '02:42:' + ':'.join('%02x' % int(o) for o in cidr.partition('/')[0].split('.'))


def _run(lab, module, args, tmp_path, check=False):
    status, res = lab.ansible(HOST, module, args, tmp_path, check=check)[HOST]
    assert status == 'ok', res
    return res


@pytest.fixture(scope='module')
def built(tmp_path_factory):
    """A one-host lab of its own with two networks, three containers, isolation and published ports."""
    lab = Lab(os.environ.get('LINUXNET_ITEST_LAB', 'itest') + '-info', 1)  # beside other labs: see conftest's lab2
    tmp_path = tmp_path_factory.mktemp('info')
    try:
        _run(lab, 'linuxnet.container.netns', {'namespaces': [{'name': c} for c in CONTAINERS] + [{'name': 'loner'}]}, tmp_path)
        _run(lab, 'linuxnet.container.bridge', {'bridges': [{'name': n['bridge'], 'addresses': ['%s/%s' % (n['gateway'], n['subnet'].partition('/')[2])]}
                                                            for n in NETWORKS] + [{'name': 'br-info-stale'}]}, tmp_path)
        pairs = []
        for container, attachments in CONTAINERS.items():
            for position, (network, address, mac) in enumerate(attachments):
                peer = {'name': 'eth%d' % position, 'namespace': container, 'addresses': [address]}
                peer.update({'mac': mac} if mac else {'mac_from_ip': True})
                pairs.append({'name': host_veth_name(container, network), 'master': _net(network)['bridge'], 'peer': peer})
        # A port of net_a whose peer stays on the host: not a container's endpoint.
        pairs.append({'name': 'vinfo-host', 'master': 'br-info-a', 'peer': {'name': 'vinfo-peer'}})
        _run(lab, 'linuxnet.container.veth', {'pairs': pairs}, tmp_path)
        _run(lab, 'linuxnet.container.docker_isolation', {'networks': [
            {'bridge': n['bridge'], 'subnet': n['subnet'], 'icc': n.get('icc', True), 'internal': n.get('internal', False)}
            for n in NETWORKS]}, tmp_path)
        ports = [{'name': c, 'container_ip': CONTAINERS[c][0][1].partition('/')[0], 'publish': p} for c, p in PUBLISH.items()]
        _run(lab, 'linuxnet.container.port_map', {'ports': ports}, tmp_path)
        yield lab, tmp_path
    finally:
        lab.down()


def _kernel_end(lab, container, ifname):
    """MAC and peer index of a container end, read with pyroute2 inside the lab host's namespace (not the module)."""
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    fd = os.open(lab.host_path(HOST, '/run/netns/' + container), os.O_RDONLY)
    try:
        pnetns.setns(fd, flags=0)
        with IPRoute() as ipr:
            link = ipr.link('get', ifname=ifname)[0]
    finally:
        pnetns.setns(home, flags=0)
        os.close(fd)
        os.close(home)
    return link.get('address'), link.get('link')


def test_inspect_matches_what_was_built(built):
    lab, tmp_path = built
    res = _run(lab, MODULE, QUERY, tmp_path)
    assert res['changed'] is False
    check = _run(lab, MODULE, QUERY, tmp_path, check=True)
    assert check['changed'] is False
    assert {k: check[k] for k in ('networks', 'endpoints', 'routes', 'ports')} == \
        {k: res[k] for k in ('networks', 'endpoints', 'routes', 'ports')}

    names = [n['Name'] for n in res['networks']]
    assert names == ['net_a', 'net_b', 'ghost', 'br-info-stale'], names  # requested order, then discovered
    by_name = {n['Name']: n for n in res['networks']}
    for spec in NETWORKS:
        net = by_name[spec['name']]
        assert net['Id'] == network_id(spec['name'])
        assert (net['Scope'], net['Driver'], net['EnableIPv6'], net['Attachable'], net['Ingress']) == ('local', 'bridge', False, False, False)
        assert net['Exists'] is True and net['Labels'] == {}
        assert net['IPAM'] == {'Driver': 'default', 'Options': {}, 'Config': [{'Subnet': spec['subnet'], 'Gateway': spec['gateway']}]}
        internal = spec.get('internal', False)
        assert net['Internal'] is internal
        assert net['Options'] == {
            'com.docker.network.bridge.name': spec['bridge'],
            'com.docker.network.bridge.enable_icc': 'true' if spec.get('icc', True) else 'false',
            'com.docker.network.bridge.enable_ip_masquerade': 'false' if internal else 'true',
            'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
            'com.docker.network.driver.mtu': '1500',
        }
        expected = {}
        for container, attachments in CONTAINERS.items():
            for network, address, mac in attachments:
                if network == spec['name']:
                    expected[container_id(container)] = {
                        'Name': container, 'EndpointID': endpoint_id(container, network),
                        'MacAddress': mac or _docker_mac(address), 'IPv4Address': address, 'IPv6Address': ''}
        assert net['Containers'] == expected

    ghost = by_name['ghost']
    assert ghost['Exists'] is False and ghost['Containers'] == {} and ghost['IPAM']['Config'] == []
    assert ghost['Internal'] is False and ghost['Options']['com.docker.network.bridge.enable_icc'] == 'true'
    assert ghost['Options']['com.docker.network.bridge.enable_ip_masquerade'] == 'false'
    stale = by_name['br-info-stale']
    assert stale['Exists'] is True and stale['Containers'] == {} and stale['Id'] == network_id('br-info-stale')
    assert stale['IPAM']['Config'] == [] and stale['Options']['com.docker.network.bridge.enable_ip_masquerade'] == 'false'

    expected_endpoints = []
    for container in sorted(CONTAINERS):
        for position, (network, address, mac) in enumerate(CONTAINERS[container]):
            expected_endpoints.append({'container': container, 'network': network, 'bridge': _net(network)['bridge'],
                                       'ifname': 'eth%d' % position, 'host_ifname': host_veth_name(container, network),
                                       'mac': mac or _docker_mac(address), 'addresses': [address],
                                       'GlobalIPv6Address': '', 'GlobalIPv6PrefixLen': 0})  # as docker inspect shows them
    assert res['endpoints'] == expected_endpoints
    # The kernel agrees (read directly, not through the module).
    for ep in res['endpoints']:
        mac, _peer = _kernel_end(lab, ep['container'], ep['ifname'])
        assert mac == ep['mac']

    routes = res['routes']
    assert {'dst': '173.20.0.0/16', 'dev': 'br-info-a', 'gateway': None} in routes
    assert {'dst': '10.10.0.0/24', 'dev': 'br-info-b', 'gateway': None} in routes
    assert {'dst': 'default', 'dev': 'eth0', 'gateway': lab.state['router']} in routes
    assert routes[0]['dst'] == 'default'

    assert res['ports'] == {'cache': [], 'db': ['5432/tcp -> 0.0.0.0:5432'],
                            'web': ['53/udp -> 127.0.0.1:5353', '80/tcp -> 0.0.0.0:8080']}


def test_containers_and_discover_narrow_the_read(built):
    lab, tmp_path = built
    res = _run(lab, MODULE, dict(QUERY, containers=['db', 'nosuch'], discover=False), tmp_path)
    assert [n['Name'] for n in res['networks']] == ['net_a', 'net_b', 'ghost']
    assert [(e['container'], e['ifname']) for e in res['endpoints']] == [('db', 'eth0')]
    assert res['ports'] == {'db': ['5432/tcp -> 0.0.0.0:5432']}
    assert list(res['networks'][0]['Containers']) == [container_id('db')]
    assert res['networks'][1]['Containers'] == {}


def test_a_missing_namespace_reports_every_network_missing(built):
    lab, tmp_path = built
    res = _run(lab, MODULE, dict(QUERY, namespace='no-such-ns'), tmp_path)
    assert [n['Exists'] for n in res['networks']] == [False, False, False]
    assert (res['endpoints'], res['routes'], res['ports']) == ([], [], {})
    assert 'no-such-ns' not in lab.namespaces(HOST), 'reading must never create a namespace'


def test_follows_the_kernel_when_state_changes(built):
    lab, tmp_path = built
    _run(lab, 'linuxnet.container.veth', {'state': 'absent', 'pairs': [{'name': host_veth_name('web', 'net_b')}]}, tmp_path)
    _run(lab, 'linuxnet.container.docker_isolation', {'state': 'absent'}, tmp_path)
    res = _run(lab, MODULE, QUERY, tmp_path)
    assert res['changed'] is False
    assert [(e['container'], e['ifname']) for e in res['endpoints']] == [('cache', 'eth0'), ('db', 'eth0'), ('web', 'eth0')]
    net_a, net_b = res['networks'][0], res['networks'][1]
    assert sorted(c['Name'] for c in net_b['Containers'].values()) == ['cache']
    # Without the isolation table: not internal, icc on, not masqueraded.
    for net in (net_a, net_b):
        assert net['Internal'] is False
        assert net['Options']['com.docker.network.bridge.enable_icc'] == 'true'
        assert net['Options']['com.docker.network.bridge.enable_ip_masquerade'] == 'false'
    assert res['ports']['web'] == ['53/udp -> 127.0.0.1:5353', '80/tcp -> 0.0.0.0:8080']
