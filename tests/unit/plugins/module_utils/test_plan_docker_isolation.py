# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_isolation's pure planner against recorded tables, sysctls and records: the actions (nft transaction, record,
sysctls, restore) and the predicted state; apply_action with explicit handles."""

from __future__ import annotations

import contextlib
import copy
import json

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel import nft
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._parts import docker_isolation as iso
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT
from ansible_collections.linuxnet.container.tests.unit.plugins.module_utils.test_plan_port_map import elements

FWD = 'net.ipv4.ip_forward'
BNF = 'net.bridge.bridge-nf-call-iptables'
RECORD = '/run/linuxnet-container/docker_isolation.host.json'
BASE = {'family': 'inet', 'table': 'linuxnet_isolation'}
RULE_IDS = {'forward': ['mark-in', 'mark-out', 'user', 'icc', 'internal-out', 'internal-in', 'published', 'isolation',
                        'inbound'],
            'inbound': ['reply', 'published', 'routed-ports', 'routed-ports6', 'routed-icmp', 'protect'],
            'postrouting': ['masquerade-own-bridge', 'masquerade', 'masquerade6-own-bridge', 'masquerade6']}
ON = {FWD: '1', BNF: '1'}
OFF = {FWD: '0', BNF: '0'}
SAVED = {FWD: {'before': '0', 'set': '1'}, BNF: {'before': '0', 'set': '1'}}

# docker0 (the default network), br-a (icc: false), br-int (internal: true)
DOCKER0 = {'bridge': 'docker0', 'subnet': '172.17.0.0/16', 'icc': True, 'masquerade': True, 'internal': False}
BR_A = {'bridge': 'br-a', 'subnet': '172.18.0.0/16', 'icc': False, 'masquerade': True, 'internal': False}
BR_INT = {'bridge': 'br-int', 'subnet': '172.19.0.0/16', 'icc': True, 'masquerade': True, 'internal': True}
NETWORKS = (DOCKER0, BR_A, BR_INT)


def _prefix(subnet):
    addr, length = subnet.split('/')
    return {'prefix': {'addr': addr, 'len': int(length)}}


def _set(name, ktype, elem, flags=None):
    body = dict(BASE, name=name, type=ktype)
    if flags:
        body['flags'] = flags
    if elem:  # nft leaves "elem" out of an empty set
        body['elem'] = elem
    return {'set': body}


def recorded(bridges=('br-a', 'br-int', 'docker0'), icc_off=('br-a',), internal=('br-int',),
             masq=(('172.17.0.0/16', 'docker0'), ('172.18.0.0/16', 'br-a')), rules=None, foreign=None, user=0, self_pairs=None,
             protected=None, routed_icmp=(), routed_ports6=(), direct=True):
    """``nft -j list table inet linuxnet_isolation`` (nft 1.0.6, handles and rule expressions dropped) after a converge
    of NETWORKS in a scratch namespace; the arguments give what drifted. ``foreign``: {chain: count} of rules without
    the collection's comment; ``user``: rules someone put in the user chain; ``self_pairs``: the bridges of that set
    (by default those of ``bridges``); ``protected``: its (family, bridge) pairs (by default both families of every
    bridge: nat); ``direct=False``: a table of the version before the direct-routing filter (no such sets, no chain)."""
    pairs = [{'concat': [b, b]} for b in (bridges if self_pairs is None else self_pairs)]
    rules = RULE_IDS if rules is None else rules
    objs = [{'table': {'family': 'inet', 'name': 'linuxnet_isolation'}},
            _set(nft.OWNER_SET, 'ifname', []),
            _set('bridges', 'ifname', list(bridges)),
            _set('self_pairs', ['ifname', 'ifname'], pairs),
            _set('icc_off_pairs', ['ifname', 'ifname'], [{'concat': [b, b]} for b in icc_off]),
            _set('internal', 'ifname', list(internal)),
            _set('masq_subnets', 'ipv4_addr', [_prefix(s) for s, _b in masq], ['interval']),
            _set('masq_self', ['ipv4_addr', 'ifname'], [{'concat': [_prefix(s), b]} for s, b in masq], ['interval']),
            _set('masq_subnets6', 'ipv6_addr', [], ['interval']),
            _set('masq_self6', ['ipv6_addr', 'ifname'], [], ['interval'])]
    if direct:
        protected = [(f, b) for b in bridges for f in ('ipv4', 'ipv6')] if protected is None else protected
        objs += [_set('protected', ['nf_proto', 'ifname'], [{'concat': list(e)} for e in protected]),
                 _set('routed_icmp', ['inet_proto', 'ifname'], [{'concat': list(e)} for e in routed_icmp]),
                 _set('routed_ports', ['inet_proto', 'ipv4_addr', 'inet_service'], []),
                 _set('routed_ports6', ['inet_proto', 'ipv6_addr', 'inet_service'], [{'concat': list(e)} for e in routed_ports6]),
                 {'chain': dict(BASE, name='inbound')}]
    objs += [{'chain': dict(BASE, name='forward', type='filter', hook='forward', prio=-1, policy='accept')},
             {'chain': dict(BASE, name='postrouting', type='nat', hook='postrouting', prio=100, policy='accept')},
             {'chain': dict(BASE, name='user')}]
    for chain, ids in rules.items():
        objs += [{'rule': dict(BASE, chain=chain, comment='linuxnet:' + rid, expr=[])} for rid in ids]
    for chain, count in dict(foreign or {}, user=user).items():
        objs += [{'rule': dict(BASE, chain=chain, expr=[{'accept': None}])} for _n in range(count)]
    return objs


def desired(networks=NETWORKS, forwarding=True, state='present'):
    return iso._desired({'networks': copy.deepcopy(list(networks)), 'forwarding': forwarding, 'state': state})


_RECORDED = object()  # the default of plan(saved=): SAVED (ABSENT, None, means no record)


def plan(want, objs, sysctls=None, saved=_RECORDED):
    """read()'s state from the listing, ``sysctls`` (default ON) and the record ``saved`` (default SAVED), and the plan."""
    table = nft.TableState(copy.deepcopy(objs))
    current = iso.state_of(table, dict(ON if sysctls is None else sysctls), copy.deepcopy(SAVED if saved is _RECORDED else saved))
    actions, predicted, warnings = iso.plan_table(want, current, table, RECORD)
    return current, actions, predicted, warnings


def only_elements(actions):
    """The one nft action of a plan that changes set elements only (no table, set, chain or rule)."""
    assert [a['op'] for a in actions] == ['nft']
    cmds = actions[0]['commands']
    assert all(next(iter(next(iter(c.values())))) == 'element' for c in cmds), cmds
    assert actions[0]['description'] == 'update nftables table inet linuxnet_isolation in one transaction (%d commands)' % len(cmds)
    return elements(cmds, 'delete'), elements(cmds, 'add')


STATE = {'bridges': ['br-a', 'br-int', 'docker0'], 'icc_off': ['br-a'], 'internal': ['br-int'],
         'masquerade': [['172.17.0.0/16', 'docker0'], ['172.18.0.0/16', 'br-a']], 'rules': RULE_IDS}


def test_the_recorded_listing_reads_as_the_converged_state():
    current = plan(desired(), recorded())[0]
    assert current == {'sysctls': ON, 'nftables': STATE, 'saved_sysctls': SAVED}


def test_create_from_nothing():
    current, actions, predicted, warnings = plan(desired(), None, sysctls=OFF, saved=ABSENT)
    assert current == {'sysctls': OFF, 'nftables': ABSENT, 'saved_sysctls': ABSENT}
    cmds = actions[0]['commands']
    assert actions == [
        {'key': 'nftables', 'op': 'nft', 'commands': cmds,
         'description': 'create nftables table inet linuxnet_isolation in one transaction (%d commands)' % len(cmds)},
        {'key': 'saved_sysctls', 'op': 'record', 'path': RECORD, 'sysctls': SAVED,
         'description': 'record %s=0, %s=0 in %s' % (BNF, FWD, RECORD)},
        {'key': 'sysctls', 'op': 'sysctl', 'name': BNF, 'value': '1', 'description': 'set %s=1' % BNF},
        {'key': 'sysctls', 'op': 'sysctl', 'name': FWD, 'value': '1', 'description': 'set %s=1' % FWD}]
    assert cmds[:2] == nft.create_table_commands('inet', 'linuxnet_isolation')
    assert [c['add']['set']['name'] for c in cmds if 'set' in c.get('add', {})][1:] == list(iso.SETS)
    assert elements(cmds, 'add') == {
        'bridges': ['br-a', 'br-int', 'docker0'],
        'self_pairs': [{'concat': ['br-a', 'br-a']}, {'concat': ['br-int', 'br-int']}, {'concat': ['docker0', 'docker0']}],
        'icc_off_pairs': [{'concat': ['br-a', 'br-a']}],
        'internal': ['br-int'],
        'masq_subnets': [_prefix('172.17.0.0/16'), _prefix('172.18.0.0/16')],
        'masq_self': [{'concat': [_prefix('172.17.0.0/16'), 'docker0']}, {'concat': [_prefix('172.18.0.0/16'), 'br-a']}],
        # nat (Docker 28's default) in both families: direct routing from outside into every bridge is filtered.
        'protected': [{'concat': [f, b]} for f in ('ipv4', 'ipv6') for b in ('br-a', 'br-int', 'docker0')]}
    assert [c['add']['chain']['name'] for c in cmds if 'chain' in c.get('add', {})] == ['forward', 'inbound', 'postrouting', 'user']
    rules = [(c['add']['rule']['chain'], c['add']['rule']['comment']) for c in cmds if 'rule' in c.get('add', {})]
    assert rules == [(chain, 'linuxnet:' + rid) for chain, ids in RULE_IDS.items() for rid in ids]
    assert not warnings
    assert predicted == {'sysctls': ON, 'nftables': STATE, 'saved_sysctls': SAVED}


def test_equal_plans_nothing_and_predicts_what_is_there():
    current, actions, predicted, warnings = plan(desired(), recorded())
    assert (actions, warnings) == ([], [])
    assert predicted == current
    # values set before the module came (no record) need no record either
    current, actions, predicted, _w = plan(desired(), recorded(), saved=ABSENT)
    assert actions == [] and predicted == current


def test_the_user_chain_is_never_rewritten():
    _c, actions, _p, _w = plan(desired(), recorded(user=3))
    assert actions == []


@pytest.mark.parametrize('drift, chain', [
    ({'rules': dict(RULE_IDS, forward=[r for r in RULE_IDS['forward'] if r != 'icc'])}, 'forward'),
    ({'rules': dict(RULE_IDS, postrouting=['masquerade', 'masquerade-own-bridge'])}, 'postrouting'),
    ({'foreign': {'postrouting': 1}}, 'postrouting'),
])
def test_a_missing_or_foreign_rule_rewrites_its_chain_only(drift, chain):
    current, actions, predicted, _w = plan(desired(), recorded(**drift))
    cmds = actions[0]['commands']
    assert [a['op'] for a in actions] == ['nft']
    assert actions[0]['description'] == 'update nftables table inet linuxnet_isolation in one transaction (%d commands)' % len(cmds)
    assert cmds[0] == {'flush': {'chain': dict(BASE, name=chain)}}
    assert [c['add']['rule']['comment'] for c in cmds[1:]] == ['linuxnet:' + rid for rid in RULE_IDS[chain]]
    assert predicted == dict(current, nftables=STATE)


def test_a_missing_element_is_added_and_a_stale_one_deleted():
    # someone deleted docker0 from the bridges set: docker0 is not isolated from the others any more
    deleted, added = only_elements(plan(desired(), recorded(bridges=('br-a', 'br-int'), self_pairs=('br-a', 'br-int', 'docker0')))[1])
    assert (deleted, added) == ({}, {'bridges': ['docker0'],
                                     'protected': [{'concat': ['ipv4', 'docker0']}, {'concat': ['ipv6', 'docker0']}]})
    # a bridge of an earlier run is still in the sets
    stale = recorded(bridges=('br-a', 'br-int', 'br-old', 'docker0'), masq=(('172.17.0.0/16', 'docker0'), ('172.18.0.0/16', 'br-a'),
                                                                            ('172.30.0.0/16', 'br-old')))
    _c, actions, predicted, _w = plan(desired(), stale)
    deleted, added = only_elements(actions)
    assert added == {} and deleted == {'bridges': ['br-old'], 'self_pairs': [{'concat': ['br-old', 'br-old']}],
                                       'masq_subnets': [_prefix('172.30.0.0/16')],
                                       'masq_self': [{'concat': [_prefix('172.30.0.0/16'), 'br-old']}],
                                       'protected': [{'concat': ['ipv4', 'br-old']}, {'concat': ['ipv6', 'br-old']}]}
    assert predicted['nftables'] == STATE


def test_a_sysctl_reset_by_someone_is_set_again_and_the_record_kept():
    current, actions, predicted, _w = plan(desired(), recorded(), sysctls={FWD: '0', BNF: '1'})
    assert actions == [{'key': 'sysctls', 'op': 'sysctl', 'name': FWD, 'value': '1', 'description': 'set %s=1' % FWD}]
    assert predicted == dict(current, sysctls=ON) and predicted['saved_sysctls'] == SAVED


def test_a_sysctl_the_module_never_changed_joins_the_record():
    saved = {FWD: SAVED[FWD]}
    _c, actions, predicted, _w = plan(desired(), recorded(), sysctls={FWD: '1', BNF: '0'}, saved=saved)
    assert [(a['op'], a['description']) for a in actions] == [('record', 'record %s=0 in %s' % (BNF, RECORD)),
                                                              ('sysctl', 'set %s=1' % BNF)]
    assert actions[0]['sysctls'] == SAVED and predicted['saved_sysctls'] == SAVED


def test_a_bridge_added():
    br_b = {'bridge': 'br-b', 'subnet': '172.20.0.0/16', 'icc': True, 'masquerade': True, 'internal': False}
    _c, actions, predicted, _w = plan(desired(NETWORKS + (br_b,)), recorded())
    deleted, added = only_elements(actions)
    assert deleted == {} and added == {'bridges': ['br-b'], 'self_pairs': [{'concat': ['br-b', 'br-b']}],
                                       'masq_subnets': [_prefix('172.20.0.0/16')],
                                       'masq_self': [{'concat': [_prefix('172.20.0.0/16'), 'br-b']}],
                                       'protected': [{'concat': ['ipv4', 'br-b']}, {'concat': ['ipv6', 'br-b']}]}
    assert predicted['nftables'] == dict(STATE, bridges=['br-a', 'br-b', 'br-int', 'docker0'],
                                         masquerade=STATE['masquerade'] + [['172.20.0.0/16', 'br-b']])


def test_a_bridge_removed_leaves_the_sysctls_as_they_are():
    # br-a was the only icc: false network: bridge-nf-call-iptables is no longer wanted, but not put back either
    _c, actions, predicted, _w = plan(desired([DOCKER0, BR_INT]), recorded())
    deleted, added = only_elements(actions)
    assert added == {} and deleted == {'bridges': ['br-a'], 'self_pairs': [{'concat': ['br-a', 'br-a']}],
                                       'icc_off_pairs': [{'concat': ['br-a', 'br-a']}],
                                       'masq_subnets': [_prefix('172.18.0.0/16')],
                                       'masq_self': [{'concat': [_prefix('172.18.0.0/16'), 'br-a']}],
                                       'protected': [{'concat': ['ipv4', 'br-a']}, {'concat': ['ipv6', 'br-a']}]}
    assert predicted == {'sysctls': ON, 'saved_sysctls': SAVED,
                         'nftables': dict(STATE, bridges=['br-int', 'docker0'], icc_off=[],
                                          masquerade=[['172.17.0.0/16', 'docker0']])}


@pytest.mark.parametrize('networks, deleted, added, changed', [
    # icc back on for br-a
    ([DOCKER0, dict(BR_A, icc=True), BR_INT], {'icc_off_pairs': [{'concat': ['br-a', 'br-a']}]}, {}, {'icc_off': []}),
    # icc off for docker0 too
    ([dict(DOCKER0, icc=False), BR_A, BR_INT], {}, {'icc_off_pairs': [{'concat': ['docker0', 'docker0']}]},
     {'icc_off': ['br-a', 'docker0']}),
    # br-int no longer internal: it is masqueraded instead
    ([DOCKER0, BR_A, dict(BR_INT, internal=False)], {'internal': ['br-int']},
     {'masq_subnets': [_prefix('172.19.0.0/16')], 'masq_self': [{'concat': [_prefix('172.19.0.0/16'), 'br-int']}]},
     {'internal': [], 'masquerade': STATE['masquerade'] + [['172.19.0.0/16', 'br-int']]}),
    # br-a internal: neither masqueraded any more
    ([DOCKER0, dict(BR_A, internal=True), BR_INT], {'masq_subnets': [_prefix('172.18.0.0/16')],
                                                    'masq_self': [{'concat': [_prefix('172.18.0.0/16'), 'br-a']}]},
     {'internal': ['br-a']}, {'internal': ['br-a', 'br-int'], 'masquerade': [['172.17.0.0/16', 'docker0']]}),
    # masquerade off for docker0
    ([dict(DOCKER0, masquerade=False), BR_A, BR_INT], {'masq_subnets': [_prefix('172.17.0.0/16')],
                                                       'masq_self': [{'concat': [_prefix('172.17.0.0/16'), 'docker0']}]},
     {}, {'masquerade': [['172.18.0.0/16', 'br-a']]}),
])
def test_a_toggled_flag_changes_its_elements_only(networks, deleted, added, changed):
    _c, actions, predicted, _w = plan(desired(networks), recorded())
    assert only_elements(actions) == (deleted, added)
    assert predicted['nftables'] == dict(STATE, **changed)


def test_removal_deletes_the_table_and_restores_the_sysctls():
    current, actions, predicted, warnings = plan(ABSENT, recorded())
    assert actions == [
        {'key': 'nftables', 'op': 'nft', 'commands': [{'delete': {'table': {'family': 'inet', 'name': 'linuxnet_isolation'}}}],
         'description': 'delete nftables table inet linuxnet_isolation (the user chain with it)'},
        {'key': 'sysctls', 'op': 'sysctl', 'name': BNF, 'value': '0',
         'description': 'restore %s=0, its value before docker_isolation set 1' % BNF},
        {'key': 'sysctls', 'op': 'sysctl', 'name': FWD, 'value': '0',
         'description': 'restore %s=0, its value before docker_isolation set 1' % FWD},
        {'key': 'saved_sysctls', 'op': 'forget', 'path': RECORD,
         'description': 'delete the record of earlier sysctl values %s' % RECORD}]
    assert warnings == []
    assert predicted == {'sysctls': OFF, 'nftables': ABSENT, 'saved_sysctls': ABSENT}
    assert current['sysctls'] == ON


def test_removal_leaves_a_sysctl_someone_else_changed_with_a_warning():
    _c, actions, predicted, warnings = plan(ABSENT, recorded(), sysctls={FWD: '2', BNF: '1'})
    assert [a['description'] for a in actions] == [
        'delete nftables table inet linuxnet_isolation (the user chain with it)',
        'restore %s=0, its value before docker_isolation set 1' % BNF,
        'delete the record of earlier sysctl values %s' % RECORD]
    assert predicted['sysctls'] == {FWD: '2', BNF: '0'}
    assert len(warnings) == 1 and warnings[0].startswith('%s is 2, not the 1 docker_isolation set: left as it is' % FWD)


def test_removal_of_nothing_does_nothing():
    current, actions, predicted, warnings = plan(ABSENT, None, sysctls=ON, saved=ABSENT)
    assert (actions, warnings) == ([], [])
    assert predicted == dict(current, nftables=ABSENT)
    # a record without a table (an earlier removal failed after the table went): the sysctls still come back
    _c, actions, _p, _w = plan(ABSENT, None)
    assert [a['op'] for a in actions] == ['sysctl', 'sysctl', 'forget']


def test_icc_off_without_br_netfilter_is_refused():
    with pytest.raises(LinuxnetError, match=r'sysctl %s does not exist in this kernel: icc=false needs br_netfilter' % BNF):
        plan(desired(), recorded(), sysctls={FWD: '1', BNF: None})
    _c, actions, _p, _w = plan(desired([DOCKER0]), None, sysctls={FWD: '1', BNF: None}, saved=ABSENT)
    assert [a['op'] for a in actions] == ['nft']
    _c, actions, _p, _w = plan(desired(forwarding=False), recorded(), sysctls=OFF, saved=ABSENT)
    assert actions == []


# -- apply_action: each op with explicit handles -------------------------------------------------------------------

class Netlink:
    def __init__(self):
        self.where = None
        self.entered = []

    @contextlib.contextmanager
    def inside(self, ns):
        self.entered.append(ns.label)
        self.where = ns.label
        try:
            yield
        finally:
            self.where = None


def test_apply_action_runs_each_op_where_it_belongs(tmp_path, monkeypatch):
    netlink, ns = Netlink(), NamespaceRef('blue')
    done = []
    monkeypatch.setattr(iso.nft, 'apply', lambda cmds, what: done.append(('nft', netlink.where, cmds, what)))
    monkeypatch.setattr(iso, 'write_sysctl', lambda key, value: done.append(('sysctl', netlink.where, key, value)))
    record = str(tmp_path / 'run' / 'docker_isolation.netns-blue.json')
    _c, actions, _p, _w = plan(desired(), None, sysctls=OFF, saved=ABSENT)
    for action in actions:
        iso.apply_action(netlink, ns, dict(action, path=record) if 'path' in action else action)
    assert done == [('nft', 'blue', actions[0]['commands'], 'table inet linuxnet_isolation'),
                    ('sysctl', 'blue', BNF, '1'), ('sysctl', 'blue', FWD, '1')]
    with open(record) as handle:
        assert json.load(handle) == {'module': 'linuxnet.container.docker_isolation', 'namespace': 'blue', 'sysctls': SAVED}
    assert netlink.entered == ['blue', 'blue', 'blue']  # the record is written outside the namespace
    iso.apply_action(netlink, ns, {'key': 'saved_sysctls', 'op': 'forget', 'path': record, 'description': None})
    assert not (tmp_path / 'run').exists()
    with pytest.raises(ValueError, match="unknown docker_isolation action 'link'"):
        iso.apply_action(netlink, ns, {'op': 'link'})


def test_nat66_masquerades_the_ipv6_subnets_unless_routed():
    """Docker 27: a network with IPv6 is masqueraded (NAT66) in the same table; ipv6_masquerade false (routed),
    masquerade false or internal leave it out."""
    dual = dict(DOCKER0, ipv6=True, ipv6_subnet='fd00:db8:20::/64')
    routed = dict(BR_A, ipv6=True, ipv6_subnet='fd00:db8:21::/64', ipv6_masquerade=False)
    sealed = dict(BR_INT, ipv6=True, ipv6_subnet='fd00:db8:22::/64')
    off = {'bridge': 'br-off', 'subnet': '172.20.0.0/16', 'icc': True, 'masquerade': False, 'internal': False, 'ipv6': True,
           'ipv6_subnet': 'fd00:db8:23::/64'}
    want = desired([dual, routed, sealed, off], forwarding=False)
    assert want['sets']['masq_subnets6'] == ['fd00:db8:20::/64']
    assert want['sets']['masq_self6'] == [('fd00:db8:20::/64', 'docker0')]
    assert iso.summary(want['sets'])['masquerade6'] == [['fd00:db8:20::/64', 'docker0']]
    _current, actions, _predicted, _warnings = plan(want, recorded())
    added = elements(actions[0]['commands'], 'add')
    assert added['masq_subnets6'] == [{'prefix': {'addr': 'fd00:db8:20::', 'len': 64}}]
    # the chain holds the rules already: only elements change, no chain is rewritten
    assert all(next(iter(next(iter(c.values())))) == 'element' for c in actions[0]['commands']), actions[0]['commands']
    ids = [rid for chain, rid, _expr in iso.RULES if chain == 'postrouting']
    assert ids[-2:] == ['masquerade6-own-bridge', 'masquerade6']
    expr = dict((rid, e) for chain, rid, e in iso.RULES)['masquerade6']
    assert expr[0]['match']['left'] == {'payload': {'protocol': 'ip6', 'field': 'saddr'}} and expr[-1] == {'masquerade': None}


# Direct routing (Docker 28's gateway modes): br-r routes IPv6, br-u is nat-unprotected in IPv4.
BR_R = {'bridge': 'br-r', 'subnet': '172.21.0.0/16', 'icc': True, 'masquerade': True, 'internal': False, 'ipv6': True,
        'ipv6_subnet': 'fd00:db8:21::/64', 'gateway_mode_ipv6': 'routed',
        'routed_ports': [{'address': 'fd00:db8:21::2', 'protocol': 'tcp', 'port': 80},
                         {'address': 'fd00:db8:21::3', 'protocol': 'udp', 'port': 53}]}
BR_U = {'bridge': 'br-u', 'subnet': '172.22.0.0/16', 'icc': True, 'masquerade': True, 'internal': False,
        'gateway_mode_ipv4': 'nat-unprotected'}


def test_direct_routing_lives_in_sets_and_the_rules_do_not_grow():
    want = desired([DOCKER0, BR_R, BR_U], forwarding=False)
    sets = want['sets']
    assert sets['protected'] == [('ipv4', 'br-r'), ('ipv4', 'docker0'), ('ipv6', 'br-r'), ('ipv6', 'br-u'), ('ipv6', 'docker0')]
    assert sets['routed_icmp'] == [('ipv6-icmp', 'br-r')]
    assert sets['routed_ports6'] == [('tcp', 'fd00:db8:21::2', 80), ('udp', 'fd00:db8:21::3', 53)]
    assert sets['routed_ports'] == []
    assert sets['masq_self6'] == []  # routed: no NAT66, even with ipv6_masquerade left at its default
    many = dict(BR_R, routed_ports=[{'address': 'fd00:db8:21::%x' % n, 'protocol': 'tcp', 'port': 80} for n in range(2, 300)])
    cmds = plan(desired([DOCKER0, many, BR_U], forwarding=False), None, saved=ABSENT)[1][0]['commands']
    rules = [c['add']['rule'] for c in cmds if 'rule' in c.get('add', {})]
    assert len(rules) == sum(len(ids) for ids in RULE_IDS.values())
    inbound = [r for r in rules if r['chain'] == 'inbound']
    assert [r['comment'] for r in inbound] == ['linuxnet:' + rid for rid in RULE_IDS['inbound']]
    # from outside a managed bridge into one, after isolation: the host's own packets never cross forward
    jump = next(r for r in rules if r['comment'] == 'linuxnet:inbound')
    assert jump['chain'] == 'forward' and jump['expr'][-1] == {'jump': {'target': 'inbound'}}
    assert jump['expr'][0]['match']['op'] == '!=' and jump['expr'][0]['match']['right'] == '@bridges'
    assert inbound[-1]['expr'][-1] == {'drop': None} and all(r['expr'][-1] == {'accept': None} for r in inbound[:-1])


def test_direct_routing_predicted_and_read_back():
    """The state shows the modes that are not nat and the routed ports (what --diff shows); network_info's flags
    read the same sets back."""
    want = desired([DOCKER0, BR_R, BR_U], forwarding=False)
    _c, actions, predicted, _w = plan(want, recorded(bridges=('br-r', 'br-u', 'docker0'), icc_off=(), internal=(),
                                                     masq=()))
    assert predicted['nftables']['gateway_modes'] == {'br-r': ['nat', 'routed'], 'br-u': ['nat-unprotected', 'nat']}
    assert predicted['nftables']['routed_ports'] == ['tcp/80 at fd00:db8:21::2', 'udp/53 at fd00:db8:21::3']
    assert actions[0]['op'] == 'nft'
    flags = iso.bridge_flags({name: want['sets'][name] for name in iso.SETS})
    assert {b: (f['gateway_mode_ipv4'], f['gateway_mode_ipv6']) for b, f in flags.items()} == {
        'br-r': ('nat', 'routed'), 'br-u': ('nat-unprotected', 'nat'), 'docker0': ('nat', 'nat')}


def test_a_table_of_the_version_before_gets_the_filter_in_one_transaction():
    _c, actions, predicted, _w = plan(desired(), recorded(direct=False, rules=dict(
        RULE_IDS, forward=RULE_IDS['forward'][:-1], inbound=[])))
    assert [a['op'] for a in actions] == ['nft']
    cmds = actions[0]['commands']
    assert [c['add']['set']['name'] for c in cmds if 'set' in c.get('add', {})] == [
        'protected', 'routed_icmp', 'routed_ports', 'routed_ports6']
    assert {'flush': {'chain': dict(BASE, name='forward')}} in cmds
    assert [c['add']['chain']['name'] for c in cmds if 'chain' in c.get('add', {})] == ['inbound']
    assert predicted['nftables'] == STATE


@pytest.mark.parametrize('network, message', [
    (dict(BR_U, routed_ports=[{'address': '172.22.0.2', 'protocol': 'tcp', 'port': 80}]),
     'networks[0] (br-u): routed_ports[0]: 172.22.0.2 is an IPv4 address, but gateway_mode_ipv4 is nat-unprotected: only '
     'a routed family opens container ports directly. Fix: set gateway_mode_ipv4: routed, or drop the entry'),
    (dict(BR_R, routed_ports=[{'address': 'fd00:db8:99::2', 'protocol': 'tcp', 'port': 80}]),
     'networks[0] (br-r): routed_ports[0]: fd00:db8:99::2 is outside ipv6_subnet fd00:db8:21::/64. Fix: give the address '
     'of a container on this network'),
    (dict(BR_R, routed_ports=[{'address': 'web', 'protocol': 'tcp', 'port': 80}]),
     "networks[0] (br-r): routed_ports[0]: address 'web' is not an IP address"),
])
def test_routed_ports_are_checked(network, message):
    with pytest.raises(LinuxnetError) as err:
        desired([network])
    assert err.value.msg == message
