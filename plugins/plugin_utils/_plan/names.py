# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The inventory's fixed names, and the questions the roles ask of one host's variables in every task (private).

Nothing here imports more than the standard library: the filters that the roles call once per host and task
(container_namespaces, bridge_networks, speaks_evpn) load only this. Ansible loads a filter plugin file in every
worker process that templates one of its names, so the planner's import (netaddr, the etcd client, about 25 ms of
controller CPU) is paid only by the tasks that plan.
"""

from __future__ import annotations

DEFAULT_NETWORK = 'bridge'
DEFAULT_BRIDGE = 'docker0'
GWBRIDGE = 'docker_gwbridge'
GLOBAL_DRIVERS = ('overlay', 'macvlan')
OVERLAY_BRIDGE = 'br0'


def container_mode(container):
    """'bridge' (the default), 'host', 'none' or 'container'."""
    mode = container.get('network_mode') or 'bridge'
    return 'container' if isinstance(mode, str) and mode.startswith('container:') else mode


def namespaces_for(containers):
    """The network namespaces a host's containers need: one per container in bridge or none mode.

    host mode uses the host's namespace; container:<name> shares the other container's.
    """
    return [c['name'] for c in containers or [] if container_mode(c) in ('bridge', 'none')]


def has_global_endpoints(hv):
    """Whether a host's containers have endpoints on overlay or macvlan networks (fleet-wide planning)."""
    drivers = {n.get('name'): n.get('driver') for n in hv.get('linuxnet_networks') or [] if isinstance(n, dict)}
    return any(drivers.get(n.get('name') if isinstance(n, dict) else n) in GLOBAL_DRIVERS
               for c in hv.get('linuxnet_containers') or [] if isinstance(c, dict)
               for n in c.get('networks') or [])


def speaks_evpn(hv, host=None):
    """Whether a host runs FRR for the BGP EVPN control plane: one of its containers is on an overlay with control_plane
    evpn, or ``host`` (its inventory name) is one of linuxnet_evpn_route_reflectors while some overlay has EVPN."""
    if (hv.get('linuxnet_state') or 'present') == 'absent':
        return False
    evpn = {n.get('name') for n in hv.get('linuxnet_networks') or []
            if isinstance(n, dict) and n.get('driver') == 'overlay' and n.get('control_plane') == 'evpn'}
    if not evpn:
        return False
    if host is not None and host in (hv.get('linuxnet_evpn_route_reflectors') or []):
        return True
    return any((n.get('name') if isinstance(n, dict) else n) in evpn
               for c in hv.get('linuxnet_containers') or [] if isinstance(c, dict)
               for n in c.get('networks') or [])
