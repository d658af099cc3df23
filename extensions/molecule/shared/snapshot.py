#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snapshot what the collection may touch on a host, or compare the host with a snapshot.

snapshot.py FILE            write the snapshot to FILE (JSON)
snapshot.py FILE --compare  exit 1 and print the differences when the host differs from FILE

Covers: links of the host namespace (name, kind, master, MAC, MTU, flags, alias, addresses), the
main routing table, named network namespaces, /etc/netns, the whole nftables ruleset (handles
dropped), the sysctls the collection sets and its records in /run/linuxnet-container. Interface indexes are left out.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from pyroute2 import IPRoute

SYSCTLS = ('net/ipv4/ip_forward', 'net/bridge/bridge-nf-call-iptables', 'net/ipv4/conf/all/route_localnet')


def _strip_handles(value):
    if isinstance(value, dict):
        return {k: _strip_handles(v) for k, v in value.items() if k != 'handle'}
    if isinstance(value, list):
        return [_strip_handles(v) for v in value]
    return value


def snapshot():
    with IPRoute() as ipr:
        names = {link['index']: link.get('ifname') for link in ipr.link('dump')}
        links = {}
        for link in ipr.link('dump'):
            linkinfo = link.get('IFLA_LINKINFO')
            kind = linkinfo.get('IFLA_INFO_KIND') if linkinfo else None
            links[link.get('ifname')] = {
                'kind': kind, 'mtu': link.get('mtu'), 'address': link.get('address'), 'flags': link['flags'],
                'master': names.get(link.get('master')), 'alias': link.get('ifalias'), 'addresses': []}
        for addr in ipr.addr('dump'):
            name = names.get(addr['index'])
            if name in links:
                links[name]['addresses'].append('%s/%d' % (addr.get('address'), addr['prefixlen']))
        routes = sorted('%s/%d dev %s via %s' % (r.get('dst') or 'default', r['dst_len'], names.get(r.get('oif')), r.get('gateway'))
                        for r in ipr.route('dump', table=254))
    for link in links.values():
        link['addresses'].sort()
    netns = sorted(os.listdir('/run/netns')) if os.path.isdir('/run/netns') else []
    etc_netns = {}
    if os.path.isdir('/etc/netns'):
        for root, _dirs, files in os.walk('/etc/netns'):
            for name in files:
                with open(os.path.join(root, name)) as handle:
                    etc_netns[os.path.join(root, name)] = handle.read()
    # A bare host has no nft yet (the prerequisites role installs it): no ruleset anything could have written.
    ruleset = []
    if shutil.which('nft') or os.path.exists('/usr/sbin/nft'):
        listed = subprocess.run(['/usr/sbin/nft', '-j', 'list', 'ruleset'], check=True, capture_output=True, text=True)
        ruleset = [item for item in json.loads(listed.stdout)['nftables'] if 'metainfo' not in item]
    sysctls = {}
    for key in SYSCTLS:
        path = os.path.join('/proc/sys', key)
        if os.path.exists(path):
            with open(path) as handle:
                sysctls[key] = handle.read().strip()
    records = sorted(os.listdir('/run/linuxnet-container')) if os.path.isdir('/run/linuxnet-container') else None
    return {'links': links, 'routes': routes, 'netns': netns, 'etc_netns': etc_netns,
            'nftables': _strip_handles(ruleset), 'sysctls': sysctls, 'run_records': records}


def main():
    path = sys.argv[1]
    now = snapshot()
    if '--compare' not in sys.argv:
        with open(path, 'w') as handle:
            json.dump(now, handle, indent=1, sort_keys=True)
        print(json.dumps({'saved': path, 'links': sorted(now['links'])}))
        return 0
    with open(path) as handle:
        before = json.load(handle)
    now = json.loads(json.dumps(now))
    differences = [key for key in before if before[key] != now.get(key)]
    for key in differences:
        was, now_value = json.dumps(before[key], sort_keys=True), json.dumps(now.get(key), sort_keys=True)
        print('%s differs:\n  before: %s\n  now:    %s' % (key, was, now_value))
    if not differences:
        print('identical to %s' % path)
    return 1 if differences else 0


if __name__ == '__main__':
    sys.exit(main())
