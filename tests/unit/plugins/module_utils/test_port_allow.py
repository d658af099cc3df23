# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Source allow-lists of published ports: parsing, inventory validation, planning, the nftables elements."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._parts import inspect
from ansible_collections.linuxnet.container.plugins.module_utils._kernel import nft
from ansible_collections.linuxnet.container.plugins.module_utils._parts import port_map
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.fleet import plan_host
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.inventory import inventory_problems
from ansible_collections.linuxnet.container.plugins.module_utils._common.ports import (
    PortError,
    allow_from_elements,
    allow_lines,
    build_maps,
    parse_allow,
    parse_publish,
)
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT

WEB = ('0.0.0.0', 'tcp', 8080)
DB = ('192.0.2.11', 'tcp', 5432)


@pytest.mark.parametrize('values, parsed', [
    (None, ()),
    ([], ()),
    (['192.0.2.12'], ('192.0.2.12',)),
    (['192.0.2.12/32', ' 10.0.0.0/8 '], ('10.0.0.0/8', '192.0.2.12')),
    # inside another one, adjacent, duplicated: disjoint networks (an nftables interval set refuses overlaps)
    (['10.1.0.0/16', '10.0.0.0/8', '198.51.100.0/25', '198.51.100.128/25', '192.0.2.12', '192.0.2.12'],
     ('10.0.0.0/8', '192.0.2.12', '198.51.100.0/24')),
    (['192.0.2.12', '0.0.0.0/0'], ()),  # everyone
])
def test_parse_allow_normalises(values, parsed):
    assert parse_allow(values) == parsed


@pytest.mark.parametrize('values, words', [
    (['10.0.0.1/8'], 'invalid CIDR address: 10.0.0.1/8 has host bits set (it should be 10.0.0.0/8). Fix: write 10.0.0.0/8, '
                     'or 10.0.0.1/32 for that address alone'),
    (['10.0.0.0/33'], "invalid CIDR address: '10.0.0.0/33'. Fix: write IPv4 or IPv6 addresses or networks like 192.0.2.12"),
    (['example.com'], "invalid CIDR address: 'example.com'"),
    (['2001:db8::1/32'], 'invalid CIDR address: 2001:db8::1/32 has host bits set (it should be 2001:db8::/32). Fix: write '
                         '2001:db8::/32, or 2001:db8::1/128 for that address alone'),
    (['::ffff:192.0.2.1'], '::ffff:192.0.2.1: an IPv4-mapped IPv6 source never reaches a publication. Fix: write the IPv4 '
                           'address 192.0.2.1'),
    ('192.0.2.12', "must be a list of sources, got '192.0.2.12'. Fix: "),
])
def test_parse_allow_errors_name_the_entry_and_the_fix(values, words):
    with pytest.raises(PortError) as err:
        parse_allow(values)
    assert words in str(err.value)


def problems(**hosts):
    return inventory_problems(hosts, list(hosts))


def test_inventory_validation_names_the_variable_the_host_and_the_fix():
    found = problems(
        n1={'linuxnet_publish_allow': ['192.0.2.1/24'],
            'linuxnet_networks': [{'name': 'front', 'subnet': '173.20.0.0/16'}, {'name': 'back', 'publish_allow': 'not-a-list'}],
            'linuxnet_containers': [{'name': 'web', 'networks': ['front'],
                                     'ports': [{'publish': '8080:80', 'allow': ['10.0.0.300']},
                                               {'publish': '8081:81', 'allow': [], 'from': ['x']},
                                               {'allow': ['10.0.0.0/8']},
                                               '8082:82']}]})
    text = '\n'.join(found)
    assert len(found) == 5, text
    assert ('host n1: linuxnet_publish_allow: invalid CIDR address: 192.0.2.1/24 has host bits set (it should be '
            '192.0.2.0/24). Fix: write 192.0.2.0/24') in text
    assert "host n1: linuxnet_networks[1] (back): publish_allow: must be a list of sources, got 'not-a-list'" in text
    assert "host n1: linuxnet_containers[0] (web): ports[0] (8080:80): allow: invalid CIDR address: '10.0.0.300'" in text
    assert 'host n1: linuxnet_containers[0] (web): ports[1]: unknown key(s) from. Fix: use only allow, publish' in text
    assert 'host n1: linuxnet_containers[0] (web): ports[2] needs publish in docker -p syntax' in text
    assert all('Fix:' in p for p in found)


def test_dict_publications_are_checked_like_strings():
    found = problems(n1={'linuxnet_containers': [{'name': 'a', 'ports': [{'publish': '99999:80', 'allow': ['10.0.0.0/8']}]},
                                                 {'name': 'b', 'ports': ['8080:80']},
                                                 {'name': 'c', 'ports': [{'publish': '8080:80'}]}]})
    text = '\n'.join(found)
    assert 'host port 99999 is out of range' in text
    assert 'c and b both publish' in text or 'b and c both publish' in text
    assert problems(n1={'linuxnet_containers': [{'name': 'a', 'ports': [{'publish': '8080:80', 'allow': ['10.0.0.0/8']}]}]}) == []


def ports_plan(containers, networks=(), **hv):
    hv = dict(hv, linuxnet_networks=list(networks), linuxnet_containers=containers)
    assert problems(n1=hv) == []
    return plan_host('n1', hv, {})['ports']


def test_the_most_specific_allow_list_wins():
    nets = [{'name': 'front', 'subnet': '173.20.0.0/16', 'publish_allow': ['198.51.100.0/24']},
            {'name': 'open', 'subnet': '173.21.0.0/16', 'publish_allow': []}]
    found = ports_plan([
        {'name': 'web', 'networks': ['front'],
         'ports': ['8080:80', {'publish': '8443:443', 'allow': ['192.0.2.12']}, {'publish': '9000:90', 'allow': []}]},
        {'name': 'db', 'ports': ['5432:5432']},
        {'name': 'pub', 'networks': ['open'], 'ports': [{'publish': '8000:80'}]},
    ], nets, linuxnet_publish_allow=['10.0.0.0/8'])
    assert found == [
        # the network's default, then the publication's own list, then an explicit [] (everyone)
        {'name': 'web', 'container_ip': '173.20.0.2', 'publish': ['8080:80'], 'allow': ['198.51.100.0/24']},
        {'name': 'web', 'container_ip': '173.20.0.2', 'publish': ['8443:443'], 'allow': ['192.0.2.12']},
        {'name': 'web', 'container_ip': '173.20.0.2', 'publish': ['9000:90']},
        # the default network sets none: the host's
        {'name': 'db', 'container_ip': '172.17.0.2', 'publish': ['5432:5432'], 'allow': ['10.0.0.0/8']},
        # publish_allow: [] on the network: everyone, whatever the host says
        {'name': 'pub', 'container_ip': '173.21.0.2', 'publish': ['8000:80']},
    ]


def test_no_allow_list_anywhere_plans_what_it_did_before():
    assert ports_plan([{'name': 'web', 'ports': ['8080:80', '8081:81']}]) == [
        {'name': 'web', 'container_ip': '172.17.0.2', 'publish': ['8080:80', '8081:81']}]


def maps():
    return build_maps([('web', '172.17.0.2', parse_publish('8080:80')), ('db', '172.17.0.3', parse_publish('192.0.2.11:5432:5432')),
                       ('open', '172.17.0.4', parse_publish('9000:90'))])


ALLOW = {WEB: ('10.0.0.0/8', '192.0.2.12'), DB: ('198.51.100.0/24',)}


def test_elements_are_a_fixed_rule_layout_and_read_back_the_same():
    elements = port_map.elements_for(maps(), ALLOW)
    assert elements['restricted_any'] == [('tcp', 8080)]
    assert elements['restricted_addr'] == [('192.0.2.11', 'tcp', 5432)]
    assert elements['allow_any'] == [('10.0.0.0/8', 'tcp', 8080), ('192.0.2.12', 'tcp', 8080)]
    assert elements['allow_addr'] == [('198.51.100.0/24', '192.0.2.11', 'tcp', 5432)]
    assert allow_from_elements(elements) == ALLOW
    # the rules do not depend on the ports: the same ids with one port or 10,000
    assert [rid for chain, rid, _expr in port_map.RULES if chain == 'prerouting'] == [
        'no-remote-loopback', 'allow-addr', 'allow-any', 'dnat-addr', 'dnat-any']
    assert [rid for chain, rid, _expr in port_map.RULES if chain == 'output'] == ['dnat-addr', 'dnat-any']  # the host itself
    # /32 is written as nftables lists it back (a bare address), a prefix as {prefix}
    assert nft.element_json(('10.0.0.0/8', 'tcp', 8080)) == {'concat': [{'prefix': {'addr': '10.0.0.0', 'len': 8}}, 'tcp', 8080]}
    listed = [{'concat': [{'prefix': {'addr': '10.0.0.0', 'len': 8}}, 'tcp', 8080]}, {'concat': ['192.0.2.12', 'tcp', 8080]}]
    assert nft.sort_elements(nft.normalize_element(e) for e in listed) == elements['allow_any']


def test_an_unchanged_table_plans_no_commands_and_a_changed_list_only_its_elements():
    have = nft.TableState(None)
    have.exists = have.owned = True
    have.sets = port_map.elements_for(maps(), ALLOW)
    have.chains = nft.planned_rule_ids(port_map.CHAINS, port_map.RULES)
    assert nft.table_commands('ip', port_map.TABLE, port_map.MAPS, port_map.CHAINS, port_map.RULES, have,
                              port_map.elements_for(maps(), ALLOW)) == []
    cmds = nft.table_commands('ip', port_map.TABLE, port_map.MAPS, port_map.CHAINS, port_map.RULES, have,
                              port_map.elements_for(maps(), {WEB: ('192.0.2.12',)}))
    assert cmds == [
        {'delete': {'element': {'family': 'ip', 'table': 'linuxnet_ports', 'name': 'restricted_addr',
                                'elem': [{'concat': ['192.0.2.11', 'tcp', 5432]}]}}},
        {'delete': {'element': {'family': 'ip', 'table': 'linuxnet_ports', 'name': 'allow_any',
                                'elem': [{'concat': [{'prefix': {'addr': '10.0.0.0', 'len': 8}}, 'tcp', 8080]}]}}},
        {'delete': {'element': {'family': 'ip', 'table': 'linuxnet_ports', 'name': 'allow_addr',
                                'elem': [{'concat': [{'prefix': {'addr': '198.51.100.0', 'len': 24}}, '192.0.2.11', 'tcp', 5432]}]}}},
    ]


def desired(allow, state='present', exclusive=True, keys=None):
    wanted = maps() if keys is None else {k: v for k, v in maps().items() if k in keys}
    return {'state': state, 'exclusive': exclusive, 'maps': wanted, 'allow': allow}


def test_final_allow_lists():
    final = port_map._final_allow
    have = dict(ALLOW)
    # exclusive: exactly what is listed
    assert final(desired({WEB: ('192.0.2.12',)}), have, maps()) == {WEB: ('192.0.2.12',)}
    # not exclusive: the listed keys take their new list (none: everyone), the others keep theirs
    assert final(desired({}, exclusive=False, keys=[WEB]), have, maps()) == {DB: ('198.51.100.0/24',)}
    # a list with no source of the key's family: the host itself only (an empty tuple, kept)
    assert final(desired({WEB: ()}, exclusive=False, keys=[WEB]), have, maps()) == {WEB: (), DB: ('198.51.100.0/24',)}
    # unpublished: its list goes with it
    remaining = {k: v for k, v in maps().items() if k != DB}
    assert final(desired({}, state='absent', keys=[DB]), have, remaining) == {WEB: ALLOW[WEB]}


def test_summary_and_diff_show_the_allow_lists_that_change():
    reconciler = port_map.PortMapReconciler(type('Module', (), {'check_mode': False})(), None, None)
    before = port_map._summary(maps(), ALLOW, {})
    after = port_map._summary(maps(), {WEB: ('192.0.2.12',), DB: ALLOW[DB]}, {})
    assert before['allow'] == {'0.0.0.0:8080/tcp': ['10.0.0.0/8', '192.0.2.12'], '192.0.2.11:5432/tcp': ['198.51.100.0/24']}
    old, new = reconciler.diff_view(before, after)
    assert old['allow'] == {'0.0.0.0:8080/tcp': ['10.0.0.0/8', '192.0.2.12']} and new['allow'] == {'0.0.0.0:8080/tcp': ['192.0.2.12']}
    assert old['ports'] == {} == new['ports']
    assert reconciler.diff_view(ABSENT, after) == (ABSENT, after)


def test_module_argument_allow_per_item():
    spec = port_map.module_spec()['argument_spec']['ports']['options']
    assert spec['allow'] == {'type': 'list', 'elements': 'str', 'default': []}


def test_allow_lines_and_network_info_next_to_the_port_bindings():
    assert allow_lines(maps(), ALLOW) == {'172.17.0.2': {'80/tcp -> 0.0.0.0:8080': ['10.0.0.0/8', '192.0.2.12']},
                                          '172.17.0.3': {'5432/tcp -> 192.0.2.11:5432': ['198.51.100.0/24']}}
    endpoints = [{'container': 'web', 'addresses': ['172.17.0.2/16']}, {'container': 'db', 'addresses': ['172.17.0.3/16']},
                 {'container': 'open', 'addresses': ['172.17.0.4/16']}]
    published = inspect.published_maps(port_map.elements_for(maps(), ALLOW))
    assert inspect.port_allow(published, ALLOW, endpoints) == {
        'db': {'5432/tcp -> 192.0.2.11:5432': ['198.51.100.0/24']},
        'web': {'80/tcp -> 0.0.0.0:8080': ['10.0.0.0/8', '192.0.2.12']}}
    assert inspect.port_lines(published, endpoints)['web'] == ['80/tcp -> 0.0.0.0:8080']


def test_allow_lists_of_both_families_and_per_family_sources():
    from ansible_collections.linuxnet.container.plugins.module_utils._common.ports import sources_for
    allow = parse_allow(['2001:db8:1::/48', '192.0.2.12', '2001:db8::/32', '198.51.100.0/24'])
    assert allow == ('192.0.2.12', '198.51.100.0/24', '2001:db8::/32')
    assert sources_for(allow, 4) == ('192.0.2.12', '198.51.100.0/24') and sources_for(allow, 6) == ('2001:db8::/32',)
    # a list that names no IPv6 source lets no IPv6 client in (only the host itself), and the reverse
    assert sources_for(parse_allow(['192.0.2.12']), 6) == ()
    assert sources_for(parse_allow(['2001:db8::1']), 4) == () and parse_allow(['2001:db8::1']) == ('2001:db8::1',)
    # everyone: no list, 0.0.0.0/0 alone (as before IPv6), or both /0; one family's /0 opens that family only
    assert parse_allow([]) == () and parse_allow(['0.0.0.0/0']) == () and parse_allow(['0.0.0.0/0', '::/0']) == ()
    assert sources_for(parse_allow([]), 6) is None
    mixed = parse_allow(['::/0', '192.0.2.12'])
    assert sources_for(mixed, 6) is None and sources_for(mixed, 4) == ('192.0.2.12',)
