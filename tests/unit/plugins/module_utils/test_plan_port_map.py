# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""port_map's pure planner against recorded tables: the actions (nft transactions, sysctls) and the predicted state."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel import nft
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._parts import port_map as pm
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT

BASE = {'family': 'ip', 'table': 'linuxnet_ports'}
RULE_IDS = {'prerouting': ['no-remote-loopback', 'allow-addr', 'allow-any', 'dnat-addr', 'dnat-any'],
            'output': ['dnat-addr', 'dnat-any'],
            'postrouting': ['localhost-masquerade', 'hairpin']}


def _map(name, dtype, elem, ktype):
    return {'map': dict(BASE, name=name, type=ktype, map=dtype, elem=elem)}


def _set(name, elem, ktype, flags=None):
    body = dict(BASE, name=name, type=ktype, elem=elem)
    if flags:
        body['flags'] = flags
    return {'set': body}


def recorded(web_target=('172.17.0.2', 80), extra_any=(), web_allow=({'prefix': {'addr': '10.0.0.0', 'len': 8}}, '192.0.2.12'),
             rules=None):
    """``nft -j list table ip linuxnet_ports`` (handles dropped) after publishing web's 0.0.0.0:8080->80/tcp (allow-list
    10.0.0.0/8 and 192.0.2.12) and db's 192.0.2.11:5432->5432/tcp, as a converge left it."""
    rules = RULE_IDS if rules is None else rules
    any_keys = [({'concat': ['tcp', 8080]}, web_target)] + [({'concat': [p, n]}, t) for p, n, t in extra_any]
    addr_key = {'concat': ['192.0.2.11', 'tcp', 5432]}
    targets = sorted({t[0] for _k, t in any_keys} | {'172.17.0.3'})
    objs = [{'table': {'family': 'ip', 'name': 'linuxnet_ports'}},
            {'set': dict(BASE, name=nft.OWNER_SET, type='ifname')},
            _map('any_addr', 'ipv4_addr', [[k, t[0]] for k, t in any_keys], ['inet_proto', 'inet_service']),
            _map('any_port', 'inet_service', [[k, t[1]] for k, t in any_keys], ['inet_proto', 'inet_service']),
            _map('addr_addr', 'ipv4_addr', [[addr_key, '172.17.0.3']], ['ipv4_addr', 'inet_proto', 'inet_service']),
            _map('addr_port', 'inet_service', [[addr_key, 5432]], ['ipv4_addr', 'inet_proto', 'inet_service']),
            _set('hairpin', [{'concat': [t, t]} for t in targets], ['ipv4_addr', 'ipv4_addr']),
            _set('restricted_any', [{'concat': ['tcp', 8080]}] if web_allow else [], ['inet_proto', 'inet_service']),
            _set('restricted_addr', [], ['ipv4_addr', 'inet_proto', 'inet_service']),
            _set('allow_any', [{'concat': [src, 'tcp', 8080]} for src in web_allow],
                 ['ipv4_addr', 'inet_proto', 'inet_service'], ['interval']),
            _set('allow_addr', [], ['ipv4_addr', 'ipv4_addr', 'inet_proto', 'inet_service'], ['interval'])]
    for chain, ids in rules.items():
        objs.append({'chain': dict(BASE, name=chain, type='nat', hook=chain, prio=-100, policy='accept')})
        objs += [{'rule': dict(BASE, chain=chain, comment='linuxnet:' + rid, expr=[])} for rid in ids]
    return objs


SYSCTLS = {'net.ipv4.ip_forward': '1'}


def desired(ports, exclusive=False, state='present', sysctls=None):
    params = {'ports': [dict({'name': None, 'allow': []}, **p) for p in ports], 'state': state}
    maps, allow = pm._maps(params)
    return {'state': state, 'exclusive': exclusive, 'maps': maps, 'allow': allow,
            'sysctls': dict(SYSCTLS) if sysctls is None else sysctls, 'expected': set()}


WEB = {'container_ip': '172.17.0.2', 'publish': ['8080:80'], 'allow': ['10.0.0.0/8', '192.0.2.12']}
DB = {'container_ip': '172.17.0.3', 'publish': ['192.0.2.11:5432:5432']}


def plan(want, objs, sysctls=None):
    table = nft.TableState(copy.deepcopy(objs))
    current = pm.state_of(table, dict(SYSCTLS) if sysctls is None else sysctls)
    actions, predicted, final, allow = pm.plan_table(want, current, table)
    return current, actions, predicted, final, allow


def elements(commands, verb):
    """{set or map name: [elements]} that the transaction adds or deletes."""
    out = {}
    for cmd in commands:
        body = cmd.get(verb, {}).get('element')
        if body:
            out.setdefault(body['name'], []).extend(body['elem'])
    return out


def test_create_from_nothing():
    current, actions, predicted, final, allow = plan(desired([WEB, DB]), None, sysctls={'net.ipv4.ip_forward': '0'})
    assert current == {'sysctls': {'net.ipv4.ip_forward': '0'}, 'nftables': ABSENT}
    assert [(a['op'], a['description']) for a in actions] == [
        ('nft', 'create nftables table ip linuxnet_ports in one transaction: 2 ports published or changed, 0 unpublished'),
        ('sysctl', 'set net.ipv4.ip_forward=1')]
    assert actions[1] == {'key': 'sysctls', 'op': 'sysctl', 'name': 'net.ipv4.ip_forward', 'value': '1',
                          'description': 'set net.ipv4.ip_forward=1'}
    cmds = actions[0]['commands']
    assert cmds[:2] == nft.create_table_commands('ip', 'linuxnet_ports')
    added = elements(cmds, 'add')
    assert added['any_addr'] == [[{'concat': ['tcp', 8080]}, '172.17.0.2']]
    assert added['addr_port'] == [[{'concat': ['192.0.2.11', 'tcp', 5432]}, 5432]]
    assert added['allow_any'] == [{'concat': [{'prefix': {'addr': '10.0.0.0', 'len': 8}}, 'tcp', 8080]},
                                  {'concat': ['192.0.2.12', 'tcp', 8080]}]
    assert predicted == {'sysctls': {'net.ipv4.ip_forward': '1'}, 'nftables': {
        'ports': {'0.0.0.0:8080/tcp': '172.17.0.2:80', '192.0.2.11:5432/tcp': '172.17.0.3:5432'},
        'allow': {'0.0.0.0:8080/tcp': ['10.0.0.0/8', '192.0.2.12']},
        'rules': RULE_IDS}}
    assert sorted(final) == [('0.0.0.0', 'tcp', 8080), ('192.0.2.11', 'tcp', 5432)]
    assert allow == {('0.0.0.0', 'tcp', 8080): ('10.0.0.0/8', '192.0.2.12')}


@pytest.mark.parametrize('exclusive', [False, True])
def test_equal_plans_nothing_and_predicts_what_is_there(exclusive):
    current, actions, predicted, _final, _allow = plan(desired([WEB, DB], exclusive=exclusive), recorded())
    assert actions == []
    assert predicted == current
    assert predicted['nftables']['rules'] == RULE_IDS


def test_a_changed_dnat_target_deletes_and_adds_that_key_only():
    # web's 8080 points at an old container address and port in the kernel
    current, actions, predicted, _final, _allow = plan(desired([WEB, DB]), recorded(web_target=('172.17.0.9', 8000)))
    assert current['nftables']['ports']['0.0.0.0:8080/tcp'] == '172.17.0.9:8000'
    assert [a['description'] for a in actions] == [
        'update nftables table ip linuxnet_ports in one transaction: 1 ports published or changed, 0 unpublished']
    cmds = actions[0]['commands']
    assert elements(cmds, 'delete') == {'any_addr': [{'concat': ['tcp', 8080]}], 'any_port': [{'concat': ['tcp', 8080]}],
                                        'hairpin': [{'concat': ['172.17.0.9', '172.17.0.9']}]}
    assert elements(cmds, 'add') == {'any_addr': [[{'concat': ['tcp', 8080]}, '172.17.0.2']],
                                     'any_port': [[{'concat': ['tcp', 8080]}, 80]],
                                     'hairpin': [{'concat': ['172.17.0.2', '172.17.0.2']}]}
    assert not any('chain' in c.get('flush', {}) or 'rule' in c.get('add', {}) for c in cmds)  # rules untouched
    assert predicted['nftables']['ports']['0.0.0.0:8080/tcp'] == '172.17.0.2:80'


def test_a_stale_port_goes_only_with_exclusive():
    stale = recorded(extra_any=[('udp', 9999, ('172.17.0.4', 99))])
    _current, actions, predicted, _final, _allow = plan(desired([WEB, DB]), stale)
    assert actions == [] and '0.0.0.0:9999/udp' in predicted['nftables']['ports']
    _current, actions, predicted, final, _allow = plan(desired([WEB, DB], exclusive=True), stale)
    assert [a['description'] for a in actions] == [
        'update nftables table ip linuxnet_ports in one transaction: 0 ports published or changed, 1 unpublished']
    assert elements(actions[0]['commands'], 'delete') == {
        'any_addr': [{'concat': ['udp', 9999]}], 'any_port': [{'concat': ['udp', 9999]}],
        'hairpin': [{'concat': ['172.17.0.4', '172.17.0.4']}]}
    assert elements(actions[0]['commands'], 'add') == {}
    assert sorted(predicted['nftables']['ports']) == ['0.0.0.0:8080/tcp', '192.0.2.11:5432/tcp']
    assert ('0.0.0.0', 'udp', 9999) not in final


def test_an_allow_list_change_touches_only_the_allow_sets():
    narrower = dict(WEB, allow=['192.0.2.12'])
    _current, actions, predicted, _final, allow = plan(desired([narrower, DB]), recorded())
    assert [a['description'] for a in actions] == [
        'update nftables table ip linuxnet_ports in one transaction: 1 ports published or changed, 0 unpublished']
    cmds = actions[0]['commands']
    assert elements(cmds, 'delete') == {'allow_any': [{'concat': [{'prefix': {'addr': '10.0.0.0', 'len': 8}}, 'tcp', 8080]}]}
    assert elements(cmds, 'add') == {}
    assert predicted['nftables']['allow'] == {'0.0.0.0:8080/tcp': ['192.0.2.12']}
    assert allow == {('0.0.0.0', 'tcp', 8080): ('192.0.2.12',)}
    # no allow-list any more: the port is open to everyone, its restriction goes
    _current, actions, predicted, _final, _allow = plan(desired([dict(WEB, allow=[]), DB]), recorded())
    deleted = elements(actions[0]['commands'], 'delete')
    assert deleted['restricted_any'] == [{'concat': ['tcp', 8080]}] and len(deleted['allow_any']) == 2
    assert predicted['nftables']['allow'] == {}


def test_a_missing_rule_rewrites_its_chain():
    broken = dict(RULE_IDS, postrouting=['localhost-masquerade'])
    _current, actions, predicted, _final, _allow = plan(desired([WEB, DB]), recorded(rules=broken))
    cmds = actions[0]['commands']
    assert [c['flush']['chain']['name'] for c in cmds if 'flush' in c] == ['postrouting']
    assert [c['add']['rule']['comment'] for c in cmds if 'rule' in c.get('add', {})] == [
        'linuxnet:localhost-masquerade', 'linuxnet:hairpin']
    assert predicted['nftables']['rules'] == RULE_IDS


def test_unpublishing_one_port_and_removing_the_table():
    _current, actions, predicted, final, _allow = plan(desired([DB], state='absent', sysctls={}), recorded())
    assert elements(actions[0]['commands'], 'delete')['addr_addr'] == [{'concat': ['192.0.2.11', 'tcp', 5432]}]
    assert sorted(predicted['nftables']['ports']) == ['0.0.0.0:8080/tcp'] and list(final) == [('0.0.0.0', 'tcp', 8080)]
    _current, actions, predicted, final, allow = plan(ABSENT, recorded())
    assert actions == [{'key': 'nftables', 'op': 'nft', 'commands': [{'delete': {'table': {'family': 'ip', 'name': 'linuxnet_ports'}}}],
                        'description': 'delete nftables table ip linuxnet_ports (2 published ports)'}]
    assert predicted == {'sysctls': SYSCTLS, 'nftables': ABSENT} and (final, allow) == ({}, {})
    assert plan(ABSENT, None)[1] == []


def test_a_conflict_with_an_unlisted_publication_is_refused_and_a_missing_sysctl_too():
    other = {'container_ip': '172.17.0.5', 'publish': ['192.0.2.11:8080:80']}
    with pytest.raises(LinuxnetError, match='conflicts with 0.0.0.0:8080/tcp, published already to 172.17.0.2:80'):
        plan(desired([other]), recorded())
    with pytest.raises(LinuxnetError, match='sysctl net.ipv4.conf.br-x.route_localnet does not exist'):
        plan(desired([WEB], sysctls={'net.ipv4.conf.br-x.route_localnet': '1'}), recorded())
