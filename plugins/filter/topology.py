# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters that draw the fleet from network_info's results: DOT text for graphviz, an SVG without it."""

from __future__ import annotations

import importlib

# Ansible imports every filter file of a collection to find any one of its filters (Jinja2Loader.get_with_context),
# in each worker that templates one: this file is loaded for a host's every task that names a linuxnet.container
# filter. The drawing code (xml.sax.saxutils, which imports urllib.request, http.client and ssl: ~20 ms of CPU) is
# imported when one of these filters runs.
_PICTURE = 'ansible_collections.linuxnet.container.plugins.plugin_utils._plan.picture'


def _results(hostvars, hosts, host_key, overlays_key):
    """[(host, [network_info results])] of the hosts that have them (the host's own, then each overlay's)."""
    out = []
    for host in hosts:
        hv = hostvars[host]
        own = hv.get(host_key)
        if not isinstance(own, dict):
            continue
        results = [own] + [r for r in (hv.get(overlays_key) or {}).get('results') or [] if isinstance(r, dict) and 'networks' in r]
        out.append((host, results, _shared(hv.get('linuxnet_containers'))))
    return out


def _shared(containers):
    """{container: mode} of the inventory's containers without a namespace of their own (network host, container:X),
    which no kernel shows as containers."""
    out = {}
    for container in containers or []:
        if isinstance(container, dict) and isinstance(container.get('name'), str):
            mode = str(container.get('network_mode') or '')
            if mode == 'host' or mode.startswith('container:'):
                out[container['name']] = mode
    return out


def _topology_dot(hostvars, hosts, host_key='linuxnet_inspect', overlays_key='linuxnet_inspect_overlays'):
    picture = importlib.import_module(_PICTURE)
    return picture.to_dot(picture.topology(_results(hostvars, hosts, host_key, overlays_key)))


def _topology_svg(hostvars, hosts, host_key='linuxnet_inspect', overlays_key='linuxnet_inspect_overlays'):
    picture = importlib.import_module(_PICTURE)
    return picture.to_svg(picture.topology(_results(hostvars, hosts, host_key, overlays_key)))


class FilterModule:
    """linuxnet.container topology filters."""

    def filters(self):
        return {'topology_dot': _topology_dot, 'topology_svg': _topology_svg}
