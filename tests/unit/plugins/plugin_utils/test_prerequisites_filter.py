# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The prerequisites role's comparison of a host's record with the run (plugins/filter/prerequisites.py)."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys

import pytest
import yaml

from ansible.errors import AnsibleFilterError
from ansible_collections.linuxnet.container.plugins.filter.prerequisites import (
    files_digest,
    prerequisites_record,
    prerequisites_state,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
ROLE = os.path.join(ROOT, 'roles', 'prerequisites')
with open(os.path.join(ROLE, 'vars', 'main.yml')) as _handle:
    ROLE_VARS = yaml.safe_load(_handle)
NAMES = ROLE_VARS['__prerequisites_os_package_names']
REQUIREMENTS = [ROLE_VARS['__prerequisites_pip_requirement']] + ROLE_VARS['__prerequisites_python_requirements']
RESTORE = {'boot': True, 'nftables': True, 'firewalld': True, 'watch': False}


def state(record, **kwargs):
    args = dict(requirements=REQUIREMENTS, files=os.path.join(ROLE, 'files'), restore=RESTORE, source='offline',
                os_packages=True, os_package_names=NAMES, evpn=False)
    args.update(kwargs)
    return prerequisites_state(record, **args)


def written(**kwargs):
    """The record a converge of this run writes on a Debian host where the packages are installed."""
    now = state({}, os_family='Debian', **kwargs)
    return {'manifest': now['manifest'].splitlines(), 'os_family': 'Debian', 'os_wanted': now['os_wanted'],
            'os_query': ['ii %s' % name for name in now['os_wanted']], 'frr_dropin': False,
            'python': '/opt/linuxnet-container/venv/bin/python'}


def test_the_record_is_read_from_what_the_host_printed():
    body = {'manifest': ['pip==24.2'], 'os_family': 'Debian'}
    assert prerequisites_record('\n' + json.dumps(body) + '\n') == body
    # A bare host prints nothing; a damaged record is no record.
    assert prerequisites_record('') == {}
    assert prerequisites_record(None) == {}
    assert prerequisites_record('{"manifest": [') == {}
    assert prerequisites_record('["a"]') == {}


def test_a_record_of_this_run_needs_nothing():
    now = state(written())
    assert now['needed'] is False and now['install'] is False
    assert now['os_wanted'] == ['iproute2', 'nftables'] and now['os_missing'] == []


def test_the_manifest_names_the_pins_the_options_and_the_files():
    now = state({})
    lines = now['manifest'].splitlines()
    assert lines[:-1] == REQUIREMENTS
    assert lines[-1] == '# restore: boot=True nftables=True firewalld=True watch=False files=%s' % files_digest(
        os.path.join(ROLE, 'files'))
    assert now['manifest'].endswith('\n')


def test_the_files_digest_is_the_one_the_role_wrote_before(tmp_path):
    """Each file without trailing white space, in name order, concatenated: what query('file', fileglob) gave, so
    hosts recorded by earlier versions keep their record."""
    (tmp_path / 'b').write_text('second\n\n')
    (tmp_path / 'a').write_text('first \n')
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'sub' / 'c').write_text('not a file of the directory itself')
    assert files_digest(str(tmp_path)) == hashlib.sha1(b'firstsecond').hexdigest()
    assert files_digest(str(tmp_path / 'missing')) == hashlib.sha1(b'').hexdigest()


@pytest.mark.parametrize('change, why', [
    (dict(requirements=REQUIREMENTS[:-1] + ['netaddr==9.9.9']), 'a pin changed'),
    (dict(restore=dict(RESTORE, watch=True)), 'an option changed'),
    (dict(evpn=True), 'FRR is wanted now'),
])
def test_a_change_of_this_run_installs_again(change, why):
    now = state(written(), **change)
    assert now['install'] and now['needed'], why


def test_a_changed_role_file_installs_again(tmp_path):
    files = tmp_path / 'files'
    files.mkdir()
    (files / 'unit').write_text('one')
    record = {**written(), 'manifest': state({}, files=str(files))['manifest'].splitlines()}
    assert not state(record, files=str(files))['install']
    (files / 'unit').write_text('two')
    assert state(record, files=str(files))['install']


@pytest.mark.parametrize('key', ['python', 'frr_dropin', 'os_family'])
def test_a_record_of_an_earlier_version_or_a_venv_without_python_installs_again(key):
    record = written()
    if key == 'python':
        record['python'] = ''
    else:
        del record[key]
    assert state(record)['install']


def test_a_package_removed_by_hand_is_missing_but_the_pins_stay():
    record = written()
    record['os_query'] = ['ii iproute2', 'un nftables']
    now = state(record)
    assert now['os_missing'] == ['nftables'] and now['needed'] and not now['install']
    # Without the OS packages, nothing is missing.
    record['os_wanted'] = []
    assert not state(record, os_packages=False)['needed']


def test_the_role_s_own_query_wins_over_the_record_s():
    now = state(written(), query_lines=['ii iproute2'])
    assert now['os_missing'] == ['nftables']


def test_an_unknown_family_a_wrong_source_and_an_unpinned_requirement_are_needed_so_the_role_refuses_them():
    record = dict(written(), os_family='Gentoo')
    assert state(record)['needed'] and state(record)['os_wanted'] == []
    assert not state(record, os_packages=False)['os_wanted']
    assert state(written(), source='pypi')['needed']
    now = state(written(), extra_requirements=['requests', 'six==1.16.0'])
    assert now['unpinned'] == ['requests'] and now['needed']


def test_setup_s_family_wins_over_the_record_s_and_rpm_lines_count():
    record = dict(written(), os_family='Debian', os_query=['iproute', 'nftables', 'package python3-pip is not installed'])
    now = state(record, os_family='RedHat', source='index')
    assert now['os_family'] == 'RedHat' and now['os_missing'] == ['python3-pip']


def test_wrong_types_fail_with_the_argument_named():
    with pytest.raises(AnsibleFilterError, match='must be a dict'):
        state('{}')
    with pytest.raises(AnsibleFilterError, match='lists'):
        state({}, requirements='pip')
    with pytest.raises(AnsibleFilterError, match='os_packages'):
        state({}, os_packages='maybe')


def test_the_filter_files_load_without_the_drawing_code():
    """Ansible imports every filter file of the collection to find one filter, in each host's worker: none of them may
    pull in the SVG code's imports (xml.sax.saxutils imports urllib.request, http.client and ssl)."""
    heavy = ('xml.sax.saxutils', 'urllib.request', 'http.client', 'ssl',
             'ansible_collections.linuxnet.container.plugins.plugin_utils._plan.picture')
    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name in heavy or name.startswith(
        'ansible_collections.linuxnet.container.plugins.filter.')}
    try:
        for name in ('inventory', 'topology', 'prerequisites'):
            importlib.import_module('ansible_collections.linuxnet.container.plugins.filter.' + name)
        assert [name for name in heavy if name in sys.modules] == []
    finally:
        sys.modules.update(saved)
