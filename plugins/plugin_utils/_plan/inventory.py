# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Validation of the whole inventory, on the controller, before any host changes.

Pure functions over plain data (host name -> that host's variables). Every
problem is a message that names the variable, the host and the fix; all of
them are collected, not just the first.
"""

from __future__ import annotations

from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.ipam_etcd import ipam_problems
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.topology import fleet_problems, host_problems


def inventory_problems(hostvars, hosts):
    """Every problem in the linuxnet variables of ``hosts``, as messages (empty when all is well)."""
    problems = []
    for host in hosts:
        hv = hostvars.get(host, {})
        state = hv.get('linuxnet_state', 'present')
        if state not in ('present', 'absent'):
            problems.append("host %s: linuxnet_state is %r. Fix: use 'present' or 'absent'" % (host, state))
        problems.extend(host_problems(host, hv))
    problems.extend(fleet_problems(hostvars, hosts))
    problems.extend(ipam_problems(hostvars, hosts))
    return _once(problems)


def _once(problems):
    """Network-level problems that several hosts share (linuxnet_networks from group_vars) as one line naming them.

    ``host A: linuxnet_networks...`` and ``host B: linuxnet_networks...`` with the same text become
    ``hosts A, B: linuxnet_networks...``, where the first of them was; every other line stays as it is.
    """
    hosts_of, order = {}, []
    for problem in problems:
        head, sep, rest = problem.partition(': ')
        if head.startswith('host ') and sep and rest.startswith('linuxnet_networks'):
            key = rest
        else:
            key, head = problem, None
        if key not in hosts_of:
            hosts_of[key] = []
            order.append(key)
        if head is not None:
            hosts_of[key].append(head[len('host '):])
    lines = []
    for key in order:
        hosts = hosts_of[key]
        if not hosts:
            lines.append(key)
        else:
            lines.append('%s %s: %s' % ('hosts' if len(hosts) > 1 else 'host', ', '.join(hosts), key))
    return lines
