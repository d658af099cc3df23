# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Validation of the whole inventory, on the controller, before any host changes.

Pure functions over plain data (host name -> that host's variables). Every
problem is a message that names the variable, the host and the fix; all of
them are collected, not just the first.
"""

from __future__ import annotations

from ansible_collections.linuxnet.container.plugins.module_utils._netlink import validate_netns_name

NETWORK_MODES = ('bridge', 'host', 'none')


def container_mode(container):
    """'bridge' (the default), 'host', 'none' or 'container'."""
    mode = container.get('network_mode') or 'bridge'
    return 'container' if mode.startswith('container:') else mode


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
        containers = hv.get('linuxnet_containers', [])
        if containers is None:
            containers = []
        if not isinstance(containers, list):
            problems.append('host %s: linuxnet_containers must be a list of containers, got %s. '
                            'Fix: write it as a YAML list of dicts with a name' % (host, type(containers).__name__))
            continue
        seen = {}
        for index, container in enumerate(containers):
            where = 'host %s: linuxnet_containers[%d]' % (host, index)
            if not isinstance(container, dict) or 'name' not in container:
                problems.append('%s must be a dict with a name, got %r. Fix: add "name: <container>"' % (where, container))
                continue
            name = container['name']
            where = '%s (%s)' % (where, name)
            problem = validate_netns_name(name) if isinstance(name, str) else 'container name must be a string'
            if problem:
                problems.append('%s: %s. Fix: use a plain name like web1' % (where, problem))
                continue
            if name in seen:
                problems.append('%s: the name %s is already used by linuxnet_containers[%d] on this host. '
                                'Fix: give every container a unique name' % (where, name, seen[name]))
            seen.setdefault(name, index)
            mode = container.get('network_mode') or 'bridge'
            if not isinstance(mode, str) or (mode not in NETWORK_MODES and not mode.startswith('container:')):
                problems.append("%s: network_mode %r is not valid. Fix: use bridge, host, none or container:<name>"
                                % (where, mode))
        for index, container in enumerate(containers):
            if not isinstance(container, dict) or not isinstance(container.get('network_mode'), str):
                continue
            mode = container['network_mode']
            if mode.startswith('container:'):
                other = mode.split(':', 1)[1]
                if other == container.get('name'):
                    problems.append('host %s: linuxnet_containers[%d] (%s): network_mode container:%s names the container '
                                    'itself. Fix: name another container' % (host, index, other, other))
                elif other not in seen:
                    problems.append('host %s: linuxnet_containers[%d] (%s): network_mode container:%s: no such container '
                                    'on this host. Fix: declare %s in linuxnet_containers of %s first'
                                    % (host, index, container.get('name'), other, other, host))
    return problems
