# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The recorded desired state: which records a converge keeps, atomic writes, the reproducible code archive, the
lock, and the host-local command's exit statuses and rate limit."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._converge import apply
from ansible_collections.linuxnet.container.plugins.module_utils._converge import persist
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError

BRIDGE = {'netns': {'namespaces': [{'name': 'web'}]}}
OVERLAY = {'vxlan': {'devices': []}}


class FakeNetlink:
    """Netlink() for code whose kernel calls a test replaces."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def names(doc):
    return [r['name'] for r in doc['records']] if doc else None


def test_records_keep_their_order_and_keep_drops_what_the_run_no_longer_makes():
    doc = persist.plan(None, 'bridge_network', BRIDGE, keep=['overlay_network'])
    doc = persist.plan(doc, 'overlay_network', OVERLAY)
    assert names(doc) == ['bridge_network', 'overlay_network']
    # The same run again: the same document (nothing to write, the run is changed=0).
    again = persist.plan(doc, 'bridge_network', BRIDGE, keep=['overlay_network'])
    assert persist.encode(persist.plan(again, 'overlay_network', OVERLAY)) == persist.encode(doc)
    # A run with no overlay call: its record goes with the first call.
    assert names(persist.plan(doc, 'bridge_network', BRIDGE, keep=[])) == ['bridge_network']
    # Left out, keep keeps everything; a changed record keeps its place.
    changed = persist.plan(doc, 'bridge_network', {'netns': {'namespaces': []}})
    assert names(changed) == ['bridge_network', 'overlay_network'] and changed['records'][0]['args']['netns'] == {'namespaces': []}


def test_one_call_replaces_the_two_records_of_the_earlier_two_call_layout():
    """A host the roles converged with two calls holds bridge_network and overlay_network; the one call that now
    carries every part (keep: []) leaves one record, and the same call again writes nothing."""
    old = persist.plan(persist.plan(None, 'bridge_network', BRIDGE, keep=['overlay_network']), 'overlay_network', OVERLAY)
    one = persist.plan(old, 'bridge_network', dict(BRIDGE, **OVERLAY), keep=[])
    assert names(one) == ['bridge_network'] and sorted(one['records'][0]['args']) == ['netns', 'vxlan']
    assert persist.encode(persist.plan(one, 'bridge_network', dict(BRIDGE, **OVERLAY), keep=[])) == persist.encode(one)


def test_absent_removes_the_record_and_the_whole_file_with_the_last_one():
    doc = persist.plan(persist.plan(None, 'a', BRIDGE), 'b', OVERLAY)
    assert names(persist.plan(doc, 'b', None, state='absent')) == ['a']
    assert persist.plan(doc, 'a', None, keep=[], state='absent') is None
    assert persist.plan(None, 'a', None, state='absent') is None


def test_the_code_digest_is_kept_until_a_new_one_comes():
    doc = persist.plan(None, 'a', BRIDGE, code_digest='abc')
    assert persist.plan(doc, 'a', BRIDGE)['code'] == 'abc'
    assert persist.plan(doc, 'a', BRIDGE, code_digest='def')['code'] == 'def'


def test_record_args_leaves_out_parts_not_given():
    params = {'netns': {'namespaces': []}, 'bridge': None, 'persist': {'name': 'x'}, 'return_objects': False}
    assert persist.record_args(params, ('netns', 'bridge')) == {'netns': {'namespaces': []}}


def test_record_args_leave_out_the_removals_a_run_made():
    # The run after a container moved no longer plans the old endpoint's removal: both must record the same.
    moved = {'veth': {'pairs': [{'name': 'veth1', 'peer': {'name': 'eth0'}}, {'name': 'veth0', 'state': 'absent'}]},
             'vxlan': {'devices': [{'name': 'vxlan0', 'state': 'absent'}]},
             'port_map': {'ports': [], 'state': 'absent'}}
    after = {'veth': {'pairs': [{'name': 'veth1', 'peer': {'name': 'eth0'}}]}, 'port_map': {'ports': [], 'state': 'absent'}}
    parts = ('veth', 'vxlan', 'port_map')
    assert persist.record_args(moved, parts) == persist.record_args(after, parts) == {'veth': after['veth']}


def test_a_call_that_only_removed_leaves_no_record():
    # The last overlay left: the overlay call removed the VXLAN devices and the VTEP filter. The next run skips that
    # call and keeps no record of it, so this run must already leave none, or the next one changes the host again.
    removal = {'vxlan': {'devices': [{'name': 'vxlan0', 'state': 'absent'}]}, 'vtep_filter': {'vteps': [], 'state': 'absent'}}
    args = persist.record_args(removal, ('vxlan', 'vtep_filter'))
    assert args == {}
    both = persist.plan(persist.plan(None, 'bridge_network', BRIDGE), 'overlay_network', {'vxlan': {'devices': [{'name': 'vxlan0'}]}})
    assert [r['name'] for r in both['records']] == ['bridge_network', 'overlay_network']
    after = persist.plan(both, 'overlay_network', args)
    assert [r['name'] for r in after['records']] == ['bridge_network']
    assert after == persist.plan(both, 'bridge_network', BRIDGE, keep=[])


def test_write_atomic_leaves_mode_0600_and_no_temporary_file(tmp_path):
    path = tmp_path / 'state' / persist.STATE_FILE
    persist.write_atomic(str(path), b'{"a": 1}\n')
    persist.write_atomic(str(path), b'{"a": 2}\n')
    assert path.read_bytes() == b'{"a": 2}\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(path.parent) == [persist.STATE_FILE]


def test_load_names_the_file_and_the_fix(tmp_path):
    assert persist.load(str(tmp_path)) is None
    (tmp_path / persist.STATE_FILE).write_text('{not json')
    with pytest.raises(LinuxnetError, match='desired.json is not valid JSON .* Fix: run playbooks/site.yml again'):
        persist.load(str(tmp_path))
    (tmp_path / persist.STATE_FILE).write_text(json.dumps({'format': 99, 'records': []}))
    with pytest.raises(LinuxnetError, match='has format 99, this code reads format 1'):
        persist.load(str(tmp_path))


def test_payload_path_finds_the_zip_a_module_runs_from():
    assert persist.payload_path('/tmp/x/ansible_host_network_payload.zip/ansible_collections/a.py') == \
        '/tmp/x/ansible_host_network_payload.zip'
    assert persist.payload_path('/work/plugins/module_utils/_converge/persist.py') is None


def test_the_code_archive_is_reproducible_and_runs_apply(tmp_path):
    def payload(stamp):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, 'w') as archive:
            for name in ('ansible_collections/x/b.py', 'ansible_collections/x/a.py', 'sitecustomize.py', 'data.txt'):
                archive.writestr(zipfile.ZipInfo(name, stamp), 'print(%r)\n' % name)
        path = tmp_path / ('payload-%d.zip' % stamp[0])
        path.write_bytes(buffer.getvalue())
        return str(path)

    first, second = persist.code_archive(payload((2026, 1, 1, 0, 0, 0))), persist.code_archive(payload((2027, 2, 2, 0, 0, 0)))
    assert first == second and persist.digest(first) == persist.digest(second)
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.namelist() == ['ansible_collections/x/a.py', 'ansible_collections/x/b.py', '__main__.py']
        assert b'_converge.apply import main' in archive.read('__main__.py')


def test_the_lock_is_exclusive_and_a_timeout_names_the_fix(tmp_path):
    lock = str(tmp_path / 'lock')
    with persist.locked(path=lock, touch=True):
        with pytest.raises(LinuxnetError, match='another converge of this host has held .* Fix: wait for it'):
            with persist.locked(timeout=0.1, path=lock):
                pass
    assert persist.last_converge(lock) > 0
    assert persist.last_converge(str(tmp_path / 'none')) == 0.0


def test_apply_exit_statuses(tmp_path, monkeypatch, capsys):
    real_lock = persist.locked
    monkeypatch.setattr(apply.persist, 'locked', lambda timeout: real_lock(timeout, path=str(tmp_path / 'lock')))
    monkeypatch.setattr(apply.persist, 'mark_restored', lambda: None)
    assert apply.apply_records(str(tmp_path))[0] == apply.UNCHANGED
    assert 'nothing recorded' in capsys.readouterr().out
    doc = persist.plan(None, 'bridge_network', BRIDGE)
    (tmp_path / persist.STATE_FILE).write_bytes(persist.encode(doc))

    outcomes = iter([{'changed': True, 'parts': {'netns': {'actions': ['create network namespace web']}}},
                     {'changed': False, 'parts': {'netns': {'actions': []}}},
                     LinuxnetError('netns: boom')])
    seen = []

    def converge(parts, netlink, **kwargs):
        seen.append((parts, kwargs['check_mode'], kwargs['only']))
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(apply, 'Netlink', FakeNetlink)
    monkeypatch.setattr(apply, 'converge', converge)
    assert apply.apply_records(str(tmp_path), check_mode=True, only=apply.FIREWALL_PARTS) == \
        (apply.CHANGED, ['bridge_network: netns: create network namespace web'])
    assert 'would: bridge_network: netns: create network namespace web' in capsys.readouterr().out
    assert apply.apply_records(str(tmp_path))[0] == apply.UNCHANGED
    assert apply.apply_records(str(tmp_path))[0] == apply.FAILED
    assert 'failed: netns: boom' in capsys.readouterr().err
    assert seen[0] == (BRIDGE, True, apply.FIREWALL_PARTS) and seen[1][1:] == (False, None)


def test_rate_limit_allows_a_burst_then_waits_for_the_window():
    limit = apply.RateLimit(burst=2, window=60.0)
    assert limit.wait_time(0.0) == 0.0
    limit.record(0.0)
    limit.record(1.0)
    assert limit.wait_time(2.0) == 58.0
    assert limit.wait_time(61.0) == 0.0


def _rtnl(kind, family=10):
    """One rtnetlink address message: nlmsghdr, ifaddrmsg (family, prefix, flags, scope, index), no attributes."""
    import struct  # pylint: disable=import-outside-toplevel
    return struct.pack('=IHHII', 24, kind, 0, 0, 0) + struct.pack('=BBBBI', family, 64, 0, 0, 3)


def test_the_watcher_repairs_after_an_ipv6_address_removal_not_after_additions():
    # RTM_NEWADDR (20) comes with every router advertisement on an uplink: not a cause; RTM_DELADDR (21) is.
    assert not apply.removals(_rtnl(20))
    assert not apply.removals(_rtnl(20) + _rtnl(20))
    assert apply.removals(_rtnl(20) + _rtnl(21))
    assert not apply.removals(b'') and not apply.removals(b'\x00' * 16)  # a truncated or empty read


def test_a_tag_names_the_arguments_it_was_given_with():
    doc = persist.plan(None, 'bridge_network', BRIDGE, keep=[], tag='code plan')
    assert persist.tag_of(doc, 'bridge_network') == 'code plan' and persist.tag_of(doc, 'other') is None
    # The same desired state under another tag: no change of what the host converges to.
    retagged = persist.plan(doc, 'bridge_network', BRIDGE, keep=[], tag='code plan2')
    assert persist.untagged(retagged) == persist.untagged(doc) and retagged != doc
    assert persist.untagged(persist.plan(doc, 'bridge_network', OVERLAY, tag='code plan')) != persist.untagged(doc)
    # A record edited since it was tagged (by hand, or by older code) has no tag: the role converges that host again.
    edited = json.loads(persist.encode(doc))
    edited['records'][0]['args']['netns']['namespaces'].append({'name': 'db'})
    assert persist.tag_of(edited, 'bridge_network') is None
    assert persist.tag_of(persist.plan(None, 'bridge_network', BRIDGE), 'bridge_network') is None
    assert persist.untagged(None) is None


def _read_setup(tmp_path, monkeypatch, doc, outcome):
    real_lock = persist.locked
    monkeypatch.setattr(apply.persist, 'locked', lambda timeout: real_lock(timeout, path=str(tmp_path / 'lock')))
    if doc is not None:
        (tmp_path / persist.STATE_FILE).write_bytes(persist.encode(doc))

    gathered = []

    def gather(netlink, params):
        gathered.append(params)
        return {'networks': [], 'endpoints': [], 'tables': [], 'warnings': []}

    def converge(parts, netlink, **kwargs):
        assert kwargs['check_mode'] is True
        print('would: noise that must not reach the JSON line')
        return outcome

    from ansible_collections.linuxnet.container.plugins.module_utils._converge import read as read_module
    monkeypatch.setattr(read_module, 'gather', gather)
    monkeypatch.setattr(apply, 'Netlink', FakeNetlink)
    monkeypatch.setattr(apply, 'converge', converge)
    return gathered


def _request(code='c0de', record='bridge_network', read=None):
    return json.dumps({'code': code, 'record': record, 'read': read if read is not None else {'interfaces': True}})


def test_read_answers_with_the_record_tag_the_sync_check_and_the_read(tmp_path, monkeypatch, capsys):
    doc = persist.plan(None, 'bridge_network', BRIDGE, keep=[], tag='c0de 1234')
    gathered = _read_setup(tmp_path, monkeypatch, doc, {'changed': False, 'parts': {}})
    assert apply.main(['--state-dir', str(tmp_path), 'read', _request()]) == apply.UNCHANGED
    out = capsys.readouterr()
    answer = json.loads(out.out)
    assert answer['tag'] == 'c0de 1234' and answer['in_sync'] is True and answer['records'] == ['bridge_network']
    assert answer['read']['tables'] == [] and 'noise' in out.err and out.out.count('\n') == 1
    # network_info's defaults are filled in as the module fills them.
    assert gathered[0]['discover'] is True and gathered[0]['networks'] == [] and gathered[0]['interfaces'] is True


def test_read_reports_a_host_whose_check_warns_as_out_of_sync(tmp_path, monkeypatch, capsys):
    """A warning of the check (a host socket on a published port) is the module's to give: not settled."""
    doc = persist.plan(None, 'bridge_network', BRIDGE, keep=[], tag='c0de 1234')
    _read_setup(tmp_path, monkeypatch, doc, {'changed': False, 'parts': {}})

    def converge(parts, netlink, **kwargs):
        kwargs['warn']('port_map: a host socket listens on 127.0.0.1:8095/tcp')
        return {'changed': False, 'parts': {}}

    monkeypatch.setattr(apply, 'converge', converge)
    assert apply.main(['--state-dir', str(tmp_path), 'read', _request()]) == apply.UNCHANGED
    out = capsys.readouterr()
    assert json.loads(out.out)['in_sync'] is False and 'a host socket listens' in out.err


def test_read_reports_a_host_that_would_change(tmp_path, monkeypatch, capsys):
    doc = persist.plan(None, 'bridge_network', BRIDGE, keep=[], tag='c0de 1234')
    _read_setup(tmp_path, monkeypatch, doc, {'changed': True, 'parts': {'netns': {'actions': ['create network namespace web']}}})
    assert apply.main(['--state-dir', str(tmp_path), 'read', _request()]) == apply.UNCHANGED
    assert json.loads(capsys.readouterr().out)['in_sync'] is False


@pytest.mark.parametrize('doc, request_text', [
    (None, _request()),  # nothing recorded
    (persist.plan(None, 'bridge_network', BRIDGE), _request()),  # recorded with no tag (a playbook of the user's own)
    (persist.plan(None, 'bridge_network', BRIDGE, tag='0ther 1234'), _request()),  # another version's code
    (persist.plan(None, 'bridge_network', BRIDGE, tag='c0de 1234'), _request(record='mine')),
    (persist.plan(None, 'bridge_network', BRIDGE, tag='c0de 1234'), 'not json'),
    (persist.plan(None, 'bridge_network', BRIDGE, tag='c0de 1234'), _request(read={'networks': 'x', 'bogus': 1})),
])
def test_read_prints_nothing_when_the_module_must_read(tmp_path, monkeypatch, capsys, doc, request_text):
    _read_setup(tmp_path, monkeypatch, doc, {'changed': False, 'parts': {}})
    assert apply.main(['--state-dir', str(tmp_path), 'read', request_text]) == apply.FAILED
    assert capsys.readouterr().out == ''
