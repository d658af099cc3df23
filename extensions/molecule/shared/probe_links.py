#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test probe: print, as JSON, the links, addresses and routes of the host namespace and of every named one.

Run on a lab host by Molecule (ansible.builtin.script). Reads through pyroute2 only, never through the modules
under test. Output: {"host": NS, "netns": {name: NS}} where NS is {link name: {kind, up, mtu, mac, master,
hairpin, alias, peer, addresses, routes}}; hairpin is the hairpin mode of a bridge port (IFLA_BRPORT_MODE), null
for a link that is not one; peer is the index of a veth's other end, routes are main-table routes through
the link that the kernel did not add itself, as "DST via GW".
"""

from __future__ import annotations

import json
import os

from pyroute2 import IPRoute
from pyroute2 import netns


def hairpin(link):
    """IFLA_BRPORT_MODE from the bridge_slave data of the link dump; None when the link is not a bridge port."""
    if link.get(('IFLA_LINKINFO', 'IFLA_INFO_SLAVE_KIND')) != 'bridge':
        return None
    return bool(link.get(('IFLA_LINKINFO', 'IFLA_INFO_SLAVE_DATA', 'IFLA_BRPORT_MODE')))


def read(ipr):
    links = {}
    names = {}
    for link in ipr.link('dump'):
        names[link['index']] = link.get('ifname')
    for link in ipr.link('dump'):
        links[link.get('ifname')] = {
            'index': link['index'],
            'kind': link.get(('linkinfo', 'kind')),
            'up': bool(link['flags'] & 1),
            'mtu': link.get('mtu'),
            'mac': link.get('address'),
            'master': names.get(link.get('master')),
            'hairpin': hairpin(link),
            'alias': link.get('ifalias'),
            'peer': link.get('link') if link.get(('linkinfo', 'kind')) == 'veth' else None,
            'addresses': [],
            'routes': [],
        }
    by_index = {v['index']: v for v in links.values()}
    for addr in ipr.addr('dump'):
        text = '%s/%d' % (addr.get('address'), addr['prefixlen'])
        if not text.startswith('fe80:'):
            by_index[addr['index']]['addresses'].append(text)
    for route in ipr.route('dump'):
        if route.get('table') != 254 or route['proto'] in (2, 9) or route.get('oif') not in by_index:
            continue
        dst = '%s/%d' % (route.get('dst'), route['dst_len']) if route.get('dst') else 'default'
        text = dst + (' via %s' % route.get('gateway') if route.get('gateway') else '')
        by_index[route.get('oif')]['routes'].append(text)
    for value in links.values():
        value['addresses'].sort()
        value['routes'].sort()
    return links


def main():
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    with IPRoute() as ipr:
        out = {'host': read(ipr), 'netns': {}}
    run_dir = '/run/netns'
    for name in sorted(os.listdir(run_dir)) if os.path.isdir(run_dir) else []:
        fd = os.open(os.path.join(run_dir, name), os.O_RDONLY)
        netns.setns(fd, flags=0)
        try:
            with IPRoute() as ipr:
                out['netns'][name] = read(ipr)
        finally:
            netns.setns(home, flags=0)
            os.close(fd)
    print(json.dumps(out, sort_keys=True))


if __name__ == '__main__':
    main()
