# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Full check mode on a fresh host. As separate tasks, netns, bridge, veth, vxlan and macvlan, the later ones told with
expect what the earlier ones create; and as a user's own playbook would write it, one host_network call with every
part and no expect anywhere, whose later parts the module itself tells what its earlier parts create. Check mode
changes nothing, predicts exactly what the real run then does, and a second run changes nothing. A real run ignores
expect."""

from __future__ import annotations

import json

import pytest

from labkit import Lab, lab as lab_cli, lab_name

LAB_NAME = lab_name('expect')
NETNS, BRIDGE, VETH, VXLAN, MACVLAN = ('linuxnet.container.' + m for m in ('netns', 'bridge', 'veth', 'vxlan', 'macvlan'))
HOST_NETWORK = 'linuxnet.container.host_network'
OVERLAY_NS = '1-ov-expect'

EXPECT = {
    'namespaces': ['c1', 'c2', OVERLAY_NS],
    'links': [{'name': 'docker0'}, {'name': 'br0', 'namespace': OVERLAY_NS}],
}


def tasks(address):
    """The module calls of one converge, in order (what the roles do, for one host)."""
    return [
        (NETNS, {'namespaces': [{'name': 'c1'}, {'name': 'c2'}, {'name': OVERLAY_NS}]}),
        (BRIDGE, {'bridges': [{'name': 'docker0', 'addresses': ['172.17.0.1/16'], 'purge_addresses': True},
                              {'name': 'br0', 'namespace': OVERLAY_NS, 'mtu': 1450, 'addresses': ['10.0.0.1/24'],
                               'purge_addresses': True}],
                  'expect': {'namespaces': [OVERLAY_NS]}}),
        (VETH, {'pairs': [
            {'name': 'vethc1', 'master': 'docker0', 'hairpin': True, 'purge_addresses': True,
             'peer': {'name': 'eth0', 'namespace': 'c1', 'addresses': ['172.17.0.2/16'], 'mac_from_ip': True,
                      'routes': [{'dst': 'default', 'gateway': '172.17.0.1'}]}},
            {'name': 'vethov', 'namespace': OVERLAY_NS, 'master': 'br0', 'mtu': 1450, 'purge_addresses': True,
             'peer': {'name': 'eth1', 'namespace': 'c1', 'addresses': ['10.0.0.2/24'], 'mac_from_ip': True}}],
            'expect': EXPECT}),
        (VXLAN, {'devices': [{'name': 'vxlan0', 'namespace': OVERLAY_NS, 'vni': 256, 'local': address, 'dev': 'eth0',
                              'mtu': 1450, 'master': 'br0', 'learning': False, 'proxy': True, 'purge': True,
                              'peers': ['192.0.2.250'],
                              'fdb': [{'mac': '02:42:0a:00:00:03', 'dst': '192.0.2.250'}],
                              'neighbors': [{'address': '10.0.0.3', 'mac': '02:42:0a:00:00:03'}]}],
                 'expect': EXPECT}),
        (MACVLAN, {'endpoints': [{'name': 'eth0', 'namespace': 'c2', 'parent': 'eth0', 'addresses': ['198.51.100.2/24'],
                                  'mac_from_ip': True}],
                   'prune': True, 'expect': EXPECT}),
    ]


@pytest.fixture(scope='module')
def lab1():
    lab_cli('down', '--name', LAB_NAME)  # leftovers of an interrupted run
    running = Lab(LAB_NAME, 2)  # the first host for the separate tasks, the second for one host_network call
    yield running
    running.down()


def kernel_view(lab, host):
    """Everything a wrong check run could have made: namespaces, links of the host and of every namespace, mounts."""
    namespaces = lab.namespaces(host)
    out = {'namespaces': namespaces,
           'links': sorted((l['ifname'], l.get('linkinfo', {}).get('info_kind'))
                           for l in json.loads(lab.ssh(host, 'ip -j -d link show'))),
           'netns_mounts': sorted(line.split()[1] for line in lab.ssh(host, 'cat /proc/self/mounts').splitlines()
                                  if '/run/netns' in line.split()[1])}
    for name in namespaces:
        out['links_' + name] = sorted(l['ifname'] for l in json.loads(lab.ssh(host, 'ip -n %s -j link show' % name)))
    return out


def without_kernel_macs(predicted, real):
    """The real state, with null where the prediction says null for a MAC the kernel picks (documented)."""
    if isinstance(predicted, dict) and isinstance(real, dict):
        return {k: (None if k == 'mac' and predicted.get(k) is None else without_kernel_macs(predicted.get(k), v))
                for k, v in real.items()}
    if isinstance(predicted, list) and isinstance(real, list) and len(predicted) == len(real):
        return [without_kernel_macs(p, r) for p, r in zip(predicted, real)]
    return real


RETURNED = {NETNS: 'namespaces', BRIDGE: 'bridges', VETH: 'pairs', VXLAN: 'devices', MACVLAN: 'endpoints'}


def run_all(lab, host, tmp_path, check):
    results = {}
    for module, args in tasks(lab.hosts[host]['address']):
        status, result = lab.ansible(host, module, args, tmp_path, check=check, extra=['--diff'])[host]
        assert status == 'ok', '%s (check=%s) failed: %s' % (module, check, result.get('msg'))
        results[module] = result
    return results


def test_full_check_mode_predicts_the_real_run(lab1, tmp_path):
    host = next(iter(lab1.hosts))
    fresh = kernel_view(lab1, host)
    assert fresh['namespaces'] == []

    checked = run_all(lab1, host, tmp_path, check=True)
    for module, result in checked.items():
        assert result['changed'] and result['actions'], '%s predicted no change' % module
        assert result.get('netlink_writes', 0) == 0
    assert kernel_view(lab1, host) == fresh, 'check mode changed the host'
    assert 'create veth pair vethov (%s), master br0 <-> eth1 (c1)' % OVERLAY_NS \
        in checked[VETH]['actions']
    assert any(a.startswith('create vxlan vxlan0 in network namespace %s' % OVERLAY_NS) for a in checked[VXLAN]['actions'])
    assert checked[MACVLAN]['actions'][0].startswith('create macvlan eth0 in network namespace c2 on parent eth0')

    real = run_all(lab1, host, tmp_path, check=False)
    for module in (NETNS, BRIDGE, VETH, VXLAN, MACVLAN):
        assert real[module]['actions'] == checked[module]['actions'], module
        assert real[module]['changed']
        assert sorted(real[module]['diff']['after']) == sorted(checked[module]['diff']['after']), module
        assert real[module]['diff']['before'] == checked[module]['diff']['before'] == {}, module
        key = RETURNED[module]
        assert without_kernel_macs(checked[module][key], real[module][key]) == checked[module][key], module
    assert lab1.namespaces(host) == sorted(['c1', 'c2', OVERLAY_NS])

    again = run_all(lab1, host, tmp_path, check=True)
    for module, result in again.items():
        assert not result['changed'] and result['actions'] == [], '%s: %s' % (module, result['actions'])


def test_a_real_run_ignores_expect(lab1, tmp_path):
    host = next(iter(lab1.hosts))
    before = kernel_view(lab1, host)
    args = {'pairs': [{'name': 'vethghost', 'master': 'docker9',
                       'peer': {'name': 'eth0', 'namespace': 'ghost', 'addresses': ['172.17.0.9/16']}}],
            'expect': {'namespaces': ['ghost'], 'links': [{'name': 'docker9'}]}}
    status, checked = lab1.ansible(host, VETH, args, tmp_path, check=True)[host]
    assert status == 'ok' and checked['changed']
    status, result = lab1.ansible(host, VETH, args, tmp_path)[host]
    assert status == 'failed'
    assert result['msg'].endswith('network namespace ghost of eth0 does not exist. Fix: create it first '
                                  '(linuxnet.container.netns) or check the name, path or PID')
    args['pairs'][0]['peer']['namespace'] = 'c1'
    args['pairs'][0]['peer']['name'] = 'eth9'
    status, result = lab1.ansible(host, VETH, args, tmp_path)[host]
    assert status == 'failed' and 'master bridge docker9 does not exist in the host namespace' in result['msg']
    assert 'expect' not in result['msg']
    assert kernel_view(lab1, host) == before


def one_call(address):
    """A user's own playbook: the same converge as tasks(), with isolation, a published port and the VTEP filter, in
    one host_network call, with no expect in any part, recorded for the host-local restore."""
    args = {module.rsplit('.', 1)[1]: {key: value for key, value in module_args.items() if key != 'expect'}
            for module, module_args in tasks(address)}
    args.update(docker_isolation={'networks': [{'bridge': 'docker0', 'subnet': '172.17.0.0/16'}]},
                port_map={'ports': [{'container_ip': '172.17.0.2', 'publish': ['8080:80']}], 'exclusive': True,
                          'forwarding': False},
                vtep_filter={'vteps': [address, '192.0.2.250']},
                persist={'name': 'my_playbook', 'keep': []})
    return args


CACHE = '/var/cache/linuxnet-container'


def nft_tables(lab, host):
    return sorted(t['table']['name'] for t in json.loads(lab.ssh(host, 'nft -j list tables'))['nftables'] if 'table' in t)


def test_one_host_network_call_without_expect_predicts_the_real_run(lab1, tmp_path):
    host = list(lab1.hosts)[1]
    fresh, fresh_tables = kernel_view(lab1, host), nft_tables(lab1, host)
    assert fresh['namespaces'] == []
    lab1.ssh(host, 'rm -rf %s' % CACHE)
    args = one_call(lab1.hosts[host]['address'])
    parts = ['netns', 'bridge', 'veth', 'vxlan', 'macvlan', 'docker_isolation', 'port_map', 'vtep_filter']

    status, checked = lab1.ansible(host, HOST_NETWORK, args, tmp_path, check=True, extra=['--diff'])[host]
    assert status == 'ok', checked.get('msg')
    assert checked['changed'] and list(checked['parts']) == parts
    for part in parts:
        assert checked['parts'][part]['changed'] and checked['parts'][part]['actions'], part
    assert checked['persist']['changed']
    assert kernel_view(lab1, host) == fresh and nft_tables(lab1, host) == fresh_tables, 'check mode changed the host'
    assert lab1.ssh(host, 'test -e /var/lib/linuxnet-container/desired.json; echo $?').strip() == '1'
    assert lab1.ssh(host, 'test -e %s; echo $?' % CACHE).strip() == '1', 'check mode wrote the bytecode cache'
    assert 'create veth pair vethov (%s), master br0 <-> eth1 (c1)' % OVERLAY_NS in checked['parts']['veth']['actions']
    assert checked['parts']['macvlan']['actions'][0].startswith('create macvlan eth0 in network namespace c2 on parent eth0')
    assert 'set net.ipv4.conf.docker0.route_localnet=1' in checked['parts']['port_map']['actions']

    status, real = lab1.ansible(host, HOST_NETWORK, args, tmp_path, extra=['--diff'])[host]
    assert status == 'ok', real.get('msg')
    assert real['changed'] and list(real['parts']) == parts
    for part in parts:
        assert real['parts'][part]['changed'], part
        assert real['parts'][part]['actions'] == checked['parts'][part]['actions'], part
    for module, key in RETURNED.items():
        part = module.rsplit('.', 1)[1]
        assert without_kernel_macs(checked['parts'][part][key], real['parts'][part][key]) == checked['parts'][part][key], part
    assert [d['before_header'] for d in real['diff']] == [d['before_header'] for d in checked['diff']] == parts + ['persist']
    assert real['persist']['actions'] == checked['persist']['actions'] and real['persist']['records'] == ['my_playbook']
    assert lab1.namespaces(host) == sorted(['c1', 'c2', OVERLAY_NS])
    assert nft_tables(lab1, host) == sorted(fresh_tables + ['linuxnet_isolation', 'linuxnet_ports', 'linuxnet_vtep'])
    # The real run kept the bytecode of the collection's module_utils it imported, for root only.
    cached = lab1.ssh(host, 'stat -c "%%a %%U" %s/bytecode; ls %s/bytecode' % (CACHE, CACHE)).split()
    assert cached[:2] == ['700', 'root'], cached
    assert 'ansible_collections.linuxnet.container.plugins.module_utils._parts.veth' in {n.rsplit('.', 2)[0] for n in cached[2:]}, cached

    status, again = lab1.ansible(host, HOST_NETWORK, args, tmp_path, extra=['--diff'])[host]
    assert status == 'ok', again.get('msg')
    assert not again['changed'] and again['diff'] == [], again['parts']
    assert all(again['parts'][part]['actions'] == [] for part in parts) and again['persist']['actions'] == []
