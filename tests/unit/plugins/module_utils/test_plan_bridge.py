# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""bridge: the pure planner (plan_bridges) against recorded kernel states, no kernel."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT
from ansible_collections.linuxnet.container.plugins.module_utils._parts import bridge as br
from ansible_collections.linuxnet.container.tests.unit.recorded_links import bridge_link, kinds, link

LABEL = 'bridge docker0 in the host namespace'


class Module:
    def __init__(self, params):
        self.params = params


def desired(**item):
    params = {'name': 'docker0', 'bridges': None, 'namespace': None, 'state': 'present', 'addresses': ['172.17.0.1/16'],
              'purge_addresses': True, 'mtu': None, 'mac': '02:42:ac:11:00:01', 'stp': None, 'vlan_filtering': None,
              'link_state': 'up', 'ports': None, 'purge_ports': False}
    params.update(item)
    return br._desired(Module(params))


def read(info, addresses, ports):
    """The state read() makes of a bridge (info: as NsView.link() decodes the kernel's RTM_NEWLINK)."""
    return {'docker0': {'name': info['name'], 'namespace': None, 'state': 'present', 'kind': info['kind'], 'owned': True,
                        'up': info['up'], 'mtu': info['mtu'], 'mac': info['mac'], 'stp': info.get('stp', False),
                        'vlan_filtering': info.get('vlan_filtering', False), 'addresses': addresses, 'ports': ports}}


def facts(index=3, **ports):
    return {'docker0': {'namespace_exists': True, 'index': index, 'ports': ports}}


DOCKER0 = bridge_link(3, 'docker0', mac='02:42:ac:11:00:01')
CURRENT = read(DOCKER0, ['172.17.0.1/16'], ['veth1'])


def test_create_from_nothing():
    want = desired(mtu=1450, ports=['veth1'])
    fact = {'docker0': {'namespace_exists': True, 'index': None, 'ports': {'veth1': 7}}}
    actions, predicted = br.plan_bridges(want, {'docker0': ABSENT}, fact)
    assert kinds(actions) == [('link_create', 'create %s with mtu 1450, mac 02:42:ac:11:00:01' % LABEL),
                              ('addr', 'add address 172.17.0.1/16 to %s' % LABEL),
                              ('link_set', 'enslave veth1 to %s' % LABEL)]
    assert actions[0]['attrs'] == {'kind': 'bridge', 'mtu': 1450, 'address': '02:42:ac:11:00:01'}
    assert actions[0]['then'] == {'ifalias': 'linuxnet.container', 'state': 'up'}
    assert actions[1]['index'] is None  # the bridge's, known once it exists
    assert (actions[2]['index'], actions[2]['master_created']) == (7, 'docker0')
    assert predicted == {'docker0': {'name': 'docker0', 'namespace': None, 'state': 'present', 'kind': 'bridge', 'owned': True,
                                     'up': True, 'mtu': 1450, 'mac': '02:42:ac:11:00:01', 'stp': False, 'vlan_filtering': False,
                                     'addresses': ['172.17.0.1/16'], 'ports': ['veth1']}}


def test_equal_is_no_action_and_predicts_the_current_state():
    actions, predicted = br.plan_bridges(desired(ports=['veth1']), copy.deepcopy(CURRENT), facts(veth1=7))
    assert actions == []
    assert predicted == CURRENT


@pytest.mark.parametrize('info, addresses, words', [
    (bridge_link(3, 'docker0', mac='02:42:ac:11:00:01', mtu=9000), ['172.17.0.1/16'], ['set mtu 1450 of %s' % LABEL]),
    (bridge_link(3, 'docker0', mtu=1450, mac='02:42:ac:11:00:99'), ['172.17.0.1/16'], ['set mac 02:42:ac:11:00:01 of %s' % LABEL]),
    (bridge_link(3, 'docker0', mtu=1450, mac='02:42:ac:11:00:01', up=False), ['172.17.0.1/16'], ['bring up %s' % LABEL]),
    (bridge_link(3, 'docker0', mtu=1450, mac='02:42:ac:11:00:01'), [], ['add address 172.17.0.1/16 to %s' % LABEL]),
    (bridge_link(3, 'docker0', mtu=1450, mac='02:42:ac:11:00:01', stp=True), ['172.17.0.1/16'], ['set stp off of %s' % LABEL]),
])
def test_each_drift_is_repaired(info, addresses, words):
    actions, predicted = br.plan_bridges(desired(mtu=1450, stp=False, ports=['veth1']), read(info, addresses, ['veth1']),
                                         facts(veth1=7))
    assert [a['description'] for a in actions] == words
    assert predicted['docker0'] == dict(CURRENT['docker0'], mtu=1450)
    assert all(a['index'] == 3 for a in actions)


def test_port_enslaved_and_unlisted_port_released():
    actions, predicted = br.plan_bridges(desired(ports=['veth2'], purge_ports=True), copy.deepcopy(CURRENT), facts(veth1=7, veth2=8))
    assert [(a['description'], a['name'], a['index'], a['attrs']) for a in actions] == [
        ('enslave veth2 to %s' % LABEL, 'veth2', 8, {'master': 3}),
        ('release port veth1 from %s (not listed)' % LABEL, 'veth1', 7, {'master': 0})]
    assert predicted['docker0']['ports'] == ['veth2']


def test_bring_down_goes_last():
    actions, predicted = br.plan_bridges(desired(link_state='down', addresses=['172.17.0.2/16']), copy.deepcopy(CURRENT), facts())
    assert [a['description'] for a in actions] == ['remove address 172.17.0.1/16 from %s (not listed)' % LABEL,
                                                   'add address 172.17.0.2/16 to %s' % LABEL, 'bring down %s' % LABEL]
    assert predicted['docker0']['up'] is False


def test_removal():
    actions, predicted = br.plan_bridges(desired(state='absent'), copy.deepcopy(CURRENT), facts())
    assert kinds(actions) == [('link_del', 'delete %s, releasing its ports veth1' % LABEL)]
    assert actions[0]['index'] == 3 and predicted == {'docker0': ABSENT}
    assert br.plan_bridges(desired(state='absent'), {'docker0': ABSENT}, facts(index=None)) == ([], {'docker0': ABSENT})


def test_refusals():
    with pytest.raises(LinuxnetError, match='port veth9 does not exist in the host namespace'):
        br.plan_bridges(desired(ports=['veth9']), copy.deepcopy(CURRENT), facts(veth9=None))
    with pytest.raises(LinuxnetError, match='docker0 already exists and is a veth link, not a bridge'):
        br.plan_bridges(desired(), read(link(3, 'docker0', kind='veth'), [], []), facts())
    with pytest.raises(LinuxnetError, match='network namespace c1 does not exist. Fix: create it first'):
        br.plan_bridges(desired(namespace='c1'), {'c1/docker0': ABSENT},
                        {'c1/docker0': {'namespace_exists': False, 'index': None, 'ports': {}, 'hint': ''}})
