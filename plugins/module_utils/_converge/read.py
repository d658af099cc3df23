# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The read: what a host's kernel holds of container networks, as linuxnet.container.network_info returns it.

One definition for the module and for ``linuxnet-container read`` (the host-local command, which the bridge_network
role runs over a raw connection where the host already holds this version of the code: one Python process per host
and run instead of a module's payload). ``READ_SPEC`` is the module's argument spec; ``gather`` the read.
"""

from __future__ import annotations

import ipaddress
import os
import socket

from ansible_collections.linuxnet.container.plugins.module_utils._parts import inspect, port_proxy
from ansible_collections.linuxnet.container.plugins.module_utils._kernel import nft
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import owned, raise_fd_limit
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.fanout import fan_out
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import list_named_netns, NamespaceRef, netns_key
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import validate_netns_name
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import validate_ifname
from ansible_collections.linuxnet.container.plugins.module_utils._common.ports import ANY6, allow_from_elements

# linuxnet.container.network_info's options.
READ_SPEC = dict(
    networks=dict(type='list', elements='dict', default=[], options=dict(
        name=dict(type='str', required=True),
        bridge=dict(type='str'),
        driver=dict(type='str', choices=['bridge', 'overlay', 'macvlan'], default='bridge'),
        parent=dict(type='str'),
        subnet=dict(type='str'),
        gateway=dict(type='str'),
        ip_range=dict(type='str'),
        ipv6_subnet=dict(type='str'),
        ipv6_gateway=dict(type='str'),
        ipv6_ip_range=dict(type='str'),
    )),
    containers=dict(type='list', elements='str'),
    namespace=dict(type='str'),
    discover=dict(type='bool', default=True),
    interfaces=dict(type='bool', default=False),
)

_HOME_NS = '/proc/self/ns/net'


def _requested(params):
    """Validate the networks and containers options; return (networks, container names or None)."""
    networks, names, bridges = [], {}, {}
    for index, net in enumerate(params['networks']):
        where = 'networks[%d] (%s)' % (index, net['name'])
        if net['name'] in names:
            raise LinuxnetError('%s: network %s is listed twice (also networks[%d]). Fix: list each network once'
                                % (where, net['name'], names[net['name']]))
        if net['driver'] == 'macvlan':
            networks.append(_requested_macvlan(net, where))
            names[net['name']] = index
            continue
        if not net['bridge']:
            raise LinuxnetError('%s: bridge is required for a %s network. Fix: give the bridge that carries it' % (where, net['driver']))
        problem = validate_ifname(net['bridge'])
        if problem:
            raise LinuxnetError('%s: bridge: %s' % (where, problem))
        if net['bridge'] in bridges:
            raise LinuxnetError('%s: bridge %s is also the bridge of networks[%d]. Fix: give every network its own bridge'
                                % (where, net['bridge'], bridges[net['bridge']]))
        names[net['name']] = bridges[net['bridge']] = index
        networks.append({'name': net['name'], 'bridge': net['bridge'], 'driver': net['driver'], 'ip_range': _network(net, where, 'ip_range'),
                         'ipv6_ip_range': _network(net, where, 'ipv6_ip_range', 6)})
    containers = params['containers']
    if containers is not None:
        for index, name in enumerate(containers):
            problem = validate_netns_name(name)
            if problem:
                raise LinuxnetError('containers[%d]: %s. Fix: give the container\'s namespace name' % (index, problem))
        containers = list(dict.fromkeys(containers))
    return networks, containers


# What each family's options look like, for the messages.
_FAMILY_HINTS = {4: ('an IPv4 network like 192.0.2.0/24', 'an IPv4 address'),
                 6: ('an IPv6 network like fd00:db8:50::/64', 'an IPv6 address')}


def _network(net, where, key, version=4):
    """A network option that must be a network of one family (subnet, ip_range: IPv4; ipv6_subnet, ipv6_ip_range:
    IPv6), normalized; None when unset."""
    value = net.get(key)
    if value is None:
        return None
    example = '192.0.2.0/24' if version == 4 else 'fd00:db8:1::/80'
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError as err:
        raise LinuxnetError('%s: %s: %s. Fix: give %s' % (where, key, err, _FAMILY_HINTS[version][0]))
    if network.version != version:
        raise LinuxnetError('%s: %s: %s is not IPv%d. Fix: give %s' % (where, key, value, version, _FAMILY_HINTS[version][0]))
    return network.compressed


def _address(net, where, key, version=4):
    """A gateway option of one family (gateway, ipv6_gateway), normalized; None when unset."""
    value = net.get(key)
    if value is None:
        return None
    try:
        return (ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address)(value).compressed
    except ValueError as err:
        raise LinuxnetError('%s: %s: %s. Fix: give %s' % (where, key, err, _FAMILY_HINTS[version][1]))


def _requested_macvlan(net, where):
    if not net['parent']:
        raise LinuxnetError('%s: parent is required for a macvlan network. Fix: give the host interface it hangs from' % where)
    problem = validate_ifname(net['parent'])
    if problem:
        raise LinuxnetError('%s: parent: %s' % (where, problem))
    return {'name': net['name'], 'bridge': None, 'driver': 'macvlan', 'parent': net['parent'],
            'subnet': _network(net, where, 'subnet'), 'gateway': _address(net, where, 'gateway'),
            'ip_range': _network(net, where, 'ip_range'), 'ipv6_subnet': _network(net, where, 'ipv6_subnet', 6),
            'ipv6_gateway': _address(net, where, 'ipv6_gateway', 6), 'ipv6_ip_range': _network(net, where, 'ipv6_ip_range', 6)}


def _read_table(netlink, ref, family, table, warnings):
    """The sets of one of the collection's nftables tables, or None when it is absent (or not ours)."""
    try:
        with netlink.inside(ref):
            state = nft.TableState(nft.list_table(family, table))
    except LinuxnetError as err:
        warnings.append('%s; table %s %s counts as absent' % (err.msg, family, table))
        return None
    if state.exists and not state.owned:
        warnings.append('nftables table %s %s was not made by linuxnet.container (no set %s in it): ignored'
                        % (family, table, nft.OWNER_SET))
        return None
    return state.sets if state.exists else None


def _scan_containers(netlink, ref, names, host_links, bridges, warnings, interfaces=None, macvlans=(), scanned=None,
                     missing=None):
    """Endpoints of every container on the bridges and macvlan networks: one link dump per namespace, an address
    dump where one is found.

    With ``interfaces`` (a list), every non-loopback interface of every container is appended to it. ``macvlans``:
    the requested macvlan networks whose parent exists, with ``parent_index``. ``missing``: {network: bridge} of the
    requested bridge networks whose bridge is not there (their endpoints are found by their host end's name).
    """
    found = []
    parents = {net['parent_index'] for net in macvlans}
    if not bridges and not missing and not parents and interfaces is None and scanned is None:
        return found
    home_key = netns_key(ref.path or _HOME_NS)
    bridge_fd = os.open(ref.path or _HOME_NS, os.O_RDONLY)

    def scan(own, name):
        """(endpoints, interfaces, warning) of one container: plain data, as a reading worker sends it back."""
        cref = NamespaceRef(name)
        ifaces = []
        try:
            channel = own.channel(cref)
            links = inspect.read_links(channel, 'network namespace %s' % name)
            raw = []
            if inspect.candidate_links(host_links, bridges, links, name, parents, missing):
                nsid = inspect.read_nsid(channel, 'network namespace %s' % name, bridge_fd)
                raw = inspect.match_endpoints(host_links, bridges, name, links, nsid, missing)
                raw += inspect.match_macvlans(host_links, parents, name, links, nsid)
            addrs = inspect.read_addresses(channel, 'network namespace %s' % name) if raw or interfaces is not None else {}
            for ep in raw:
                if ep['network'] is None:
                    ep['network'] = inspect.macvlan_network(ep['bridge'], addrs.get(ep['index'], []), macvlans)
            raw = [ep for ep in raw if ep['network'] is not None]
            if interfaces is not None:
                ifaces = [{'container': name, 'ifname': link['name'], 'kind': link['kind'], 'mac': link['mac'],
                           'addresses': inspect.sorted_addresses(addrs.get(index, []))}
                          for index, link in sorted(links.items()) if link['name'] != 'lo']
        except LinuxnetError as err:
            return [], [], 'container %s skipped: %s' % (name, err.msg)
        finally:
            own.forget(cref)
        return [inspect.endpoint_entry(ep, addrs.get(ep['index'], [])) for ep in raw], ifaces, None

    try:
        todo = [name for name in names if NamespaceRef(name).exists() and netns_key(NamespaceRef(name).path) != home_key]
        if scanned is not None:
            scanned.extend(sorted(todo))
        # Hundreds of containers: their namespaces are read by one process per CPU (_kernel/fanout.py).
        for endpoints, ifaces, warning in fan_out(netlink, scan, todo):
            found.extend(endpoints)
            if interfaces is not None:
                interfaces.extend(ifaces)
            if warning:
                warnings.append(warning)
    finally:
        os.close(bridge_fd)
    return sorted(found, key=lambda e: (e['container'], e['ifname']))


def _vxlan_devices(netlink, ref, label, host_links):
    """The VXLAN devices of the bridges' namespace with their remote VTEPs: one FDB dump for all of them (none
    when there is no VXLAN device)."""
    devices = sorted(index for index, info in host_links.items() if info['kind'] == 'vxlan')
    if not devices:
        return []
    names = {index: info['name'] for index, info in host_links.items()}
    dsts = inspect.read_fdb_dsts(netlink.ipr(ref), label)
    return [inspect.vxlan_device(host_links[index], dsts.get(index, []), names) for index in devices]


def gather(netlink, params):
    """Everything the module returns, read from the kernel."""
    networks, containers = _requested(params)
    ref = NamespaceRef(params['namespace'])
    warnings = []
    if not ref.exists():
        flags = inspect.DEFAULT_FLAGS
        return {'networks': [inspect.network_inspect(net, None, [], [], flags) for net in networks],
                'endpoints': [], 'routes': [], 'routes6': [], 'ports': {}, 'port_allow': {}, 'links': [], 'tables': [], 'vxlan': [], 'containers': [],
                'warnings': warnings}
    label = 'the host namespace' if ref.is_host else 'network namespace %s' % ref.label
    channel = netlink.channel(ref)
    host_links = inspect.read_links(channel, label)
    by_name = {info['name']: info for info in host_links.values()}
    bridge_addrs = inspect.read_addresses(channel, label)  # both families: a bridge's IPAM.Config shows its IPv6 subnet
    routes = inspect.read_routes(channel, label, host_links)
    routes6 = inspect.read_routes(channel, label, host_links, family=socket.AF_INET6)

    reported, macvlans = [], []
    for net in networks:
        if net['driver'] == 'macvlan':
            link = by_name.get(net['parent'])
            if link is not None:
                macvlans.append(dict(net, parent_index=link['index']))
            reported.append((net, link))
            continue
        link = by_name.get(net['bridge'])
        if link is not None and link['kind'] != 'bridge':
            warnings.append('network %s: %s in %s is a %s link, not a bridge: reported as missing'
                            % (net['name'], net['bridge'], label, link['kind'] or 'plain'))
            link = None
        reported.append((net, link))
    if params['discover']:
        requested = {net['bridge'] for net in networks}
        for name in sorted(by_name):
            link = by_name[name]
            if link['kind'] == 'bridge' and owned(link) and name not in requested:
                reported.append(({'name': name, 'bridge': name, 'driver': 'bridge'}, link))
    bridges = {link['index']: net['name'] for net, link in reported if link is not None and net['driver'] != 'macvlan'}
    # A bridge deleted by hand: its containers' endpoints are still found (the planner keeps their names and addresses).
    missing = {net['name']: net['bridge'] for net, link in reported if link is None and net['driver'] != 'macvlan'}

    names = containers if containers is not None else list_named_netns()
    if len(names) > 200:
        raise_fd_limit()
    interfaces = [] if params['interfaces'] else None
    scanned = []
    endpoints = _scan_containers(netlink, ref, names, host_links, bridges, warnings, interfaces, macvlans, scanned, missing)
    vxlan = _vxlan_devices(netlink, ref, label, host_links)
    vxlan_on = {device['master']: device for device in vxlan if device['master']}

    isolation_sets = _read_table(netlink, ref, *inspect.ISOLATION_TABLE, warnings=warnings)
    isolation = inspect.isolation_flags(isolation_sets)
    ports_sets = _read_table(netlink, ref, *inspect.PORTS_TABLE, warnings=warnings)
    ports6_sets = _read_table(netlink, ref, *inspect.PORTS6_TABLE, warnings=warnings)
    vtep_sets = _read_table(netlink, ref, *inspect.VTEP_TABLE, warnings=warnings)
    found = ((inspect.ISOLATION_TABLE, isolation_sets), (inspect.PORTS_TABLE, ports_sets), (inspect.PORTS6_TABLE, ports6_sets),
             (inspect.VTEP_TABLE, vtep_sets))
    tables = ['%s %s' % table for table, sets in found if sets is not None]
    by_network = {}
    for ep in endpoints:
        by_network.setdefault(ep['network'], []).append(ep)
    result_networks = [inspect.network_inspect(net, link, bridge_addrs.get(link['index'], []) if link else [],
                                               by_network.get(net['name'], []) if link else [],
                                               isolation.get(net['bridge'], inspect.DEFAULT_FLAGS),
                                               vxlan_on.get(net['bridge']) if link else None)
                       for net, link in reported]
    # IPv4 and IPv6 publications: their keys differ (0.0.0.0 or an IPv4 address; :: or an IPv6 one)
    published = inspect.published_maps(ports_sets or {})
    published.update(inspect.published_maps(ports6_sets or {}, ANY6))
    if ref.is_host:  # [::1] publications: systemd-socket-proxyd units, read from their files
        published.update(port_proxy.read_maps())
    allow = allow_from_elements(ports_sets or {})
    allow.update(allow_from_elements(ports6_sets or {}, ANY6))
    ports = inspect.port_lines(published, endpoints)
    port_allow = inspect.port_allow(published, allow, endpoints)
    public = ('container', 'network', 'bridge', 'ifname', 'host_ifname', 'mac', 'addresses', 'GlobalIPv6Address', 'GlobalIPv6PrefixLen')
    links = [{'name': info['name'], 'kind': info['kind'], 'mtu': info['mtu'], 'mac': info['mac'],
              'addresses': [cidr for cidr, _secondary in bridge_addrs.get(index, []) if ':' not in cidr],
              'addresses6': [cidr for cidr in inspect.sorted_addresses(bridge_addrs.get(index, [])) if ':' in cidr],
              'owned': owned(info)}
             for index, info in sorted(host_links.items())]
    result = {'networks': result_networks, 'endpoints': [{k: ep[k] for k in public} for ep in endpoints],
              'routes': routes, 'routes6': routes6, 'ports': ports, 'port_allow': port_allow, 'links': links, 'tables': tables, 'vxlan': vxlan,
              'containers': scanned,
              'warnings': warnings}
    if interfaces is not None:
        result['interfaces'] = interfaces
    return result
