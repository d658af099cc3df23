# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Overlays with control_plane: evpn (docs/evpn.md): the vxlan devices FRR programs, each host's FRR part (route
reflectors or a full mesh), the hosts the prerequisites role installs FRR on, the checks of the EVPN variables, and
inspect's summary of FRR's JSON."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.filter.inventory import _evpn_summary
from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import host_veth_name
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.fleet import PlanError, plan_fleet
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.names import speaks_evpn
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.inventory import inventory_problems

NETS = [{'name': 'ev', 'driver': 'overlay', 'subnet': '10.88.0.0/24', 'control_plane': 'evpn'},
        {'name': 'st', 'driver': 'overlay', 'subnet': '10.89.0.0/24'}]


def facts(ip):
    return {'routes': [{'dst': 'default', 'dev': 'eth0'}],
            'links': [{'name': 'eth0', 'kind': 'veth', 'mtu': 1500, 'addresses': [ip + '/24']}], 'interfaces': []}


def members(reflectors=(), hosts=3, networks=('ev',), extra=None):
    out = []
    for n in range(1, hosts + 1):
        hv = {'linuxnet_networks': NETS, 'linuxnet_evpn_route_reflectors': list(reflectors),
              'linuxnet_containers': [{'name': 'c%d' % n, 'networks': list(networks)}] if n > 1 or not reflectors else []}
        hv.update(extra or {})
        out.append(('n%d' % n, hv, facts('192.0.2.1%d' % n)))
    return out


def test_an_evpn_overlay_device_gets_no_remote_entries_but_static_local_macs_and_its_namespace_named_for_frr():
    plans = plan_fleet(members(networks=('ev', 'st')))
    ev, st = sorted(plans['n2']['vxlan'], key=lambda d: d['vni'])
    assert ev['evpn'] is True and ev['learning'] is False and ev['master'] == 'br0' and ev['local'] == '192.0.2.12'
    assert 'peers' not in ev and 'fdb' not in ev and 'neighbors' not in ev and 'purge' not in ev
    assert ev['static_macs'] == [{'mac': '02:42:0a:58:00:03', 'port': host_veth_name('c2', 'ev')}]
    # The static overlay beside it keeps the inventory as its control plane.
    assert st['evpn'] is False and st['peers'] == ['192.0.2.11', '192.0.2.13'] and len(st['fdb']) == 2


def test_ipv6_inside_an_evpn_overlay_writes_nothing_static_either():
    ev6 = dict(NETS[0], enable_ipv6=True, ipv6_subnet='fd00:db8:88::/64')
    hosts = members(reflectors=['n1'], extra={'linuxnet_networks': [ev6, NETS[1]]})
    plans = plan_fleet(hosts)
    two = plans['n2']
    # br0 holds both gateways, the container both addresses; FRR (not the inventory) knows the remote containers, over
    # IPv4 VTEPs: no peers, FDB or neighbour entries (IPv6 ones included) in the device's part.
    assert next(b for b in two['bridges'] if b['name'] == 'br0')['addresses'] == ['10.88.0.1/24', 'fd00:db8:88::1/64']
    peer = next(p['peer'] for p in two['pairs'] if p['peer']['namespace'] == 'c2')
    assert peer['addresses'] == ['10.88.0.2/24', 'fd00:db8:88::2/64']
    device = two['vxlan'][0]
    assert device['evpn'] is True and device['local'] == '192.0.2.12' and device['mtu'] == 1450
    assert 'peers' not in device and 'fdb' not in device and 'neighbors' not in device
    assert device['static_macs'] == [{'mac': '02:42:0a:58:00:02', 'port': host_veth_name('c2', 'ev')}]
    # Names across hosts resolve to both addresses; FRR's part is what it is without IPv6.
    item = next(n for n in two['namespaces'] if n['name'] == 'c2')
    entries = item.get('hosts', []) + two['hosts_sets'].get(item.get('hosts_set'), [])
    assert {'address': 'fd00:db8:88::3', 'names': ['c3']} in entries
    assert two['evpn'] == plan_fleet(members(reflectors=['n1']))['n2']['evpn']


def test_ipv6_vteps_on_an_evpn_overlay_are_refused_naming_host_variable_and_fix():
    hosts = members(reflectors=['n1'])
    hosts[2][1]['linuxnet_vtep_address'] = 'fd00:192:0:2::13'
    hosts[2][2]['links'][0]['addresses6'] = ['fd00:192:0:2::13/64']
    with pytest.raises(PlanError) as err:
        plan_fleet(hosts)
    assert str(err.value) == (
        "host n3: its VTEP address fd00:192:0:2::13 (linuxnet_vtep_address, else the default route's) is IPv6, but "
        "overlay ev has control_plane evpn, and FRR 8.4 (Debian 12's frr) has no IPv6 VTEPs: its EVPN routes and zebra "
        'carry IPv4 VTEP addresses only (IPv6 inside the overlay works). Fix: set linuxnet_vtep_address of n3 to its IPv4 '
        'underlay address, or use control_plane: static on ev for VXLAN over IPv6')


def test_route_reflector_clients_peer_with_it_only_and_it_listens_on_its_subnet():
    plans = plan_fleet(members(reflectors=['n1']))
    rr, client = plans['n1']['evpn'], plans['n3']['evpn']
    # n1 has no container: it is a route reflector only, with FRR and no VNI.
    assert rr == {'asn': 65000, 'router_id': '192.0.2.11', 'route_reflector': True, 'neighbors': [],
                  'listen_ranges': ['192.0.2.0/24'], 'vnis': []}
    assert plans['n1']['vxlan'] == []
    assert client == {'asn': 65000, 'router_id': '192.0.2.13', 'route_reflector': False, 'neighbors': ['192.0.2.11'],
                      'listen_ranges': [], 'vnis': [256]}
    # Adding a host changes neither the route reflector's part nor the other clients'.
    more = plan_fleet(members(reflectors=['n1'], hosts=4))
    assert more['n1']['evpn'] == rr and more['n3']['evpn'] == client


def test_without_route_reflectors_every_evpn_host_peers_with_every_other():
    plans = plan_fleet(members(extra={'linuxnet_evpn_asn': 64512}))
    assert plans['n1']['evpn']['neighbors'] == ['192.0.2.12', '192.0.2.13']
    assert plans['n2']['evpn']['asn'] == 64512 and not plans['n2']['evpn']['route_reflector']


def test_hosts_on_static_overlays_only_speak_no_evpn():
    plans = plan_fleet(members(networks=('st',)))
    assert all(p['evpn'] is None for p in plans.values())
    assert not speaks_evpn(members(networks=('st',))[0][1], 'n1')


def test_speaks_evpn_for_vteps_and_route_reflectors():
    hosts = members(reflectors=['n1'])
    assert speaks_evpn(hosts[0][1], 'n1')      # a route reflector with no container
    assert speaks_evpn(hosts[1][1], 'n2')      # a VTEP
    assert not speaks_evpn(dict(hosts[1][1], linuxnet_state='absent'), 'n2')
    assert not speaks_evpn({'linuxnet_networks': NETS, 'linuxnet_containers': [{'name': 'x', 'networks': ['st']}]}, 'n9')


def test_a_route_reflector_outside_the_play_is_a_plan_error():
    hosts = members(reflectors=['n9'])
    with pytest.raises(PlanError, match='linuxnet_evpn_route_reflectors: n9 is not a host of this play.*Fix: run the play'):
        plan_fleet(hosts)


def test_evpn_variables_are_checked_and_must_agree_across_hosts():
    hv = {h: v for h, v, _f in members(reflectors=['n1'])}
    wrong = [{'name': 'b', 'control_plane': 'evpn'}, {'name': 'o', 'driver': 'overlay', 'control_plane': 'bgp'}]
    hv['n1'] = dict(hv['n1'], linuxnet_networks=NETS + wrong)
    hv['n2'] = dict(hv['n2'], linuxnet_evpn_asn=0)
    hv['n3'] = dict(hv['n3'], linuxnet_evpn_route_reflectors=['n1', 'nowhere'])
    text = '\n'.join(inventory_problems(hv, ['n1', 'n2', 'n3']))
    assert 'host n1: linuxnet_networks[2] (b): control_plane applies to overlay networks only. Fix: remove it' in text
    assert "control_plane 'bgp' is not one of static, evpn. Fix: use static" in text
    assert 'host n2: linuxnet_evpn_asn 0 is not an AS number (1-4294967295)' in text
    assert 'host n3: linuxnet_evpn_route_reflectors names nowhere, which is not in the inventory' in text
    hv['n2'] = dict(hv['n2'], linuxnet_evpn_asn=65001)
    hv['n3'] = dict(hv['n3'], linuxnet_evpn_route_reflectors=['n2'], linuxnet_evpn_listen_ranges=['192.0.2.0/33'])
    text = '\n'.join(inventory_problems(hv, ['n2', 'n3']))
    assert "host n3: linuxnet_evpn_route_reflectors is ['n2'], but ['n1'] on host n2 (one BGP EVPN fleet has one setting)" in text
    assert "host n3: linuxnet_evpn_listen_ranges: '192.0.2.0/33' is not a CIDR" in text


def test_evpn_summary_reads_frrs_json():
    vnis = '{"256": {"vni": 256, "vxlanIf": "vxlan0", "numMacs": 3, "numRemoteVteps": 2, "tenantVrf": "1-ab",' \
           ' "remoteVteps": ["192.0.2.13", "192.0.2.11"]}}'
    bgp = {'peers': {'192.0.2.11': {'hostname': 'n1', 'state': 'Established', 'pfxRcd': 4}}}
    assert _evpn_summary(vnis, bgp, 'n2') == [
        'n2: evpn: vni: 256 (vxlan0 in 1-ab): 3 MACs, 2 remote VTEPs (192.0.2.11, 192.0.2.13)',
        'n2: evpn: bgp peer 192.0.2.11 (n1): Established, 4 routes received']
    assert _evpn_summary('{}', '') == ['evpn: no VNI and no BGP peer']
