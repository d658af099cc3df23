#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test probe: print, as JSON, the links of this host and of every namespace under /run/netns, with the details
of every macvlan (mode, parent and the parent's namespace, MAC, addresses, routes, tag).

Run on a lab host by Molecule (ansible.builtin.script). Reads the kernel through pyroute2, never through the
module under test. With --neighbors, each macvlan also lists its IPv4 neighbours as "ADDRESS MAC".
The parent of a macvlan in another namespace is found through the namespace ids the
macvlan's namespace assigned to the others.
"""

from __future__ import annotations

import json
import os
import socket
import sys

from pyroute2 import IPRoute
from pyroute2 import netns

RUN_DIR = '/run/netns'
MAIN_TABLE = 254
KERNEL_PROTOCOLS = (2, 9, 11)


def namespaces():
    names = sorted(os.listdir(RUN_DIR)) if os.path.isdir(RUN_DIR) else []
    return [('host', '/proc/self/ns/net')] + [(name, os.path.join(RUN_DIR, name)) for name in names]


def read(ipr, fds, with_neighbors):
    """Links, the nsid -> namespace name map, addresses, routes and neighbours of the namespace ipr is bound to."""
    links = {msg['index']: msg for msg in ipr.link('dump')}
    nsids = {}
    for name, fd in fds.items():
        reply = ipr.get_netnsid(fd=fd)
        nsid = reply.get('nsid') if reply else None
        if nsid is not None and nsid not in (-1, 4294967295):
            nsids[nsid] = name
    addrs, routes = {}, {}
    for msg in ipr.addr('dump'):
        address = '%s/%d' % (msg.get('address'), msg['prefixlen'])
        if not address.startswith('fe80:'):
            addrs.setdefault(msg['index'], []).append(address)
    for msg in ipr.route('dump', family=socket.AF_UNSPEC):
        if msg.get('table') != MAIN_TABLE or msg['proto'] in KERNEL_PROTOCOLS or msg.get('oif') is None:
            continue
        dst = '%s/%d' % (msg.get('dst'), msg['dst_len']) if msg.get('dst') else 'default'
        routes.setdefault(msg.get('oif'), []).append('%s via %s' % (dst, msg.get('gateway')) if msg.get('gateway') else dst)
    neighbors = {}
    if with_neighbors:
        for msg in ipr.neigh('dump', family=socket.AF_INET):
            if msg.get('lladdr') and msg.get('dst'):
                neighbors.setdefault(msg['ifindex'], []).append('%s %s' % (msg.get('dst'), msg.get('lladdr')))
    return links, nsids, addrs, routes, neighbors


def main():
    with_neighbors = '--neighbors' in sys.argv[1:]
    # Every namespace file opened up front, the host's while this process is still in it.
    fds = {name: os.open(path, os.O_RDONLY) for name, path in namespaces()}
    home = fds['host']
    raw = {}
    for name, fd in fds.items():
        netns.setns(fd, flags=0)
        try:
            with IPRoute() as ipr:
                raw[name] = read(ipr, fds, with_neighbors)
        finally:
            netns.setns(home, flags=0)
    out = {}
    for name, (links, nsids, addrs, routes, neighbors) in raw.items():
        macvlans = {}
        for index, msg in links.items():
            if msg.get(('linkinfo', 'kind')) != 'macvlan':
                continue
            nsid = msg.get('link_netnsid')
            parent_ns = name if nsid is None else nsids.get(nsid, 'nsid:%s' % nsid)
            parent = raw[parent_ns][0].get(msg.get('link')) if parent_ns in raw else None
            macvlans[msg.get('ifname')] = {
                'mode': msg.get(('linkinfo', 'data', 'IFLA_MACVLAN_MODE')),
                'parent': parent.get('ifname') if parent else 'ifindex:%s' % msg.get('link'),
                'parent_namespace': parent_ns,
                'mac': msg.get('address'),
                'mtu': msg.get('mtu'),
                'up': bool(msg['flags'] & 1),
                'alias': msg.get('ifalias'),
                'addresses': sorted(addrs.get(index, [])),
                'routes': sorted(routes.get(index, [])),
            }
            if with_neighbors:
                macvlans[msg.get('ifname')]['neighbors'] = sorted(neighbors.get(index, []))
        out[name] = {
            'links': sorted('%s:%s' % (m.get('ifname'), m.get(('linkinfo', 'kind')) or 'plain') for m in links.values()),
            'macvlans': macvlans,
        }
    print(json.dumps(out, sort_keys=True))


if __name__ == '__main__':
    main()
