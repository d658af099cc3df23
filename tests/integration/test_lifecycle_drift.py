# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift of everything a converge sets on a live host, repaired by one site.yml run (checked, real, then a run that
changes nothing: test_lifecycle's Fleet). A file of its own, beside test_lifecycle.py, so that pytest-xdist runs the
two longest lab tests of the suite side by side."""

from __future__ import annotations

import copy
import json

import pytest

from test_lifecycle import H1, Fleet, base, kernel_state, ns, overlay_ns, reach
from test_playbooks import TEARDOWN, inventory


@pytest.fixture(scope='module')
def life(lab2):
    """The session's two-host lab (conftest.lab2): the test tears down what it converged."""
    return lab2


def host_end(lab, host, container):
    """The host end of a container's eth0 (its peer's index, named in the host namespace)."""
    peer = json.loads(ns(lab, host, container, 'ip -j link show eth0'))[0]['link_index']
    return next(link['ifname'] for link in json.loads(lab.ssh(host, 'ip -j link')) if link['ifindex'] == peer)


def test_drift_of_everything_a_converge_sets_is_repaired_by_one_run(life, tmp_path):
    fleet = Fleet(life, tmp_path)
    hv = base()
    try:
        fleet.edit(hv)
        want = kernel_state(life, H1)
        front = json.loads(ns(life, H1, 'b', 'ip -j route show default'))[0]['dev']
        assert front == 'eth0'
        ovl = overlay_ns(life, H1)
        inside = 'ip netns exec %s ' % ovl
        drifts = {
            'links of the host': [
                'ip link set docker0 mtu 1400', 'ip link set docker0 down', 'ip addr flush dev docker0',
                'ip link set %s nomaster' % host_end(life, H1, 'd'), 'ip link set %s mtu 1300' % host_end(life, H1, 'e'),
                'ip link set %s type bridge_slave hairpin off' % host_end(life, H1, 'b'),
                'ip link set docker0 address 02:00:00:00:00:99', 'sysctl -qw net.ipv4.ip_forward=0'],
            'containers': [
                'ip netns exec a ip addr flush dev eth0', 'ip netns exec b ip route del default',
                'ip netns exec b ip link set eth0 address 02:00:00:00:00:01', 'ip netns exec e ip link set eth0 down',
                'ip netns exec a ip link set lo down', 'ip netns exec d ip link set eth0 mtu 1280',
                'echo "192.0.2.99 impostor" >> /etc/netns/b/hosts', 'echo "nameserver 192.0.2.98" > /etc/netns/b/resolv.conf'],
            'firewall and overlay': [
                'nft delete table ip linuxnet_ports', 'nft flush table inet linuxnet_isolation',
                inside + 'bridge fdb del 00:00:00:00:00:00 dev vxlan0 dst 192.0.2.12',
                inside + 'ip neigh flush dev vxlan0 nud permanent', inside + 'ip link set br0 mtu 1400'],
        }
        for what, commands in drifts.items():
            life.ssh(H1, ' && '.join(commands))
            assert kernel_state(life, H1) != want, what
            done = fleet.edit(hv)
            assert kernel_state(life, H1) == want, what
            assert any(a for key, acts in done.items() if key[0] == H1 for a in acts), (what, done)
        # The repaired host works: traffic between containers, across the overlay, out through NAT.
        assert reach(life, H1, 'b', 'ping -c1 -W1 a') and reach(life, H1, 'e', 'ping -c1 -W1 d')
        assert reach(life, H1, 'o1', 'ping -c1 -W1 o2') and reach(life, H1, 'd', 'ping -c1 -W1 192.0.2.1')
    finally:
        assert life.playbook(TEARDOWN, tmp_path, inventory=inventory(life, tmp_path, copy.deepcopy(hv))).returncode == 0
