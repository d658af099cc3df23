#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test probe: print, as JSON, every VXLAN device of this host with its FDB and neighbour entries.

Run on a lab host by Molecule (ansible.builtin.script). Reads the host namespace and every
namespace under /run/netns through pyroute2, never through the module under test.
"""

from __future__ import annotations

import json
import os

from pyroute2 import IPRoute
from pyroute2 import netns

NUD_PERMANENT = 0x80
NTF_SELF = 0x02


def vxlans(ipr):
    out = {}
    links = {msg['index']: msg for msg in ipr.link('dump')}
    for index, msg in links.items():
        if msg.get(('linkinfo', 'kind')) != 'vxlan':
            continue
        data = msg.get(('linkinfo', 'data'))
        master = links.get(msg.get('master') or -1)
        fdb = sorted('%s %s%s' % (e.get('lladdr'), e.get('dst'), ' vni %s' % e.get('vni') if e.get('vni') else '')
                     for e in ipr.fdb('dump')
                     if e['ifindex'] == index and e['flags'] & NTF_SELF and e['state'] & NUD_PERMANENT and e.get('dst'))
        places = {index: 'device'}
        if master:
            places[master['index']] = 'master'
        neigh = sorted('%s %s %s' % (places[n['ifindex']], n.get('dst'), n.get('lladdr'))
                       for n in ipr.neigh('dump') if n['ifindex'] in places and n['state'] & NUD_PERMANENT)
        out[msg.get('ifname')] = {
            'vni': data.get('IFLA_VXLAN_ID'),
            'port': data.get('IFLA_VXLAN_PORT'),
            'local': data.get('IFLA_VXLAN_LOCAL'),
            'learning': bool(data.get('IFLA_VXLAN_LEARNING')),
            'proxy': bool(data.get('IFLA_VXLAN_PROXY')),
            'underlay_index': data.get('IFLA_VXLAN_LINK'),
            'link_netnsid': msg.get('link_netnsid'),
            'mtu': msg.get('mtu'),
            'up': bool(msg['flags'] & 1),
            'alias': msg.get('ifalias'),
            'master': master.get('ifname') if master else None,
            'fdb': fdb,
            'neighbors': neigh,
        }
    return out


def main():
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    with IPRoute() as ipr:
        out = {'host': vxlans(ipr)}
    run_dir = '/run/netns'
    for name in sorted(os.listdir(run_dir)) if os.path.isdir(run_dir) else []:
        fd = os.open(os.path.join(run_dir, name), os.O_RDONLY)
        netns.setns(fd, flags=0)
        try:
            with IPRoute() as ipr:
                out[name] = vxlans(ipr)
        finally:
            netns.setns(home, flags=0)
            os.close(fd)
    print(json.dumps(out, sort_keys=True))


if __name__ == '__main__':
    main()
