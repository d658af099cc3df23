# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stopping a lab leaves the machine's links, namespaces, mounts, processes and files as they were."""

from __future__ import annotations

import os
import time

from pyroute2 import IPRoute

from conftest import STATE_ROOT, Lab

_ROOT_NET = os.stat('/proc/self/ns/net').st_ino


def _processes_outside_root_netns():
    found = set()
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            inode = os.stat('/proc/%s/ns/net' % entry).st_ino
            with open('/proc/%s/cmdline' % entry, 'rb') as handle:
                cmdline = handle.read().replace(b'\0', b' ').decode(errors='replace').strip()
        except OSError:
            continue
        if inode != _ROOT_NET or 'linuxnet-lab' in cmdline:
            found.add((int(entry), cmdline))
    return found


def snapshot():
    with IPRoute() as ipr:
        links = sorted((link['index'], link.get('ifname')) for link in ipr.link('dump'))
    with open('/proc/self/mountinfo') as handle:
        mounts = sorted(line.split(' - ')[0].split(' ', 4)[4] for line in handle)
    return {
        'links': links,
        'mounts': mounts,
        'netns': sorted(os.listdir('/run/netns')) if os.path.isdir('/run/netns') else None,
        'etc_netns': os.path.isdir('/etc/netns'),
        'processes': _processes_outside_root_netns(),
        'lab_state': sorted(os.listdir(STATE_ROOT)) if os.path.isdir(STATE_ROOT) else None,
        'wtmp': os.stat('/var/log/wtmp').st_size if os.path.exists('/var/log/wtmp') else None,
    }


def test_stopping_the_lab_leaves_the_machine_as_it_was(tmp_path):
    before = snapshot()
    lab = Lab('itest-lifecycle', 2)
    try:
        # Give the lab real work: namespaces made by the module, a veth in one of them, and a
        # long-running process inside a container namespace, started over ssh.
        results = lab.ansible('all', 'linuxnet.container.netns', {'namespaces': [{'name': 'c1'}, {'name': 'c2'}]}, tmp_path)
        assert all(status == 'ok' and res['changed'] for status, res in results.values()), results
        lab.ssh('docker-node1', 'ip -n c1 link add v0 type veth peer name v1; '
                                'setsid ip netns exec c2 sleep 600 </dev/null >/dev/null 2>&1 &')
        during = snapshot()
        assert during['processes'] - before['processes'], 'the lab should run processes in its namespaces'
        assert lab.namespaces('docker-node1') == ['c1', 'c2']
        # The machine's own namespace never sees the lab's links: peers are created in place.
        assert during['links'] == before['links']
    finally:
        lab.down()
    deadline = time.time() + 10
    after = snapshot()
    while after['processes'] != before['processes'] and time.time() < deadline:
        time.sleep(0.2)
        after = snapshot()
    assert after == before
