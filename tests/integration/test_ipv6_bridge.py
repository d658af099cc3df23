# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Dual-stack bridge networks through site.yml on one lab host: check mode predicts the real run, the kernel holds
the IPv6 addresses (usable at once) and routes, ping -6 by address and by name, isolation over IPv6, a second run
changes nothing, teardown restores the IPv6 forwarding sysctl.

Runs on its own one-host lab (LINUXNET_ITEST_LAB-v6, see labkit.lab_name), started and stopped here. What the kernel
holds is read as JSON (ip -j) from the lab host, never from the modules' own results.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from labkit import ROOT, Lab, lab as lab_cli, lab_name

HOST = 'docker-node1'
SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
TEARDOWN = os.path.join(ROOT, 'playbooks', 'teardown.yml')
CONVERGE = 'Namespaces, bridges, endpoints, overlays, macvlan endpoints, isolation, published ports and the VTEP filter'
FORWARDING6 = '/proc/sys/net/ipv6/conf/all/forwarding'
NETWORKS = [
    {'name': 'front', 'bridge_name': 'br-front', 'subnet': '173.20.0.0/16', 'enable_ipv6': True,
     'ipv6_subnet': 'fd00:db8:20::/64', 'ipv6_ip_range': 'fd00:db8:20::/112'},
    {'name': 'back', 'bridge_name': 'br-back', 'subnet': '10.77.0.0/24', 'enable_ipv6': True},  # IPv6 subnet picked
    {'name': 'sealed', 'bridge_name': 'br-sealed', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:30::/64', 'internal': True},
    {'name': 'plain', 'bridge_name': 'br-plain', 'subnet': '10.78.0.0/24'},
]
CONTAINERS = [
    {'name': 'web', 'networks': ['front']},
    {'name': 'db', 'networks': [{'name': 'front', 'ipv6_address': 'fd00:db8:20::99', 'aliases': ['sql']}]},
    {'name': 'other', 'networks': ['back']},
    {'name': 'vault', 'networks': ['sealed']},
    {'name': 'legacy', 'networks': ['plain']},
]


@pytest.fixture(scope='module')
def lab():
    name = lab_name('v6')
    lab_cli('down', '--name', name)  # leftovers of an interrupted run
    running = Lab(name, 2)  # docker-node2 plays another host of the underlay (IPv4 and IPv6)
    try:
        yield running
    finally:
        running.down()


def inventory(lab, tmp_path, containers=None, name='inventory.json', networks=None):
    data = json.load(open(lab.inventory))
    data['all']['children']['lab']['hosts'][HOST].update(linuxnet_networks=NETWORKS if networks is None else networks,
                                                         linuxnet_containers=CONTAINERS if containers is None else containers)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def site(lab, tmp_path, inv, *extra, playbook=SITE):
    """Run a playbook; return (process, {task name: result} of HOST) from the recording callback."""
    proc, results = lab.recorded_playbook(playbook, tmp_path, inventory=inv, extra=extra)
    return proc, results.get(HOST, {})


def ip_json(lab, netns, *args):
    prefix = 'ip -n %s ' % netns if netns else 'ip '
    return json.loads(lab.ssh(HOST, prefix + '-j ' + ' '.join(args)) or '[]')


def global_v6(lab, netns, dev):
    """The global IPv6 addresses of a link, with their flags, as the kernel reports them."""
    return [a for link in ip_json(lab, netns, '-6', 'addr', 'show', 'dev', dev) for a in link['addr_info']
            if a.get('scope') == 'global']


def changes(results):
    """The actions of the parts of the converge that changed something: what a failed second run reports."""
    return {part: result.get('actions') for part, result in results.get(CONVERGE, {}).get('parts', {}).items() if result.get('changed')}


def all_v6(lab, netns):
    """{link: [(address, scope)]} of every IPv6 address in a namespace, links without one left out."""
    return {link['ifname']: [(a['local'], a['scope']) for a in link['addr_info'] if a.get('local')]
            for link in ip_json(lab, netns, '-6', 'addr', 'show') if any(a.get('local') for a in link['addr_info'])}


def sysctl(lab, netns, key):
    return lab.ssh(HOST, 'ip netns exec %s cat /proc/sys/net/ipv6/conf/%s' % (netns, key.replace('.', '/'))).strip()


def pings(lab, netns, target):
    """Whether one ping -6 from namespace ``netns`` to ``target`` (an address or a name from its hosts file) answers."""
    out = lab.ssh(HOST, 'ip netns exec %s ping -6 -n -c 1 -W 2 %s >/dev/null 2>&1; echo $?' % (netns, target))
    return out.strip() == '0'


def test_dual_stack_bridge_networks(lab, tmp_path):
    inv = inventory(lab, tmp_path)
    forwarding_before = lab.ssh(HOST, 'cat %s' % FORWARDING6).strip()

    checked_proc, checked = site(lab, tmp_path, inv, '--check')
    assert checked_proc.returncode == 0, checked_proc.stdout[-4000:]
    assert lab.namespaces(HOST) == [], 'check mode changed the host'
    real_proc, real = site(lab, tmp_path, inv)
    assert real_proc.returncode == 0, real_proc.stdout[-4000:]
    assert checked[CONVERGE]['changed'] and real[CONVERGE]['changed']
    for part, result in real[CONVERGE]['parts'].items():
        assert result['actions'] == checked[CONVERGE]['parts'][part]['actions'], part
    actions = real[CONVERGE]['parts']['bridge']['actions']
    assert any('add address fd00:db8:20::1/64 to' in action for action in actions), actions

    # The bridge holds both gateways; the containers their addresses, usable at once (nodad: never tentative).
    assert [a['local'] for a in global_v6(lab, None, 'br-front')] == ['fd00:db8:20::1']
    web = global_v6(lab, 'web', 'eth0')
    assert [a['local'] for a in web] == ['fd00:db8:20::2'] and web[0]['prefixlen'] == 64
    assert web[0].get('nodad') and not web[0].get('tentative') and not web[0].get('dadfailed')
    assert [a['local'] for a in global_v6(lab, 'db', 'eth0')] == ['fd00:db8:20::99']
    assert [(r['dst'], r['gateway']) for r in ip_json(lab, 'web', '-6', 'route', 'show', 'default')] == [('default', 'fd00:db8:20::1')]
    assert [(r['dst'], r['gateway']) for r in ip_json(lab, 'web', '-4', 'route', 'show', 'default')] == [('default', '173.20.0.1')]
    # back's IPv6 subnet is a /64 of the host's ULA /48 (fd00::/8), its gateway the first address.
    back_gateway = global_v6(lab, None, 'br-back')
    assert len(back_gateway) == 1 and back_gateway[0]['local'].startswith('fd') and back_gateway[0]['prefixlen'] == 64
    other = global_v6(lab, 'other', 'eth0')
    assert len(other) == 1 and other[0]['local'].rsplit(':', 1)[1] == '2'
    # A container on no network with IPv6 gets no IPv6 at all, as in Docker: no ::1 on lo, no fe80:: on eth0, no route.
    assert all_v6(lab, 'legacy') == {} and ip_json(lab, 'legacy', '-6', 'route', 'show') == []
    assert sysctl(lab, 'legacy', 'all.disable_ipv6') == sysctl(lab, 'legacy', 'default.disable_ipv6') == '1'
    # One with IPv6 keeps what the kernel gives: ::1 on lo, a link-local address next to its global one.
    assert all_v6(lab, 'web')['lo'] == [('::1', 'host')]
    assert sorted(scope for _addr, scope in all_v6(lab, 'web')['eth0']) == ['global', 'link']
    assert lab.ssh(HOST, 'cat %s' % FORWARDING6).strip() == '1'

    # Hosts files carry both families; ping -6 by address and by name, at once.
    hosts = lab.ssh(HOST, 'ip netns exec web cat /etc/hosts')
    assert 'fd00:db8:20::99\tdb sql' in hosts and '173.20.0.3\tdb sql' in hosts and 'fd00:db8:20::2\t' in hosts
    assert pings(lab, 'web', 'fd00:db8:20::99')
    assert pings(lab, 'web', 'db') and pings(lab, 'web', 'sql') and pings(lab, 'db', 'web')
    assert pings(lab, 'web', 'fd00:db8:20::1')
    # Isolation between networks and internal hold over IPv6.
    assert not pings(lab, 'web', other[0]['local'])
    assert not pings(lab, 'other', 'fd00:db8:20::2')
    assert not pings(lab, 'vault', 'fd00:db8:20::2')
    assert not pings(lab, 'web', 'fd00:db8:30::2')

    # What network_info reports (docker network inspect).
    info = lab.ansible(HOST, 'linuxnet.container.network_info',
                       {'networks': [{'name': 'front', 'bridge': 'br-front', 'ipv6_ip_range': 'fd00:db8:20::/112'}]}, tmp_path)[HOST][1]
    front = info['networks'][0]
    assert front['EnableIPv6'] is True
    assert front['IPAM']['Config'] == [{'Subnet': '173.20.0.0/16', 'Gateway': '173.20.0.1'},
                                       {'Subnet': 'fd00:db8:20::/64', 'Gateway': 'fd00:db8:20::1', 'IPRange': 'fd00:db8:20::/112'}]
    db = next(ep for ep in info['endpoints'] if ep['container'] == 'db')
    assert (db['GlobalIPv6Address'], db['GlobalIPv6PrefixLen']) == ('fd00:db8:20::99', 64)

    again_proc, again = site(lab, tmp_path, inv)
    assert again_proc.returncode == 0 and not again.get(CONVERGE, {}).get('changed'), changes(again)
    assert 'changed=0' in again_proc.stdout, again_proc.stdout[-3000:]

    # IPv6 follows the networks: legacy joins front (IPv6 on: ::1, link-local, its global address), other leaves back
    # for plain (IPv6 off, its addresses gone). Check mode predicts it, the second run changes nothing.
    moved = [dict(c, networks=['plain', 'front']) if c['name'] == 'legacy' else
             dict(c, networks=['plain']) if c['name'] == 'other' else c for c in CONTAINERS]
    inv_moved = inventory(lab, tmp_path, moved, name='moved.json')
    checked_proc, checked = site(lab, tmp_path, inv_moved, '--check')
    assert checked_proc.returncode == 0, checked_proc.stdout[-4000:]
    netns_actions = checked[CONVERGE]['parts']['netns']['actions']
    assert any('net.ipv6.conf.all.disable_ipv6=0' in a and 'legacy' in a for a in netns_actions), netns_actions
    assert any('net.ipv6.conf.all.disable_ipv6=1' in a and 'other' in a for a in netns_actions), netns_actions
    assert all_v6(lab, 'legacy') == {}, 'check mode changed legacy'
    real_proc, real = site(lab, tmp_path, inv_moved)
    assert real_proc.returncode == 0, real_proc.stdout[-4000:]
    assert real[CONVERGE]['parts']['netns']['actions'] == netns_actions
    legacy = all_v6(lab, 'legacy')
    assert legacy['lo'] == [('::1', 'host')] and sorted(s for _a, s in legacy['eth1']) == ['global', 'link']
    assert [(r['dst'], r['gateway']) for r in ip_json(lab, 'legacy', '-6', 'route', 'show', 'default')] == [
        ('default', 'fd00:db8:20::1')]
    assert pings(lab, 'legacy', 'web')
    assert all_v6(lab, 'other') == {} and sysctl(lab, 'other', 'all.disable_ipv6') == '1'
    again_proc, again = site(lab, tmp_path, inv_moved)
    assert again_proc.returncode == 0 and not again.get(CONVERGE, {}).get('changed'), changes(again)

    down_proc, _down = site(lab, tmp_path, inv, playbook=TEARDOWN)
    assert down_proc.returncode == 0, down_proc.stdout[-4000:]
    assert lab.namespaces(HOST) == []
    assert lab.ssh(HOST, 'cat %s' % FORWARDING6).strip() == forwarding_before


OTHER = 'docker-node2'
PAGE = 'linuxnet ipv6 page'
PUBLISHING = [
    {'name': 'web', 'networks': ['front'], 'ports': [
        '8080:80',                                        # both families (Docker 27): 0.0.0.0 and [::]
        '[fd00:192:0:2::11]:8082:80',                     # one IPv6 address of the host
        '[::]:8083:80',                                   # every IPv6 address of the host, no IPv4
        {'publish': '8443:80', 'allow': ['fd00:192:0:2::12', '192.0.2.12']},
        {'publish': '8444:80', 'allow': ['192.0.2.12']},  # no IPv6 source: over IPv6 the host itself only
        '[::1]:8081:80',                                  # the host alone: systemd-socket-proxyd, not NAT
    ]},
    # IPv4-only network: IPv4 only; its [::1] publication's proxy reaches the IPv4 address, as Docker's does
    {'name': 'legacy', 'networks': ['plain'], 'ports': ['8090:80', '[::1]:8092:80']},
    {'name': 'probe', 'networks': ['direct'], 'ports': ['8091:80']},  # IPv4: DNAT (nat); IPv6: port 80 opens (routed)
]
# No NAT66 (Docker's com.docker.network.bridge.gateway_mode_ipv6=routed): the outside sees the container's address.
DIRECT = {'name': 'direct', 'bridge_name': 'br-direct', 'subnet': '10.79.0.0/24', 'enable_ipv6': True,
          'ipv6_subnet': 'fd00:db8:40::/64', 'gateway_mode_ipv6': 'routed'}
OUTSIDE = 'fd00:192:0:2::1'  # the lab's router: plays a server outside the host
DIRECT_SETS = ('protected', 'routed_icmp', 'routed_ports', 'routed_ports6')
# Docker before 28 (no filter of direct routing) for plain's IPv4.
PLAIN_OPEN = dict(NETWORKS[3], gateway_mode_ipv4='nat-unprotected')
# Routes the lab's router is given to the bridges' subnets through the host (direct routing), beside direct's IPv6 one.
DIRECT_ROUTES = [('173.20.0.0/16', '192.0.2.11'), ('10.79.0.0/24', '192.0.2.11'), ('10.78.0.0/24', '192.0.2.11'),
                 ('fd00:db8:20::/64', 'fd00:192:0:2::11')]


def curl(lab, host, url, netns=None):
    """The page, or None when the connection fails (curl's exit status, never an exception)."""
    prefix = 'ip netns exec %s ' % netns if netns else ''
    out = lab.ssh(host, '%scurl -g -s -m 3 %s; echo " rc=$?"' % (prefix, url)).rsplit(' rc=', 1)
    return out[0].strip() if out[1].strip() == '0' else None


def nft_json(lab, what):
    out = lab.ssh(HOST, 'nft -j list %s 2>/dev/null || true' % what)
    return json.loads(out)['nftables'] if out.strip() else None


def map_elements(table, name):
    return next(item['map'].get('elem', []) for item in table if 'map' in item and item['map']['name'] == name)


def from_router(lab, *argv):
    """A command in the lab's router (the switch's namespace, outside every lab host): its exit status."""
    return subprocess.run(['nsenter', '--net=/proc/%d/ns/net' % lab.state['switch_pid'], '--'] + list(argv),
                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode


def router_curl(lab, url):
    """curl's exit status from the router: 0 answered, 7 refused (a reset), 28 timed out (dropped on the way)."""
    return from_router(lab, 'curl', '-g', '-s', '-o', '/dev/null', '-m', '2', url)


def serve(lab, netns, port, bind='::'):
    """An HTTP server of PAGE in a container; its PID on the lab host."""
    return int(lab.ssh(HOST, 'ip netns exec %s setsid python3 -m http.server %d --bind %s --directory /tmp/v6-www '
                             '>/dev/null 2>&1 < /dev/null & echo $!' % (netns, port, bind)))


PROXIES = {'linuxnet-proxy-tcp-8081': 8081, 'linuxnet-proxy-tcp-8092': 8092}


def proxy_units(lab):
    """The [::1] proxy unit files on HOST."""
    return sorted(lab.ssh(HOST, 'cd /etc/systemd/system && ls -d linuxnet-proxy-* 2>/dev/null; true').split())


def listening(lab, port):
    """The local addresses of HOST's listening TCP sockets on a port (ss, in the host namespace)."""
    return sorted(line.split()[3] for line in lab.ssh(HOST, 'ss -Hltn sport = :%d' % port).splitlines() if line.strip())


def test_ports_published_over_ipv6(lab, tmp_path):
    inv = inventory(lab, tmp_path, PUBLISHING, name='ports.json', networks=[NETWORKS[0], PLAIN_OPEN, DIRECT])
    checked_proc, checked = site(lab, tmp_path, inv, '--check')
    assert checked_proc.returncode == 0, checked_proc.stdout[-4000:]
    assert nft_json(lab, 'table ip6 linuxnet_ports') is None, 'check mode made the IPv6 table'
    assert proxy_units(lab) == [], 'check mode wrote proxy units'
    assert [a for a in checked[CONVERGE]['parts']['port_map']['actions'] if 'systemd units' in a] == [
        'write systemd units %s.socket and %s.service ([::1]:%d)' % (name, name, port) for name, port in PROXIES.items()]
    real_proc, real = site(lab, tmp_path, inv)
    assert real_proc.returncode == 0, real_proc.stdout[-4000:]
    for part in ('port_map', 'docker_isolation'):
        assert real[CONVERGE]['parts'][part]['actions'] == checked[CONVERGE]['parts'][part]['actions'], part
    server = outside = None
    servers = []
    try:
        table6 = nft_json(lab, 'table ip6 linuxnet_ports')
        any_addr = {tuple(e[0]['concat']): e[1] for e in map_elements(table6, 'any_addr')}
        # probe's 8091 is not published over IPv6: direct's IPv6 is routed (its container port opens instead, below)
        assert any_addr == {('tcp', 8080): 'fd00:db8:20::2', ('tcp', 8083): 'fd00:db8:20::2', ('tcp', 8443): 'fd00:db8:20::2',
                            ('tcp', 8444): 'fd00:db8:20::2'}
        assert [e[1] for e in map_elements(table6, 'addr_addr')] == ['fd00:db8:20::2']
        # legacy's network has no IPv6: its port is IPv4 only
        assert ('tcp', 8090) not in any_addr
        ports4 = [e[0]['concat'][1] for e in map_elements(nft_json(lab, 'table ip linuxnet_ports'), 'any_addr')]
        assert 8090 in ports4 and 8083 not in ports4

        lab.ssh(HOST, 'mkdir -p /tmp/v6-www && echo "%s" > /tmp/v6-www/index.html' % PAGE)
        server = int(lab.ssh(HOST, 'ip netns exec web setsid python3 -m http.server 80 --bind :: --directory /tmp/v6-www '
                                   '>/dev/null 2>&1 < /dev/null & echo $!'))
        lab.ssh(HOST, 'for i in $(seq 50); do ip netns exec web curl -s -m 1 http://[::1]/ >/dev/null && exit 0; '
                      'sleep 0.1; done; exit 1')
        v6, v4 = 'http://[fd00:192:0:2::11]:%d/', 'http://192.0.2.11:%d/'
        # From another host, over IPv6 and IPv4; from the host itself; from the container itself (hairpin).
        assert curl(lab, OTHER, v6 % 8080) == PAGE and curl(lab, OTHER, v4 % 8080) == PAGE
        assert curl(lab, OTHER, v6 % 8082) == PAGE and curl(lab, OTHER, v4 % 8082) is None
        assert curl(lab, OTHER, v6 % 8083) == PAGE and curl(lab, OTHER, v4 % 8083) is None
        assert curl(lab, HOST, v6 % 8080) == PAGE and curl(lab, HOST, v6 % 8082) == PAGE
        assert curl(lab, HOST, v6 % 8080, netns='web') == PAGE
        # Allow-lists per family: node2 is listed by its IPv6 address for 8443, by its IPv4 one only for 8444.
        assert curl(lab, OTHER, v6 % 8443) == PAGE and curl(lab, OTHER, v4 % 8443) == PAGE
        assert curl(lab, OTHER, v6 % 8444) is None and curl(lab, OTHER, v4 % 8444) == PAGE
        assert curl(lab, HOST, v6 % 8444) == PAGE  # the host itself is always let in
        assert curl(lab, OTHER, v6 % 8090) is None
        # [::1]: from the host itself (systemd-socket-proxyd to web's IPv6 address), never from another host.
        assert curl(lab, HOST, 'http://[::1]:8081/') == PAGE
        assert curl(lab, OTHER, v6 % 8081) is None and curl(lab, OTHER, v4 % 8081) is None
        assert router_curl(lab, v6 % 8081) != 0 and router_curl(lab, v4 % 8081) != 0
        assert proxy_units(lab) == sorted(n + s for n in PROXIES for s in ('.service', '.socket'))
        assert lab.ssh(HOST, 'systemctl is-enabled %s' % ' '.join(n + '.socket' for n in PROXIES)).split() == ['enabled'] * 2
        assert listening(lab, 8081) == ['[::1]:8081'] and listening(lab, 8092) == ['[::1]:8092']

        info = lab.ansible(HOST, 'linuxnet.container.network_info', {'networks': [{'name': 'front', 'bridge': 'br-front'}]},
                           tmp_path)[HOST][1]
        assert info['ports']['web'] == ['80/tcp -> 0.0.0.0:8080', '80/tcp -> [::]:8080', '80/tcp -> [::1]:8081',
                                        '80/tcp -> [fd00:192:0:2::11]:8082', '80/tcp -> [::]:8083',
                                        '80/tcp -> 0.0.0.0:8443', '80/tcp -> [::]:8443', '80/tcp -> 0.0.0.0:8444',
                                        '80/tcp -> [::]:8444'], info['ports']
        assert info['port_allow']['web'] == {'80/tcp -> 0.0.0.0:8443': ['192.0.2.12'], '80/tcp -> 0.0.0.0:8444': ['192.0.2.12'],
                                             '80/tcp -> [::]:8443': ['fd00:192:0:2::12'], '80/tcp -> [::]:8444': []}
        assert 'ip6 linuxnet_ports' in info['tables']

        # NAT66 (on by default): front's subnet is masqueraded, direct's (routed) is not, in the inet isolation table.
        isolation = nft_json(lab, 'table inet linuxnet_isolation')
        masq6 = next(item['set'].get('elem', []) for item in isolation if 'set' in item and item['set']['name'] == 'masq_subnets6')
        assert masq6 == [{'prefix': {'addr': 'fd00:db8:20::', 'len': 64}}], masq6
        # A server outside (in the lab's router) sees web's connection from the host's IPv6 address, probe's from
        # probe's own (the router is given a route to direct's subnet through the host, as a routed network needs).
        log = tmp_path / 'outside.log'
        with open(log, 'w') as handle:
            outside = subprocess.Popen(['nsenter', '--net=/proc/%d/ns/net' % lab.state['switch_pid'], '--', sys.executable,
                                        '-m', 'http.server', '8099', '--bind', OUTSIDE, '--directory', str(tmp_path)],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=handle, start_new_session=True)
        router = ['nsenter', '--net=/proc/%d/ns/net' % lab.state['switch_pid'], '--']
        subprocess.run(router + ['ip', '-6', 'route', 'replace', 'fd00:db8:40::/64', 'via', 'fd00:192:0:2::11'], check=True)
        for _attempt in range(50):
            if curl(lab, OTHER, 'http://[%s]:8099/' % OUTSIDE) is not None:
                break
            time.sleep(0.1)
        assert curl(lab, HOST, 'http://[%s]:8099/' % OUTSIDE, netns='web') is not None
        assert curl(lab, HOST, 'http://[%s]:8099/' % OUTSIDE, netns='probe') is not None
        clients = [line.split(' ', 1)[0] for line in log.read_text().splitlines() if '"GET / ' in line]
        assert clients[-2:] == ['fd00:192:0:2::11', 'fd00:db8:40::2'], clients

        # Direct routing (Docker 28): the router routes every bridge subnet through the host.
        for subnet, via in DIRECT_ROUTES:
            from_router(lab, 'ip', 'route', 'replace', subnet, 'via', via)
        servers = [serve(lab, 'probe', 80), serve(lab, 'probe', 81), serve(lab, 'legacy', 80, '0.0.0.0')]
        lab.ssh(HOST, 'for i in $(seq 50); do ip netns exec probe curl -s -m 1 http://[::1]:81/ >/dev/null && '
                      'ip netns exec probe curl -s -m 1 http://[::1]/ >/dev/null && '
                      'ip netns exec legacy curl -s -m 1 http://127.0.0.1/ >/dev/null && exit 0; sleep 0.1; done; exit 1')
        # (a) nat (IPv4 always, front's IPv6): neither a published container port nor an unpublished one answers at the
        # container's address; the published port does through the host's address (DNAT).
        assert router_curl(lab, 'http://10.79.0.2:80/') == 28 and router_curl(lab, 'http://10.79.0.2:81/') == 28
        assert router_curl(lab, 'http://173.20.0.2:80/') == 28 and router_curl(lab, 'http://[fd00:db8:20::2]:80/') == 28
        assert router_curl(lab, 'http://192.0.2.11:8091/') == 0 and router_curl(lab, 'http://192.0.2.11:8080/') == 0
        # (b) routed IPv6: the published container port answers at probe's own address, ping6 too, the unpublished port
        # is dropped; the host port 8091 is not published over IPv6 (the host itself answers: a reset).
        assert router_curl(lab, 'http://[fd00:db8:40::2]:80/') == 0
        assert from_router(lab, 'ping', '-6', '-n', '-c', '1', '-W', '2', 'fd00:db8:40::2') == 0
        assert router_curl(lab, 'http://[fd00:db8:40::2]:81/') == 28
        assert router_curl(lab, 'http://[fd00:192:0:2::11]:8091/') == 7
        # (c) nat-unprotected (plain's IPv4): every port answers directly, as before Docker 28.
        assert router_curl(lab, 'http://10.78.0.2:80/') == 0
        # The host itself reaches every port as before (its packets do not cross the forward hook).
        assert curl(lab, HOST, 'http://10.79.0.2:81/') == PAGE and curl(lab, HOST, 'http://[fd00:db8:40::2]:81/') == PAGE
        # legacy's [::1] publication: the proxy reaches its IPv4 address.
        assert curl(lab, HOST, 'http://[::1]:8092/') == PAGE and curl(lab, OTHER, 'http://192.0.2.11:8092/') is None
        # In the table: sets, and the same six rules whatever the number of containers.
        isolation = nft_json(lab, 'table inet linuxnet_isolation')
        sets = {item['set']['name']: [tuple(e['concat']) for e in item['set'].get('elem', [])]
                for item in isolation if 'set' in item and item['set']['name'] in DIRECT_SETS}
        assert sorted(sets['protected']) == [('ipv4', 'br-direct'), ('ipv4', 'br-front'), ('ipv6', 'br-direct'),
                                             ('ipv6', 'br-front'), ('ipv6', 'br-plain')], sets['protected']
        assert sets['routed_icmp'] == [('ipv6-icmp', 'br-direct')]
        assert sets['routed_ports6'] == [('tcp', 'fd00:db8:40::2', 80)] and sets['routed_ports'] == []
        assert len([item for item in isolation if 'rule' in item and item['rule']['chain'] == 'inbound']) == 6
        info = lab.ansible(HOST, 'linuxnet.container.network_info', {'networks': [
            {'name': 'direct', 'bridge': 'br-direct'}, {'name': 'plain', 'bridge': 'br-plain'}]}, tmp_path)[HOST][1]
        options = {net['Name']: {k: v for k, v in net['Options'].items() if 'gateway_mode' in k} for net in info['networks']}
        assert options['direct'] == {'com.docker.network.bridge.gateway_mode_ipv6': 'routed'}, options
        assert options['plain'] == {'com.docker.network.bridge.gateway_mode_ipv4': 'nat-unprotected'}, options

        again_proc, again = site(lab, tmp_path, inv)
        assert again_proc.returncode == 0 and not again.get(CONVERGE, {}).get('changed'), changes(again)
    finally:
        for pid in servers:
            lab.ssh(HOST, 'kill %d' % pid)
        for subnet, _via in DIRECT_ROUTES:
            from_router(lab, 'ip', 'route', 'del', subnet)
        if server is not None:
            lab.ssh(HOST, 'kill %d' % server)
        if outside is not None:
            outside.terminate()
            outside.wait()
        down_proc, _down = site(lab, tmp_path, inv, playbook=TEARDOWN)
        assert down_proc.returncode == 0, down_proc.stdout[-4000:]
    assert nft_json(lab, 'table ip6 linuxnet_ports') is None and nft_json(lab, 'table ip linuxnet_ports') is None
    assert nft_json(lab, 'table inet linuxnet_isolation') is None and lab.namespaces(HOST) == []
    assert proxy_units(lab) == [] and listening(lab, 8081) == [] and listening(lab, 8092) == []
    assert [u for u in lab.ssh(HOST, 'ls /etc/systemd/system/sockets.target.wants/ 2>/dev/null; true').split() if 'linuxnet' in u] == []


# A router advertisement from docker-node2 on the underlay: no prefix, router lifetime 1800 s, so docker-node1 (accept_ra
# 1) takes a default route via node2's link-local address (protocol ra). The kernel fills in the ICMPv6 checksum.
SEND_RA = ("python3 -c \"import socket; i = socket.if_nametoindex('eth0'); "
           "s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6); "
           "s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255); "
           "s.sendto(bytes([134, 0, 0, 0, 64, 0]) + (1800).to_bytes(2, 'big') + bytes(8), ('ff02::1', 0, 0, i))\"")
RA_NETWORKS = [{'name': 'ra', 'bridge_name': 'br-ra', 'subnet': '10.79.0.0/24', 'enable_ipv6': True,
                'ipv6_subnet': 'fd00:db8:79::/64', 'icc': False}]
RA_CONTAINERS = [{'name': 'ra1', 'networks': ['ra']}, {'name': 'ra2', 'networks': ['ra']}]
ACCEPT_RA = '/proc/sys/net/ipv6/conf/eth0/accept_ra'
BNF6 = '/proc/sys/net/bridge/bridge-nf-call-ip6tables'


def ra_routes(lab):
    return [(r['dst'], r.get('gateway', '')[:5]) for r in ip_json(lab, None, '-6', 'route', 'show', 'proto', 'ra')]


def learn_ra_route(lab):
    lab.ssh(OTHER, SEND_RA)
    for _attempt in range(20):
        if ra_routes(lab):
            break
        time.sleep(0.25)
    assert ra_routes(lab) == [('default', 'fe80:')], 'node1 took no default route from the RA'


def test_an_uplink_configured_by_router_advertisements_keeps_its_default_route(lab, tmp_path):
    """IPv6 forwarding makes the kernel drop the RA default routes of an accept_ra 1 interface (Docker's
    docker/for-linux#844): the uplink gets accept_ra 2 first, restored on teardown. icc off over IPv6 on the way."""
    inv = inventory(lab, tmp_path, RA_CONTAINERS, name='ra.json', networks=RA_NETWORKS)
    before = {path: lab.ssh(HOST, 'cat %s' % path).strip() for path in (ACCEPT_RA, FORWARDING6, BNF6)}
    assert before[FORWARDING6] == '0', before
    lab.ssh(HOST, 'echo 1 > %s' % ACCEPT_RA)
    try:
        learn_ra_route(lab)

        checked_proc, checked = site(lab, tmp_path, inv, '--check')
        assert checked_proc.returncode == 0, checked_proc.stdout[-4000:]
        assert lab.ssh(HOST, 'cat %s %s' % (ACCEPT_RA, FORWARDING6)).split() == ['1', '0'], 'check mode changed a sysctl'
        real_proc, real = site(lab, tmp_path, inv)
        assert real_proc.returncode == 0, real_proc.stdout[-4000:]
        actions = real[CONVERGE]['parts']['docker_isolation']['actions']
        assert actions == checked[CONVERGE]['parts']['docker_isolation']['actions']
        ra_first = [a for a in actions if a.startswith('set net.ipv6.conf.eth0.accept_ra=2')]
        assert ra_first and actions.index(ra_first[0]) < actions.index('set net.ipv6.conf.all.forwarding=1'), actions
        assert lab.ssh(HOST, 'cat %s %s %s' % (ACCEPT_RA, FORWARDING6, BNF6)).split() == ['2', '1', '1']
        # The RA default route outlived forwarding going on.
        assert ra_routes(lab) == [('default', 'fe80:')]
        # icc off over IPv6: the two containers of ra do not reach each other, each reaches the gateway.
        assert pings(lab, 'ra1', 'fd00:db8:79::1') and pings(lab, 'ra2', 'fd00:db8:79::1')
        assert not pings(lab, 'ra1', 'fd00:db8:79::3') and not pings(lab, 'ra2', 'ra1')
        again_proc, again = site(lab, tmp_path, inv)
        assert again_proc.returncode == 0 and not again.get(CONVERGE, {}).get('changed'), changes(again)

        down_proc, _down = site(lab, tmp_path, inv, playbook=TEARDOWN)
        assert down_proc.returncode == 0, down_proc.stdout[-4000:]
        assert {path: lab.ssh(HOST, 'cat %s' % path).strip() for path in (FORWARDING6, BNF6)} == {
            FORWARDING6: before[FORWARDING6], BNF6: before[BNF6]}
        assert lab.ssh(HOST, 'cat %s' % ACCEPT_RA).strip() == '1' and ra_routes(lab) == [('default', 'fe80:')]
        # What the module spared the host: forwarding on with accept_ra 1 drops the RA default route at once. (The
        # kernel purges only a table that got a new RA router since its last purge: the route is learnt again first.)
        lab.ssh(HOST, 'ip -6 route flush proto ra')
        learn_ra_route(lab)
        lab.ssh(HOST, 'echo 1 > %s' % FORWARDING6)
        assert ra_routes(lab) == [], 'the kernel kept the RA route: this test would prove nothing'
    finally:
        lab.ssh(HOST, 'echo 0 > %s; echo %s > %s; ip -6 route flush proto ra' % (FORWARDING6, before[ACCEPT_RA], ACCEPT_RA))


def test_a_loopback6_publication_lasts_a_reboot(lab, tmp_path):
    """The [::1] proxy's socket unit is enabled: after a reboot it listens again, and the boot's restore brings the
    container back behind it. A second converge then changes nothing; teardown removes the units."""
    inv = inventory(lab, tmp_path, [{'name': 'web', 'networks': ['front'], 'ports': ['[::1]:8081:80']}], name='reboot.json',
                    networks=[NETWORKS[0]])
    proc, _results = site(lab, tmp_path, inv)
    assert proc.returncode == 0, proc.stdout[-4000:]
    try:
        lab.reboot(HOST)
        for _attempt in range(100):
            if 'web' in lab.namespaces(HOST) and listening(lab, 8081) == ['[::1]:8081']:
                break
            time.sleep(0.2)
        assert listening(lab, 8081) == ['[::1]:8081'] and 'web' in lab.namespaces(HOST)
        lab.ssh(HOST, 'mkdir -p /tmp/v6-www && echo "%s" > /tmp/v6-www/index.html' % PAGE)
        server = serve(lab, 'web', 80)
        try:
            lab.ssh(HOST, 'for i in $(seq 50); do curl -g -s -m 1 http://[::1]:8081/ >/dev/null && exit 0; sleep 0.1; done; exit 1')
            assert curl(lab, HOST, 'http://[::1]:8081/') == PAGE
            assert curl(lab, OTHER, 'http://[fd00:192:0:2::11]:8081/') is None
        finally:
            lab.ssh(HOST, 'kill %d' % server)
        again_proc, again = site(lab, tmp_path, inv)
        assert again_proc.returncode == 0 and not again.get(CONVERGE, {}).get('changed'), changes(again)
    finally:
        down_proc, _down = site(lab, tmp_path, inv, playbook=TEARDOWN)
        assert down_proc.returncode == 0, down_proc.stdout[-4000:]
    assert proxy_units(lab) == [] and listening(lab, 8081) == []
