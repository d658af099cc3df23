# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters that read the collection's inventory contract on the controller."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.linuxnet.container.plugins.module_utils._bridge_plan import PlanError, plan_host
from ansible_collections.linuxnet.container.plugins.module_utils._topology import DEFAULT_BRIDGE, DEFAULT_NETWORK
from ansible_collections.linuxnet.container.plugins.module_utils._ids import bridge_name
from ansible_collections.linuxnet.container.plugins.module_utils._inventory import (
    inventory_problems,
    namespaces_for,
)


def _inventory_problems(hostvars, hosts):
    return inventory_problems(hostvars, list(hosts))


def _container_namespaces(containers):
    return [{'name': name} for name in namespaces_for(containers)]


def _bridge_network_plan(host_vars, host, facts, state='present'):
    try:
        plan = plan_host(host, host_vars, facts or {}, state)
    except PlanError as err:
        raise AnsibleFilterError(str(err))
    for warning in plan['warnings']:
        Display().warning(warning)
    return plan


def _bridge_networks(host_vars):
    """[{name, bridge}] of the bridge networks (with the default one), for network_info."""
    networks = [{'name': DEFAULT_NETWORK, 'bridge': DEFAULT_BRIDGE}]
    for net in host_vars.get('linuxnet_networks') or []:
        if not isinstance(net, dict) or (net.get('driver') or 'bridge') != 'bridge':
            continue
        if net.get('name') == DEFAULT_NETWORK:
            networks[0]['bridge'] = net.get('bridge_name') or DEFAULT_BRIDGE
        else:
            networks.append({'name': net['name'], 'bridge': net.get('bridge_name') or bridge_name(net['name'])})
    return networks


def _yes(value):
    return 'yes' if str(value).lower() == 'true' else 'no'


def _network_summary(info, host=''):
    """Readable lines from what network_info returned: networks, their containers, published ports."""
    lines = []
    for net in sorted(info.get('networks') or [], key=lambda n: n.get('Name', '')):
        if not net.get('Exists', True):
            continue
        options = net.get('Options') or {}
        configs = (net.get('IPAM') or {}).get('Config') or [{}]
        flags = [net.get('Driver') or 'bridge']
        if str(net.get('Internal')).lower() == 'true':
            flags.append('internal')
        if _yes(options.get('com.docker.network.bridge.enable_icc')) == 'no':
            flags.append('icc off')
        if _yes(options.get('com.docker.network.bridge.enable_ip_masquerade')) == 'yes':
            flags.append('masquerade')
        lines.append('%snetwork %s: %s on %s, gateway %s (%s)' % (
            (host + ' ') if host else '', net.get('Name'), configs[0].get('Subnet'), options.get('com.docker.network.bridge.name'),
            configs[0].get('Gateway'), ', '.join(flags)))
        for endpoint in sorted((net.get('Containers') or {}).values(), key=lambda e: e.get('Name', '')):
            lines.append('    %-16s %-18s %s' % (endpoint.get('Name'), endpoint.get('IPv4Address'), endpoint.get('MacAddress')))
    for container, ports in sorted((info.get('ports') or {}).items()):
        for line in ports:
            lines.append('%sport %s: %s' % ((host + ' ') if host else '', container, line))
    return lines


class FilterModule:
    """linuxnet.container filters."""

    def filters(self):
        return {
            'inventory_problems': _inventory_problems,
            'container_namespaces': _container_namespaces,
            'bridge_network_plan': _bridge_network_plan,
            'bridge_networks': _bridge_networks,
            'network_summary': _network_summary,
        }
