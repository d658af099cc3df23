# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/inspect.yml on the shipped three-host lab inventory (bridge, overlay and macvlan networks): every network
as docker network inspect shows it, checked against the kernels read here with pyroute2, and the topology picture
(graphviz's and the built-in one) holding every container, network and VXLAN tunnel."""

from __future__ import annotations

import glob
import ipaddress
import json
import os
import shutil
import sys
import xml.etree.ElementTree as ET

import pytest
import yaml
from pyroute2 import IPRoute
from pyroute2 import netns as pnetns

from labkit import Lab, ROOT, lab_name, recording

sys.path.insert(0, os.path.join(ROOT, '.build', 'collections'))

from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import container_id, endpoint_id, network_id  # noqa: E402
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.overlay import overlay_namespace  # noqa: E402

LAB_NAME = os.environ.get('LINUXNET_ITEST_TOPOLOGY_LAB', lab_name('topology'))
INVENTORY = os.path.join(ROOT, 'playbooks', 'inventories', 'lab')
PLAYBOOKS = os.path.join(ROOT, 'playbooks')
SVG = '{http://www.w3.org/2000/svg}'
DOCKER_KEYS = {'Name', 'Id', 'Scope', 'Driver', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Ingress', 'Containers',
               'Options', 'Labels', 'Exists'}


def _inventory():
    """(networks {name: driver} with the default one, {host: [container names]}) of the shipped lab inventory."""
    with open(os.path.join(INVENTORY, 'group_vars', 'all', 'networks.yml')) as handle:
        nets = {n['name']: n.get('driver', 'bridge') for n in yaml.safe_load(handle)['linuxnet_networks']}
    nets['bridge'] = 'bridge'
    containers = {}
    for path in sorted(glob.glob(os.path.join(INVENTORY, 'host_vars', '*.yml'))):
        with open(path) as handle:
            containers[os.path.basename(path)[:-4]] = [c['name'] for c in yaml.safe_load(handle)['linuxnet_containers']]
    return nets, containers


def _kernel(path):
    """Links ({name: info}), IPv4 addresses ({name: [cidr]}) and, for VXLAN devices, FDB dsts of a namespace."""
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    fd = os.open(path, os.O_RDONLY)
    links, addrs = {}, {}
    try:
        pnetns.setns(fd, flags=0)
        with IPRoute() as ipr:
            names = {}
            for msg in ipr.link('dump'):
                info = {'index': msg['index'], 'kind': msg.get(('linkinfo', 'kind')), 'mac': msg.get('address'),
                        'link': msg.get('link'), 'link_netnsid': msg.get('link_netnsid'), 'mtu': msg.get('mtu'),
                        'master': msg.get('master')}
                if info['kind'] == 'vxlan':
                    data = msg.get(('linkinfo', 'data'))
                    info.update(vni=data.get('IFLA_VXLAN_ID'), local=data.get('IFLA_VXLAN_LOCAL'),
                                dsts=sorted({m.get('dst') for m in ipr.fdb('dump', ifindex=msg['index']) if m.get('dst')}, key=ipaddress.ip_address))
                links[msg.get('ifname')] = info
                names[msg['index']] = msg.get('ifname')
            for msg in ipr.addr('dump', family=2):
                addrs.setdefault(names[msg['index']], []).append('%s/%d' % (msg.get('address'), msg['prefixlen']))
    finally:
        pnetns.setns(home, flags=0)
        os.close(fd)
        os.close(home)
    return links, addrs


@pytest.fixture(scope='module')
def lab_run(tmp_path_factory):
    """The shipped lab inventory converged on a three-host lab, then inspect.yml run with each renderer."""
    lab = Lab(LAB_NAME, 3)
    tmp_path = tmp_path_factory.mktemp('topology')
    env = {'LINUXNET_LAB_NAME': LAB_NAME}
    try:
        proc = lab.playbook(os.path.join(PLAYBOOKS, 'site.yml'), tmp_path, inventory=INVENTORY, env=env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
        runs = {}
        for renderer in ('graphviz', 'builtin'):
            if renderer == 'graphviz' and shutil.which('dot') is None:
                continue
            record = tmp_path / ('inspect-%s.jsonl' % renderer)
            svg = tmp_path / renderer / 'topology.svg'
            svg.parent.mkdir()
            proc = lab.playbook(os.path.join(PLAYBOOKS, 'inspect.yml'), tmp_path, inventory=INVENTORY, env=dict(env, **recording(record)),
                                extra=['-e', json.dumps({'linuxnet_topology_path': str(svg), 'linuxnet_topology_renderer': renderer})])
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
            assert 'topology: %s' % svg in proc.stdout
            runs[renderer] = ([json.loads(line) for line in record.read_text().splitlines()], svg)
        yield lab, runs
    finally:
        lab.down()


def _results(entries):
    """{host: (own network_info result, [overlay results])} from the recorded tasks."""
    out = {}
    for entry in entries:
        if entry['task'].startswith('Read docker network inspect'):
            out.setdefault(entry['host'], [None, []])[0] = entry['result']
        elif entry['task'].startswith('Read the overlay networks'):
            out.setdefault(entry['host'], [None, []])[1] = entry['result'].get('results', [])
    return out


def _check_containers(lab, host, net, driver, parent_index=None):
    """Every container entry against the container's namespace: an interface with that MAC and address, of the driver's
    kind (a macvlan hanging from the parent's index)."""
    for key, entry in net['Containers'].items():
        assert set(entry) == {'Name', 'EndpointID', 'MacAddress', 'IPv4Address', 'IPv6Address'}
        name = entry['Name']
        assert key == container_id(name) and entry['EndpointID'] == endpoint_id(name, net['Name']) and entry['IPv6Address'] == ''
        links, addrs = _kernel(lab.host_path(host, '/run/netns/' + name))
        match = [ifname for ifname, info in links.items() if info['mac'] == entry['MacAddress'] and entry['IPv4Address'] in addrs.get(ifname, [])]
        assert len(match) == 1, (host, net['Name'], entry, links, addrs)
        info = links[match[0]]
        assert info['kind'] == ('macvlan' if driver == 'macvlan' else 'veth')
        if driver == 'macvlan':
            assert info['link'] == parent_index and info['link_netnsid'] is not None


def test_every_network_of_every_driver_as_docker_shows_it(lab_run):
    lab, runs = lab_run
    entries, _svg = next(iter(runs.values()))
    results = _results(entries)
    assert sorted(results) == ['docker-node1', 'docker-node2', 'docker-node3']
    seen = {}
    for host, (own, overlays) in results.items():
        host_links, host_addrs = _kernel('/proc/%d/ns/net' % lab.pid(host))
        for net in own['networks']:
            if not net['Exists']:
                continue
            assert set(net) == DOCKER_KEYS and net['Id'] == network_id(net['Name']) and net['EnableIPv6'] is False
            assert net['IPAM']['Driver'] == 'default' and net['IPAM']['Options'] == {} and net['Scope'] == 'local'
            seen.setdefault(net['Driver'], set()).add(net['Name'])
            if net['Driver'] == 'macvlan':
                assert net['Options'] == {'parent': 'eth0'} and 'eth0' in host_links
                assert net['IPAM']['Config'] == [{'Subnet': '198.51.100.0/24', 'Gateway': '198.51.100.1'}]
                assert net['Internal'] is False
                _check_containers(lab, host, net, 'macvlan', host_links['eth0']['index'])
                continue
            assert net['Driver'] == 'bridge'
            bridge = net['Options']['com.docker.network.bridge.name']
            assert host_links[bridge]['kind'] == 'bridge'
            assert net['Options']['com.docker.network.driver.mtu'] == str(host_links[bridge]['mtu'])
            iface = ipaddress.ip_interface(host_addrs[bridge][0])
            assert net['IPAM']['Config'] == [{'Subnet': str(iface.network), 'Gateway': str(iface.ip)}]
            _check_containers(lab, host, net, 'bridge')
        for result in overlays:
            (net,) = result['networks']
            if not net['Exists']:  # every overlay is asked on every host; its namespace is only where it has containers
                assert overlay_namespace(net['Name']) not in lab.namespaces(host) and net['Containers'] == {}
                continue
            links, addrs = _kernel(lab.host_path(host, '/run/netns/' + overlay_namespace(net['Name'])))
            assert set(net) == DOCKER_KEYS and net['Exists'] is True
            assert (net['Scope'], net['Driver']) == ('swarm', 'overlay')
            vxlan = next(info for info in links.values() if info['kind'] == 'vxlan' and info['master'] == links['br0']['index'])
            assert net['Options'] == {'com.docker.network.driver.overlay.vxlanid_list': str(vxlan['vni']),
                                      'com.docker.network.driver.mtu': str(links['br0']['mtu'])}
            iface = ipaddress.ip_interface(addrs['br0'][0])
            assert net['IPAM']['Config'] == [{'Subnet': str(iface.network), 'Gateway': str(iface.ip)}]
            seen.setdefault('overlay', set()).add(net['Name'])
            _check_containers(lab, host, net, 'overlay')
            assert [(d['local'], d['vni'], d['remotes']) for d in result['vxlan']] == [(vxlan['local'], vxlan['vni'], vxlan['dsts'])]
    nets, _containers = _inventory()
    expected = {driver: {n for n, d in nets.items() if d == driver} for driver in ('bridge', 'overlay', 'macvlan')}
    expected['bridge'].add('docker_gwbridge')  # the overlays' way out, as in Docker
    assert seen == expected
    macnet = [net for own, _o in results.values() for net in own['networks'] if net['Name'] == 'macnet' and net['Exists']]
    assert sorted(c['Name'] for net in macnet for c in net['Containers'].values()) == ['test_mv1', 'test_mv2']


@pytest.mark.parametrize('renderer', ['graphviz', 'builtin'])
def test_the_picture_holds_every_container_network_and_tunnel(lab_run, renderer):
    lab, runs = lab_run
    if renderer not in runs:
        pytest.skip('graphviz is not installed (scripts/bootstrap.sh installs it)')
    _entries, svg = runs[renderer]
    assert svg.with_suffix('.dot').read_text().startswith('graph linuxnet_topology {')
    root = ET.parse(str(svg)).getroot()
    assert root.tag == SVG + 'svg'
    texts = [t.text or '' for t in root.iter(SVG + 'text')]
    nets, containers = _inventory()
    for name, driver in nets.items():
        assert '%s (%s)' % (name, driver) in texts, name
    for host, names in containers.items():
        assert 'host %s' % host in texts
        for name in names:
            assert name in texts, (host, name)
    # Tunnels: every pair of VTEPs a VXLAN device's FDB joins, read from the kernels.
    pairs = set()
    for host in containers:
        for ns in lab.namespaces(host):
            for info in _kernel(lab.host_path(host, '/run/netns/' + ns))[0].values():
                if info['kind'] == 'vxlan':
                    assert 'VTEP %s' % info['local'] in texts
                    pairs.update(tuple(sorted((info['local'], dst), key=ipaddress.ip_address)) for dst in info['dsts'])
    assert pairs, 'the lab inventory has an overlay across two hosts'
    joined = '\n'.join(texts)
    for a, b in pairs:
        assert '%s <-> %s' % (a, b) in joined, (a, b)
    assert joined.count(' <-> ') == len(pairs)
