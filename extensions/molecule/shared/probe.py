#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test probe: print, as JSON, what the kernel of this host reports about its network namespaces.

Run on a lab host by Molecule's verify steps (ansible.builtin.script). Reads through pyroute2 and
/proc only, never through the module under test. Arguments: sysctl keys to read in every namespace.
"""

from __future__ import annotations

import json
import os
import sys

from pyroute2 import IPRoute
from pyroute2 import netns


def main():
    keys = sys.argv[1:]
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    out = {'namespaces': {}}
    run_dir = '/run/netns'
    names = sorted(os.listdir(run_dir)) if os.path.isdir(run_dir) else []
    for name in names:
        fd = os.open(os.path.join(run_dir, name), os.O_RDONLY)
        netns.setns(fd, flags=0)
        try:
            sysctls = {}
            for key in keys:
                try:
                    with open('/proc/sys/' + key.replace('.', '/')) as handle:
                        sysctls[key] = handle.read().strip()
                except OSError:
                    sysctls[key] = None
            with IPRoute() as ipr:
                links = {}
                for link in ipr.link('dump'):
                    links[link.get('ifname')] = {
                        'up': bool(link['flags'] & 1),
                        'alias': link.get('ifalias'),
                        'kind': link.get(('linkinfo', 'kind')),
                    }
                addrs = ['%s/%d' % (a.get('address'), a['prefixlen']) for a in ipr.addr('dump')]
        finally:
            netns.setns(home, flags=0)
            os.close(fd)
        hosts_path = '/etc/netns/%s/hosts' % name
        hosts = None
        if os.path.exists(hosts_path):
            with open(hosts_path) as handle:
                hosts = handle.read()
        out['namespaces'][name] = {'links': links, 'addresses': addrs, 'sysctls': sysctls, 'hosts': hosts}
    out['etc_netns'] = sorted(os.listdir('/etc/netns')) if os.path.isdir('/etc/netns') else []
    print(json.dumps(out, sort_keys=True))


if __name__ == '__main__':
    main()
