# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The topology picture: the model from network_info results, its DOT text and the SVG drawn without graphviz."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.linuxnet.container.plugins.filter.topology import _topology_dot, _topology_svg
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan import picture

SVG = '{http://www.w3.org/2000/svg}'


def _net(name, driver, subnet, gateway, options):
    return {'Name': name, 'Driver': driver, 'Exists': True, 'Options': options,
            'IPAM': {'Config': [{'Subnet': subnet, 'Gateway': gateway}]}}


def _ep(container, network, address, ifname='eth0'):
    return {'container': container, 'network': network, 'addresses': [address], 'ifname': ifname}


def _overlay(local, remotes, container, address):
    return {'networks': [_net('demo', 'overlay', '10.0.0.0/24', '10.0.0.1', {'com.docker.network.driver.overlay.vxlanid_list': '256'})],
            'endpoints': [_ep(container, 'demo', address, 'eth1')], 'containers': [container], 'ports': {container: []},
            'vxlan': [{'name': 'vxlan0', 'vni': 256, 'local': local, 'master': 'br0', 'remotes': remotes}]}


# Two hosts: a bridge network with a published port, a macvlan network, a container with only lo, a container in
# host mode (inventory only), and the overlay demo between their VTEPs; node2's FDB also names an unknown VTEP.
NODE1 = [
    {'networks': [_net('test_net2', 'bridge', '173.20.0.0/16', '173.20.0.1', {'com.docker.network.bridge.name': 'br-1234'}),
                  _net('macnet', 'macvlan', '198.51.100.0/24', '198.51.100.1', {'parent': 'eth0'}),
                  dict(_net('ghost', 'bridge', None, None, {}), Exists=False)],
     'endpoints': [_ep('web', 'test_net2', '173.20.0.2/16'), _ep('mv "1"', 'macnet', '198.51.100.2/24')],
     'containers': ['web', 'mv "1"', 'lonely'],
     'ports': {'web': ['80/tcp -> 0.0.0.0:8080'], 'mv "1"': []}},
    _overlay('192.0.2.11', ['192.0.2.12'], 'web', '10.0.0.2/24'),
]
NODE2 = [
    {'networks': [], 'endpoints': [], 'containers': [], 'ports': {}},
    _overlay('192.0.2.12', ['192.0.2.11', '192.0.2.99'], 'ov2', '10.0.0.3/24'),
]
HOSTVARS = {
    'node1': {'linuxnet_inspect': NODE1[0], 'linuxnet_inspect_overlays': {'results': [NODE1[1], {'skipped': True}]},
              'linuxnet_containers': [{'name': 'hostnet', 'network_mode': 'host'}, {'name': 'side', 'network_mode': 'container:web'},
                                      {'name': 'web'}]},
    'node2': {'linuxnet_inspect': NODE2[0], 'linuxnet_inspect_overlays': {'results': [NODE2[1]]}},
    'node3': {},
}


def test_model_from_results():
    model = picture.topology([('node1', NODE1, {'hostnet': 'host'}), ('node2', NODE2, {})])
    node1, node2 = model['hosts']
    assert [n['name'] for n in node1['networks']] == ['test_net2', 'macnet', 'demo']  # bridge first, missing left out
    assert [n['carrier'] for n in node1['networks']] == ['bridge br-1234', 'parent eth0', 'VNI 256']
    assert node1['vteps'] == ['192.0.2.11'] and node2['vteps'] == ['192.0.2.12']
    by_name = {c['name']: c for c in node1['containers']}
    assert sorted(by_name) == ['hostnet', 'lonely', 'mv "1"', 'web']
    assert by_name['web']['endpoints'] == [{'network': 'test_net2', 'address': '173.20.0.2/16', 'ifname': 'eth0'},
                                           {'network': 'demo', 'address': '10.0.0.2/24', 'ifname': 'eth1'}]
    assert by_name['web']['ports'] == ['80/tcp -> 0.0.0.0:8080']
    assert by_name['lonely']['endpoints'] == [] and by_name['hostnet']['mode'] == 'host'
    # One tunnel per overlay and pair, whichever side's FDB names it; a VTEP no host has is kept, with no host.
    assert model['tunnels'] == [
        {'network': 'demo', 'vni': 256, 'a': '192.0.2.11', 'b': '192.0.2.12', 'hosts': ['node1', 'node2']},
        {'network': 'demo', 'vni': 256, 'a': '192.0.2.12', 'b': '192.0.2.99', 'hosts': ['node2', None]},
    ]


def test_dot_text():
    dot = _topology_dot(HOSTVARS, ['node1', 'node2', 'node3'])
    assert dot.startswith('graph linuxnet_topology {') and dot.rstrip().endswith('}')
    assert '"net:node1:test_net2" [shape=box' in dot and 'label="test_net2 (bridge)\\nbridge br-1234\\n173.20.0.0/16 gw 173.20.0.1"' in dot
    assert '"ctr:node1:web" -- "net:node1:test_net2" [label="eth0 173.20.0.2/16"];' in dot
    assert '"ctr:node1:web" -- "net:node1:demo" [label="eth1 10.0.0.2/24"];' in dot
    assert 'label="web\\nport 80/tcp -> 0.0.0.0:8080"' in dot
    assert '"ctr:node1:mv \\"1\\"" [shape=ellipse, label="mv \\"1\\""];' in dot  # quotes escaped
    assert 'label="lonely\\nno network (lo only)"' in dot
    assert 'label="hostnet\\nthe host\'s network"' in dot and 'label="side\\nweb\'s network namespace"' in dot
    assert '"net:node1:demo" -- "vtep:192.0.2.11" [style=dotted];' in dot
    assert '"vtep:192.0.2.11" -- "vtep:192.0.2.12" [style=dashed, color="#b06000", label="VXLAN demo VNI 256\\n192.0.2.11 <-> 192.0.2.12"];' in dot
    assert 'ghost' not in dot and 'node3' not in dot
    assert dot.count('subgraph') == 2


@pytest.mark.skipif(shutil.which('dot') is None, reason='graphviz is not installed (scripts/bootstrap.sh installs it)')
def test_graphviz_accepts_the_dot_text():
    svg = subprocess.run(['dot', '-Tsvg'], input=_topology_dot(HOSTVARS, ['node1', 'node2']), capture_output=True, text=True, check=True).stdout
    texts = [t.text for t in ET.fromstring(svg).iter(SVG + 'text')]
    assert 'web' in texts and '192.0.2.11 <-> 192.0.2.12' in texts and 'mv "1"' in texts


def test_fallback_svg_is_xml_with_every_name():
    svg = _topology_svg(HOSTVARS, ['node1', 'node2', 'node3'])
    assert svg == _topology_svg(HOSTVARS, ['node1', 'node2', 'node3'])  # deterministic
    root = ET.fromstring(svg)
    assert root.tag == SVG + 'svg' and float(root.get('width')) > 0 and float(root.get('height')) > 0
    texts = [t.text for t in root.iter(SVG + 'text')]
    for wanted in ('host node1', 'host node2', 'test_net2 (bridge)', 'macnet (macvlan)', 'demo (overlay)', 'parent eth0', 'VNI 256',
                   'web', 'mv "1"', 'lonely', 'ov2', 'hostnet', 'side', 'port 80/tcp -> 0.0.0.0:8080', 'eth0 173.20.0.2/16',
                   'eth0 198.51.100.2/24', 'eth1 10.0.0.3/24', 'VTEP 192.0.2.11', 'VTEP 192.0.2.12',
                   'VXLAN demo VNI 256: 192.0.2.11 <-> 192.0.2.12'):
        assert wanted in texts, wanted
    # The tunnel to a VTEP no host has has no end to draw.
    assert not any('192.0.2.99' in (t or '') for t in texts)
    # Every box inside the picture.
    width, height = float(root.get('width')), float(root.get('height'))
    for rect in root.iter(SVG + 'rect'):
        if rect.get('x') is not None:
            assert 0 <= float(rect.get('x')) and float(rect.get('x')) + float(rect.get('width')) <= width
            assert 0 <= float(rect.get('y')) and float(rect.get('y')) + float(rect.get('height')) <= height


def test_empty_fleet():
    assert picture.to_dot(picture.topology([])) == 'graph linuxnet_topology {\n  rankdir=TB;\n  newrank=true;\n' \
        '  node [fontname="Helvetica", fontsize=10];\n  edge [fontname="Helvetica", fontsize=9];\n}\n'
    assert ET.fromstring(picture.to_svg(picture.topology([]))).tag == SVG + 'svg'
