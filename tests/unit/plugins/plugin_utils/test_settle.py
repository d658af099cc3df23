# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""When the bridge_network role reads through the host's own code and skips a converge (plugin_utils/_plan/settle.py),
and the planner filter's part of it."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from ansible_collections.linuxnet.container.plugins.filter.inventory import FilterModule
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan import settle

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PLAN = {'namespaces': [{'name': 'web'}], 'isolation': [{'bridge': 'docker0'}], 'ports': [], 'vtep_members': [],
        'warnings': []}


def _answer(tag, in_sync=True, records=('bridge_network',), read=None):
    return {'stdout': json.dumps({'tag': tag, 'in_sync': in_sync, 'records': list(records),
                                  'read': read if read is not None else {'tables': [], 'ports': {}}}) + '\r\n',
            'rc': 0, 'changed': False}


def test_code_id_covers_the_host_code_and_the_role_tasks(tmp_path):
    assert settle.code_id() == settle.code_id(ROOT) and len(settle.code_id()) == 32
    copy = tmp_path / 'c'
    for part in ('plugins/module_utils', 'plugins/modules', 'roles/bridge_network/tasks'):
        shutil.copytree(os.path.join(ROOT, part), copy / part, ignore=shutil.ignore_patterns('__pycache__'))
    assert settle.code_id(str(copy)) == settle.code_id()  # where the collection is does not matter
    for changed in ('plugins/module_utils/_converge/read.py', 'roles/bridge_network/tasks/main.yml'):
        other = tmp_path / changed.replace('/', '_')
        shutil.copytree(copy, other)
        with open(other / changed, 'a') as handle:
            handle.write('\n# changed\n')
        assert settle.code_id(str(other)) != settle.code_id(), changed


def test_the_request_carries_the_code_id_and_network_info_options():
    request = FilterModule().filters()['read_request']({'linuxnet_containers': [{'name': 'web'}, {'name': 'h', 'network_mode': 'host'}]})
    assert request['code'] == settle.code_id() and request['record'] == 'bridge_network'
    assert request['read']['containers'] == ['web'] and request['read']['interfaces'] is True and request['check'] is True
    assert FilterModule().filters()['read_request']({}, False)['check'] is False
    assert [n['name'] for n in request['read']['networks']] == ['bridge', 'docker_gwbridge']


@pytest.mark.parametrize('result', [
    None, {'skipped': True, 'changed': False}, {'stdout': '', 'rc': 0}, {'stdout': 'linuxnet-container: usage', 'rc': 2},
    {'stdout': '{"tag": 1, "read": {}}'}, {'stdout': '{"tag": "x"}'}, {'stdout': '{not json'},
])
def test_no_answer_means_the_module_reads(result):
    assert settle.answer(result) is None
    assert FilterModule().filters()['read_answered'](result) is False
    assert settle.facts_of({'r': result}, ['r', 'm']) == ({}, None)


def test_the_answer_follows_the_frr_marker_line():
    """The role's raw read prints a marker first where FRR has the collection's drop-in (with \\r\\n over a tty)."""
    raw = _answer('t', read={'tables': []})
    marked = {'stdout': 'linuxnet-container-frr-dropin\r\n' + raw['stdout'] + '\r\n'}
    assert settle.answer(raw) is not None
    assert settle.answer(marked) == settle.answer(raw)
    assert settle.answer({'stdout': 'linuxnet-container-frr-dropin\r\n'}) is None


def test_facts_come_from_the_answer_or_else_from_the_module():
    module = {'changed': False, 'networks': [], 'tables': ['inet linuxnet_isolation']}
    raw = _answer('t', read={'tables': ['ip linuxnet_ports']})
    assert settle.facts_of({'r': raw, 'm': {'skipped': True}}, ['r', 'm'])[0] == {'tables': ['ip linuxnet_ports']}
    assert FilterModule().filters()['read_answered'](raw) is True
    assert settle.facts_of({'r': {'stdout': ''}, 'm': module}, ['r', 'm']) == (module, None)
    assert settle.facts_of({'m': module}, 'm') == (module, None)


def test_the_tag_changes_with_the_plan_and_the_role_variables_and_not_with_warnings():
    base = settle.tag(PLAN, {})
    assert base.split(' ')[0] == settle.code_id()
    assert settle.tag(dict(PLAN, warnings=['w']), {}) == base
    assert settle.tag(dict(PLAN, ports=[{'container': 'web'}]), {}) != base
    assert settle.tag(PLAN, {'linuxnet_kill_holders': True}) != base
    assert settle.tag(PLAN, {'linuxnet_persist': False}) != base
    # An empty host plans the same whether it is kept or torn down: the state the play plans tells them apart.
    assert settle.tag(PLAN, {}, 'absent') != base and settle.tag(PLAN, {}, 'present') == base


def test_vtep_filter_argument():
    assert settle.vtep_filter(dict(PLAN, vtep_members=[{'vni': 1}]), {}) == {'members': [{'vni': 1}], 'state': 'present'}
    assert settle.vtep_filter(PLAN, {'tables': ['inet linuxnet_vtep']}) == {'members': [], 'state': 'absent'}
    assert settle.vtep_filter(PLAN, {'tables': []}) is None


@pytest.mark.parametrize('change, facts, expected', [
    ({}, {'tables': ['inet linuxnet_isolation']}, True),
    ({}, {'tables': [], 'ports': {}}, True),
    ({}, {'tables': [], 'ports': {'web': []}}, True),  # a container with nothing published
    ({'tag': 'other'}, {'tables': []}, False),  # another plan, or another version of the code
    ({'in_sync': False}, {'tables': []}, False),  # drift: apply --check would change something
    ({'records': ['bridge_network', 'overlay_network']}, {'tables': []}, False),  # the earlier two-record layout
    ({}, {'tables': ['ip linuxnet_ports']}, False),  # ports published no longer: their table is to go
    ({}, {'tables': [], 'ports': {'web': ['80/tcp -> 0.0.0.0:8080']}}, False),
])
def test_settled_only_when_the_host_holds_this_plan_and_nothing_would_change(change, facts, expected):
    plan = dict(PLAN, vtep_filter=None)
    plan['tag'] = settle.tag(plan, {})
    answer = json.loads(_answer(change.get('tag', plan['tag']), change.get('in_sync', True),
                                change.get('records', ['bridge_network']))['stdout'])
    assert settle.settled(plan, answer, facts) is expected


def test_not_settled_without_an_answer_or_with_isolation_to_remove():
    plan = dict(PLAN, vtep_filter=None)
    plan['tag'] = settle.tag(plan, {})
    answer = json.loads(_answer(plan['tag'])['stdout'])
    assert not settle.settled(plan, None, {})
    assert not settle.settled(dict(plan, isolation=[]), answer, {'tables': ['inet linuxnet_isolation']})
    assert settle.settled(dict(plan, isolation=[]), answer, {'tables': []})
    assert not settle.settled(dict(plan, vtep_filter={'members': [], 'state': 'absent'}), answer, {'tables': []})


def test_the_planner_settles_a_host_whose_answer_carries_its_plan():
    plans = FilterModule().filters()['bridge_network_plans']
    hostvars = {'h1': {'linuxnet_containers': [{'name': 'web'}]}}
    first = plans(hostvars, ['h1'], ['h1'], facts=['r', 'm'])['h1']
    assert first['settled'] is False and first['vtep_filter'] is None and first['tag'].startswith(settle.code_id())
    hostvars['h1']['r'] = _answer(first['tag'])
    again = plans(hostvars, ['h1'], ['h1'], facts=['r', 'm'])['h1']
    assert again['tag'] == first['tag'] and again['settled'] is True
    assert plans(hostvars, ['h1'], ['h1'], 'absent', facts=['r', 'm'])['h1']['settled'] is False  # teardown
    hostvars['h1']['linuxnet_skip_settled'] = 'false'
    assert plans(hostvars, ['h1'], ['h1'], facts=['r', 'm'])['h1']['settled'] is False
    del hostvars['h1']['linuxnet_skip_settled']
    hostvars['h1']['linuxnet_containers'].append({'name': 'db'})
    assert plans(hostvars, ['h1'], ['h1'], facts=['r', 'm'])['h1']['settled'] is False
