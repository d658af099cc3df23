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

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError  # noqa: E402
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.netlink import Netlink  # noqa: E402


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
    before = lab2.namespaces('docker-node1')
    with Netlink() as netlink:
        with pytest.raises(LinuxnetError, match=r'network namespace %s/ghost does not exist' % root):
            netlink.ipr(os.path.join(root, 'ghost'))
        with pytest.raises(LinuxnetError, match='does not exist'):
            netlink.ipr('pid:999999999')
    assert lab2.namespaces('docker-node1') == before


def test_a_file_that_is_not_a_namespace_is_refused(tmp_path):
    plain = tmp_path / 'not-a-netns'
    plain.write_text('')
    with Netlink() as netlink:
        with pytest.raises(LinuxnetError, match='is .* a network namespace file'):
            netlink.ipr(str(plain))


def test_the_channel_reads_what_iproute_reads(lab2):
    """Channel (plain socket, pyroute2's decoder) returns the same links, addresses and routes as IPRoute."""
    pid = lab2.pid('docker-node1')
    spec = 'pid:%d' % pid
    with Netlink() as netlink:
        ipr, channel = netlink.ipr(spec), netlink.channel(spec)
        assert channel is netlink.channel(spec)  # cached per namespace

        def links(source):
            return sorted((m['index'], m.get('ifname'), m.get(('linkinfo', 'kind')), m.get('address'), m.get('mtu'))
                          for m in source.link('dump'))

        def addrs(source, **kw):
            return sorted((m['index'], m.get('address'), m['prefixlen']) for m in source.addr('dump', **kw))

        def routes(source, **kw):
            return sorted((m['family'], str(m.get('dst')), m['dst_len'], str(m.get('gateway')), m.get('oif'), m.get('table'))
                          for m in source.route('dump', **kw))

        assert links(channel) == links(ipr) and len(links(channel)) == 2
        assert addrs(channel) == addrs(ipr)
        assert addrs(channel, family=2) == addrs(ipr, family=2) and len(addrs(channel, family=2)) == 2
        assert routes(channel, family=0) == routes(ipr, family=0)
        main = routes(channel, family=2, table=254)
        assert main == routes(ipr, family=2, table=254)
        assert main and all(route[5] == 254 for route in main)
        assert any(route[1] == 'None' and route[3] != 'None' for route in main)  # the default route via the router
        # The id the lab host gives this process's namespace: the same answer both ways (None when it has none).
        home = os.open('/proc/self/ns/net', os.O_RDONLY)
        try:
            assert channel.get_netnsid(fd=home) == ipr.get_netnsid(fd=home)
        finally:
            os.close(home)
        netlink.forget(spec)
        assert netlink.channel(spec) is not channel
