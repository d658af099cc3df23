# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Overlay and macvlan addresses leased in etcd (linuxnet_ipam: {backend: etcd}), against real etcd members this test
starts on loopback ports with mutual TLS: the gateway client, leases kept and released, two planners at once, a member
killed mid-run, check mode, and the validation of linuxnet_ipam."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from ansible_collections.linuxnet.container.plugins.plugin_utils._plan import etcd
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.fleet import PlanError, plan_fleet
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.inventory import inventory_problems
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.ipam_etcd import (
    Leases,
    ipam_settings,
    open_leases,
    reachable_problems,
    release_leases,
)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from etcd_cluster import ETCD, Cluster, free_ports  # noqa: E402  pylint: disable=wrong-import-position

pytestmark = pytest.mark.skipif(ETCD is None, reason='etcd is not installed (scripts/bootstrap.sh installs etcd-server)')

NETS = [{'name': 'ov', 'driver': 'overlay', 'subnet': '10.99.0.0/22'},
        {'name': 'mac', 'driver': 'macvlan', 'subnet': '198.51.100.0/24', 'parent': 'eth0'},
        {'name': 'front', 'subnet': '172.30.0.0/24'}]


@pytest.fixture(scope='module')
def single(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp('etcd1'), 1)
    yield cluster
    cluster.stop()


@pytest.fixture
def ipam(single, request):
    """linuxnet_ipam for the single member, under a prefix of this test's own."""
    prefix = '/linuxnet-test/%s' % request.node.name
    settings = {'backend': 'etcd', 'endpoints': single.client_urls, 'tls': single.tls, 'prefix': prefix}
    yield settings
    client = etcd.Client(single.client_urls, **single.tls)
    client.delete(prefix + '/', prefix=True)
    client.close()


def facts(ip):
    return {'routes': [{'dst': 'default', 'dev': 'eth0'}],
            'links': [{'name': 'eth0', 'kind': 'veth', 'mtu': 1500, 'addresses': [ip + '/24']}], 'interfaces': []}


def members(ipam, hosts, networks=('ov',), count=2, extra=None):
    """[(host, hv, facts)]: ``count`` containers per host, named <host>-c<i>, on ``networks``."""
    out = []
    for host in hosts:
        containers = [{'name': '%s-c%d' % (host, i), 'networks': list(networks)} for i in range(count)]
        containers.extend((extra or {}).get(host, []))
        hv = {'linuxnet_networks': NETS, 'linuxnet_containers': containers, 'linuxnet_ipam': ipam}
        out.append((host, hv, facts('192.0.2.%d' % (10 + int(host[1:])))))
    return out


def plan(fleet, check_mode=False, converged=True):
    """{(container, network): address} of a planning run, as the role does it: leases opened, plans, closed; then,
    once the hosts ``converged`` (never in check mode), the leases the plans no longer use released."""
    leases = open_leases(fleet[0][1], check_mode)
    try:
        plans = plan_fleet(fleet, 'present', leases)
    finally:
        leases.client.close()
    if converged and not check_mode:
        leases.released += release_leases(fleet[0][1], [e for p in plans.values() for e in p['ipam_release']])
    found = {}
    for result in plans.values():
        # overlay endpoints (on br0 in the overlay's namespace) and macvlan endpoints; docker_gwbridge's are per host
        for peer in [p['peer'] for p in result['pairs'] if p.get('master') == 'br0'] + result['macvlans']:
            found[(peer['namespace'], peer['name'])] = peer['addresses'][0].split('/')[0]
    return found, leases


def stored(ipam):
    client = etcd.Client(ipam['endpoints'], **ipam['tls'])
    try:
        return {k[len(ipam['prefix']):]: v for k, (v, _rev) in client.range(ipam['prefix'] + '/', prefix=True).items()}
    finally:
        client.close()


# ---- the client --------------------------------------------------------------------------------------------------


def test_the_gateway_client_reads_writes_and_compares_with_client_certificates(single):
    client = etcd.Client(single.client_urls, **single.tls)
    try:
        assert client.txn([etcd.absent('/t/a')], [etcd.put('/t/a', 'one')])[0] is True
        ok, responses = client.txn([etcd.absent('/t/a')], [etcd.put('/t/a', 'two')], [etcd.get('/t/a')])
        assert ok is False and etcd.ranged(responses[0]) == {'/t/a': 'one'}
        assert client.txn([etcd.holds('/t/a', 'one')], [etcd.put('/t/b', 'x')])[0] is True
        assert {k: v for k, (v, _r) in client.range('/t/', prefix=True).items()} == {'/t/a': 'one', '/t/b': 'x'}
        assert client.delete('/t/', prefix=True) == 2
    finally:
        client.close()


def test_without_a_client_certificate_etcd_refuses(single):
    client = etcd.Client(single.client_urls, ca=single.tls['ca'], timeout=2)
    with pytest.raises(etcd.EtcdError):
        client.range('/t/')


def test_an_unreachable_endpoint_is_named_after_a_bounded_wait(single):
    dead = 'https://127.0.0.1:%d' % free_ports(1)[0]
    client = etcd.Client([dead], **dict(single.tls), timeout=1.5)
    started = time.monotonic()
    with pytest.raises(etcd.EtcdUnreachable, match=r'%s: connection refused' % dead):
        client.range('/t/')
    assert time.monotonic() - started < 4


def test_a_dead_endpoint_first_in_the_list_costs_nothing_but_a_failover(single):
    dead = 'https://127.0.0.1:%d' % free_ports(1)[0]
    client = etcd.Client([dead] + single.client_urls, **single.tls)
    assert client.range('/t/nothing') == {}
    assert client.failovers == 1


# ---- leases --------------------------------------------------------------------------------------------------


def test_overlay_and_macvlan_addresses_are_leased_and_kept_bridge_addresses_are_not(ipam):
    fleet = members(ipam, ['h1', 'h2'], networks=('ov', 'mac', 'front'))
    first, leases = plan(fleet)
    assert first[('h1-c0', 'eth0')] == '10.99.0.2' and first[('h2-c1', 'eth0')] == '10.99.0.5'
    assert first[('h1-c0', 'eth1')] == '198.51.100.2'
    keys = stored(ipam)
    assert keys['/ipam/ov/address/10.99.0.2'] == 'h1/h1-c0' and keys['/ipam/ov/owner/h1/h1-c0'] == '10.99.0.2'
    assert keys['/ipam/mac/owner/h2/h2-c1'] == '198.51.100.5'
    assert not any('/front/' in key for key in keys) and len(keys) == 16 and leases.claimed == 8
    again, leases = plan(fleet)
    assert again == first and leases.claimed == 0 and leases.released == 0


def test_ipv6_addresses_of_an_overlay_are_leased_beside_the_ipv4_ones_kept_and_released(ipam):
    ov6 = {'name': 'ov6', 'driver': 'overlay', 'subnet': '10.98.0.0/24', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:98::/64'}
    fleet = members(ipam, ['h1', 'h2'], networks=('ov6',), extra={'h2': [{'name': 'db', 'networks': [
        {'name': 'ov6', 'ipv6_address': 'fd00:db8:98::99'}]}]})
    for _host, hv, _facts in fleet:
        hv['linuxnet_networks'] = NETS + [ov6]

    def addresses6(plans):
        return {p['peer']['namespace']: p['peer']['addresses'][1] for result in plans.values() for p in result['pairs']
                if p.get('master') == 'br0'}

    leases = open_leases(fleet[0][1])
    first = addresses6(plan_fleet(fleet, 'present', leases))
    leases.client.close()
    assert first == {'h1-c0': 'fd00:db8:98::2/64', 'h1-c1': 'fd00:db8:98::3/64', 'h2-c0': 'fd00:db8:98::4/64',
                     'h2-c1': 'fd00:db8:98::5/64', 'db': 'fd00:db8:98::99/64'}
    keys = stored(ipam)
    assert keys['/ipam/ov6/address6/fd00:db8:98::2'] == 'h1/h1-c0' and keys['/ipam/ov6/owner6/h2/db'] == 'fd00:db8:98::99'
    assert keys['/ipam/ov6/owner/h1/h1-c0'] == '10.98.0.2' and len(keys) == 20
    # Another inventory's run never gets them; a second run keeps them; a container that leaves releases both families.
    other = members(ipam, ['h7'], count=1, networks=('ov6',))
    other[0][1]['linuxnet_networks'] = NETS + [ov6]
    leases = open_leases(other[0][1])
    assert addresses6(plan_fleet(other, 'present', leases)) == {'h7-c0': 'fd00:db8:98::6/64'}
    leases.client.close()
    fleet[0][1]['linuxnet_containers'] = fleet[0][1]['linuxnet_containers'][1:]  # h1-c0 leaves
    leases = open_leases(fleet[0][1])
    plans = plan_fleet(fleet, 'present', leases)
    leases.client.close()
    again = addresses6(plans)
    assert again == {k: v for k, v in first.items() if k != 'h1-c0'}
    assert sorted(plans['h1']['ipam_release']) == [['ov6', 'h1/h1-c0', '10.98.0.2'], ['ov6/ipv6', 'h1/h1-c0', 'fd00:db8:98::2']]
    assert release_leases(fleet[0][1], plans['h1']['ipam_release']) == 2
    assert not any('h1-c0' in key for key in stored(ipam))


def test_ipv6_addresses_of_a_macvlan_network_are_leased_in_the_ipv6_lease_space_and_released(ipam):
    mv6 = {'name': 'mv6', 'driver': 'macvlan', 'parent': 'eth0', 'subnet': '198.51.102.0/24', 'enable_ipv6': True,
           'ipv6_subnet': 'fd00:db8:97::/64'}
    fleet = members(ipam, ['h1', 'h2'], networks=('mv6',), count=1)
    for _host, hv, _facts in fleet:
        hv['linuxnet_networks'] = NETS + [mv6]

    def addresses6(plans):
        return {m['namespace']: m['addresses'][1] for result in plans.values() for m in result['macvlans']}

    leases = open_leases(fleet[0][1])
    first = addresses6(plan_fleet(fleet, 'present', leases))
    leases.client.close()
    assert first == {'h1-c0': 'fd00:db8:97::2/64', 'h2-c0': 'fd00:db8:97::3/64'}
    keys = stored(ipam)
    assert keys['/ipam/mv6/address6/fd00:db8:97::3'] == 'h2/h2-c0' and keys['/ipam/mv6/owner/h2/h2-c0'] == '198.51.102.3'
    assert len(keys) == 8
    # Another inventory's run never gets them; teardown of the play's hosts releases both families.
    other = members(ipam, ['h7'], count=1, networks=('mv6',))
    other[0][1]['linuxnet_networks'] = NETS + [mv6]
    leases = open_leases(other[0][1])
    assert addresses6(plan_fleet(other, 'present', leases)) == {'h7-c0': 'fd00:db8:97::4/64'}
    leases.client.close()
    leases = open_leases(fleet[0][1])
    plans = plan_fleet(fleet, 'absent', leases)
    leases.client.close()
    assert sorted(plans['h1']['ipam_release']) == [['mv6', 'h1/h1-c0', '198.51.102.2'], ['mv6/ipv6', 'h1/h1-c0', 'fd00:db8:97::2']]
    assert release_leases(fleet[0][1], [e for p in plans.values() for e in p['ipam_release']]) == 4
    assert sorted(k for k in stored(ipam) if 'mv6' in k) == ['/ipam/mv6/address/198.51.102.4', '/ipam/mv6/address6/fd00:db8:97::4',
                                                             '/ipam/mv6/owner/h7/h7-c0', '/ipam/mv6/owner6/h7/h7-c0']


def test_a_lease_is_kept_when_containers_before_it_leave_and_released_when_it_leaves(ipam):
    fleet = members(ipam, ['h1', 'h2'], count=3)
    first, _leases = plan(fleet)
    fleet[0][1]['linuxnet_containers'] = fleet[0][1]['linuxnet_containers'][2:]   # h1-c0 and h1-c1 leave
    # Planned, not converged yet: the containers still hold their addresses, so their leases stay.
    second, leases = plan(fleet, converged=False)
    assert second[('h1-c2', 'eth0')] == first[('h1-c2', 'eth0')] == '10.99.0.4'
    assert leases.released == 0 and stored(ipam)['/ipam/ov/owner/h1/h1-c0'] == '10.99.0.2'
    reader = open_leases(fleet[0][1], True)
    listed = plan_fleet(fleet, 'present', reader)
    reader.client.close()
    assert sorted(listed['h1']['ipam_release']) == [['ov', 'h1/h1-c0', '10.99.0.2'], ['ov', 'h1/h1-c1', '10.99.0.3']]
    assert listed['h2']['ipam_release'] == []
    # Converged: released.
    second, leases = plan(fleet)
    assert leases.released == 2 and '/ipam/ov/owner/h1/h1-c0' not in stored(ipam)
    fleet.append(members(ipam, ['h3'], count=1)[0])
    third, _leases = plan(fleet)
    assert third[('h3-c0', 'eth0')] == '10.99.0.2'  # the lowest address released


def test_leases_of_hosts_outside_the_play_are_kept_and_teardown_releases_the_play_hosts_leases(ipam):
    plan(members(ipam, ['h1', 'h2']))
    leases = open_leases({'linuxnet_ipam': ipam})
    plans = plan_fleet(members(ipam, ['h1']), 'absent', leases)
    leases.client.close()
    assert release_leases({'linuxnet_ipam': ipam}, plans['h1']['ipam_release']) == 2
    assert sorted(k for k in stored(ipam) if '/owner/' in k) == ['/ipam/ov/owner/h2/h2-c0', '/ipam/ov/owner/h2/h2-c1']


def test_check_mode_predicts_and_writes_nothing(ipam):
    fleet = members(ipam, ['h1', 'h2'])
    predicted, leases = plan(fleet, check_mode=True)
    assert stored(ipam) == {} and leases.claimed == 0
    real, _leases = plan(fleet)
    assert real == predicted


def test_a_claim_sent_twice_after_a_lost_reply_is_the_same_lease(ipam):
    leases = open_leases({'linuxnet_ipam': ipam})
    import ipaddress
    address = ipaddress.IPv4Address('10.99.0.9')
    assert leases.claim('ov', 'h1/c', address) == (address, 'h1/c')
    fresh = Leases(leases.client, ipam['prefix'])  # a run that never saw the reply
    assert fresh.claim('ov', 'h1/c', address) == (address, 'h1/c')
    assert fresh.claim('ov', 'h2/d', address) == (None, 'h1/c')


def test_a_static_address_another_run_leased_is_an_error_naming_the_holder(ipam):
    plan(members(ipam, ['h1'], count=1))   # h1-c0 leases 10.99.0.2
    other = members(ipam, ['h9'], count=0, extra={'h9': [{'name': 'db', 'networks': [{'name': 'ov', 'ipv4_address': '10.99.0.2'}]}]})
    with pytest.raises(PlanError, match=r'host h9: container db: network ov: ipv4_address 10.99.0.2 is leased to h1/h1-c0 in etcd'):
        plan(other)


def test_another_runs_lease_is_never_handed_out(ipam):
    first, _leases = plan(members(ipam, ['h1'], count=2))
    second, _leases = plan(members(ipam, ['h2'], count=2))   # another inventory: h1 is not in it
    assert set(first.values()).isdisjoint(second.values())


def _run_concurrently(fleets, during=None):
    """The addresses each fleet's planning run got, all run at once (threads, one etcd client each); ``during`` runs
    beside them. Also the Leases of each run."""
    results, leases, errors = [None] * len(fleets), [None] * len(fleets), []

    def run(index):
        try:
            results[index], leases[index] = plan(fleets[index])
        except Exception as err:  # pylint: disable=broad-except
            errors.append(err)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fleets))]
    if during is not None:
        threads.append(threading.Thread(target=during))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results, leases


def test_two_planners_at_once_on_overlapping_hosts_get_disjoint_addresses(ipam):
    """Two controllers: one converges h1, h2, h3, the other h3, h4, h5 (h3's containers in both)."""
    (one, two), _leases = _run_concurrently([members(ipam, ['h1', 'h2', 'h3'], count=40),
                                             members(ipam, ['h3', 'h4', 'h5'], count=40)])
    shared = {k: v for k, v in one.items() if k[0].startswith('h3-')}
    assert shared == {k: v for k, v in two.items() if k[0].startswith('h3-')}   # the same lease for the same owner
    mine = {k: v for k, v in one.items() if k not in shared}
    theirs = {k: v for k, v in two.items() if k not in shared}
    assert set(mine.values()).isdisjoint(theirs.values()) and set(shared.values()).isdisjoint(list(mine.values()) + list(theirs.values()))
    assert len(set(one.values()) | set(two.values())) == 200
    owners = {k: v for k, v in stored(ipam).items() if '/owner/' in k}
    assert len(owners) == 200 and len(set(owners.values())) == 200


def test_a_member_killed_mid_run_costs_a_stall_not_an_error_nor_a_duplicate(tmp_path):
    """Three members; two planners lease 300 addresses each while the leader is killed (SIGKILL, by its PID)."""
    cluster = Cluster(tmp_path, 3)
    try:
        ipam = {'backend': 'etcd', 'endpoints': cluster.client_urls, 'tls': cluster.tls, 'prefix': '/kill'}
        leader = cluster.leader()
        client = etcd.Client(cluster.client_urls, **cluster.tls)

        def kill_the_leader():
            # Bounded: planners that failed early never lease 100 addresses, and the test must fail, not hang.
            deadline = time.monotonic() + 120
            while len(client.range('/kill/ipam/ov/owner/', prefix=True)) < 100 and time.monotonic() < deadline:
                time.sleep(0.02)
            cluster.kill(leader)
        started = time.monotonic()
        (one, two), leases = _run_concurrently([members(ipam, ['h1', 'h2'], count=150), members(ipam, ['h3', 'h4'], count=150)],
                                               during=kill_the_leader)
        elapsed = time.monotonic() - started
        client.close()
        assert cluster.processes[leader].poll() is not None
        assert len(set(one.values()) | set(two.values())) == 600
        slowest = max(lease.client.slowest for lease in leases)
        sys.stderr.write('killed %s: 600 leases in %.1f s, slowest request %.2f s, failovers %s\n'
                         % (leader, elapsed, slowest, [lease.client.failovers for lease in leases]))
        assert slowest < 15
        owners = {k: v for k, v in stored(dict(ipam, endpoints=[u for n, u in zip(cluster.names, cluster.client_urls) if n != leader])).items()
                  if '/owner/' in k}
        assert len(owners) == 600 and len(set(owners.values())) == 600
    finally:
        cluster.stop()


# ---- validation ----------------------------------------------------------------------------------------------


def test_validation_names_the_unreachable_endpoint_and_the_fix(single):
    dead = 'https://127.0.0.1:%d' % free_ports(1)[0]
    settings = ipam_settings({'linuxnet_ipam': {'backend': 'etcd', 'endpoints': [dead], 'tls': single.tls, 'timeout': 2}})
    problems = reachable_problems(settings)
    assert len(problems) == 1 and dead in problems[0] and 'connection refused' in problems[0]
    assert 'Fix: start etcd or correct linuxnet_ipam.endpoints' in problems[0]


def test_validation_of_the_shape_of_linuxnet_ipam(tmp_path):
    def problems(value, other=None):
        hostvars = {'h1': {'linuxnet_ipam': value}, 'h2': {'linuxnet_ipam': value if other is None else other}}
        return inventory_problems(hostvars, ['h1', 'h2'])
    assert problems(None) == [] and problems({'backend': 'inventory'}) == []
    assert problems({'backend': 'etcd', 'endpoints': ['http://127.0.0.1:2379']}) == []
    assert problems({'backend': 'consul'}) == ["linuxnet_ipam.backend is 'consul'. Fix: use inventory or etcd"]
    assert 'linuxnet_ipam.endpoints must be a non-empty list' in problems({'backend': 'etcd'})[0]
    assert 'is not an etcd client URL' in problems({'backend': 'etcd', 'endpoints': ['127.0.0.1:2379']})[0]
    assert 'unknown key(s) endpoint' in problems({'backend': 'etcd', 'endpoint': 'x', 'endpoints': ['http://a:1']})[0]
    missing = str(tmp_path / 'nope.pem')
    assert problems({'backend': 'etcd', 'endpoints': ['https://a:1'], 'tls': {'ca': missing}}) == [
        'linuxnet_ipam.tls.ca: %s is not a file on the controller. Fix: give the path of the file on the machine that '
        'runs ansible-playbook' % missing]
    assert 'cert and key go together' in problems({'backend': 'etcd', 'endpoints': ['https://a:1'], 'tls': {'cert': missing}})[0]
    assert 'differs between the hosts of the play (h1; h2)' in problems({'backend': 'etcd', 'endpoints': ['http://a:1']}, {})[0]
