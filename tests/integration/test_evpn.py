# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An overlay with control_plane: evpn, through site.yml against a lab of four hosts (docs/evpn.md): the prerequisites
role installs FRR, the role configures it (one route reflector), a static overlay switched to evpn in place loses its
static entries, containers on three hosts reach each other with the remote MACs and the flood list installed by FRR
(not by the inventory), IPv6 turned on inside the overlay (IPv4 VTEPs)
as check mode predicted crosses hosts by address and by name with nothing static written (FRR advertises the IPv6
neighbours too), a second run changes nothing, a host whose FRR stops is withdrawn from the others and comes back, a
fourth host added to the inventory is reachable with no change to the others' FRR configuration, a host that loses
power advertises its container again after its boot (FRR starts again after the host-local apply), inspect shows the
VNIs, and teardown puts Debian's FRR configuration back."""

from __future__ import annotations

import hashlib
import json
import os
import re
import time

import pytest

from labkit import ROOT, Lab, lab_name, ssh

SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
TEARDOWN = os.path.join(ROOT, 'playbooks', 'teardown.yml')
INSPECT = os.path.join(ROOT, 'playbooks', 'inspect.yml')
SUBNET = '10.88.0.'
SUBNET6 = 'fd00:db8:88::'
NETWORK = {'name': 'evx', 'driver': 'overlay', 'subnet': SUBNET + '0/24', 'control_plane': 'evpn'}
NETWORK6 = dict(NETWORK, enable_ipv6=True, ipv6_subnet=SUBNET6 + '/64')
# The same overlay with the inventory's static FDB and neighbour entries: the first run, switched to evpn in place.
STATIC = dict(NETWORK, control_plane='static')
RR = 'docker-node1'
CONVERGE = 'Namespaces, bridges, endpoints, overlays, macvlan endpoints, isolation, published ports and the VTEP filter'


@pytest.fixture(scope='module')
def lab4():
    # No separate prerequisites run: site.yml's installs the virtualenv, and frr where an overlay asks for EVPN.
    lab = Lab(lab_name('evpn'), 4, prepare=False)
    yield lab
    if not os.environ.get('LINUXNET_ITEST_KEEP'):
        lab.down()


def inventory(lab, tmp_path, hosts, name, ipv6=False, network=None):
    """The lab's inventory with only ``hosts``, each with one container eN (10.88.0.1N) on the EVPN overlay; with
    ``ipv6``, the overlay has IPv6 too and eN fd00:db8:88::1N."""
    data = json.load(open(lab.inventory))
    all_hosts = data['all']['children']['lab']['hosts']
    for host in [h for h in all_hosts if h not in hosts]:
        del all_hosts[host]
    for host in hosts:
        number = host[-1]
        endpoint = {'name': 'evx', 'ipv4_address': SUBNET + '1' + number}
        if ipv6:
            endpoint['ipv6_address'] = SUBNET6 + '1' + number
        all_hosts[host]['linuxnet_containers'] = [{'name': 'e' + number, 'networks': [endpoint]}]
    data['all']['vars'].update(linuxnet_networks=[network or (NETWORK6 if ipv6 else NETWORK)], linuxnet_evpn_route_reflectors=[RR])
    path = tmp_path / ('%s.json' % name)
    path.write_text(json.dumps(data))
    return str(path)


def play(lab, playbook, inv, tmp_path, *extra):
    proc = lab.playbook(playbook, tmp_path, inventory=inv, extra=list(extra), env={'ANSIBLE_FORCE_COLOR': '0', 'NO_COLOR': '1'})
    assert proc.returncode == 0, (proc.stdout[-4000:], proc.stderr[-2000:])
    return proc.stdout


def changed(out):
    return {host: int(n) for host, n in re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', out.split('PLAY RECAP')[-1], re.M)}


def sh(lab, host, command):
    return ssh(os.path.join('/var/lib/linuxnet-lab', lab.name, 'ssh_config'), host, command, check=False)


def overlay_ns(lab, host):
    return next(ns for ns in lab.namespaces(host) if ns.startswith('1-'))


def fdb(lab, host):
    """The FDB entries of the overlay's vxlan0 on ``host``, as the kernel reports them (bridge -j)."""
    out = lab.ssh(host, 'bridge -j -n %s fdb show dev vxlan0' % overlay_ns(lab, host))
    return [e for e in json.loads(out) if e.get('dst')]


def remote_macs(lab, host):
    """{MAC: VTEP} of the entries FRR installed (extern_learn) on the overlay's vxlan0 of ``host``."""
    return {e['mac']: e['dst'] for e in fdb(lab, host) if e['mac'] != '00:00:00:00:00:00' and 'extern_learn' in e.get('flags', [])}


def port_learning(lab, host):
    """Whether the overlay's vxlan0, a port of br0, learns source MACs (ip -d: its bridge port's learning flag)."""
    link = json.loads(lab.ssh(host, 'ip -j -d -n %s link show dev vxlan0' % overlay_ns(lab, host)))[0]
    return link['linkinfo']['info_slave_data']['learning']


def statics(lab, host):
    out = lab.ssh(host, 'bridge -j -n %s fdb show br br0' % overlay_ns(lab, host))
    return {e['mac'] for e in json.loads(out) if e.get('state') == 'static'}


def mac(number):
    return '02:42:0a:58:00:%02x' % int('1' + number)


def until(what, timeout, step=0.1):
    """Seconds until what() is true; fails after ``timeout``."""
    start = time.monotonic()
    while not what():
        assert time.monotonic() - start < timeout, 'not within %.0f s' % timeout
        time.sleep(step)
    return time.monotonic() - start


def ping(lab, host, src, address):
    return sh(lab, host, 'ip netns exec %s ping -c1 -W1 %s' % (src, address)).returncode == 0


def ping6(lab, host, src, target):
    """One ping -6 from container ``src`` to ``target``, an address or a hosts-file name."""
    return sh(lab, host, 'ip netns exec %s ping -6 -n -c1 -W1 %s' % (src, target)).returncode == 0


def neighbours6(lab, host, dev):
    """The IPv6 neighbour entries of ``dev`` in the overlay's namespace of ``host`` (ip -j)."""
    return json.loads(lab.ssh(host, 'ip -j -6 -n %s neigh show dev %s' % (overlay_ns(lab, host), dev)) or '[]')


def frr_conf(lab, host):
    return hashlib.sha1(lab.ssh(host, 'cat /etc/frr/frr.conf').encode()).hexdigest()


def test_evpn_overlay_across_hosts_ipv6_withdrawal_added_host_inspect_teardown(lab4, tmp_path):
    three = inventory(lab4, tmp_path, ['docker-node1', 'docker-node2', 'docker-node3'], 'three')
    three6 = inventory(lab4, tmp_path, ['docker-node1', 'docker-node2', 'docker-node3'], 'three6', ipv6=True)
    four = inventory(lab4, tmp_path, ['docker-node1', 'docker-node2', 'docker-node3', 'docker-node4'], 'four', ipv6=True)
    static = inventory(lab4, tmp_path, ['docker-node1', 'docker-node2', 'docker-node3'], 'static', network=STATIC)
    hosts = {'docker-node%d' % n: '192.0.2.1%d' % n for n in range(1, 5)}
    try:
        # First the static control plane: the inventory writes the remote MACs, the flood list and the neighbours.
        play(lab4, SITE, static, tmp_path)
        until(lambda: ping(lab4, 'docker-node2', 'e2', SUBNET + '13'), 10)
        ns2 = overlay_ns(lab4, 'docker-node2')
        assert lab4.ssh('docker-node2', 'ip -n %s neigh show dev vxlan0 nud permanent' % ns2).count('lladdr') == 2
        assert {e['mac'] for e in fdb(lab4, 'docker-node2') if 'permanent' in e.get('state', '')} >= {mac('1'), mac('3')}

        # Switched to evpn in place: the static entries go before FRR adopts vxlan0, and its bridge port stops learning
        # (a static overlay's port learns, the kernel's default).
        assert port_learning(lab4, 'docker-node2') is True
        play(lab4, SITE, three, tmp_path)
        assert lab4.ssh('docker-node2', 'ip -n %s neigh show dev vxlan0' % ns2).strip() == ''
        assert all(port_learning(lab4, host) is False for host in ('docker-node1', 'docker-node2', 'docker-node3'))
        converged = time.monotonic()
        # Three hosts reach each other's containers (the first answer measured from the end of the run).
        first = until(lambda: ping(lab4, 'docker-node2', 'e2', SUBNET + '13'), 20)
        print('first ping e2 -> e3 %.1f s after site.yml ended' % (time.monotonic() - converged))
        for host, src, dst in (('docker-node1', 'e1', '12'), ('docker-node1', 'e1', '13'), ('docker-node3', 'e3', '11')):
            until(lambda h=host, s=src, d=dst: ping(lab4, h, s, SUBNET + d), 10)
        # FRR installed the remote MACs (type-2, extern_learn) and the flood list (type-3); the inventory wrote neither.
        entries = fdb(lab4, 'docker-node2')
        remote = {e['mac']: e for e in entries if e['mac'] != '00:00:00:00:00:00'}
        assert set(remote) == {mac('1'), mac('3')}, entries
        assert all('extern_learn' in e.get('flags', []) for e in remote.values()), entries
        assert {remote[mac('1')]['dst'], remote[mac('3')]['dst']} == {hosts['docker-node1'], hosts['docker-node3']}
        assert sorted(e['dst'] for e in entries if e['mac'] == '00:00:00:00:00:00') == [hosts['docker-node1'], hosts['docker-node3']]
        # The local container's MAC is a static entry of its port: it never ages out, so it stays advertised.
        assert mac('2') in statics(lab4, 'docker-node2')
        # FRR sees the overlay's namespace as a VRF, and none of the containers' namespaces.
        vnis = json.loads(lab4.ssh('docker-node2', "vtysh -c 'show evpn vni json'"))
        assert list(vnis) == ['256'] and vnis['256']['numRemoteVteps'] == 2, vnis
        vrfs = lab4.ssh('docker-node2', "vtysh -c 'show vrf'")
        assert overlay_ns(lab4, 'docker-node2') in vrfs and 'e2' not in vrfs.split(), vrfs
        print('first run first ping %.1f s' % first)

        # IPv6 inside the overlay, turned on in place (the VTEPs stay IPv4). Check mode predicts the run and changes
        # nothing; the hosts have the prerequisites now (a bare host's check run stops before the network roles).
        checked_proc, checked = lab4.recorded_playbook(SITE, tmp_path, inventory=three6, extra=['--check'])
        assert checked_proc.returncode == 0, checked_proc.stdout[-4000:]
        assert lab4.ssh('docker-node1', 'ip netns exec e1 ip -6 addr show scope global').strip() == ''
        real_proc, real = lab4.recorded_playbook(SITE, tmp_path, inventory=three6)
        assert real_proc.returncode == 0, real_proc.stdout[-4000:]
        for host in ('docker-node1', 'docker-node2', 'docker-node3'):
            parts = real[host][CONVERGE]['parts']
            assert {part: r['actions'] for part, r in parts.items()} == {
                part: r['actions'] for part, r in checked[host][CONVERGE]['parts'].items()}, host
            assert 'add address %s1%s/64 to eth0 (e%s)' % (SUBNET6, host[-1], host[-1]) in parts['veth']['actions']
        converged = time.monotonic()
        # ping -6 by address and by name across hosts: neighbour discovery is flooded to the VTEPs FRR lists (type-3).
        until(lambda: ping6(lab4, 'docker-node2', 'e2', SUBNET6 + '11'), 20)
        print('first ping -6 e2 -> e1 %.1f s after site.yml ended' % (time.monotonic() - converged))
        for host, src, dst in (('docker-node2', 'e2', 'e3'), ('docker-node3', 'e3', 'e1'), ('docker-node1', 'e1', 'e2')):
            until(lambda h=host, s=src, d=dst: ping6(lab4, h, s, d), 10)
        # The remote MACs are FRR's (extern_learn), and nothing static: no IPv6 (or IPv4) neighbour entry on vxlan0, as
        # a static overlay has. A container's IPv6 neighbour seen by its br0 (e2 pings its gateway) is advertised with
        # its MAC (type-2 MAC+IP) and installed by the others' FRR on their br0 (extern_learn).
        assert remote_macs(lab4, 'docker-node2') == {mac('1'): hosts['docker-node1'], mac('3'): hosts['docker-node3']}
        remote = [e for e in fdb(lab4, 'docker-node2') if e['mac'] in (mac('1'), mac('3'))]
        assert all('extern_learn' in e.get('flags', []) and e.get('state') != 'permanent' for e in remote), remote
        assert mac('1') not in statics(lab4, 'docker-node2') and mac('2') in statics(lab4, 'docker-node2')
        assert neighbours6(lab4, 'docker-node2', 'vxlan0') == []
        assert lab4.ssh('docker-node2', 'ip -n %s neigh show dev vxlan0' % overlay_ns(lab4, 'docker-node2')).strip() == ''
        assert ping6(lab4, 'docker-node2', 'e2', SUBNET6 + '1')
        until(lambda: any(n['dst'] == SUBNET6 + '12' and n['lladdr'] == mac('2') and 'extern_learn' in n
                          for n in neighbours6(lab4, 'docker-node1', 'br0')), 10)

        # A second run changes nothing.
        out = play(lab4, SITE, three6, tmp_path)
        assert set(changed(out).values()) == {0}, out[-3000:]

        # docker-node3 loses power: at its boot the host-local apply makes the overlay again, then FRR starts again and
        # advertises its container's MAC (type-2); the others install it as before.
        cut = time.monotonic()
        lab4.reboot('docker-node3', hard=True)
        until(lambda: sh(lab4, 'docker-node3', 'systemctl is-active frr').stdout.strip() == 'active', 120, step=1)
        until(lambda: remote_macs(lab4, 'docker-node2').get(mac('3')) == hosts['docker-node3'], 30, step=0.5)
        until(lambda: ping(lab4, 'docker-node2', 'e2', SUBNET + '13'), 10)
        print('docker-node3 advertised again %.1f s after its power cut' % (time.monotonic() - cut))

        # docker-node3's FRR stops: the others withdraw its MAC and its flood entry.
        stopped = time.monotonic()
        lab4.ssh('docker-node3', 'systemctl stop frr')
        gone = until(lambda: not any(e['dst'] == hosts['docker-node3'] for e in fdb(lab4, 'docker-node2')), 15)
        assert not ping(lab4, 'docker-node2', 'e2', SUBNET + '13')
        print('docker-node3 withdrawn on docker-node2 %.1f s after its FRR stopped' % gone)
        lab4.ssh('docker-node3', 'systemctl start frr')
        back = until(lambda: ping(lab4, 'docker-node2', 'e2', SUBNET + '13'), 30)
        print('docker-node3 reachable again %.1f s after its FRR started (stopped for %.1f s)' % (back, time.monotonic() - stopped))

        # A fourth host joins: reachable, and the FRR configuration of the others is what it was.
        before = {h: frr_conf(lab4, h) for h in ('docker-node1', 'docker-node2', 'docker-node3')}
        play(lab4, SITE, four, tmp_path)
        joined = time.monotonic()
        until(lambda: ping(lab4, 'docker-node4', 'e4', SUBNET + '12'), 20)
        until(lambda: ping(lab4, 'docker-node1', 'e1', SUBNET + '14'), 10)
        until(lambda: ping6(lab4, 'docker-node4', 'e4', 'e2'), 10)
        print('docker-node4 reachable %.1f s after site.yml ended' % (time.monotonic() - joined))
        assert {h: frr_conf(lab4, h) for h in before} == before
        learnt = {mac(n): hosts['docker-node' + n] for n in '134'}
        until(lambda: remote_macs(lab4, 'docker-node2') == learnt, 10)

        # Inspect shows the EVPN state of every host.
        out = play(lab4, INSPECT, four, tmp_path, '-e', 'linuxnet_topology_path=%s' % (tmp_path / 'topology.svg'))
        assert re.search(r'docker-node2: evpn: vni: 256 \(vxlan0 in %s\): \d+ MACs, 3 remote VTEPs \(192.0.2.11, 192.0.2.13, '
                         r'192.0.2.14\)' % overlay_ns(lab4, 'docker-node2'), out), out[-3000:]
        assert 'docker-node2: evpn: bgp peer 192.0.2.11 (docker-node1): Established' in out, out[-3000:]
    finally:
        play(lab4, TEARDOWN, four, tmp_path)
    for host in hosts:
        assert lab4.namespaces(host) == []
        assert sh(lab4, host, 'systemctl is-active frr').stdout.strip() == 'inactive'
        assert 'linuxnet.container' not in lab4.ssh(host, 'cat /etc/frr/frr.conf /etc/frr/daemons')
        for directory in ('frr.service.d', 'linuxnet-container.service.d'):
            assert sh(lab4, host, 'test -e /etc/systemd/system/%s' % directory).returncode == 1
        assert lab4.ssh(host, 'ls -A /run/linuxnet-container/evpn 2>/dev/null || true').strip() == ''
