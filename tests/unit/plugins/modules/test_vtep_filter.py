# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vtep_filter: inputs, the drop rules and the description of a change (no nft, no kernel); the planner is tested in
module_utils/test_plan_vtep_filter.py."""

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._parts import vtep_filter as vf


def params(**kwargs):
    base = {'vteps': ['192.0.2.11', '192.0.2.12'], 'ports': [4789], 'namespace': None, 'state': 'present'}
    base.update(kwargs)
    return base


def test_addresses_are_normalised_deduplicated_and_split_by_family():
    desired = vf.desired_state(params(vteps=['192.0.2.12', ' 192.0.2.11', '192.0.2.12', '2001:DB8::0012'], ports=[8472, 4789, 4789]))
    assert desired['sets'] == {'vteps4': ['192.0.2.11', '192.0.2.12'], 'vteps6': ['2001:db8::12'], 'ports': [4789, 8472]}
    assert vf.desired_state(params(state='absent', vteps=[])) is None


@pytest.mark.parametrize('kwargs, message', [
    ({'vteps': []}, 'vteps and members are both empty'),
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
    ({'vteps': [], 'members': [{'vni': 256, 'vteps': []}]}, 'vteps and members are both empty'),
    ({'members': [{'vni': 0, 'vteps': ['192.0.2.13']}]}, 'members[0]: vni 0 is not a VXLAN network identifier'),
    ({'members': [{'vni': 256, 'vteps': []}, {'vni': 16777216, 'vteps': ['192.0.2.13']}]}, 'members[1]: vni 16777216 is not'),
    ({'members': [{'vni': 256, 'vteps': ['192.0.2.13', '192.0.2.0/24']}]}, "members[0] (vni 256): vteps[1] '192.0.2.0/24' is a network"),
    ({'members': [{'vni': 256, 'vteps': ['node3']}]}, "members[0] (vni 256): vteps[0] 'node3' is not an IP address"),
    ({'members': [{'vni': 256, 'vteps': ['ff02::1']}]}, 'is not a unicast address'),
])
def test_bad_inputs_name_the_item_and_the_fix(kwargs, message):
    with pytest.raises(LinuxnetError) as err:
        vf.desired_state(params(**kwargs))
    assert message in err.value.msg and 'Fix:' in err.value.msg


def test_members_are_normalised_merged_by_vni_and_split_by_family():
    desired = vf.desired_state(params(vteps=[], members=[{'vni': 257, 'vteps': ['192.0.2.13']},
                                                         {'vni': 256, 'vteps': ['2001:DB8::12', ' 192.0.2.12']},
                                                         {'vni': 257, 'vteps': ['192.0.2.13', '192.0.2.11']}]))
    assert desired['members'] == {4: [('192.0.2.11', 257), ('192.0.2.12', 256), ('192.0.2.13', 257)], 6: [('2001:db8::12', 256)]}
    assert desired['sets']['vteps4'] == [] and desired['sets']['vteps6'] == []
    assert vf.desired_state(params())['members'] == {4: [], 6: []}


def test_the_drop_rules_match_the_port_set_and_a_source_outside_the_vtep_set():
    for (chain, rid, expr), proto, vset in zip(vf.RULES, ('ip', 'ip6'), ('@vteps4', '@vteps6')):
        assert chain == 'input'
        matches = [e['match'] for e in expr if 'match' in e]
        assert {'op': '==', 'left': {'payload': {'protocol': 'udp', 'field': 'dport'}}, 'right': '@ports'} in matches
        assert {'op': '!=', 'left': {'payload': {'protocol': proto, 'field': 'saddr'}}, 'right': vset} in matches
        assert expr[-2:] == [{'counter': None}, {'drop': None}]


def test_the_drop_rules_take_the_members_of_their_family_only():
    ipv4, ipv6 = vf.rules({4: [('192.0.2.13', 257)], 6: []})
    assert ipv4[2][3]['match']['right'] == {'set': [{'concat': ['192.0.2.13', 257]}]}
    assert ipv6[2] == vf.RULES[1][2]


def test_describe_says_what_changes():
    before = {'vteps': ['192.0.2.11', '192.0.2.99'], 'ports': [4789], 'rules': {'input': ['drop-ipv4', 'drop-ipv6']}}
    after = {'vteps': ['192.0.2.11', '192.0.2.12'], 'ports': [4789], 'rules': {'input': ['drop-ipv4', 'drop-ipv6']}}
    assert vf.describe(before, after) == 'allow VTEP 192.0.2.12; remove VTEP 192.0.2.99'
    assert vf.describe(None, after) == 'accept VXLAN on UDP 4789 only from 192.0.2.11, 192.0.2.12'
    assert vf.describe(after, after, {'input': 1}) == 'restore the rules of chain input'
    assert vf.describe(dict(after, rules={'input': ['drop-ipv4']}), after) == 'restore the rules of chain input'
