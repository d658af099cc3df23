# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module core against a real lab host's kernel: namespaces by path and PID, no side effects."""

from __future__ import annotations

import os
import sys

import pytest

from labkit import ROOT

sys.path.insert(0, os.path.join(ROOT, '.build', 'collections'))

from ansible_collections.linuxnet.container.plugins.module_utils._netlink import (  # noqa: E402
    LinuxnetError,
    Netlink,
)


def test_a_lab_host_is_reachable_by_path_and_by_pid(lab2):
    pid = lab2.pid('docker-node1')
    with Netlink() as netlink:
        by_path = netlink.ipr('/proc/%d/ns/net' % pid)
        by_pid = netlink.ipr('pid:%d' % pid)
        names = sorted(link.get('ifname') for link in by_path.link('dump'))
        assert names == ['eth0', 'lo']
        addresses = [a.get('address') for a in by_pid.addr('dump', family=2)]
        assert lab2.hosts['docker-node1']['address'] in addresses
        # The socket stays in the lab host's namespace; this process is back in its own.
        assert os.stat('/proc/self/ns/net').st_ino != os.stat('/proc/%d/ns/net' % pid).st_ino
        own = [a.get('address') for a in netlink.ipr().addr('dump', family=2)]
        assert lab2.hosts['docker-node1']['address'] not in own


def test_a_missing_namespace_is_an_error_and_is_never_created(lab2):
    root = lab2.host_path('docker-node1', '/run/netns')
    before = sorted(os.listdir(root))
    with Netlink() as netlink:
        with pytest.raises(LinuxnetError, match=r'network namespace %s/ghost does not exist' % root):
            netlink.ipr(os.path.join(root, 'ghost'))
        with pytest.raises(LinuxnetError, match='does not exist'):
            netlink.ipr('pid:999999999')
    assert sorted(os.listdir(root)) == before


def test_a_file_that_is_not_a_namespace_is_refused(tmp_path):
    plain = tmp_path / 'not-a-netns'
    plain.write_text('')
    with Netlink() as netlink:
        with pytest.raises(LinuxnetError, match='is .* a network namespace file'):
            netlink.ipr(str(plain))
