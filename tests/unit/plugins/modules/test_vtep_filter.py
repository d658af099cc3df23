# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vtep_filter: inputs, the planned nftables transaction and its description (no nft, no kernel)."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel import nft
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._parts import vtep_filter as vf


def params(**kwargs):
    base = {'vteps': ['192.0.2.11', '192.0.2.12'], 'ports': [4789], 'namespace': None, 'state': 'present'}
    base.update(kwargs)
    return base


def listing(vteps4=('192.0.2.11', '192.0.2.12'), vteps6=(), ports=(4789,), rules=('drop-ipv4', 'drop-ipv6'), foreign=0):
    """What nft -j list table inet linuxnet_vtep prints, without handles."""
    base = {'family': 'inet', 'table': 'linuxnet_vtep'}
    objs = [{'table': {'family': 'inet', 'name': 'linuxnet_vtep'}},
            {'set': dict(base, name=nft.OWNER_SET, type='ifname')},
            {'set': dict(base, name='vteps4', type='ipv4_addr', elem=list(vteps4))},
            {'set': dict(base, name='vteps6', type='ipv6_addr', elem=list(vteps6))},
            {'set': dict(base, name='ports', type='inet_service', elem=list(ports))},
            {'chain': dict(base, name='input', type='filter', hook='input', prio=0, policy='accept')}]
    objs += [{'rule': dict(base, chain='input', comment='linuxnet:' + rid, expr=[])} for rid in rules]
    objs += [{'rule': dict(base, chain='input', expr=[{'accept': None}])} for dummy in range(foreign)]
    return objs


def plan(objs, **kwargs):
    desired = vf.desired_state(params(**kwargs))
    return nft.table_commands(vf.FAMILY, vf.NAME, vf.SETS, vf.CHAINS, vf.RULES, nft.TableState(objs), desired['sets'])


def test_addresses_are_normalised_deduplicated_and_split_by_family():
    desired = vf.desired_state(params(vteps=['192.0.2.12', ' 192.0.2.11', '192.0.2.12', '2001:DB8::0012'], ports=[8472, 4789, 4789]))
    assert desired['sets'] == {'vteps4': ['192.0.2.11', '192.0.2.12'], 'vteps6': ['2001:db8::12'], 'ports': [4789, 8472]}
    assert vf.desired_state(params(state='absent', vteps=[])) is None


@pytest.mark.parametrize('kwargs, message', [
    ({'vteps': []}, 'vteps is empty'),
    ({'vteps': ['192.0.2.0/24']}, 'is a network, not an address'),
    ({'vteps': ['192.0.2.300']}, 'is not an IP address'),
    ({'vteps': ['node1']}, 'is not an IP address'),
    ({'vteps': ['239.1.1.1']}, 'is not a unicast address'),
    ({'vteps': ['ff02::1']}, 'is not a unicast address'),
    ({'vteps': ['0.0.0.0']}, 'is not a unicast address'),
    ({'vteps': ['255.255.255.255']}, 'is not a unicast address'),
    ({'vteps': ['::ffff:192.0.2.11']}, 'write it as the IPv4 address 192.0.2.11'),
    ({'ports': [0]}, 'is not a UDP port'),
    ({'ports': [65536]}, 'is not a UDP port'),
    ({'ports': []}, 'ports is empty'),
])
def test_bad_inputs_name_the_item_and_the_fix(kwargs, message):
    with pytest.raises(LinuxnetError) as err:
        vf.desired_state(params(**kwargs))
    assert message in err.value.msg and 'Fix:' in err.value.msg


def test_a_missing_table_is_created_with_a_constant_number_of_rules():
    few = plan(None)
    many = plan(None, vteps=['10.%d.%d.1' % (i // 250, i % 250) for i in range(1000)])
    for cmds in (few, many):
        rules = [c['add']['rule'] for c in cmds if 'rule' in c.get('add', {})]
        assert [r['comment'] for r in rules] == ['linuxnet:drop-ipv4', 'linuxnet:drop-ipv6']
        chains = [c['add']['chain'] for c in cmds if 'chain' in c.get('add', {})]
        assert [(c['name'], c['hook'], c['type']) for c in chains] == [('input', 'input', 'filter')]
        assert cmds[1]['add']['set']['name'] == nft.OWNER_SET
    assert len(many) == len(few)


def test_the_drop_rules_match_the_port_set_and_a_source_outside_the_vtep_set():
    for (chain, rid, expr), proto, vset in zip(vf.RULES, ('ip', 'ip6'), ('@vteps4', '@vteps6')):
        assert chain == 'input'
        matches = [e['match'] for e in expr if 'match' in e]
        assert {'op': '==', 'left': {'payload': {'protocol': 'udp', 'field': 'dport'}}, 'right': '@ports'} in matches
        assert {'op': '!=', 'left': {'payload': {'protocol': proto, 'field': 'saddr'}}, 'right': vset} in matches
        assert expr[-2:] == [{'counter': None}, {'drop': None}]


def test_nothing_to_do_when_the_table_is_as_planned():
    assert plan(listing()) == []


def test_vteps_and_ports_change_element_by_element():
    cmds = plan(listing(vteps4=('192.0.2.11', '192.0.2.99'), ports=(4789, 8472)),
                vteps=['192.0.2.11', '192.0.2.12', '2001:db8::12'])
    assert cmds == [
        {'delete': {'element': {'family': 'inet', 'table': 'linuxnet_vtep', 'name': 'vteps4', 'elem': ['192.0.2.99']}}},
        {'add': {'element': {'family': 'inet', 'table': 'linuxnet_vtep', 'name': 'vteps4', 'elem': ['192.0.2.12']}}},
        {'add': {'element': {'family': 'inet', 'table': 'linuxnet_vtep', 'name': 'vteps6', 'elem': ['2001:db8::12']}}},
        {'delete': {'element': {'family': 'inet', 'table': 'linuxnet_vtep', 'name': 'ports', 'elem': [8472]}}},
    ]


@pytest.mark.parametrize('objs', [listing(rules=('drop-ipv4',)), listing(foreign=1), listing(rules=('drop-ipv6', 'drop-ipv4'))])
def test_a_drifted_chain_is_flushed_and_written_again(objs):
    cmds = plan(objs)
    assert cmds[0] == {'flush': {'chain': {'family': 'inet', 'table': 'linuxnet_vtep', 'name': 'input'}}}
    assert [c['add']['rule']['comment'] for c in cmds[1:]] == ['linuxnet:drop-ipv4', 'linuxnet:drop-ipv6']


def test_summary_orders_addresses_by_family_and_value():
    state = nft.TableState(listing(vteps4=('192.0.2.9', '192.0.2.10'), vteps6=('2001:db8::1',), ports=(8472, 4789)))
    assert vf.summary(state.sets, state.chains) == {
        'vteps': ['192.0.2.9', '192.0.2.10', '2001:db8::1'], 'ports': [4789, 8472],
        'rules': {'input': ['drop-ipv4', 'drop-ipv6']}}


def test_describe_says_what_changes():
    before = {'vteps': ['192.0.2.11', '192.0.2.99'], 'ports': [4789], 'rules': {'input': ['drop-ipv4', 'drop-ipv6']}}
    after = {'vteps': ['192.0.2.11', '192.0.2.12'], 'ports': [4789], 'rules': {'input': ['drop-ipv4', 'drop-ipv6']}}
    assert vf.describe(before, after) == 'allow VTEP 192.0.2.12; remove VTEP 192.0.2.99'
    assert vf.describe(None, after) == 'accept VXLAN on UDP 4789 only from 192.0.2.11, 192.0.2.12'
    assert vf.describe(after, after, {'input': 1}) == 'restore the rules of chain input'
    assert vf.describe(dict(after, rules={'input': ['drop-ipv4']}), after) == 'restore the rules of chain input'
