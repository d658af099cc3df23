# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Validation of the whole inventory, on the controller, before any host changes.

Pure functions over plain data (host name -> that host's variables). Every
problem is a message that names the variable, the host and the fix; all of
them are collected, not just the first.
"""

from __future__ import annotations

from ansible_collections.linuxnet.container.plugins.module_utils._topology import container_mode, fleet_problems, host_problems


def namespaces_for(containers):
    """The network namespaces a host's containers need: one per container in bridge or none mode.

    host mode uses the host's namespace; container:<name> shares the other container's.
    """
    return [c['name'] for c in containers or [] if container_mode(c) in ('bridge', 'none')]


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
    return problems
