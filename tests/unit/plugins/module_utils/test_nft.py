# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning nftables transactions from what the kernel lists (no nft needed)."""

from __future__ import annotations

from ansible_collections.linuxnet.container.plugins.module_utils._kernel import nft

SETS = {'bridges': ('ifname', None, []), 'masq': (['ipv4_addr', 'ifname'], None, ['interval']),
        'ports': (['inet_proto', 'inet_service'], 'ipv4_addr', [])}
CHAINS = {'forward': {'type': 'filter', 'hook': 'forward', 'prio': -1, 'policy': 'accept'}, 'user': None}
RULES = [('forward', 'user', [{'jump': {'target': 'user'}}]), ('forward', 'drop', [{'drop': None}])]


def listing(bridges=('br-a',), masq=(('10.0.0.0', 16, 'br-a'),), ports=((('tcp', 80), '10.0.0.2'),),
            forward=('user', 'drop'), user_rules=1, owned=True):
    """What nft -j list table prints, without handles."""
    objs = [{'table': {'family': 'inet', 'name': 't'}}]
    if owned:
        objs.append({'set': {'family': 'inet', 'table': 't', 'name': nft.OWNER_SET, 'type': 'ifname'}})
    objs.append({'set': {'family': 'inet', 'table': 't', 'name': 'bridges', 'type': 'ifname', 'elem': list(bridges)}})
    objs.append({'set': {'family': 'inet', 'table': 't', 'name': 'masq', 'elem': [
        {'concat': [{'prefix': {'addr': a, 'len': n}}, b]} for a, n, b in masq]}})
    objs.append({'map': {'family': 'inet', 'table': 't', 'name': 'ports', 'elem': [
        [{'concat': list(k)}, v] for k, v in ports]}})
    objs += [{'chain': {'family': 'inet', 'table': 't', 'name': 'forward'}}, {'chain': {'family': 'inet', 'table': 't', 'name': 'user'}}]
    objs += [{'rule': {'family': 'inet', 'table': 't', 'chain': 'forward', 'comment': 'linuxnet:' + rid}} for rid in forward]
    objs += [{'rule': {'family': 'inet', 'table': 't', 'chain': 'user', 'comment': 'user %d' % i}} for i in range(user_rules)]
    return objs


WANT = {'bridges': ['br-a'], 'masq': [('10.0.0.0/16', 'br-a')], 'ports': [(('tcp', 80), '10.0.0.2')]}


def plan(objs, want=None):
    return nft.table_commands('inet', 't', SETS, CHAINS, RULES, nft.TableState(objs), want or WANT, never_flushed={'user'})


def test_listing_normalises_sets_maps_and_rule_ids():
    state = nft.TableState(listing())
    assert state.owned and state.exists
    assert state.sets['masq'] == [('10.0.0.0/16', 'br-a')]
    assert state.sets['ports'] == [(('tcp', 80), '10.0.0.2')]
    assert state.chains == {'forward': ['user', 'drop'], 'user': []}
    assert state.foreign_rules == {'user': 1}
    assert not nft.TableState(listing(owned=False)).owned
    assert not nft.TableState(None).exists


def test_nothing_to_do_when_the_table_is_as_planned_and_user_rules_are_left_alone():
    assert plan(listing(user_rules=3)) == []


def test_a_missing_table_is_created_chains_before_rules():
    cmds = plan(None)
    kinds = [next(iter(c['add'])) for c in cmds]
    assert kinds[:2] == ['table', 'set'] and cmds[1]['add']['set']['name'] == nft.OWNER_SET
    assert kinds.index('chain') < kinds.index('rule')
    assert [c['add']['rule']['comment'] for c in cmds if 'rule' in c.get('add', {})] == ['linuxnet:user', 'linuxnet:drop']
    port_map = next(c['add']['map'] for c in cmds if 'map' in c.get('add', {}))
    assert port_map['map'] == 'ipv4_addr'


def test_elements_change_one_by_one():
    want = dict(WANT, bridges=['br-a', 'br-b'], ports=[(('tcp', 80), '10.0.0.3'), (('udp', 53), '10.0.0.4')])
    cmds = plan(listing(), want)
    assert cmds == [
        {'add': {'element': {'family': 'inet', 'table': 't', 'name': 'bridges', 'elem': ['br-b']}}},
        {'delete': {'element': {'family': 'inet', 'table': 't', 'name': 'ports', 'elem': [{'concat': ['tcp', 80]}]}}},
        {'add': {'element': {'family': 'inet', 'table': 't', 'name': 'ports', 'elem': [
            [{'concat': ['tcp', 80]}, '10.0.0.3'], [{'concat': ['udp', 53]}, '10.0.0.4']]}}},
    ]


def test_a_deleted_or_foreign_rule_rewrites_only_that_chain():
    for objs in (listing(forward=('user',)), listing(forward=('user', 'drop')) + [
            {'rule': {'family': 'inet', 'table': 't', 'chain': 'forward', 'comment': 'added by hand'}}]):
        cmds = plan(objs)
        assert cmds[0] == {'flush': {'chain': {'family': 'inet', 'table': 't', 'name': 'forward'}}}
        assert len(cmds) == 3


def test_a_stale_chain_is_written_again_though_its_rule_ids_are_as_planned():
    # a rule whose contents changed under the same id (vtep_filter's members): only the chain named, never_flushed wins
    cmds = nft.table_commands('inet', 't', SETS, CHAINS, RULES, nft.TableState(listing()), WANT, never_flushed={'user'},
                              stale_chains=['forward', 'user'])
    assert cmds[0] == {'flush': {'chain': {'family': 'inet', 'table': 't', 'name': 'forward'}}}
    assert [c['add']['rule']['comment'] for c in cmds[1:]] == ['linuxnet:user', 'linuxnet:drop']


def test_the_expressions_of_our_rules_are_kept_by_chain_and_id():
    objs = listing(user_rules=0)
    objs[-1]['rule']['expr'] = [{'drop': None}]
    state = nft.TableState(objs)
    assert state.exprs == {('forward', 'user'): [], ('forward', 'drop'): [{'drop': None}]}


def test_planned_rule_ids():
    assert nft.planned_rule_ids(CHAINS, RULES, {'user'}) == {'forward': ['user', 'drop']}


def test_keys_and_data_encode_as_the_kernel_stores_them():
    # concatenated fields pad to 4 bytes; ports are big-endian
    assert nft._encode('inet_proto', 'tcp') + nft._encode('inet_service', 8080) == b'\x06\x00\x00\x00\x1f\x90\x00\x00'
    assert nft._encode('ipv4_addr', '172.17.0.2') == b'\xac\x11\x00\x02'
    assert nft._decode('inet_service', b'\x00P') == 80
    assert nft._decode('ipv4_addr', b'\xac\x11\x00\x02') == '172.17.0.2'
    assert nft._decode('inet_proto', b'\x11') == 'udp'
