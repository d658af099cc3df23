# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Holders of a namespace: found by the device and inode of /proc/PID/ns/net, stopped only when still inside."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel import holders


def fake_proc(tmp_path, processes):
    """A /proc with processes {pid: namespace file name} (each ns/net a symlink to a file of tmp_path)."""
    proc = tmp_path / 'proc'
    for pid, ns in processes.items():
        (tmp_path / ns).touch()
        (proc / str(pid) / 'ns').mkdir(parents=True)
        (proc / str(pid) / 'ns' / 'net').symlink_to(tmp_path / ns)
        (proc / str(pid) / 'comm').write_text('proc%d\n' % pid)
    (proc / 'self').mkdir(exist_ok=True)  # not a PID: ignored
    (proc / 'sys').mkdir(exist_ok=True)
    return proc


def test_holders_are_the_processes_whose_namespace_has_the_same_device_and_inode(tmp_path):
    proc = fake_proc(tmp_path, {100: 'web', 250: 'db', 31: 'web', 7: 'host'})
    (proc / '999').mkdir()  # a process that exited while /proc was read: no ns/net
    found = holders.pids_by_netns(str(proc))
    assert found[holders.netns_key(str(tmp_path / 'web'))] == [31, 100]
    assert found[holders.netns_key(str(tmp_path / 'db'))] == [250]
    assert holders.netns_key(str(tmp_path / 'gone')) is None
    assert holders.describe([31, 100, 4242], str(proc)) == '31 (proc31), 100 (proc100), 4242'


def test_this_process_is_never_a_holder():
    assert os.getpid() not in [pid for pids in holders.pids_by_netns().values() for pid in pids]


def _child(code):
    proc = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'ready'
    return proc


@pytest.mark.parametrize('handler, timeout, outcome, status', [
    ('', 10, 'terminated', -15),
    ('signal.signal(signal.SIGTERM, signal.SIG_IGN); ', 0.2, 'killed', -9),  # SIGKILL once the timeout passed
])
def test_stop_sends_sigterm_then_sigkill_after_the_timeout(handler, timeout, outcome, status):
    proc = _child('import signal, time; %sprint("ready", flush=True); time.sleep(60)' % handler)
    try:
        found = holders.stop_processes([proc.pid], holders.netns_key('/proc/self/ns/net'), timeout=timeout)
        assert found == dict({'terminated': [], 'killed': [], 'surviving': []}, **{outcome: [proc.pid]})
        assert proc.wait(timeout=5) == status
    finally:
        proc.kill()
        proc.wait()


def test_stop_leaves_alone_a_process_no_longer_in_the_namespace():
    proc = _child('import time; print("ready", flush=True); time.sleep(60)')
    try:
        outcome = holders.stop_processes([proc.pid, 2 ** 22 + 1], (0, 0), timeout=0.2)
        assert outcome == {'terminated': [], 'killed': [], 'surviving': []}
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()
