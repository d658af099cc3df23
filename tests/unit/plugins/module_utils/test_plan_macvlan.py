# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""macvlan: the pure planner (plan_endpoints) against recorded kernel states, no kernel; and its dispatcher."""

from __future__ import annotations

import copy
import errno

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import TAG
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._converge.expect import Expect
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT
from ansible_collections.linuxnet.container.plugins.module_utils._parts import macvlan as mv
from ansible_collections.linuxnet.container.tests.unit.netlink_messages import link_msg
from ansible_collections.linuxnet.container.tests.unit.recorded_links import kinds

MAC = '02:42:c6:33:64:02'  # mac_from_ip of 198.51.100.2
HOST_MAC = '52:54:00:12:34:56'
ROUTE = {'dst': '0.0.0.0/0', 'gateway': '198.51.100.1'}
HOST_NS = ('host-dev', 'host-inode')  # the identity read() gives a namespace (device and inode), as plain data


def recorded(index, name, mac, kind=None, mode=None, up=True, owned=True, mtu=1500, lower=None, lower_netnsid=None,
             ifi_type=1, flags=0):
    """One link as MacvlanView.link() returns it: a real RTM_NEWLINK, encoded, decoded, then read by MacvlanView."""
    msg = link_msg(index, name, mac, mtu, (1 if up else 0) | flags, ifalias=TAG if owned else None, link=lower,
                   link_netnsid=lower_netnsid, kind=kind, info_data=[('IFLA_MACVLAN_MODE', mode)] if mode else None,
                   ifi_type=ifi_type)
    return mv.MacvlanView(None, None)._link_record(msg)


# Recorded: eth0 (index 2) of the host, the parent; in c1 the endpoint eth0 (index 5), a macvlan on ifindex 2 of the
# namespace c1 knows as id 0 (the host's).
HOST_ETH0 = recorded(2, 'eth0', HOST_MAC, owned=False)
C1_ETH0 = recorded(5, 'eth0', MAC, kind='macvlan', mode='bridge', lower=2, lower_netnsid=0)


@pytest.fixture
def c1(tmp_path):
    path = tmp_path / 'c1'
    path.write_text('')  # a path is all desired_state looks at
    return str(path)


def desired(c1, state='present', **endpoint):
    raw = {'name': 'eth0', 'namespace': c1, 'parent': 'eth0', 'parent_namespace': None, 'mode': 'bridge', 'mac': None,
           'mac_from_ip': True, 'addresses': ['198.51.100.2/24'], 'routes': [{'dst': 'default', 'gateway': '198.51.100.1'}],
           'mtu': None, 'link_state': 'up', 'purge_addresses': False, 'state': None, 'recreate': None}
    raw.update(endpoint)
    return mv.desired_state({'endpoints': [raw], 'state': state, 'recreate': False, 'prune': False})


def state_of(info, namespace, parent='eth0', parent_namespace=None, addresses=('198.51.100.2/24',), routes=(ROUTE,)):
    """An endpoint as read() reports it (_Reader.state) from its link and its namespace's address and route dumps."""
    return {'name': info['name'], 'namespace': namespace, 'state': 'present', 'kind': info['kind'], 'owned': info['alias'] == TAG,
            'parent': parent if info['kind'] == 'macvlan' else None,
            'parent_namespace': parent_namespace if info['kind'] == 'macvlan' else None, 'mode': info['mode'],
            'up': info['up'], 'mtu': info['mtu'], 'mac': info['mac'], 'addresses': list(addresses), 'routes': list(routes)}


RECORDED = 'the recorded link'  # a default argument: the module's records above


def facts(c1, link=RECORDED, parent=RECORDED, children=None, clash=True, parent_lower=None, pruned=None):
    """What read() gathers for c1/eth0: by default the recorded kernel, the endpoint the only child of the parent."""
    link = C1_ETH0 if link is RECORDED else link
    parent = HOST_ETH0 if parent is RECORDED else parent
    if children is None:
        children = [('%s/eth0' % c1, (c1, 'eth0'), 'bridge')] if link is not None and link['kind'] == 'macvlan' else []
    return {'endpoints': {'%s/eth0' % c1: {'link': link, 'parent': parent, 'parent_ns': HOST_NS, 'elsewhere': True,
                                           'clash': clash, 'parent_lower': parent_lower, 'children': children}},
            'pruned': pruned or {}}


def current(c1, info=RECORDED, **read):
    return {'%s/eth0' % c1: state_of(C1_ETH0 if info is RECORDED else info, c1, **read)}


def label(c1, name='eth0'):
    return 'macvlan %s in network namespace %s' % (name, c1)


class Netlink:
    """Only what a read asks of the netlink handle before it opens a namespace."""

    @staticmethod
    def ref(spec):
        return NamespaceRef(spec)


def reader_of(c1, links, addresses, routes):
    """A read of the recorded kernel: the host holds lo and eth0, c1 ``links`` with their address and route dumps
    (by index), and c1 knows the host's namespace as id 0."""
    reader = mv._Reader(Netlink(), Expect.inert())
    reader.views.get(NamespaceRef(None))._fill_links(
        [recorded(1, 'lo', '00:00:00:00:00:00', flags=mv.IFF_LOOPBACK, ifi_type=772, owned=False), HOST_ETH0])
    view = reader.views.get(NamespaceRef(c1))
    view._fill_links(links)
    view._addrs, view._routes = addresses, routes
    reader._nsids[(c1, None)] = 0  # RTM_GETNSID in c1 for the host's namespace
    return reader


def test_read_gathers_these_states_and_facts_from_the_recorded_kernel(c1):
    """The states and facts the tests below start from are what read() makes of the recorded links and dumps."""
    assert (C1_ETH0['kind'], C1_ETH0['mode'], C1_ETH0['link'], C1_ETH0['link_netnsid'], C1_ETH0['hwtype']) == ('macvlan', 'bridge', 2, 0, 1)
    assert (HOST_ETH0['kind'], HOST_ETH0['mode'], HOST_ETH0['hwtype'], HOST_ETH0['alias']) == (None, None, 1, None)
    reader = reader_of(c1, [C1_ETH0], {5: ['198.51.100.2/24']}, {5: [ROUTE]})
    want = desired(c1)
    now, found, listed = reader.endpoints(want)
    assert now == current(c1) and list(listed) == [c1]
    gathered = reader.facts(want, found, {})
    expected = facts(c1)
    expected['endpoints']['%s/eth0' % c1]['parent_ns'] = reader.inode(NamespaceRef(None))
    assert gathered == expected


def test_read_finds_as_prune_candidates_only_tagged_macvlans_that_are_not_listed(c1):
    left = recorded(6, 'eth1', '02:42:c6:33:64:03', kind='macvlan', mode='bridge', lower=2, lower_netnsid=0)
    foreign = recorded(7, 'mv9', '02:42:c6:33:64:09', kind='macvlan', mode='bridge', lower=2, lower_netnsid=0, owned=False)
    reader = reader_of(c1, [C1_ETH0, left, foreign, recorded(8, 'veth1', MAC, kind='veth')],
                       {5: ['198.51.100.2/24'], 6: ['198.51.100.3/24']}, {5: [ROUTE]})
    want = desired(c1)
    now, dummy, listed = reader.endpoints(want)
    pruned = reader.unlisted(want, listed, now)
    assert list(pruned) == ['%s/eth1' % c1]
    assert (pruned['%s/eth1' % c1]['ref'].path, pruned['%s/eth1' % c1]['name'], pruned['%s/eth1' % c1]['index']) == (c1, 'eth1', 6)
    assert now['%s/eth1' % c1] == state_of(left, c1, addresses=('198.51.100.3/24',), routes=())


def test_create_from_nothing(c1):
    key = '%s/eth0' % c1
    actions, predicted = mv.plan_endpoints(desired(c1), {key: ABSENT}, facts(c1, link=None))
    assert kinds(actions) == [
        ('macvlan_create', 'create %s on parent eth0 in the host namespace, mode bridge, mac %s' % (label(c1), MAC)),
        ('addr', 'add address 198.51.100.2/24 to %s' % label(c1)),
        ('route_replace', 'add route default via 198.51.100.1 to %s' % label(c1))]
    create = actions[0]
    assert create['attrs'] == {'kind': 'macvlan', 'link': 2, 'macvlan_mode': 'bridge', 'address': MAC}
    assert (create['ref'].path, create['parent_ref'].path, create['name'], create['elsewhere'], create['clash']) == (
        c1, None, 'eth0', True, True)
    assert create['what'] == 'create macvlan in network namespace %s on parent eth0' % c1
    assert (create['then_what'], create['then']) == ('tag and bring up', {'ifalias': TAG, 'state': 'up'})
    assert [(a['index'], a['phase']) for a in actions[1:]] == [(None, 0), (None, 0)]  # the index is known once created
    assert actions[2]['route'] == ROUTE
    assert predicted == {key: {'name': 'eth0', 'namespace': c1, 'state': 'present', 'kind': 'macvlan', 'owned': True,
                               'parent': 'eth0', 'parent_namespace': None, 'mode': 'bridge', 'up': True, 'mtu': 1500,
                               'mac': MAC, 'addresses': ['198.51.100.2/24'], 'routes': [ROUTE]}}


def test_create_down_with_mtu_in_its_own_namespace(c1):
    key = '%s/eth0' % c1
    want = desired(c1, parent_namespace=c1, parent='eth9', mtu=1400, link_state='down', routes=None, mac_from_ip=False)
    fact = facts(c1, link=None, parent=recorded(9, 'eth9', HOST_MAC, mtu=9000, owned=False), clash=False)
    fact['endpoints'][key]['elsewhere'] = False
    actions, predicted = mv.plan_endpoints(want, {key: ABSENT}, fact)
    assert kinds(actions)[0] == ('macvlan_create', 'create %s on parent eth9 in network namespace %s, mode bridge, mtu 1400, down'
                                 % (label(c1), c1))
    assert actions[0]['attrs'] == {'kind': 'macvlan', 'link': 9, 'macvlan_mode': 'bridge', 'mtu': 1400}
    assert (actions[0]['what'], actions[0]['then']) == ('create macvlan on parent eth9', {'ifalias': TAG})
    after = predicted[key]
    assert (after['up'], after['mtu'], after['mac'], after['parent_namespace']) == (False, 1400, None, c1)


def test_passthru_create_predicts_the_parents_mac(c1):
    key = '%s/eth0' % c1
    actions, predicted = mv.plan_endpoints(desired(c1, mode='passthru', mac_from_ip=False), {key: ABSENT}, facts(c1, link=None))
    assert actions[0]['attrs'] == {'kind': 'macvlan', 'link': 2, 'macvlan_mode': 'passthru'}
    assert predicted[key]['mac'] == HOST_MAC


def test_equal_is_no_action_and_predicts_the_current_state(c1):
    now = current(c1)
    actions, predicted = mv.plan_endpoints(desired(c1), copy.deepcopy(now), facts(c1))
    assert actions == []
    assert predicted == now


def test_mtu_drift(c1):
    actions, predicted = mv.plan_endpoints(desired(c1, mtu=1400), current(c1), facts(c1))
    assert [(a['kind'], a['description'], a['index'], a['attrs']) for a in actions] == [
        ('link_set', 'set mtu 1400 of %s' % label(c1), 5, {'mtu': 1400})]
    assert predicted['%s/eth0' % c1]['mtu'] == 1400


def test_mac_drift_and_a_link_that_is_down_are_one_request(c1):
    drifted = recorded(5, 'eth0', '02:42:c6:33:64:63', kind='macvlan', mode='bridge', up=False, lower=2, lower_netnsid=0)
    actions, predicted = mv.plan_endpoints(desired(c1), current(c1, drifted, routes=()), facts(c1, link=drifted))
    assert [(a['kind'], a['description'], a['attrs']) for a in actions[:1]] == [
        ('link_set', 'set mac %s, up of %s' % (MAC, label(c1)), {'address': MAC, 'state': 'up'})]
    assert kinds(actions[1:]) == [('route_replace', 'add route default via 198.51.100.1 to %s' % label(c1))]
    after = predicted['%s/eth0' % c1]
    assert (after['mac'], after['up'], after['routes']) == (MAC, True, [ROUTE])


def test_missing_address_and_route_are_added_and_others_purged(c1):
    now = current(c1, addresses=('198.51.100.9/24', '2001:db8::9/64'), routes=())
    actions, predicted = mv.plan_endpoints(desired(c1, purge_addresses=True), now, facts(c1))
    assert kinds(actions) == [('addr', 'remove address 198.51.100.9/24 from %s (not listed)' % label(c1)),
                              ('addr', 'remove address 2001:db8::9/64 from %s (not listed)' % label(c1)),
                              ('addr', 'add address 198.51.100.2/24 to %s' % label(c1)),
                              ('route_replace', 'add route default via 198.51.100.1 to %s' % label(c1))]
    assert [(a['command'], a['index']) for a in actions[:3]] == [('del', 5), ('del', 5), ('add', 5)]
    after = predicted['%s/eth0' % c1]
    assert (after['addresses'], after['routes']) == (['198.51.100.2/24'], [ROUTE])


def test_going_down_is_last_and_loses_ipv6_addresses_and_routes(c1):
    now = current(c1, addresses=('198.51.100.2/24', '2001:db8::2/64'))
    actions, predicted = mv.plan_endpoints(desired(c1, link_state='down', routes=None, addresses=['198.51.100.2/24', '2001:db8::2/64']),
                                           now, facts(c1))
    assert [(a['description'], a['attrs']) for a in actions] == [('bring down %s' % label(c1), {'state': 'down'})]
    after = predicted['%s/eth0' % c1]
    assert (after['up'], after['addresses'], after['routes']) == (False, ['198.51.100.2/24'], [])


def test_wrong_mode_changes_in_place(c1):
    private = recorded(5, 'eth0', MAC, kind='macvlan', mode='private', lower=2, lower_netnsid=0)
    actions, predicted = mv.plan_endpoints(desired(c1), current(c1, private), facts(c1, link=private))
    assert [(a['kind'], a['description'], a['what'], a['attrs']) for a in actions] == [
        ('link_set', 'set mode bridge of %s' % label(c1), 'set mode bridge', {'kind': 'macvlan', 'macvlan_mode': 'bridge'})]
    assert predicted['%s/eth0' % c1]['mode'] == 'bridge'


def test_to_or_from_passthru_needs_recreate(c1):
    key = '%s/eth0' % c1
    with pytest.raises(LinuxnetError, match=r'exists with mode bridge \(wanted passthru\); the kernel cannot change this in place. '
                                            'Fix: set recreate: true'):
        mv.plan_endpoints(desired(c1, mode='passthru', mac_from_ip=False), current(c1), facts(c1))
    actions, predicted = mv.plan_endpoints(desired(c1, mode='passthru', mac_from_ip=False, recreate=True), current(c1), facts(c1))
    assert kinds(actions) == [('link_del', 'delete %s to recreate it (mode changed)' % label(c1)),
                              ('macvlan_create', 'create %s on parent eth0 in the host namespace, mode passthru' % label(c1)),
                              ('addr', 'add address 198.51.100.2/24 to %s' % label(c1)),
                              ('route_replace', 'add route default via 198.51.100.1 to %s' % label(c1))]
    assert (actions[0]['index'], predicted[key]['mode'], predicted[key]['mac']) == (5, 'passthru', HOST_MAC)


def test_wrong_parent_needs_recreate(c1):
    # The endpoint hangs off ifindex 7 of a namespace c1 knows as id 3: not the wanted parent.
    elsewhere = recorded(5, 'eth0', MAC, kind='macvlan', mode='bridge', lower=7, lower_netnsid=3)
    now = current(c1, elsewhere, parent='ifindex:7', parent_namespace='nsid:3')
    with pytest.raises(LinuxnetError, match=r'exists with parent ifindex:7 \(wanted eth0\); parent_namespace nsid:3 \(wanted None\); '
                                            'the kernel cannot change these in place'):
        mv.plan_endpoints(desired(c1), now, facts(c1, link=elsewhere, children=[]))
    actions, dummy = mv.plan_endpoints(desired(c1, recreate=True), now, facts(c1, link=elsewhere, children=[]))
    assert kinds(actions)[:2] == [('link_del', 'delete %s to recreate it (parent, parent_namespace changed)' % label(c1)),
                                  ('macvlan_create', 'create %s on parent eth0 in the host namespace, mode bridge, mac %s'
                                   % (label(c1), MAC))]


def test_a_link_of_another_kind_under_the_name(c1):
    veth = recorded(5, 'eth0', MAC, kind='veth', lower=9, lower_netnsid=0)
    now = current(c1, veth)
    with pytest.raises(LinuxnetError, match='is a veth link, not a macvlan; a link cannot change its kind. Fix: set recreate: true'):
        mv.plan_endpoints(desired(c1), now, facts(c1, link=veth))
    actions, dummy = mv.plan_endpoints(desired(c1, recreate=True), now, facts(c1, link=veth))
    assert kinds(actions)[:2] == [
        ('link_del', 'delete veth link eth0 in network namespace %s to create a macvlan in its place' % c1),
        ('macvlan_create', 'create %s on parent eth0 in the host namespace, mode bridge, mac %s' % (label(c1), MAC))]
    foreign = recorded(5, 'eth0', MAC, kind='veth', owned=False)
    with pytest.raises(LinuxnetError, match='is a veth link not made by linuxnet.container'):
        mv.plan_endpoints(desired(c1, recreate=True), current(c1, foreign), facts(c1, link=foreign))
    loopback = recorded(1, 'lo', '00:00:00:00:00:00', flags=mv.IFF_LOOPBACK, ifi_type=772)
    with pytest.raises(LinuxnetError, match='lo is the loopback device of network namespace'):
        key = '%s/lo' % c1
        fact = facts(c1, link=loopback)
        fact['endpoints'] = {key: fact['endpoints']['%s/eth0' % c1]}
        mv.plan_endpoints(desired(c1, name='lo', recreate=True), {key: state_of(loopback, c1)}, fact)


@pytest.mark.parametrize('parent, extra, words', [
    (None, {}, 'parent eth0 does not exist in the host namespace. Fix: check parent and parent_namespace'),
    (recorded(1, 'eth0', '00:00:00:00:00:00', flags=mv.IFF_LOOPBACK, ifi_type=772), {},
     r'parent eth0 in the host namespace is not an Ethernet device \(loopback\)'),
    (recorded(2, 'eth0', HOST_MAC, ifi_type=776), {}, r'is not an Ethernet device \(link type 776\)'),
    (recorded(2, 'eth0', HOST_MAC, kind='macvlan', mode='passthru', lower=3), {}, 'is itself a macvlan in passthru mode'),
    (recorded(2, 'eth0', HOST_MAC, kind='macvlan', mode='vepa', lower=3), {},
     r'is itself a macvlan \(mode vepa\); the kernel would hang the endpoint off eno1 in the host namespace instead'),
    (recorded(2, 'eth0', HOST_MAC, mtu=1500), {'mtu': 9000}, r'mtu 9000 is larger than the MTU of parent eth0 \(1500\)'),
])
def test_parent_that_cannot_carry_the_endpoint(c1, parent, extra, words):
    with pytest.raises(LinuxnetError, match=words):
        mv.plan_endpoints(desired(c1, **extra), {'%s/eth0' % c1: ABSENT},
                          facts(c1, link=None, parent=parent, parent_lower='eno1 in the host namespace'))


def test_passthru_beside_other_macvlans(c1):
    key = '%s/eth0' % c1
    other = ('%s/eth1' % c1, (c1, 'eth1'), 'bridge')
    want = desired(c1, mode='passthru', mac_from_ip=False)
    with pytest.raises(LinuxnetError, match='mode passthru gives the whole parent to one macvlan, but parent eth0 in the host '
                                            'namespace also carries %s/eth1' % c1):
        mv.plan_endpoints(want, {key: ABSENT}, facts(c1, link=None, children=[other]))
    with pytest.raises(LinuxnetError, match='already carries macvlan %s/eth1 in passthru mode' % c1):
        mv.plan_endpoints(desired(c1), {key: ABSENT}, facts(c1, link=None, children=[other[:2] + ('passthru',)]))
    # the other one is pruned by the same plan: it goes first and frees the parent
    pruned = {'%s/eth1' % c1: {'ref': NamespaceRef(c1), 'name': 'eth1', 'index': 6}}
    now = {key: ABSENT, '%s/eth1' % c1: state_of(recorded(6, 'eth1', MAC, kind='macvlan', mode='bridge', lower=2, lower_netnsid=0), c1)}
    actions, predicted = mv.plan_endpoints(want, now, facts(c1, link=None, children=[other], pruned=pruned))
    assert kinds(actions)[:2] == [
        ('link_del', 'delete %s (pruned: made by linuxnet.container, not listed)' % label(c1, 'eth1')),
        ('macvlan_create', 'create %s on parent eth0 in the host namespace, mode passthru' % label(c1))]
    assert (actions[0]['index'], predicted['%s/eth1' % c1]) == (6, ABSENT)


def test_two_listed_on_one_parent_with_passthru(c1):
    raw = {'name': 'eth0', 'namespace': c1, 'parent': 'eth0', 'parent_namespace': None, 'mode': 'bridge', 'mac': None,
           'mac_from_ip': False, 'addresses': None, 'routes': None, 'mtu': None, 'link_state': 'up', 'purge_addresses': False,
           'state': None, 'recreate': None}
    want = mv.desired_state({'endpoints': [raw, dict(raw, name='eth1', mode='passthru')], 'state': 'present', 'recreate': False})
    fact = facts(c1, link=None, children=[])
    fact['endpoints']['%s/eth1' % c1] = dict(fact['endpoints']['%s/eth0' % c1])
    with pytest.raises(LinuxnetError, match=r'endpoints\[0\].*: endpoint %s/eth1 is listed on the same parent eth0 in the host '
                                            'namespace in passthru mode' % c1):
        mv.plan_endpoints(want, {key: ABSENT for key in want}, fact)


def test_prune_of_an_endpoint_that_left(c1):
    left = recorded(6, 'eth1', '02:42:c6:33:64:03', kind='macvlan', mode='bridge', lower=2, lower_netnsid=0)
    now = dict(current(c1), **{'%s/eth1' % c1: state_of(left, c1, addresses=('198.51.100.3/24',))})
    pruned = {'%s/eth1' % c1: {'ref': NamespaceRef(c1), 'name': 'eth1', 'index': 6}}
    actions, predicted = mv.plan_endpoints(desired(c1), now, facts(c1, pruned=pruned))
    assert kinds(actions) == [('link_del', 'delete %s (pruned: made by linuxnet.container, not listed)' % label(c1, 'eth1'))]
    assert (actions[0]['ref'].path, actions[0]['name'], actions[0]['index']) == (c1, 'eth1', 6)
    assert predicted == {'%s/eth1' % c1: ABSENT, '%s/eth0' % c1: now['%s/eth0' % c1]}
    # already gone (the state read after a prune): nothing to do
    actions, predicted = mv.plan_endpoints(desired(c1), dict(now, **{'%s/eth1' % c1: ABSENT}), facts(c1, pruned=pruned))
    assert actions == [] and '%s/eth1' % c1 not in predicted


def test_removal(c1):
    key = '%s/eth0' % c1
    want = desired(c1, state='absent', parent=None)
    actions, predicted = mv.plan_endpoints(want, current(c1), {'endpoints': {key: {'link': C1_ETH0}}, 'pruned': {}})
    assert kinds(actions) == [('link_del', 'delete %s' % label(c1))]
    assert (actions[0]['ref'].path, actions[0]['name'], actions[0]['index'], predicted) == (c1, 'eth0', 5, {key: ABSENT})
    actions, predicted = mv.plan_endpoints(want, {key: ABSENT}, {'endpoints': {key: {'link': None}}, 'pruned': {}})
    assert (actions, predicted) == ([], {key: ABSENT})
    veth = recorded(5, 'eth0', MAC, kind='veth', lower=9, lower_netnsid=0)
    with pytest.raises(LinuxnetError, match='eth0 in network namespace .* is a veth link, not a macvlan: not removed'):
        mv.plan_endpoints(want, current(c1, veth), {'endpoints': {key: {'link': veth}}, 'pruned': {}})


class Recorder:
    """A Writer that records its calls; link_add fails with ``refuse`` (errno) for the names in ``refused``."""

    def __init__(self, refuse=None, refused=()):
        self.calls = []
        self.refuse, self.refused = refuse, refused

    def index(self, ref, name):
        return 7

    def link_add(self, ref, name, what, **kwargs):
        self.calls.append(('link_add', (name, what), {k: v for k, v in kwargs.items() if k != 'net_ns_fd'}))
        if name in self.refused:
            raise LinuxnetError('%s: %s: refused' % (name, what), errno=self.refuse)

    def __getattr__(self, method):
        def record(*args, **kwargs):
            self.calls.append((method, args[1:], kwargs))
        return record


def apply_all(actions, writer, quirks=None):
    created, quirks = {}, quirks if quirks is not None else {'rename_after_create': False}
    for act in sorted(actions, key=lambda act: act['phase']):
        mv.apply_action(act, writer, created, quirks)
    return created, quirks


def test_apply_creates_tags_and_adds_with_the_new_index(c1):
    actions, dummy = mv.plan_endpoints(desired(c1), {'%s/eth0' % c1: ABSENT}, facts(c1, link=None))
    writer = Recorder()
    created, quirks = apply_all(actions, writer)
    settings = {'kind': 'macvlan', 'link': 2, 'macvlan_mode': 'bridge', 'address': MAC}
    assert writer.calls == [
        ('link_add', ('eth0', 'create macvlan in network namespace %s on parent eth0' % c1), dict(settings, wait=True)),
        ('link_set', ('eth0', 7, 'tag and bring up'), {'ifalias': TAG, 'state': 'up'}),
        ('addr', ('eth0', 7, 'add', '198.51.100.2/24'), {}),
        ('route_replace', ('eth0', 7, ROUTE), {})]
    assert created == {(c1, 'eth0'): 7} and quirks == {'rename_after_create': False}


def test_apply_on_a_kernel_that_checks_the_name_in_the_parents_namespace(c1):
    actions, dummy = mv.plan_endpoints(desired(c1, addresses=None, routes=None, mac_from_ip=False), {'%s/eth0' % c1: ABSENT}, facts(c1, link=None))
    temp = mv.temporary_name('%s/eth0' % c1)
    writer = Recorder(errno.EEXIST, refused=('eth0',))
    created, quirks = apply_all(actions, writer)
    assert [(c[0], c[1][0]) for c in writer.calls] == [('link_add', 'eth0'), ('link_add', temp), ('link_set', 'eth0')]
    assert writer.calls[1][1][1].endswith('(as %s: this kernel checks the name in the host namespace)' % temp)
    assert writer.calls[2][1][1:] == (7, 'rename %s to eth0, tag and bring up' % temp)
    assert writer.calls[2][2] == {'wait': True, 'ifname': 'eth0', 'ifalias': TAG, 'state': 'up'}
    assert quirks == {'rename_after_create': True}
    # learnt: the next clash goes straight to the temporary name
    writer = Recorder()
    apply_all(actions, writer, quirks)
    assert [c[1][0] for c in writer.calls] == [temp, 'eth0']


def test_apply_explains_a_refusal_of_a_passthru_parent(c1):
    actions, dummy = mv.plan_endpoints(desired(c1), {'%s/eth0' % c1: ABSENT}, facts(c1, link=None))
    with pytest.raises(LinuxnetError, match='refused. A macvlan in passthru mode allows no other on its parent: eth0 may already carry'):
        apply_all(actions, Recorder(errno.EINVAL, refused=('eth0',)))


def test_apply_updates_through_the_link_dispatcher(c1):
    private = recorded(5, 'eth0', MAC, kind='macvlan', mode='private', lower=2, lower_netnsid=0)
    actions, dummy = mv.plan_endpoints(desired(c1, mtu=1400), current(c1, private), facts(c1, link=private))
    writer = Recorder()
    apply_all(actions, writer)
    assert writer.calls == [('link_set', ('eth0', 5, 'set mode bridge'), {'kind': 'macvlan', 'macvlan_mode': 'bridge'}),
                            ('link_set', ('eth0', 5, 'set mtu 1400'), {'mtu': 1400})]
