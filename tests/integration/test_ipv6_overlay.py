# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPv6 on an overlay across lab hosts through site.yml, first over the IPv4 underlay, then with IPv6 VTEPs
(linuxnet_vtep_address set to the hosts' IPv6 underlay addresses; the VXLAN devices are recreated): check mode
predicts the real run, the kernel holds the IPv6 addresses (usable at once), br0's IPv6 gateway, the FDB and the IPv6
neighbour entries of the remote containers, ping -6 by address and by name crosses hosts, the VTEP filter lists the
IPv6 VTEPs per VNI and drops VXLAN over IPv6 from a host of no overlay, network_info shows Docker's IPv6 fields, a
second run (check mode, then for real) changes nothing, teardown leaves nothing.

The same runs converge a dual-stack macvlan network on the same two hosts (docker network create -d macvlan --ipv6,
parent eth0, the underlay segment): each host's macvlan endpoint gets its IPv6 address (nodad) and an IPv6 default
route via the IPv6 gateway, IPv6 on in its namespace, IPv6 hosts entries; ping -6 by address and by name crosses the
segment; network_info shows EnableIPv6, the IPv6 IPAM entry and GlobalIPv6Address. Sharing this lab's runs costs the
macvlan case no playbook run of its own.

Runs on its own three-host lab (LINUXNET_ITEST_LAB-ov, see labkit.lab_name): docker-node1 and docker-node2 hold two
containers each (one per network), docker-node3 none (the outsider that sends crafted VXLAN). What the kernel holds
is read as JSON (ip -j, bridge -j, nft -j) from the lab hosts, never from the modules' own results.
"""

from __future__ import annotations

import json
import os

import pytest

from labkit import ROOT, Lab, lab as lab_cli, lab_name

HOSTS = ('docker-node1', 'docker-node2')
OUTSIDER = 'docker-node3'
SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
TEARDOWN = os.path.join(ROOT, 'playbooks', 'teardown.yml')
CONVERGE = 'Namespaces, bridges, endpoints, overlays, macvlan endpoints, isolation, published ports and the VTEP filter'
# The macvlan network: a range of its own on the underlay's L2 segment (the hosts use 192.0.2.0/24 and
# fd00:192:0:2::/64), as the Molecule macvlan scenario; its gateways are the segment's router, not a lab host.
MV6 = {'name': 'mv6', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24', 'enable_ipv6': True,
       'ipv6_subnet': 'fd00:db8:50::/64', 'ipv6_ip_range': 'fd00:db8:50::100/120'}
NETWORKS = [{'name': 'ov6', 'driver': 'overlay', 'subnet': '10.0.60.0/24', 'vni': 4600, 'enable_ipv6': True,
             'ipv6_subnet': 'fd00:db8:60::/64'}, MV6]
CONTAINERS = {'docker-node1': [{'name': 'c1', 'networks': [{'name': 'ov6', 'ipv6_address': 'fd00:db8:60::11'}]},
                               {'name': 'm1', 'networks': ['mv6']}],
              'docker-node2': [{'name': 'c2', 'networks': ['ov6']},
                               {'name': 'm2', 'networks': [{'name': 'mv6', 'ipv6_address': 'fd00:db8:50::99'}]}]}
# m1's: the lowest address of ipv6_ip_range; m2's static one. Their MACs: Docker's, from 198.51.100.2 and .3.
M1, M2 = 'fd00:db8:50::100', 'fd00:db8:50::99'
MV_MAC = {'m1': '02:42:c6:33:64:02', 'm2': '02:42:c6:33:64:03'}
VTEP4 = {'docker-node1': '192.0.2.11', 'docker-node2': '192.0.2.12'}
VTEP6 = {'docker-node1': 'fd00:192:0:2::11', 'docker-node2': 'fd00:192:0:2::12'}
C1, C2 = 'fd00:db8:60::11', 'fd00:db8:60::2'  # c2's: the lowest free address of the subnet (::1 is the gateway)
MAC1, MAC2 = '02:42:0a:00:3c:02', '02:42:0a:00:3c:03'  # Docker's, from the IPv4 addresses 10.0.60.2 and .3


@pytest.fixture(scope='module')
def lab():
    name = lab_name('ov')
    keep = os.environ.get('LINUXNET_ITEST_KEEP')
    if not keep:
        lab_cli('down', '--name', name)  # leftovers of an interrupted run
    running = Lab(name, 3)
    try:
        yield running
    finally:
        if not keep:
            running.down()


def inventory(lab, tmp_path, vteps=None, name='inventory.json'):
    data = json.load(open(lab.inventory))
    hosts = data['all']['children']['lab']['hosts']
    for host in HOSTS:
        hosts[host].update(linuxnet_networks=NETWORKS, linuxnet_containers=CONTAINERS[host])
        if vteps:
            hosts[host]['linuxnet_vtep_address'] = vteps[host]
    hosts[OUTSIDER].update(linuxnet_networks=NETWORKS, linuxnet_containers=[])
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def site(lab, tmp_path, inv, *extra, playbook=SITE):
    """Run a playbook; return (process, {host: {task name: result}})."""
    return lab.recorded_playbook(playbook, tmp_path, inventory=inv, extra=extra)


def changes(results):
    """The parts of the converge that changed something, per host: what a failed second run reports."""
    return {host: {part: r.get('actions') for part, r in tasks[CONVERGE]['parts'].items() if r.get('changed')}
            for host, tasks in results.items() if CONVERGE in tasks and tasks[CONVERGE].get('changed')}


def ip_json(lab, host, netns, *args, tool='ip'):
    prefix = '%s -n %s ' % (tool, netns) if netns else tool + ' '
    return json.loads(lab.ssh(host, prefix + '-j ' + ' '.join(args)) or '[]')


def overlay_ns(lab, host):
    found = [ns for ns in lab.namespaces(host) if ns.startswith('1-')]
    assert len(found) == 1, found
    return found[0]


def global_v6(lab, host, netns, dev):
    return [a for link in ip_json(lab, host, netns, '-6', 'addr', 'show', 'dev', dev) for a in link['addr_info']
            if a.get('scope') == 'global']


def pings(lab, host, netns, target):
    """Whether one ping -6 from namespace ``netns`` of ``host`` to ``target`` (an address or a hosts-file name) answers."""
    out = lab.ssh(host, 'ip netns exec %s ping -6 -n -c 1 -W 3 %s >/dev/null 2>&1; echo $?' % (netns, target))
    return out.strip() == '0'


def vtep_table(lab, host):
    out = lab.ssh(host, 'nft -j list table inet linuxnet_vtep 2>/dev/null || true')
    return json.loads(out)['nftables'] if out.strip() else None


def drop_counter(table, rule_id):
    """The packets the VTEP filter's drop rule ``rule_id`` (its comment) counted."""
    rule = next(item['rule'] for item in table if 'rule' in item and (item['rule'].get('comment') or '').endswith(':' + rule_id))
    return next(e['counter']['packets'] for e in rule['expr'] if 'counter' in e)


def members(table, rule_id):
    """The (VTEP, VNI) pairs the drop rule ``rule_id`` lets through (its anonymous set), sorted."""
    rule = next(item['rule'] for item in table if 'rule' in item and (item['rule'].get('comment') or '').endswith(':' + rule_id))
    found = [e['match']['right']['set'] for e in rule['expr'] if 'match' in e and isinstance(e['match']['right'], dict)
             and 'set' in e['match']['right']]
    return sorted(tuple(element['concat']) for elements in found for element in elements)


# A VXLAN packet (flags I, VNI 4600) around an Ethernet frame for c1: sent by the outsider over IPv6 to node1's VTEP.
CRAFT = ("python3 -c \"import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); "
         "frame = bytes.fromhex('%s' + '02420a003c63' + '86dd') + bytes(60); "
         "[s.sendto(bytes.fromhex('08000000') + (4600).to_bytes(3, 'big') + bytes(1) + frame, ('%s', 4789)) for _ in range(3)]\"")


def check_overlay(lab, vteps, family):
    """Kernel state and traffic of the overlay on both hosts, with VTEPs ``vteps`` of ``family`` (4 or 6)."""
    mtu = 1450 if family == 4 else 1430
    sides = (('docker-node1', 'docker-node2', 'c1', C1, C2, MAC2), ('docker-node2', 'docker-node1', 'c2', C2, C1, MAC1))
    for host, other, container, mine, theirs, mac in sides:
        ns = overlay_ns(lab, host)
        vxlan = ip_json(lab, host, ns, '-d', 'link', 'show', 'vxlan0')[0]
        data = vxlan['linkinfo']['info_data']
        assert (data['id'], data['local'] if family == 4 else data['local6'], vxlan['mtu']) == (4600, vteps[host], mtu), vxlan
        assert [(a['local'], a['prefixlen']) for a in global_v6(lab, host, ns, 'br0')] == [('fd00:db8:60::1', 64)]
        # The container's IPv6 address, usable at once (nodad: never tentative).
        addr = global_v6(lab, host, container, 'eth0')
        assert [a['local'] for a in addr] == [mine] and addr[0].get('nodad') and not addr[0].get('tentative'), addr
        # Every VTEP: the remote container's MAC behind the other VTEP, its IPv4 and IPv6 neighbours, permanent.
        fdb = ip_json(lab, host, ns, 'fdb', 'show', 'dev', 'vxlan0', tool='bridge')
        assert {(e['mac'], e.get('dst')) for e in fdb if 'permanent' in e.get('state', '')} >= {
            (mac, vteps[other]), ('00:00:00:00:00:00', vteps[other])}, fdb
        neigh6 = ip_json(lab, host, ns, '-6', 'neigh', 'show', 'dev', 'vxlan0')
        assert [(n['dst'], n['lladdr'], n['state']) for n in neigh6] == [(theirs, mac, ['PERMANENT'])], neigh6
        # The VTEP filter accepts VXLAN of the overlay's VNI from the two VTEPs, in the rule of their family only.
        table = vtep_table(lab, host)
        pairs = sorted((address, 4600) for address in vteps.values())
        assert (members(table, 'drop-ipv4'), members(table, 'drop-ipv6')) == ((pairs, []) if family == 4 else ([], pairs))
        # Hosts files carry the IPv6 entries of the remote container.
        hosts = lab.ssh(host, 'ip netns exec %s cat /etc/hosts' % container)
        assert '%s\t%s' % (theirs, 'c2' if container == 'c1' else 'c1') in hosts, hosts
    # ping -6 across hosts by address and by name, both ways.
    assert pings(lab, 'docker-node1', 'c1', C2) and pings(lab, 'docker-node1', 'c1', 'c2')
    assert pings(lab, 'docker-node2', 'c2', 'c1') and pings(lab, 'docker-node2', 'c2', 'fd00:db8:60::1')


def check_macvlan(lab):
    """Kernel state and traffic of the dual-stack macvlan network: m1 on docker-node1, m2 on docker-node2."""
    sides = (('docker-node1', 'm1', M1, 'm2', M2), ('docker-node2', 'm2', M2, 'm1', M1))
    for host, container, mine, other, theirs in sides:
        link = ip_json(lab, host, container, '-d', 'link', 'show', 'eth0')[0]
        info = link['linkinfo']
        assert (info['info_kind'], info['info_data']['mode'], link['address']) == ('macvlan', 'bridge', MV_MAC[container]), link
        # Its lower device is the host's eth0 (the index of eth0 in the host namespace).
        parent = ip_json(lab, host, None, 'link', 'show', 'eth0')[0]
        assert link['link_index'] == parent['ifindex'], (link, parent)
        addr = global_v6(lab, host, container, 'eth0')
        assert [(a['local'], a['prefixlen']) for a in addr] == [(mine, 64)] and addr[0].get('nodad') and not addr[0].get('tentative'), addr
        # Both default routes via the network's gateways (the segment's router), as Docker sets them on macvlan.
        routes6 = ip_json(lab, host, container, '-6', 'route', 'show', 'default')
        assert [(r['gateway'], r['dev']) for r in routes6] == [('fd00:db8:50::1', 'eth0')], routes6
        routes4 = ip_json(lab, host, container, '-4', 'route', 'show', 'default')
        assert [(r['gateway'], r['dev']) for r in routes4] == [('198.51.100.1', 'eth0')], routes4
        # IPv6 on in the namespace (a network with IPv6): ::1 on lo.
        assert lab.ssh(host, 'ip netns exec %s cat /proc/sys/net/ipv6/conf/all/disable_ipv6' % container).strip() == '0'
        assert [a['local'] for a in global_v6(lab, host, container, 'lo')] == [] and ip_json(
            lab, host, container, '-6', 'addr', 'show', 'dev', 'lo')[0]['addr_info'][0]['local'] == '::1'
        hosts = lab.ssh(host, 'ip netns exec %s cat /etc/hosts' % container)
        assert '%s\t%s' % (theirs, other) in hosts and '%s\t' % mine in hosts, hosts
    # ping -6 across hosts over the segment, by address and by name, both ways.
    assert pings(lab, 'docker-node1', 'm1', M2) and pings(lab, 'docker-node1', 'm1', 'm2')
    assert pings(lab, 'docker-node2', 'm2', M1) and pings(lab, 'docker-node2', 'm2', 'm1')


def test_ipv6_overlay_over_ipv4_then_ipv6_vteps(lab, tmp_path):
    inv = inventory(lab, tmp_path)
    if any(lab.namespaces(host) for host in HOSTS):  # a kept lab (LINUXNET_ITEST_KEEP) after a failed run
        assert site(lab, tmp_path, inv, playbook=TEARDOWN)[0].returncode == 0
    checked_proc, checked = site(lab, tmp_path, inv, '--check')
    assert checked_proc.returncode == 0, checked_proc.stdout[-4000:]
    assert lab.namespaces('docker-node1') == [], 'check mode changed the host'
    real_proc, real = site(lab, tmp_path, inv)
    assert real_proc.returncode == 0, real_proc.stdout[-4000:]
    for host in HOSTS:
        for part, result in real[host][CONVERGE]['parts'].items():
            assert result['actions'] == checked[host][CONVERGE]['parts'][part]['actions'], (host, part)
    check_overlay(lab, VTEP4, 4)
    check_macvlan(lab)
    actions = real['docker-node2'][CONVERGE]['parts']['macvlan']['actions']
    assert 'add address fd00:db8:50::99/64 to macvlan eth0 in network namespace m2' in actions, actions

    # What network_info reports for the overlay (docker network inspect, docker container inspect).
    ns = overlay_ns(lab, 'docker-node1')
    info = lab.ansible('docker-node1', 'linuxnet.container.network_info',
                       {'namespace': ns, 'networks': [{'name': 'ov6', 'driver': 'overlay', 'bridge': 'br0'}],
                        'containers': ['c1'], 'discover': False}, tmp_path)['docker-node1'][1]
    net = info['networks'][0]
    assert net['EnableIPv6'] is True and net['Scope'] == 'swarm'
    assert net['IPAM']['Config'] == [{'Subnet': '10.0.60.0/24', 'Gateway': '10.0.60.1'},
                                     {'Subnet': 'fd00:db8:60::/64', 'Gateway': 'fd00:db8:60::1'}]
    c1 = next(ep for ep in info['endpoints'] if ep['container'] == 'c1')
    assert (c1['GlobalIPv6Address'], c1['GlobalIPv6PrefixLen']) == (C1, 64)
    # ... and for the macvlan network, asked as inspect.yml asks (the macvlan_networks filter's arguments).
    info = lab.ansible('docker-node2', 'linuxnet.container.network_info',
                       {'networks': [{'name': 'mv6', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.100.0/24',
                                      'gateway': '198.51.100.1', 'ipv6_subnet': 'fd00:db8:50::/64',
                                      'ipv6_gateway': 'fd00:db8:50::1', 'ipv6_ip_range': 'fd00:db8:50::100/120'}],
                        'containers': ['m2'], 'discover': False}, tmp_path)['docker-node2'][1]
    net = info['networks'][0]
    assert (net['EnableIPv6'], net['Driver'], net['Options']) == (True, 'macvlan', {'parent': 'eth0'}), net
    assert net['IPAM']['Config'] == [{'Subnet': '198.51.100.0/24', 'Gateway': '198.51.100.1'},
                                     {'Subnet': 'fd00:db8:50::/64', 'Gateway': 'fd00:db8:50::1', 'IPRange': 'fd00:db8:50::100/120'}]
    assert [(c['Name'], c['IPv6Address']) for c in net['Containers'].values()] == [('m2', M2 + '/64')]
    m2 = next(ep for ep in info['endpoints'] if ep['container'] == 'm2')
    assert (m2['network'], m2['GlobalIPv6Address'], m2['GlobalIPv6PrefixLen']) == ('mv6', M2, 64)

    # The same overlay over IPv6 VTEPs: the VXLAN devices are recreated with IPv6 local addresses, the MTU is 20 bytes
    # smaller, addresses stay. (A second run changes nothing: checked after this one, which holds what the first did.)
    # Check mode first: it predicts the recreation and leaves the IPv4 VXLAN devices as they are.
    inv6 = inventory(lab, tmp_path, VTEP6, name='vtep6.json')
    checked_proc, checked = site(lab, tmp_path, inv6, '--check')
    assert checked_proc.returncode == 0, checked_proc.stdout[-4000:]
    vxlan = ip_json(lab, 'docker-node1', ns, '-d', 'link', 'show', 'vxlan0')[0]
    assert vxlan['linkinfo']['info_data'].get('local') == VTEP4['docker-node1'], 'check mode changed the VXLAN device'
    real_proc, real = site(lab, tmp_path, inv6)
    assert real_proc.returncode == 0, real_proc.stdout[-4000:]
    actions = real['docker-node1'][CONVERGE]['parts']['vxlan']['actions']
    assert any('to recreate it (local changed)' in a for a in actions), actions
    for host in HOSTS:
        for part, result in real[host][CONVERGE]['parts'].items():
            assert result['actions'] == checked[host][CONVERGE]['parts'][part]['actions'], (host, part)
    check_overlay(lab, VTEP6, 6)
    assert not real['docker-node1'][CONVERGE]['parts']['macvlan']['changed']  # the VTEPs are not the macvlan's business
    check_macvlan(lab)

    # VXLAN over IPv6 from a host on no overlay is dropped by node1's filter (its rule counts it), never delivered.
    before = drop_counter(vtep_table(lab, 'docker-node1'), 'drop-ipv6')
    lab.ssh(OUTSIDER, CRAFT % (MAC1.replace(':', ''), VTEP6['docker-node1']))
    after = drop_counter(vtep_table(lab, 'docker-node1'), 'drop-ipv6')
    assert after - before == 3, (before, after)

    # The second round: check mode, then for real, both change nothing.
    for extra in (('--check',), ()):
        again_proc, again = site(lab, tmp_path, inv6, *extra)
        assert again_proc.returncode == 0 and 'changed=0' in again_proc.stdout and not changes(again), (extra, changes(again))

    down_proc, _down = site(lab, tmp_path, inv6, playbook=TEARDOWN)
    assert down_proc.returncode == 0, down_proc.stdout[-4000:]
    for host in HOSTS:
        # The containers' namespaces went, and their macvlan endpoints with them.
        assert lab.namespaces(host) == [] and vtep_table(lab, host) is None
        assert [link['ifname'] for link in ip_json(lab, host, None, 'link', 'show')] == ['lo', 'eth0']
