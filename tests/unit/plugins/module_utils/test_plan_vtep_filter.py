# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vtep_filter's pure planner against recorded tables: the one nft transaction, its description and the predicted state;
apply_action with explicit handles."""

from __future__ import annotations

import contextlib
import copy

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel import nft
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._parts import vtep_filter as vf
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT

BASE = {'family': 'inet', 'table': 'linuxnet_vtep'}
HOST = 'in the host namespace'
VTEPS = ('192.0.2.11', '192.0.2.12', '2001:db8::12')
RULES = {'input': ['drop-ipv4', 'drop-ipv6']}
STATE = {'vteps': list(VTEPS), 'members': [], 'ports': [4789], 'rules': RULES}


def _set(name, ktype, elem):
    body = dict(BASE, name=name, type=ktype)
    if elem:  # nft leaves "elem" out of an empty set
        body['elem'] = list(elem)
    return {'set': body}


def listed_rule(protocol, vset, pairs):
    """A drop rule's expression as nft 1.0.6 lists it (``meta nfproto`` folded into the saddr match, counters)."""
    expr = [{'match': {'op': '==', 'left': {'payload': {'protocol': 'udp', 'field': 'dport'}}, 'right': '@ports'}},
            {'match': {'op': '!=', 'left': {'payload': {'protocol': protocol, 'field': 'saddr'}}, 'right': vset}}]
    if pairs:
        left = {'concat': [{'payload': {'protocol': protocol, 'field': 'saddr'}}, {'payload': {'base': 'th', 'offset': 96, 'len': 24}}]}
        expr.append({'match': {'op': '!=', 'left': left, 'right': {'set': [{'concat': list(pair)} for pair in pairs]}}})
    return expr + [{'counter': {'packets': 3, 'bytes': 420}}, {'drop': None}]


def listing(vteps4=('192.0.2.11', '192.0.2.12'), vteps6=('2001:db8::12',), ports=(4789,), rules=('drop-ipv4', 'drop-ipv6'),
            foreign=0, members4=(), members6=()):
    """``nft -j list table inet linuxnet_vtep`` (nft 1.0.6, handles dropped) after a converge of VTEPS in a scratch
    namespace; the arguments give what drifted, ``foreign`` rules without the collection's comment, ``members4`` and
    ``members6`` the (address, vni) pairs in the drop rules."""
    objs = [{'table': {'family': 'inet', 'name': 'linuxnet_vtep'}},
            _set(nft.OWNER_SET, 'ifname', ()),
            _set('vteps4', 'ipv4_addr', vteps4),
            _set('vteps6', 'ipv6_addr', vteps6),
            _set('ports', 'inet_service', ports),
            {'chain': dict(BASE, name='input', type='filter', hook='input', prio=0, policy='accept')}]
    exprs = {'drop-ipv4': listed_rule('ip', '@vteps4', members4), 'drop-ipv6': listed_rule('ip6', '@vteps6', members6)}
    objs += [{'rule': dict(BASE, chain='input', comment='linuxnet:' + rid, expr=exprs[rid])} for rid in rules]
    objs += [{'rule': dict(BASE, chain='input', expr=[{'accept': None}])} for _n in range(foreign)]
    return objs


def desired(vteps=VTEPS, ports=(4789,), state='present', members=()):
    return vf.desired_state({'vteps': list(vteps), 'members': list(members), 'ports': list(ports), 'namespace': None,
                             'state': state})


def plan(want, objs, place=HOST):
    table = nft.TableState(copy.deepcopy(objs))
    current = vf.state_of(table)
    actions, predicted = vf.plan_table(want, current, table, place)
    return current, actions, predicted


def update(actions):
    """The commands and the description's tail of the one update a plan holds."""
    assert [(a['key'], a['op']) for a in actions] == [('nftables', 'nft')]
    prefix = 'update nftables table inet linuxnet_vtep in the host namespace in one transaction: '
    assert actions[0]['description'].startswith(prefix)
    return actions[0]['commands'], actions[0]['description'][len(prefix):]


def element(verb, name, *elem):
    return {verb: {'element': dict(BASE, name=name, elem=list(elem))}}


def test_the_recorded_listing_reads_as_the_converged_state():
    assert plan(desired(), listing())[0] == {'nftables': STATE}
    state = vf.state_of(nft.TableState(listing(vteps4=('192.0.2.9', '192.0.2.10'), vteps6=('2001:db8::1',), ports=(8472, 4789))))
    assert state == {'nftables': {'vteps': ['192.0.2.9', '192.0.2.10', '2001:db8::1'], 'members': [], 'ports': [4789, 8472],
                                  'rules': RULES}}


def test_create_from_nothing():
    current, actions, predicted = plan(desired(), None)
    assert current == {'nftables': ABSENT}
    cmds = actions[0]['commands']
    assert actions == [{'key': 'nftables', 'op': 'nft', 'commands': cmds,
                        'description': 'create nftables table inet linuxnet_vtep in the host namespace in one transaction: '
                                       'accept VXLAN on UDP 4789 only from 192.0.2.11, 192.0.2.12, 2001:db8::12'}]
    assert cmds[:2] == nft.create_table_commands('inet', 'linuxnet_vtep')
    assert cmds[2:8] == [{'add': {'set': dict(BASE, name='vteps4', type='ipv4_addr')}},
                         element('add', 'vteps4', '192.0.2.11', '192.0.2.12'),
                         {'add': {'set': dict(BASE, name='vteps6', type='ipv6_addr')}},
                         element('add', 'vteps6', '2001:db8::12'),
                         {'add': {'set': dict(BASE, name='ports', type='inet_service')}},
                         element('add', 'ports', 4789)]
    assert cmds[8] == {'add': {'chain': dict(BASE, name='input', type='filter', hook='input', prio=0, policy='accept')}}
    assert cmds[9:] == [{'add': {'rule': dict(BASE, chain='input', comment='linuxnet:' + rid, expr=expr)}}
                        for _chain, rid, expr in vf.RULES]
    assert predicted == {'nftables': STATE}


def test_the_number_of_rules_does_not_grow_with_the_vteps():
    many = ['10.%d.%d.1' % (i // 250, i % 250) for i in range(1000)] + ['2001:db8::12']
    assert len(plan(desired(many), None)[1][0]['commands']) == len(plan(desired(), None)[1][0]['commands'])


def test_equal_plans_nothing_and_predicts_what_is_there():
    current, actions, predicted = plan(desired(), listing())
    assert actions == [] and predicted == current


def test_a_vtep_added_and_one_removed_change_element_by_element():
    cmds, what = update(plan(desired(['192.0.2.11', '192.0.2.13', '2001:db8::12']), listing())[1])
    assert cmds == [element('delete', 'vteps4', '192.0.2.12'), element('add', 'vteps4', '192.0.2.13')]
    assert what == 'allow VTEP 192.0.2.13; remove VTEP 192.0.2.12'
    cmds, what = update(plan(desired(['192.0.2.11', '192.0.2.12']), listing())[1])
    assert (cmds, what) == ([element('delete', 'vteps6', '2001:db8::12')], 'remove VTEP 2001:db8::12')


def test_a_missing_or_stale_element_is_put_right():
    # someone deleted 192.0.2.12 from the set (its VXLAN is dropped now), and added 192.0.2.99
    current, actions, predicted = plan(desired(), listing(vteps4=('192.0.2.11', '192.0.2.99')))
    cmds, what = update(actions)
    assert cmds == [element('delete', 'vteps4', '192.0.2.99'), element('add', 'vteps4', '192.0.2.12')]
    assert what == 'allow VTEP 192.0.2.12; remove VTEP 192.0.2.99'
    assert current['nftables']['vteps'] == ['192.0.2.11', '192.0.2.99', '2001:db8::12'] and predicted == {'nftables': STATE}


def test_a_port_changed():
    cmds, what = update(plan(desired(ports=[8472]), listing())[1])
    assert cmds == [element('delete', 'ports', 4789), element('add', 'ports', 8472)]
    assert what == 'allow port 8472; remove port 4789'


@pytest.mark.parametrize('drift', [{'rules': ('drop-ipv4',)}, {'rules': ('drop-ipv6', 'drop-ipv4')}, {'foreign': 1}])
def test_a_drifted_chain_is_flushed_and_written_again(drift):
    _current, actions, predicted = plan(desired(), listing(**drift))
    cmds, what = update(actions)
    assert cmds[0] == {'flush': {'chain': dict(BASE, name='input')}}
    assert [c['add']['rule']['comment'] for c in cmds[1:]] == ['linuxnet:drop-ipv4', 'linuxnet:drop-ipv6']
    assert what == 'restore the rules of chain input'
    assert predicted == {'nftables': STATE}


def test_removal():
    _current, actions, predicted = plan(desired(state='absent'), listing(), 'in network namespace ov')
    assert actions == [{'key': 'nftables', 'op': 'nft', 'commands': [{'delete': {'table': {'family': 'inet', 'name': 'linuxnet_vtep'}}}],
                        'description': 'delete nftables table inet linuxnet_vtep in network namespace ov '
                                       '(VXLAN from any source is accepted again)'}]
    assert predicted == {'nftables': ABSENT}
    assert plan(ABSENT, None)[1:] == ([], {'nftables': ABSENT})


MEMBERS = [{'vni': 256, 'vteps': ['192.0.2.12', '2001:db8::12']}, {'vni': 257, 'vteps': ['192.0.2.13']}]
MEMBERS4 = (('192.0.2.12', 256), ('192.0.2.13', 257))
MEMBERS6 = (('2001:db8::12', 256),)


def rule_of(cmds, rid):
    return next(c['add']['rule']['expr'] for c in cmds if 'rule' in c.get('add', {}) and c['add']['rule']['comment'] == 'linuxnet:' + rid)


def test_members_go_into_the_drop_rules_as_source_and_vni_pairs():
    current, actions, predicted = plan(desired(['192.0.2.11'], members=MEMBERS), None)
    cmds = actions[0]['commands']
    assert actions[0]['description'].endswith('accept VXLAN on UDP 4789 only from 192.0.2.11; for VNI 256 from 192.0.2.12, '
                                              '2001:db8::12; for VNI 257 from 192.0.2.13')
    vni = {'payload': {'base': 'th', 'offset': 96, 'len': 24}}
    for rid, protocol, pairs in (('drop-ipv4', 'ip', MEMBERS4), ('drop-ipv6', 'ip6', MEMBERS6)):
        expr = rule_of(cmds, rid)
        assert expr[3] == {'match': {'op': '!=', 'left': {'concat': [{'payload': {'protocol': protocol, 'field': 'saddr'}}, vni]},
                                     'right': {'set': [{'concat': list(p)} for p in pairs]}}}
        assert expr[-2:] == [{'counter': None}, {'drop': None}]
    # no named set holds them: the number of sets and rules does not grow with the members
    assert [c['add']['set']['name'] for c in cmds if 'set' in c.get('add', {})] == [nft.OWNER_SET, 'vteps4', 'vteps6', 'ports']
    assert predicted == {'nftables': {'vteps': ['192.0.2.11'], 'members': MEMBERS, 'ports': [4789], 'rules': RULES}}
    # only members: the vteps sets stay empty, the description names no VNI-less source
    _current, actions, _predicted = plan(desired([], members=MEMBERS[1:]), None)
    assert actions[0]['description'].endswith('accept VXLAN on UDP 4789 only for VNI 257 from 192.0.2.13')
    assert not any('element' in c.get('add', {}) and c['add']['element']['name'].startswith('vteps') for c in actions[0]['commands'])


def test_members_read_back_from_the_listing_plan_nothing():
    objs = listing(vteps4=('192.0.2.11',), vteps6=(), members4=MEMBERS4, members6=MEMBERS6)
    current, actions, predicted = plan(desired(['192.0.2.11'], members=MEMBERS), objs)
    assert actions == [] and predicted == current
    assert current['nftables']['members'] == MEMBERS


def test_a_membership_change_writes_the_chain_again_in_the_same_transaction():
    objs = listing(vteps4=('192.0.2.11',), vteps6=(), members4=MEMBERS4, members6=MEMBERS6)
    changed = [{'vni': 256, 'vteps': ['192.0.2.12', '192.0.2.14', '2001:db8::12']}]
    _current, actions, predicted = plan(desired(['192.0.2.11'], members=changed), objs)
    cmds, what = update(actions)
    assert cmds[0] == {'flush': {'chain': dict(BASE, name='input')}}
    assert [c['add']['rule']['comment'] for c in cmds[1:]] == ['linuxnet:drop-ipv4', 'linuxnet:drop-ipv6']
    assert rule_of(cmds, 'drop-ipv4')[3]['match']['right'] == {'set': [{'concat': ['192.0.2.12', 256]}, {'concat': ['192.0.2.14', 256]}]}
    assert what == 'allow VTEP 192.0.2.14 for VNI 256; remove VTEP 192.0.2.13 for VNI 257'
    assert predicted['nftables']['members'] == changed


def test_a_table_of_vteps_only_takes_members_and_gives_them_up():
    # the table an earlier version wrote (no members in its rules): members are added by writing the chain again
    _current, actions, _predicted = plan(desired(members=MEMBERS), listing())
    cmds, what = update(actions)
    assert cmds[0] == {'flush': {'chain': dict(BASE, name='input')}} and len(cmds) == 3
    assert what == 'allow VTEP 192.0.2.12, 2001:db8::12 for VNI 256; allow VTEP 192.0.2.13 for VNI 257'
    # and back: the rules lose their pairs
    objs = listing(members4=MEMBERS4, members6=MEMBERS6)
    cmds, what = update(plan(desired(), objs)[1])
    assert [len(c['add']['rule']['expr']) for c in cmds[1:]] == [5, 5]
    assert what == 'remove VTEP 192.0.2.12, 2001:db8::12 for VNI 256; remove VTEP 192.0.2.13 for VNI 257'
    # a pair whose address is also in vteps stays a pair: the input is kept as given
    assert plan(desired(members=[{'vni': 256, 'vteps': ['192.0.2.11']}]), None)[2]['nftables']['members'] == [
        {'vni': 256, 'vteps': ['192.0.2.11']}]


class Netlink:
    def __init__(self):
        self.where = None

    @contextlib.contextmanager
    def inside(self, ns):
        self.where = ns.label
        try:
            yield
        finally:
            self.where = None


def test_apply_action_runs_the_transaction_inside_the_namespace(monkeypatch):
    netlink, done = Netlink(), []
    monkeypatch.setattr(vf.nft, 'apply', lambda cmds, what: done.append((netlink.where, cmds, what)))
    action = plan(desired(), None)[1][0]
    vf.apply_action(netlink, NamespaceRef('ov'), action)
    assert done == [('ov', action['commands'], 'table inet linuxnet_vtep')]
    with pytest.raises(ValueError, match="unknown vtep_filter action 'sysctl'"):
        vf.apply_action(netlink, NamespaceRef('ov'), {'op': 'sysctl'})
