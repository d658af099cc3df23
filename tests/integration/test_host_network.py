# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_network on a real lab host: six modules' work in one call.

Check mode on a fresh host changes nothing and predicts every part; the real run does exactly that and the
containers talk; a second run changes nothing; bad arguments in one part change nothing in any part; a part that
fails at run time is named, with the results of the parts before it; state absent in every part leaves the host as
it was before."""

from __future__ import annotations

import json
import os

import pytest

from labkit import Lab, lab as lab_cli

# Named by LINUXNET_ITEST_LAB too (default itest-hostnet), so that runs beside another on the same machine do not
# collide: the fixture first removes a lab of its name.
LAB_NAME = os.environ.get('LINUXNET_ITEST_LAB', 'itest') + '-hostnet'
HOST_NETWORK = 'linuxnet.container.host_network'
PARTS = ('netns', 'bridge', 'veth', 'vxlan', 'docker_isolation', 'port_map', 'vtep_filter')


def present(vteps):
    pairs = []
    for n in (2, 3):
        pairs.append({'name': 'vethhn%d' % n, 'master': 'br-hn', 'hairpin': True, 'purge_addresses': True,
                      'peer': {'name': 'eth0', 'namespace': 'hn%d' % n, 'addresses': ['172.29.0.%d/16' % n],
                               'mac_from_ip': True, 'routes': [{'dst': 'default', 'gateway': '172.29.0.1'}]}})
    return {
        'netns': {'namespaces': [{'name': 'hn2'}, {'name': 'hn3'}], 'prune': True},
        'bridge': {'bridges': [{'name': 'br-hn', 'addresses': ['172.29.0.1/16'], 'purge_addresses': True}]},
        'veth': {'pairs': pairs},
        'vxlan': {'devices': [{'name': 'vxlan-hn', 'vni': 4242, 'local': vteps[0], 'dev': 'eth0', 'master': 'br-hn',
                               'learning': False, 'purge': True, 'peers': ['192.0.2.250']}]},
        'docker_isolation': {'networks': [{'bridge': 'br-hn', 'subnet': '172.29.0.0/16'}]},
        'port_map': {'ports': [{'container_ip': '172.29.0.2', 'publish': ['8080:80']}], 'exclusive': True,
                     'forwarding': False},
        'vtep_filter': {'vteps': vteps},
    }


ABSENT = {
    'netns': {'namespaces': [], 'prune': True},
    'bridge': {'bridges': [{'name': 'br-hn', 'state': 'absent'}]},
    'vxlan': {'devices': [{'name': 'vxlan-hn', 'state': 'absent'}]},
    'docker_isolation': {'state': 'absent'},
    'port_map': {'state': 'absent'},
    'vtep_filter': {'state': 'absent'},
}


@pytest.fixture(scope='module')
def lab1():
    lab_cli('down', '--name', LAB_NAME)  # leftovers of an interrupted run
    running = Lab(LAB_NAME, 1)
    yield running
    running.down()


def kernel_view(lab, host):
    """Namespaces, every link with its kind and addresses, the host's routes, the whole nft ruleset, forwarding."""
    out = {'namespaces': lab.namespaces(host),
           'links': sorted((l['ifname'], l.get('linkinfo', {}).get('info_kind'))
                           for l in json.loads(lab.ssh(host, 'ip -j -d link show'))),
           'addresses': sorted((a['ifname'], i['local']) for a in json.loads(lab.ssh(host, 'ip -j addr show'))
                               for i in a['addr_info']),
           'routes': json.loads(lab.ssh(host, 'ip -j route show')),
           'nft': json.loads(lab.ssh(host, 'nft -j list ruleset'))['nftables'],
           'ip_forward': lab.ssh(host, 'cat /proc/sys/net/ipv4/ip_forward').strip()}
    for name in out['namespaces']:
        out['ns_' + name] = sorted((a['ifname'], i['local'])
                                   for a in json.loads(lab.ssh(host, 'ip -n %s -j addr show' % name)) for i in a['addr_info'])
    return out


def call(lab, host, args, tmp_path, check=False):
    return lab.ansible(host, HOST_NETWORK, args, tmp_path, check=check, extra=['--diff'])[host]


def test_check_real_idempotent_traffic_teardown(lab1, tmp_path):
    host = next(iter(lab1.hosts))
    vtep = lab1.hosts[host]['address']
    fresh = kernel_view(lab1, host)
    args = present([vtep])

    status, checked = call(lab1, host, args, tmp_path, check=True)
    assert status == 'ok', checked.get('msg')
    assert checked['changed'] and sorted(checked['parts']) == sorted(PARTS)
    for part in PARTS:
        assert checked['parts'][part]['changed'], part
    assert kernel_view(lab1, host) == fresh, 'check mode changed the host'

    status, real = call(lab1, host, args, tmp_path)
    assert status == 'ok', real.get('msg')
    for part in PARTS:
        assert real['parts'][part]['actions'] == checked['parts'][part]['actions'], part
        assert 'diff' not in real['parts'][part]
    assert [d['before_header'] for d in real['diff']] == list(PARTS)
    assert real['parts']['veth']['netlink_writes'] > 0
    assert real['parts']['port_map']['published'] == {'172.29.0.2': ['80/tcp -> 0.0.0.0:8080']}

    # Kernel state: both endpoints on the bridge, the addresses in the namespaces, the three tables.
    ports = sorted(l['ifname'] for l in json.loads(lab1.ssh(host, 'ip -j link show master br-hn')))
    assert ports == ['vethhn2', 'vethhn3', 'vxlan-hn']
    vxlan = json.loads(lab1.ssh(host, 'ip -j -d link show vxlan-hn'))[0]['linkinfo']['info_data']
    assert vxlan['id'] == 4242 and vxlan['local'] == vtep
    assert json.loads(lab1.ssh(host, 'ip -n hn3 -j addr show dev eth0'))[0]['address'] == '02:42:ac:1d:00:03'
    tables = sorted(t['table']['name'] for t in json.loads(lab1.ssh(host, 'nft -j list tables'))['nftables'] if 'table' in t)
    assert tables == ['linuxnet_isolation', 'linuxnet_ports', 'linuxnet_vtep']
    # Traffic: container to container across the bridge, and to the gateway.
    lab1.ssh(host, 'ip netns exec hn2 ping -c 1 -W 2 172.29.0.3')
    lab1.ssh(host, 'ip netns exec hn3 ping -c 1 -W 2 172.29.0.1')

    status, again = call(lab1, host, args, tmp_path)
    assert status == 'ok' and not again['changed'] and again['diff'] == []
    assert all(again['parts'][part]['actions'] == [] for part in PARTS)
    assert again['parts']['veth']['netlink_writes'] == 0

    status, gone = lab1.ansible(host, HOST_NETWORK, ABSENT, tmp_path)[host]
    assert status == 'ok' and gone['changed'], gone.get('msg')
    assert 'diff' not in gone  # only in diff mode
    assert 'veth' not in gone['parts']
    assert kernel_view(lab1, host) == fresh


def test_bad_arguments_in_one_part_change_nothing(lab1, tmp_path):
    host = next(iter(lab1.hosts))
    before = kernel_view(lab1, host)
    args = present([lab1.hosts[host]['address']])
    args['veth']['pairs'][0]['colour'] = 'red'
    args['port_map']['state'] = 'gone'
    status, result = call(lab1, host, args, tmp_path)
    assert status == 'failed'
    assert result['msg'].startswith('invalid arguments, nothing was changed: ')
    assert 'veth: unsupported parameters: pairs.colour. Supported parameters include: addresses, ' in result['msg']
    assert 'port_map: value of state must be one of: present, absent, got: gone' in result['msg']
    assert kernel_view(lab1, host) == before


def test_a_failing_part_is_named_with_the_results_before_it(lab1, tmp_path):
    host = next(iter(lab1.hosts))
    before = kernel_view(lab1, host)
    args = {'netns': {'namespaces': [{'name': 'hn9'}]},
            'veth': {'pairs': [{'name': 'vethhn9', 'master': 'br-missing', 'peer': {'name': 'eth0', 'namespace': 'hn9'}}]}}
    status, result = call(lab1, host, args, tmp_path)
    assert status == 'failed'
    assert result['failed_part'] == 'veth'
    assert result['msg'].startswith('veth: ') and 'master bridge br-missing does not exist in the host namespace' in result['msg']
    assert result['changed'] and result['parts']['netns']['actions'] == ['create network namespace hn9']
    assert lab1.namespaces(host) == ['hn9']
    status, result = call(lab1, host, {'netns': {'namespaces': [], 'prune': True}}, tmp_path)
    assert status == 'ok' and result['parts']['netns']['removed'] == [{'name': 'hn9', 'links': []}]
    assert kernel_view(lab1, host) == before


def test_a_published_port_behind_a_bridge_with_a_dot_in_its_name(lab1, tmp_path):
    """route_localnet lands on /proc/sys/net/ipv4/conf/br.dot/, not on a path split at the name's dot."""
    host = next(iter(lab1.hosts))
    before = kernel_view(lab1, host)
    args = {
        'netns': {'namespaces': [{'name': 'hnd'}], 'prune': True},
        'bridge': {'bridges': [{'name': 'br.dot', 'addresses': ['172.30.0.1/24']}]},
        'veth': {'pairs': [{'name': 'vethhnd', 'master': 'br.dot',
                            'peer': {'name': 'eth0', 'namespace': 'hnd', 'addresses': ['172.30.0.2/24']}}]},
        'port_map': {'ports': [{'container_ip': '172.30.0.2', 'publish': ['127.0.0.1:8081:80']}], 'forwarding': False},
    }
    status, checked = call(lab1, host, args, tmp_path, check=True)
    assert status == 'ok', checked.get('msg')
    assert 'set net.ipv4.conf.br.dot.route_localnet=1' in checked['parts']['port_map']['actions']
    status, real = call(lab1, host, args, tmp_path)
    assert status == 'ok', real.get('msg')
    assert real['parts']['port_map']['actions'] == checked['parts']['port_map']['actions']
    assert lab1.ssh(host, 'cat /proc/sys/net/ipv4/conf/br.dot/route_localnet').strip() == '1'
    status, again = call(lab1, host, args, tmp_path)
    assert status == 'ok' and not again['changed']
    status, gone = call(lab1, host, {'netns': {'namespaces': [], 'prune': True},
                                     'bridge': {'bridges': [{'name': 'br.dot', 'state': 'absent'}]},
                                     'port_map': {'state': 'absent'}}, tmp_path)
    assert status == 'ok', gone.get('msg')
    assert kernel_view(lab1, host) == before


def test_hundreds_of_namespaces_are_read_by_parallel_workers(lab1, tmp_path):
    """80 containers: netns, veth and network_info read their namespaces in forked workers (_kernel/fanout.py, from
    64 on, on a machine with two CPUs or more). What the workers read must be what the kernel holds: the post-apply check passes, the second run
    writes nothing, network_info reports every endpoint as the kernel shows it, and two containers talk."""
    host = next(iter(lab1.hosts))
    before = kernel_view(lab1, host)
    names = ['hm%03d' % n for n in range(80)]
    pairs = [{'name': 'vethhm%03d' % n, 'master': 'br-hm', 'hairpin': True,
              'peer': {'name': 'eth0', 'namespace': name, 'addresses': ['172.27.%d.%d/16' % ((n + 2) // 256, (n + 2) % 256)],
                       'mac_from_ip': True, 'routes': [{'dst': 'default', 'gateway': '172.27.0.1'}]}}
             for n, name in enumerate(names)]
    args = {'netns': {'namespaces': [{'name': name} for name in names], 'prune': True},
            'bridge': {'bridges': [{'name': 'br-hm', 'addresses': ['172.27.0.1/16']}]},
            'veth': {'pairs': pairs}}
    status, real = call(lab1, host, args, tmp_path)
    assert status == 'ok', real.get('msg')
    assert real['changed'] and len(real['parts']['veth']['pairs']) == 80
    # 80 creates, each followed by the host end's alias and hairpin, the peer's alias/up, address and route.
    assert real['parts']['veth']['netlink_writes'] == 80 * 6
    status, again = call(lab1, host, args, tmp_path)
    assert status == 'ok' and not again['changed'], again.get('msg')
    assert again['parts']['veth']['netlink_writes'] == 0 and again['parts']['veth']['actions'] == []
    status, info = lab1.ansible(host, 'linuxnet.container.network_info',
                                {'networks': [{'name': 'hm', 'bridge': 'br-hm'}], 'containers': names}, tmp_path)[host]
    assert status == 'ok', info.get('msg')
    shown = sorted((ep['container'], ep['host_ifname'], ep['mac'], ep['addresses']) for ep in info['endpoints'])
    kernel = []
    for n, name in enumerate(names):
        eth0 = json.loads(lab1.ssh(host, 'ip -n %s -j addr show dev eth0' % name))[0]
        kernel.append((name, 'vethhm%03d' % n, eth0['address'],
                       ['%s/%d' % (i['local'], i['prefixlen']) for i in eth0['addr_info'] if i['family'] == 'inet']))
    assert shown == kernel
    assert shown[0][3] == ['172.27.0.2/16'] and shown[-1][3] == ['172.27.0.81/16'] and shown[-1][2] == '02:42:ac:1b:00:51'
    lab1.ssh(host, 'ip netns exec hm000 ping -c 1 -W 2 172.27.0.81')
    status, gone = call(lab1, host, {'netns': {'namespaces': [], 'prune': True},
                                     'bridge': {'bridges': [{'name': 'br-hm', 'state': 'absent'}]}}, tmp_path)
    assert status == 'ok', gone.get('msg')
    assert kernel_view(lab1, host) == before


def test_a_kernel_error_in_pipelined_writes_names_its_object(lab1, tmp_path):
    """Writes are pipelined (acknowledged later); the kernel's refusal still fails the run with the object and the
    action that failed, the writes before it stay applied, and the run after the fix converges."""
    host = next(iter(lab1.hosts))
    before = kernel_view(lab1, host)

    def args(gateway):
        pairs = [{'name': 'vethhk%d' % n, 'master': 'br-hk',
                  'peer': {'name': 'eth0', 'namespace': 'hk%d' % n, 'addresses': ['172.26.0.%d/16' % (n + 2)],
                           'routes': [{'dst': '10.99.0.0/16', 'gateway': gateway if n == 1 else '172.26.0.1'}]}}
                 for n in range(3)]
        return {'netns': {'namespaces': [{'name': 'hk%d' % n} for n in range(3)], 'prune': True},
                'bridge': {'bridges': [{'name': 'br-hk', 'addresses': ['172.26.0.1/16']}]},
                'veth': {'pairs': pairs}}

    status, failed = call(lab1, host, args('192.0.2.99'), tmp_path)  # not on any connected subnet of hk1's eth0
    assert status == 'failed'
    assert failed['failed_part'] == 'veth'
    assert failed['msg'].startswith('veth: eth0 in network namespace hk1: cannot add route 10.99.0.0/16 via 192.0.2.99: '
                                    'network unreachable (errno 101)'), failed['msg']
    # The pairs exist; only hk1's route is missing.
    assert json.loads(lab1.ssh(host, 'ip -n hk0 -j route show 10.99.0.0/16'))[0]['gateway'] == '172.26.0.1'
    assert json.loads(lab1.ssh(host, 'ip -n hk1 -j route show 10.99.0.0/16')) == []
    status, fixed = call(lab1, host, args('172.26.0.1'), tmp_path)
    assert status == 'ok' and fixed['changed'], fixed.get('msg')
    assert fixed['parts']['veth']['actions'] == ['add route 10.99.0.0/16 via 172.26.0.1 to eth0 (hk1)']
    status, gone = call(lab1, host, {'netns': {'namespaces': [], 'prune': True},
                                     'bridge': {'bridges': [{'name': 'br-hk', 'state': 'absent'}]}}, tmp_path)
    assert status == 'ok', gone.get('msg')
    assert kernel_view(lab1, host) == before
