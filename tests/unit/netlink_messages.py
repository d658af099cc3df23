# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Netlink messages for the unit tests' in-memory kernels, built as the kernel sends them."""

from __future__ import annotations

from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import explain, LinuxnetError


def link_msg(index, ifname, address, mtu, flags, ifalias=None, master=None, link=None, link_netnsid=None, kind=None,
             info_data=None, ifi_type=1):
    """An RTM_NEWLINK as the kernel sends it: a real pyroute2 ifinfmsg, encoded and decoded again."""
    msg = ifinfmsg()
    msg['index'], msg['flags'], msg['ifi_type'] = index, flags, ifi_type
    attrs = [('IFLA_IFNAME', ifname), ('IFLA_ADDRESS', address), ('IFLA_MTU', mtu)]
    for name, value in (('IFLA_IFALIAS', ifalias), ('IFLA_MASTER', master), ('IFLA_LINK', link),
                        ('IFLA_LINK_NETNSID', link_netnsid)):
        if value is not None:
            attrs.append((name, value))
    if kind is not None:
        linkinfo = [('IFLA_INFO_KIND', kind)]
        if info_data:
            linkinfo.append(('IFLA_INFO_DATA', {'attrs': info_data}))
        attrs.append(('IFLA_LINKINFO', {'attrs': linkinfo}))
    msg['attrs'] = attrs
    msg.encode()
    decoded = ifinfmsg(msg.data)
    decoded.decode()
    return decoded


class FakeChannel:
    """What modules ask of a Channel, over IPRoute-style methods (link, addr, route) a fake kernel implements."""

    def write(self, mode, command, kwargs, obj, action):
        """Channel.write: the IPRoute-style call, its error raised as the Channel raises it."""
        try:
            getattr(self, mode)(command, **kwargs)
        except OSError as err:
            raise LinuxnetError(explain(err, obj, action), errno=err.errno)

    def get(self, mode, kwargs):
        return getattr(self, mode)('get', **kwargs)
