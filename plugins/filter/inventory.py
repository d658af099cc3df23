# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters that read the collection's inventory contract on the controller."""

from __future__ import annotations

import importlib
import json

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

# Only what the per-host filters need (bridge_networks, container_namespaces, speaks_evpn, has_global_endpoints): Ansible
# loads this file in every worker process that templates one of its names, once per host and task. The planner,
# the validator and the etcd client (netaddr, ssl, http.client: ~25 ms of CPU) are imported by the filters that run
# once per play, when they run.
from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import bridge_name
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.names import (
    DEFAULT_BRIDGE,
    DEFAULT_NETWORK,
    GWBRIDGE,
    OVERLAY_BRIDGE,
    has_global_endpoints,
    namespaces_for,
    speaks_evpn,
)

_PLAN = 'ansible_collections.linuxnet.container.plugins.plugin_utils._plan.'


def _planner(name):
    """One of the planner's modules (fleet, topology, overlay, inventory, ipam_etcd), imported on first use."""
    return importlib.import_module(_PLAN + name)


def _inventory_problems(hostvars, hosts):
    """inventory_problems, then (when it found none and linuxnet_ipam's backend is etcd) whether etcd answers: an
    unreachable etcd stops the play here, before any host changes."""
    hosts = list(hosts)
    ipam_etcd = _planner('ipam_etcd')
    problems = _planner('inventory').inventory_problems(hostvars, hosts)
    settings = ipam_etcd.ipam_settings(hostvars[hosts[0]]) if hosts and not problems else None
    if settings is not None:
        problems = ipam_etcd.reachable_problems(settings)
    return problems


def _container_namespaces(containers):
    return [{'name': name} for name in namespaces_for(containers)]


def _bridge_network_plans(hostvars, play_hosts, all_hosts=None, state='present', check_mode=False, facts='__bridge_network_info'):
    """{host: plan} for every host of the play, from every host's variables and the network_info result each host
    registered under the variable ``facts`` names (or a list of names: the first that holds a result, where a raw
    result of ``linuxnet-container read`` counts with its answer).

    Each plan also has ``vtep_filter`` (host_network's argument, or None), ``tag`` (the code id and the plan's digest,
    for persist.tag) and ``settled`` (the host holds this plan and nothing would change: see plugin_utils/_plan/settle).

    Runs once per play (run_once): the fleet part is computed once, so planning is O(fleet). With linuxnet_ipam's
    backend etcd, overlay and macvlan addresses are leased there (``check_mode``: read, never written).
    """
    in_play = set(play_hosts)
    for name in all_hosts or []:
        if name not in in_play and state != 'absent' and has_global_endpoints(hostvars[name]):
            raise AnsibleFilterError(
                'host %s has endpoints on overlay or macvlan networks but is not in this play, so the fleet cannot be planned '
                'without it (its addresses and VTEP would be dropped from every other host). Fix: run without --limit, or '
                'remove its containers from those networks' % name)
    ipam_etcd, fleet, settle = _planner('ipam_etcd'), _planner('fleet'), _planner('settle')
    members, answers = [], {}
    for name in play_hosts:
        hv = hostvars[name]
        read, answers[name] = settle.facts_of(hv, facts)
        members.append((name, hv, read))
    try:
        leases = ipam_etcd.open_leases(hostvars[play_hosts[0]], check_mode) if play_hosts else None
    except ipam_etcd.LeaseError as err:
        raise AnsibleFilterError(str(err))
    try:
        plans = fleet.plan_fleet(members, state, leases)
    except fleet.PlanError as err:
        raise AnsibleFilterError(str(err))
    finally:
        if leases is not None:
            leases.client.close()
    for (name, hv, read) in members:
        plan = plans[name]
        plan['vtep_filter'] = settle.vtep_filter(plan, read)
        plan['tag'] = settle.tag(plan, hv, state)
        plan['settled'] = settle.settled(plan, answers[name], read) and settle.skip_settled(hv)
    for plan in plans.values():
        for warning in plan['warnings']:
            Display().warning(warning)
    return plans


def _read_answered(result):
    """Whether a registered raw result of ``linuxnet-container read`` holds the host's answer (else the module reads)."""
    return _planner('settle').answer(result) is not None


def _read_request(host_vars, check_mode=True):
    """What the bridge_network role hands ``linuxnet-container read`` on the host (see plugin_utils/_plan/settle)."""
    return _planner('settle').read_request(_bridge_networks(host_vars),
                                           namespaces_for(host_vars.get('linuxnet_containers') or []), check_mode)


def _ipam_release(hostvars, hosts, plans='__bridge_network_plans'):
    """Release, in etcd, the leases the plans of ``hosts`` list under ``ipam_release`` (containers that left the
    inventory, or every container on teardown); the number released. Called after the converge, with the hosts that
    converged (ansible_play_hosts): a host that failed keeps its containers, and so its leases."""
    hosts = list(hosts)
    if not hosts:
        return 0
    planned = hostvars[hosts[0]].get(plans) or {}
    entries = [entry for host in hosts for entry in (planned.get(host) or {}).get('ipam_release') or []]
    ipam_etcd = _planner('ipam_etcd')
    try:
        return ipam_etcd.release_leases(hostvars[hosts[0]], entries)
    except ipam_etcd.LeaseError as err:
        raise AnsibleFilterError(str(err))


def _bridge_networks(host_vars):
    """[{name, bridge}] of the bridge networks (with the default one), for network_info."""
    networks = [{'name': DEFAULT_NETWORK, 'bridge': DEFAULT_BRIDGE}, {'name': GWBRIDGE, 'bridge': GWBRIDGE}]
    for net in host_vars.get('linuxnet_networks') or []:
        if not isinstance(net, dict) or (net.get('driver') or 'bridge') != 'bridge':
            continue
        if net.get('name') == DEFAULT_NETWORK:
            networks[0]['bridge'] = net.get('bridge_name') or DEFAULT_BRIDGE
        else:
            networks.append({'name': net['name'], 'bridge': net.get('bridge_name') or bridge_name(net['name'])})
        item = networks[0] if net.get('name') == DEFAULT_NETWORK else networks[-1]
        _copy_ranges(net, item)
    return networks


def _copy_ranges(net, item):
    """The network's ip_range and, with IPv6 on, its ipv6_ip_range, into network_info's item (shown as IPRange)."""
    if net.get('ip_range'):
        item['ip_range'] = str(net['ip_range'])
    if net.get('ipv6_ip_range') and str(net.get('enable_ipv6')).lower() in ('true', 'yes', 'on', '1'):
        item['ipv6_ip_range'] = str(net['ipv6_ip_range'])


def _macvlan_networks(host_vars):
    """[{name, driver, parent, subnet, gateway, ip_range}] of the macvlan networks, with ipv6_subnet, ipv6_gateway and
    ipv6_ip_range on those with IPv6 (gateways defaulted as the plan does)."""
    problems = []
    nets = _planner('topology').read_networks(host_vars.get('linuxnet_networks'), 'linuxnet_networks', problems)
    out = []
    for net in nets.values():
        if net.driver != 'macvlan':
            continue
        item = {'name': net.name, 'driver': 'macvlan', 'parent': net.parent, 'subnet': str(net.subnet),
                'gateway': str(net.gateway) if net.gateway else None}
        if net.ip_range:
            item['ip_range'] = str(net.ip_range)
        if net.ipv6:
            item.update(ipv6_subnet=str(net.subnet6), ipv6_gateway=str(net.gateway6))
            if net.ip_range6:
                item['ipv6_ip_range'] = str(net.ip_range6)
        out.append(item)
    return out


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
        if 'com.docker.network.bridge.enable_icc' in options and _yes(options['com.docker.network.bridge.enable_icc']) == 'no':
            flags.append('icc off')
        if _yes(options.get('com.docker.network.bridge.enable_ip_masquerade')) == 'yes':
            flags.append('masquerade')
        if net.get('Driver') == 'overlay':
            flags.append('VNI %s' % options.get('com.docker.network.driver.overlay.vxlanid_list'))
        carrier = options.get('com.docker.network.bridge.name') or options.get('parent') or 'br0'
        # The IPv6 entry of a network with EnableIPv6 (bridge or overlay), after the IPv4 one.
        ipv6 = ''.join(', IPv6 %s gateway %s' % (c.get('Subnet'), c.get('Gateway')) for c in configs[1:2] if ':' in (c.get('Subnet') or ''))
        lines.append('%snetwork %s: %s on %s, gateway %s%s (%s)' % (
            (host + ' ') if host else '', net.get('Name'), configs[0].get('Subnet'), carrier,
            configs[0].get('Gateway'), ipv6, ', '.join(flags)))
        for endpoint in sorted((net.get('Containers') or {}).values(), key=lambda e: e.get('Name', '')):
            line = '    %-16s %-18s %s' % (endpoint.get('Name'), endpoint.get('IPv4Address'), endpoint.get('MacAddress'))
            lines.append(line + ('  ' + endpoint['IPv6Address'] if endpoint.get('IPv6Address') else ''))
    for container, ports in sorted((info.get('ports') or {}).items()):
        allow = (info.get('port_allow') or {}).get(container) or {}
        for line in ports:
            only = ' (allowed from %s and the host itself)' % ', '.join(allow[line]) if line in allow else ''
            lines.append('%sport %s: %s%s' % ((host + ' ') if host else '', container, line, only))
    return lines


def _overlay_networks(host_vars):
    """[{name, bridge, driver, namespace}] of the overlay networks: br0 in each overlay's namespace."""
    overlay_namespace = _planner('overlay').overlay_namespace
    out = []
    for net in host_vars.get('linuxnet_networks') or []:
        if isinstance(net, dict) and net.get('driver') == 'overlay':
            item = {'name': net['name'], 'bridge': OVERLAY_BRIDGE, 'driver': 'overlay', 'namespace': overlay_namespace(net['name'])}
            _copy_ranges(net, item)
            out.append(item)
    return out


def _evpn_summary(vnis, bgp=None, host=''):
    """Readable lines of FRR's ``show evpn vni json`` and ``show bgp l2vpn evpn summary json`` (JSON text or parsed)."""
    vnis = json.loads(vnis) if isinstance(vnis, str) else (vnis or {})
    bgp = json.loads(bgp) if isinstance(bgp, str) and bgp.strip() else (bgp or {})
    lines = []
    for _key, vni in sorted(vnis.items(), key=lambda item: int(item[0])):
        lines.append('%sevpn: vni: %s (%s in %s): %d MACs, %d remote VTEPs%s' % (
            host + ': ' if host else '', vni.get('vni'), vni.get('vxlanIf'), vni.get('tenantVrf'), vni.get('numMacs', 0),
            vni.get('numRemoteVteps', 0), ' (%s)' % ', '.join(sorted(vni.get('remoteVteps') or [])) if vni.get('remoteVteps') else ''))
    for address, peer in sorted((bgp.get('peers') or {}).items()):
        lines.append('%sevpn: bgp peer %s%s: %s, %s routes received' % (
            host + ': ' if host else '', address, ' (%s)' % peer['hostname'] if peer.get('hostname') else '',
            peer.get('state'), peer.get('pfxRcd', 0)))
    if not lines:
        lines.append('%sevpn: no VNI and no BGP peer' % (host + ': ' if host else ''))
    return lines


class FilterModule:
    """linuxnet.container filters."""

    def filters(self):
        return {
            'inventory_problems': _inventory_problems,
            'container_namespaces': _container_namespaces,
            'bridge_network_plans': _bridge_network_plans,
            'bridge_networks': _bridge_networks,
            'read_request': _read_request,
            'read_answered': _read_answered,
            'ipam_release': _ipam_release,
            'has_global_endpoints': has_global_endpoints,
            'speaks_evpn': speaks_evpn,
            'evpn_summary': _evpn_summary,
            'overlay_networks': _overlay_networks,
            'macvlan_networks': _macvlan_networks,
            'network_summary': _network_summary,
        }
