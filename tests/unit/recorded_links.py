# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel states for the planner tests: links as read() decodes them from RTM_NEWLINK messages the kernel sends."""

from __future__ import annotations

from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import TAG
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import _link_info
from ansible_collections.linuxnet.container.tests.unit.netlink_messages import link_msg

IFF_UP = 0x1


def link(index, name, kind=None, mac='02:42:ac:11:00:01', mtu=1500, up=True, owned=True, master=None, peer=None,
         peer_netnsid=None, info_data=None):
    """One link as NsView.link() returns it: a real ifinfmsg, encoded, decoded, then read by _link_info."""
    return _link_info(link_msg(index, name, mac, mtu, IFF_UP if up else 0, ifalias=TAG if owned else None, master=master,
                               link=peer, link_netnsid=peer_netnsid, kind=kind, info_data=info_data))


def bridge_link(index, name, stp=False, vlan_filtering=False, **extra):
    return link(index, name, kind='bridge', info_data=[('IFLA_BR_STP_STATE', int(stp)),
                                                       ('IFLA_BR_VLAN_FILTERING', int(vlan_filtering))], **extra)


def kinds(actions):
    return [(act['kind'], act['description']) for act in actions]
