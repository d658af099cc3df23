# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one link-attribute planner of bridge, veth and macvlan, and the address planner: pure, no kernel."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import (
    address_actions,
    apply_link_action,
    link_attr_actions,
)
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef

HOST = NamespaceRef(None)
TARGET = (HOST, 'veth1', 7)
LABEL = 'veth1 (host)'


def now_of(**extra):
    state = {'mtu': 1500, 'mac': '02:42:ac:11:00:02', 'master': 'docker0', 'up': True, 'stp': False, 'vlan_filtering': False,
             'addresses': ['172.17.0.2/16'], 'routes': [{'dst': '0.0.0.0/0', 'gateway': '172.17.0.1'}]}
    state.update(extra)
    return state


def test_nothing_differs_nothing_to_do():
    now = now_of()
    before = copy.deepcopy(now)
    assert link_attr_actions('k', LABEL, TARGET, now, mtu=1500, mac='02:42:ac:11:00:02', master='docker0', master_index=3,
                             up=True, stp=False, vlan_filtering=False) == []
    assert link_attr_actions('k', LABEL, TARGET, now) == []  # None wants nothing
    assert now == before


def test_every_drift_is_one_request_in_a_fixed_order():
    now = now_of(mtu=9000, mac='02:42:ac:11:00:99', master='br-old', up=False)
    acts = link_attr_actions('k', LABEL, TARGET, now, mtu=1450, mac='02:42:ac:11:00:02', master='docker0', master_index=3, up=True)
    assert acts == [{'kind': 'link_set', 'key': 'k', 'description': 'set mtu 1450, mac 02:42:ac:11:00:02, master docker0, up of veth1 (host)',
                     'phase': 0, 'ref': HOST, 'name': 'veth1', 'index': 7, 'what': 'set mtu 1450, mac 02:42:ac:11:00:02, master docker0, up',
                     'attrs': {'mtu': 1450, 'address': '02:42:ac:11:00:02', 'master': 3, 'state': 'up'}}]
    assert (now['mtu'], now['mac'], now['master'], now['up']) == (1450, '02:42:ac:11:00:02', 'docker0', True)


def test_bridge_options_and_no_bring_down():
    now = now_of(stp=False, vlan_filtering=True)
    acts = link_attr_actions('k', 'bridge br0', TARGET, now, stp=True, vlan_filtering=False, up=False)
    assert [a['description'] for a in acts] == ['set stp on, vlan_filtering off of bridge br0']
    assert acts[0]['attrs'] == {'kind': 'bridge', 'br_stp_state': 1, 'br_vlan_filtering': 0}
    assert now['up'] is True  # bringing down is the caller's, last


@pytest.mark.parametrize('field, value, word', [('mtu', 1400, 'mtu 1400'), ('mac', '02:42:00:00:00:01', 'mac 02:42:00:00:00:01'),
                                                ('master', 'br-x', 'master br-x')])
def test_one_drift_one_word(field, value, word):
    now = now_of()
    acts = link_attr_actions('k', LABEL, TARGET, now, **{field: value})
    assert [a['what'] for a in acts] == ['set ' + word]
    assert now[field] == value


def test_addresses_removed_first_secondary_put_back_routes_added_again():
    now = now_of(addresses=['172.17.0.2/16', '172.17.0.3/16', '2001:db8::2/64'])
    acts = address_actions('k', LABEL, TARGET, now, ['172.17.0.3/16', '2001:db8::2/64', '10.0.0.2/24'], True,
                           [{'dst': '0.0.0.0/0', 'gateway': '172.17.0.1'}])
    assert [(a['kind'], a.get('command'), a.get('address')) for a in acts] == [
        ('addr', 'del', '172.17.0.2/16'), ('addr', 'replace', '172.17.0.3/16'), ('addr', 'add', '10.0.0.2/24')]
    assert now['addresses'] == ['10.0.0.2/24', '172.17.0.3/16', '2001:db8::2/64']
    # The last IPv4 address was not removed, so the default route stays: nothing to add.
    assert now['routes'] == [{'dst': '0.0.0.0/0', 'gateway': '172.17.0.1'}]


def test_losing_the_last_ipv4_address_flushes_the_routes_which_are_added_again():
    now = now_of(addresses=['172.17.0.2/16'])
    acts = address_actions('k', LABEL, TARGET, now, ['172.18.0.2/16'], True, [{'dst': '0.0.0.0/0', 'gateway': '172.18.0.1'}])
    assert [a['description'] for a in acts] == ['remove address 172.17.0.2/16 from veth1 (host) (not listed)',
                                                'add address 172.18.0.2/16 to veth1 (host)',
                                                'add route default via 172.18.0.1 to veth1 (host)']
    assert acts[-1]['route'] == {'dst': '0.0.0.0/0', 'gateway': '172.18.0.1'}


class Recorder:
    """The Writer's interface, recording the calls."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, method):
        def record(*args, **kwargs):
            self.calls.append((method, args[1:], kwargs))
            return 42 if method == 'index' else None
        return record


def test_apply_resolves_links_this_run_creates():
    writer, created = Recorder(), {}
    create = {'kind': 'link_create', 'ref': HOST, 'name': 'br0', 'what': 'create bridge', 'attrs': {'kind': 'bridge'},
              'then_what': 'tag', 'then': {'ifalias': 'linuxnet.container'}}
    apply_link_action(create, writer, created)
    apply_link_action({'kind': 'link_set', 'ref': HOST, 'name': 'veth1', 'index': 7, 'what': 'enslave', 'attrs': {'master': None},
                       'master_created': 'br0'}, writer, created)
    apply_link_action({'kind': 'addr', 'ref': HOST, 'name': 'br0', 'index': None, 'command': 'add', 'address': '10.0.0.1/24'},
                      writer, created)
    assert created == {(HOST.path, 'br0'): 42}
    assert writer.calls == [('link_add', ('br0', 'create bridge'), {'kind': 'bridge'}), ('index', ('br0',), {}),
                            ('link_set', ('br0', 42, 'tag'), {'ifalias': 'linuxnet.container'}),
                            ('link_set', ('veth1', 7, 'enslave'), {'master': 42}),
                            ('addr', ('br0', 42, 'add', '10.0.0.1/24'), {})]
    with pytest.raises(ValueError, match='no link action'):
        apply_link_action({'kind': 'nonsense', 'ref': HOST, 'name': 'x', 'index': 1}, writer, created)
