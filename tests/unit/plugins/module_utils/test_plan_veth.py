# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""veth: the pure planner (plan_pairs) against recorded kernel states, no kernel; and its dispatcher."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._converge.expect import Expect
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT
from ansible_collections.linuxnet.container.plugins.module_utils._parts import veth
from ansible_collections.linuxnet.container.tests.unit.recorded_links import bridge_link, kinds, link

ROUTE = {'dst': '0.0.0.0/0', 'gateway': '172.17.0.1'}
MAC = '02:42:ac:11:00:02'  # mac_from_ip of 172.17.0.2


class Module:
    def __init__(self, params):
        self.params = params


@pytest.fixture
def c1(tmp_path):
    path = tmp_path / 'c1'
    path.write_text('')  # a path is all _desired looks at
    return str(path)


def desired(c1, peer=None, **pair):
    end = {'mac': None, 'mac_from_ip': False, 'addresses': None, 'routes': None, 'master': None, 'hairpin': None}
    item = dict(end, name='vethc1', namespace=None, master='docker0', mtu=None, link_state='up', purge_addresses=True,
                state=None, recreate=None,
                peer=dict(end, name='eth0', namespace=c1, addresses=['172.17.0.2/16'], mac_from_ip=True,
                          routes=[{'dst': 'default', 'gateway': '172.17.0.1'}], **(peer or {})))
    item.update(pair)
    return veth._desired(Module({'pairs': [item], 'state': 'present', 'recreate': False}), Expect.inert())


def end_state(info, namespace, master=None, hairpin=None, addresses=(), routes=()):
    """One end as VethReconciler._end_state reads it."""
    return {'name': info['name'], 'namespace': namespace, 'owned': True, 'kind': info['kind'], 'up': info['up'], 'mtu': info['mtu'],
            'mac': info['mac'], 'master': master, 'hairpin': hairpin, 'addresses': list(addresses), 'routes': list(routes)}


# Recorded: vethc1 (index 9, on docker0, peer index 2 in c1 whose id in the host is 0) and eth0 (index 2 in c1).
DOCKER0 = bridge_link(3, 'docker0')
VETHC1 = link(9, 'vethc1', kind='veth', mac='5e:00:00:00:00:09', master=3, peer=2, peer_netnsid=0)
ETH0 = link(2, 'eth0', kind='veth', mac=MAC, peer=9, peer_netnsid=0)


RECORDED = 'the recorded link'  # a default argument: the module's dicts above


def recorded(info, default):
    return default if info is RECORDED else info


def current(c1, a=RECORDED, b=RECORDED, master='docker0', peer_addresses=('172.17.0.2/16',), peer_routes=(ROUTE,)):
    a, b = recorded(a, VETHC1), recorded(b, ETH0)
    state = dict(end_state(a, None, master=master, hairpin=False), state='present',
                 peer=end_state(b, c1, addresses=peer_addresses, routes=peer_routes))
    return {'vethc1': state}


def facts(a=RECORDED, b=RECORDED, paired=True, stale=False, master=RECORDED):
    a, b, master = recorded(a, VETHC1), recorded(b, ETH0), recorded(master, DOCKER0)
    return {'vethc1': {'a': a, 'b': b, 'paired': paired, 'found': 'a' if a else None, 'stale': stale,
                       'exists': {'a': True, 'b': True}, 'masters': {'a': master} if master else {},
                       'hints': {'namespaces': '', 'links': ' (hint)'}}}


def test_create_from_nothing(c1):
    actions, predicted = veth.plan_pairs(desired(c1), {'vethc1': ABSENT}, facts(a=None, b=None))
    assert kinds(actions) == [
        ('veth_add', 'create veth pair vethc1 (host), master docker0 <-> eth0 (%s)' % c1),
        ('veth_setup', None),
        ('addr', 'add address 172.17.0.2/16 to eth0 (%s)' % c1),
        ('route_replace', 'add route default via 172.17.0.1 to eth0 (%s)' % c1)]
    add = actions[0]
    assert add['attrs'] == {'master': 3, 'flags': 1, 'change': 1}
    assert add['peer'] == {'ifname': 'eth0', 'address': MAC} and add['peer_ref'].path == c1
    assert [a['phase'] for a in actions] == [0, 1, 1, 1]
    assert actions[1]['peer_attrs'] == {'ifalias': 'linuxnet.container', 'state': 'up'}
    assert actions[2]['index'] is None  # known once created
    after = predicted['vethc1']
    assert (after['master'], after['hairpin'], after['mac'], after['mtu']) == ('docker0', False, None, 1500)
    assert after['peer']['mac'] == MAC and after['peer']['routes'] == [ROUTE] and after['peer']['master'] is None


def test_equal_is_no_action_and_predicts_the_current_state(c1):
    now = current(c1)
    actions, predicted = veth.plan_pairs(desired(c1), copy.deepcopy(now), facts())
    assert actions == []
    assert predicted == now


def test_mtu_drift_sets_both_ends(c1):
    actions, predicted = veth.plan_pairs(desired(c1, mtu=1450), current(c1), facts())
    assert [(a['description'], a['index'], a['attrs']) for a in actions] == [
        ('set mtu 1450 of vethc1 (host)', 9, {'mtu': 1450}), ('set mtu 1450 of eth0 (%s)' % c1, 2, {'mtu': 1450})]
    assert predicted['vethc1']['mtu'] == predicted['vethc1']['peer']['mtu'] == 1450


def test_mac_drift_is_set_and_announced(c1):
    drifted = link(2, 'eth0', kind='veth', mac='02:42:ac:11:00:63', peer=9, peer_netnsid=0)
    actions, predicted = veth.plan_pairs(desired(c1), current(c1, b=drifted), facts(b=drifted))
    assert kinds(actions) == [('link_set', 'set mac %s of eth0 (%s)' % (MAC, c1)), ('announce', None)]
    assert actions[1]['mac'] == MAC and actions[1]['addresses'] == ['172.17.0.2/16']
    assert predicted['vethc1']['peer']['mac'] == MAC


def test_wrong_master_is_changed_and_hairpin_set_after_it(c1):
    actions, predicted = veth.plan_pairs(desired(c1, hairpin=True), current(c1, master='br-old'), facts())
    assert [(a['kind'], a['description'], a['attrs']) for a in actions] == [
        ('link_set', 'set master docker0 of vethc1 (host)', {'master': 3}),
        ('brport_set', 'set hairpin on of vethc1 (host)', {'mode': 1})]
    assert (predicted['vethc1']['master'], predicted['vethc1']['hairpin']) == ('docker0', True)


def test_down_end_is_brought_up(c1):
    down = link(2, 'eth0', kind='veth', mac=MAC, up=False, peer=9, peer_netnsid=0)
    actions, predicted = veth.plan_pairs(desired(c1), current(c1, b=down), facts(b=down))
    assert [(a['description'], a['attrs']) for a in actions] == [('set up of eth0 (%s)' % c1, {'state': 'up'})]
    assert predicted['vethc1']['peer']['up'] is True


def test_missing_address_and_route_are_added_and_announced(c1):
    actions, predicted = veth.plan_pairs(desired(c1), current(c1, peer_addresses=(), peer_routes=()), facts())
    assert kinds(actions) == [('addr', 'add address 172.17.0.2/16 to eth0 (%s)' % c1),
                              ('route_replace', 'add route default via 172.17.0.1 to eth0 (%s)' % c1),
                              ('announce', None)]
    assert actions[0]['index'] == 2
    assert predicted['vethc1']['peer']['addresses'] == ['172.17.0.2/16'] and predicted['vethc1']['peer']['routes'] == [ROUTE]


def test_stale_end_whose_peer_namespace_lost_its_name_is_recreated(c1):
    orphan = link(9, 'vethc1', kind='veth', mac='5e:00:00:00:00:09', master=3, peer=2, peer_netnsid=5)
    now = {'vethc1': dict(end_state(orphan, None, master='docker0', hairpin=False), state='present', peer=None)}
    actions, predicted = veth.plan_pairs(desired(c1), now, facts(a=orphan, b=None, paired=False, stale=True))
    assert kinds(actions)[0] == ('link_del', 'delete veth vethc1 in the host namespace (its peer is in a network namespace that '
                                             'has no name any more, left behind by a process still running in it) to recreate it')
    assert actions[0]['index'] == 9
    assert [a['kind'] for a in actions[1:]] == ['veth_add', 'veth_setup', 'addr', 'route_replace']
    assert predicted['vethc1']['peer']['name'] == 'eth0'


def test_end_paired_elsewhere_needs_recreate(c1):
    other = link(9, 'vethc1', kind='veth', peer=4, peer_netnsid=1)
    now = {'vethc1': dict(end_state(other, None, master='docker0'), state='present', peer=None)}
    with pytest.raises(LinuxnetError, match='veth vethc1 exists in the host namespace but its peer is not eth0 .*set recreate: true'):
        veth.plan_pairs(desired(c1), now, facts(a=other, b=None, paired=False))
    actions, dummy = veth.plan_pairs(desired(c1, recreate=True), now, facts(a=other, b=None, paired=False))
    assert actions[0]['description'].endswith('(its peer is not eth0 (%s)) to recreate it' % c1)


def test_peer_name_taken(c1):
    taken = link(2, 'eth0', kind='veth', peer=30, peer_netnsid=0)
    with pytest.raises(LinuxnetError, match='the peer name eth0 is already taken in .* by the end of another veth pair'):
        veth.plan_pairs(desired(c1), {'vethc1': ABSENT}, facts(a=None, b=taken, paired=False))
    actions, dummy = veth.plan_pairs(desired(c1, recreate=True), {'vethc1': ABSENT}, facts(a=None, b=taken, paired=False))
    assert kinds(actions)[0] == ('link_del', 'delete veth eth0 in network namespace %s (its name is wanted for the peer) to '
                                             'recreate the pair' % c1)


def test_missing_or_wrong_master(c1):
    with pytest.raises(LinuxnetError, match=r'master bridge docker0 does not exist in the host namespace.* \(hint\)$'):
        veth.plan_pairs(desired(c1), {'vethc1': ABSENT}, facts(a=None, b=None, master=None))
    with pytest.raises(LinuxnetError, match='master docker0 in the host namespace is a veth link, not a bridge'):
        veth.plan_pairs(desired(c1), {'vethc1': ABSENT}, facts(a=None, b=None, master=link(3, 'docker0', kind='veth')))


def test_removal(c1):
    actions, predicted = veth.plan_pairs(desired(c1, state='absent'), current(c1), facts())
    assert kinds(actions) == [('link_del', 'delete veth pair vethc1 in the host namespace (both ends)')]
    assert (actions[0]['index'], predicted) == (9, {'vethc1': ABSENT})
    only_peer = {'vethc1': dict(end_state(ETH0, c1), state='present', peer=None)}
    fact = facts(a=None)
    fact['vethc1']['found'] = 'b'
    actions, dummy = veth.plan_pairs(desired(c1, state='absent'), only_peer, fact)
    assert (actions[0]['name'], actions[0]['index'], actions[0]['ref'].path) == ('eth0', 2, c1)


class Recorder:
    def __init__(self):
        self.calls = []

    def indexes(self, ref, name):
        return (11, 12)

    def __getattr__(self, method):
        def record(*args, **kwargs):
            self.calls.append((method, args[1:], kwargs))
        return record


def test_apply_creates_then_sets_up_with_the_indexes_of_one_dump():
    host = NamespaceRef(None)
    writer, created = Recorder(), {}
    actions, dummy = veth.plan_pairs(
        {'veth0': {'end': {'name': 'veth0', 'ref': host, 'mac': None, 'addresses': None, 'routes': None, 'master': None, 'hairpin': None},
                   'peer': {'name': 'veth1', 'ref': host, 'mac': None, 'addresses': ['10.0.0.2/24'], 'routes': None, 'master': None,
                            'hairpin': None},
                   'state': 'present', 'recreate': False, 'where': 'pairs[0]', 'mtu': None, 'link_state': 'down', 'purge_addresses': False}},
        {'veth0': ABSENT},
        {'veth0': {'a': None, 'b': None, 'paired': False, 'found': None, 'stale': False, 'exists': {'a': True, 'b': True}, 'masters': {},
                   'hints': {'namespaces': '', 'links': ''}}})
    for act in sorted(actions, key=lambda act: act['phase']):
        veth.apply_action(act, writer, created, None)
    assert writer.calls == [('link_add', ('veth0', 'create veth pair with peer veth1 (host)'), {'kind': 'veth', 'peer': {'ifname': 'veth1'}}),
                            ('link_set', ('veth0', 11, 'tag'), {'ifalias': 'linuxnet.container'}),
                            ('link_set', ('veth1', 12, 'tag'), {'ifalias': 'linuxnet.container'}),
                            ('addr', ('veth1', 12, 'add', '10.0.0.2/24'), {})]
