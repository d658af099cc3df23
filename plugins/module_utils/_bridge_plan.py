# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The bridge_network role's planner: inventory + what a host holds -> a few module calls (pure logic).

``plan_host`` runs on the controller. Its input is one host's variables (already validated by
``_topology.host_problems``) and the facts ``network_info`` read from that host's kernel; its
output is the argument of one netns, one bridge, one veth, one docker_isolation and one port_map
call, whatever the number of containers.

Addresses are stable: an endpoint that exists keeps the address the kernel shows for it, static
addresses are reserved before anything is allocated, and new endpoints take the lowest free
address in inventory order. Re-running, or adding a container anywhere in the list, never
renumbers an existing one. The same holds for subnets picked from the default pools: a network
whose bridge exists keeps the subnet on its bridge.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.linuxnet.container.plugins.module_utils._ids import container_id, host_veth_name
from ansible_collections.linuxnet.container.plugins.module_utils._normalize import docker_mac
from ansible_collections.linuxnet.container.plugins.module_utils._topology import (
    DEFAULT_SUBNET,
    container_mode,
    default_pools,
    link_address_network,
    parse_link,
    read_container_endpoints,
    read_networks,
)

# Bridges the overlay role owns on a host; the bridge planner never prunes them.
RESERVED_BRIDGES = ('docker_gwbridge',)


class PlanError(Exception):
    """A host whose inventory is valid but cannot be planned (an exhausted pool)."""


def _existing(facts):
    """From network_info facts: {(container, network): IPv4Address}, {network name: subnet}, routed subnets."""
    addresses = {}
    for ep in facts.get('endpoints') or []:
        for cidr in ep.get('addresses') or []:
            iface = ipaddress.ip_interface(cidr)
            if iface.version == 4:
                addresses[(ep['container'], ep['network'])] = iface.ip
                break
    subnets = {}
    bridges_now = {}
    for net in facts.get('networks') or []:
        if not net.get('Exists', True):
            continue
        bridge = (net.get('Options') or {}).get('com.docker.network.bridge.name') or net.get('Name')
        bridges_now[bridge] = net.get('Name')
        for config in (net.get('IPAM') or {}).get('Config') or []:
            if config.get('Subnet') and ':' not in config['Subnet']:
                subnets[net['Name']] = (ipaddress.ip_network(config['Subnet']), ipaddress.ip_address(config['Gateway'])
                                        if config.get('Gateway') else None)
                break
    routes = []
    for route in facts.get('routes') or []:
        if route.get('dst') in (None, 'default', '0.0.0.0/0'):
            continue
        routes.append((ipaddress.ip_network(route['dst'], strict=False), route.get('dev')))
    return addresses, subnets, bridges_now, routes


def _assign_subnets(nets, used_nets, subnets_now, routes, host):
    """Give every used bridge network without a configured subnet one: its bridge's, else a free pool block."""
    ours = {net.bridge for net in nets.values() if net.driver == 'bridge'}
    taken = [r for r, dev in routes if dev not in ours]
    taken.extend(n.subnet for n in nets.values() if n.subnet is not None)
    for name in used_nets:
        net = nets[name]
        if net.subnet is not None or net.driver != 'bridge':
            continue
        now = subnets_now.get(name)
        if now is not None:
            net.subnet, net.gateway = now[0], now[1] or now[0].network_address + 1
            taken.append(net.subnet)
    for name in used_nets:
        net = nets[name]
        if net.subnet is not None or net.driver != 'bridge':
            continue
        # 172.17.0.0/16 is the default network's (Docker's docker0 always holds it); user networks start at 172.18.
        candidates = [p for p in default_pools() if net.default or p != ipaddress.ip_network(DEFAULT_SUBNET)]
        for pool in candidates:
            if not any(pool.overlaps(t) for t in taken):
                net.subnet, net.gateway = pool, pool.network_address + 1
                taken.append(pool)
                break
        else:
            raise PlanError('host %s: network %s: could not find an available, non-overlapping IPv4 address pool among the '
                            'defaults to assign to the network. Fix: set subnet on %s in linuxnet_networks' % (host, name, name))


class _Allocator:
    """Lowest free address of a network's range, skipping reserved ones; lazily walks the range."""

    def __init__(self, net):
        self.net = net
        rng = net.ip_range or net.subnet
        self.next = int(rng.network_address) if net.ip_range else int(rng.network_address) + 1
        self.last = int(rng.broadcast_address) if net.ip_range else int(rng.broadcast_address) - 1
        self.used = {net.gateway, net.subnet.network_address, net.subnet.broadcast_address}

    def reserve(self, address):
        self.used.add(address)

    def take(self, host, container):
        while self.next <= self.last:
            address = ipaddress.IPv4Address(self.next)
            self.next += 1
            if address not in self.used:
                self.used.add(address)
                return address
        raise PlanError('host %s: container %s: no available IPv4 addresses on network %s (range %s). Fix: widen ip_range or '
                        'subnet, or give the container a static ipv4_address' % (host, container, self.net.name,
                                                                               self.net.ip_range or self.net.subnet))


def plan_host(host, hv, facts, state='present'):
    """The module arguments that converge one host. Raises PlanError; inventory problems were checked before."""
    problems = []
    nets = read_networks(hv.get('linuxnet_networks'), 'host %s' % host, problems)
    if problems:
        raise PlanError('\n'.join(problems))
    containers = [] if state == 'absent' else list(hv.get('linuxnet_containers') or [])
    addresses_now, subnets_now, bridges_now, routes = _existing(facts)
    warnings = []

    endpoints = {}
    for container in containers:
        mode = container_mode(container)
        if mode == 'bridge':
            eps = read_container_endpoints(container, nets, 'host %s: container %s' % (host, container['name']), problems)
            # Overlay and macvlan endpoints belong to the overlay role.
            endpoints[container['name']] = [ep for ep in eps if nets[ep.network].driver == 'bridge']
        elif container.get('ports'):
            warnings.append('host %s: container %s: Published ports are discarded when using %s network mode'
                            % (host, container['name'], container['network_mode']))
    if problems:
        raise PlanError('\n'.join(problems))
    used_nets = []
    for eps in endpoints.values():
        for ep in eps:
            if ep.network not in used_nets:
                used_nets.append(ep.network)
    used_nets.sort(key=lambda n: (not nets[n].default, list(nets).index(n)))
    _assign_subnets(nets, used_nets, subnets_now, routes, host)

    allocators = {name: _Allocator(nets[name]) for name in used_nets}
    for eps in endpoints.values():
        for ep in eps:
            if ep.address is not None:
                allocators[ep.network].reserve(ep.address)
    # Existing endpoints keep their address when it still fits the network and nobody claims it statically.
    kept = {}
    for eps in endpoints.values():
        for ep in eps:
            now = addresses_now.get((ep.container, ep.network))
            net = nets[ep.network]
            if ep.address is None and now is not None and now in net.subnet and now not in allocators[ep.network].used:
                kept[(ep.container, ep.network)] = now
                allocators[ep.network].reserve(now)
    for eps in endpoints.values():
        for ep in eps:
            if ep.address is None:
                ep.address = kept.get((ep.container, ep.network)) or allocators[ep.network].take(host, ep.container)

    planned = {(ep.container, ep.network) for eps in endpoints.values() for ep in eps}
    stale = [{'name': ep['host_ifname'], 'state': 'absent'} for ep in facts.get('endpoints') or []
             if ep['container'] in endpoints and (ep['container'], ep['network']) not in planned and ep.get('host_ifname')]
    plan = _render(host, nets, used_nets, containers, endpoints, bridges_now, warnings)
    plan['pairs'].extend(stale)
    return plan


def _render(host, nets, used_nets, containers, endpoints, bridges_now, warnings):
    bridges = []
    for name in used_nets:
        net = nets[name]
        bridge = {'name': net.bridge, 'addresses': ['%s/%d' % (net.gateway, net.subnet.prefixlen)], 'purge_addresses': True}
        if net.mtu:
            bridge['mtu'] = net.mtu
        bridges.append(bridge)
    planned = {b['name'] for b in bridges}
    for bridge in sorted(bridges_now):
        if bridge not in planned and bridge not in RESERVED_BRIDGES:
            bridges.append({'name': bridge, 'state': 'absent'})

    pairs = []
    for container in containers:
        eps = endpoints.get(container['name'], [])
        gateway_net = next((ep.network for ep in eps if not nets[ep.network].internal), None)
        for ep in eps:
            net = nets[ep.network]
            peer = {'name': ep.ifname, 'namespace': ep.container,
                    'addresses': ['%s/%d' % (ep.address, net.subnet.prefixlen)],
                    'mac': ep.mac or docker_mac(str(ep.address))}
            if ep.network == gateway_net:
                peer['routes'] = [{'dst': 'default', 'gateway': str(net.gateway)}]
            pair = {'name': host_veth_name(ep.container, ep.network), 'master': net.bridge, 'hairpin': True,
                    'purge_addresses': True, 'peer': peer}
            if net.mtu:
                pair['mtu'] = net.mtu
            pairs.append(pair)

    isolation = [{'bridge': nets[n].bridge, 'subnet': str(nets[n].subnet), 'icc': nets[n].icc,
                  'masquerade': nets[n].masquerade, 'internal': nets[n].internal} for n in used_nets]

    ports = []
    for container in containers:
        if container_mode(container) != 'bridge' or not container.get('ports'):
            continue
        eps = endpoints[container['name']]
        target = next((ep for ep in eps if not nets[ep.network].internal), None)
        if target is None:
            warnings.append('host %s: container %s: its networks are all internal, so its published ports %s are not '
                            'reachable and were not published' % (host, container['name'], ', '.join(map(str, container['ports']))))
            continue
        ports.append({'name': container['name'], 'container_ip': str(target.address),
                      'publish': [str(p) for p in container['ports']]})

    namespaces = _namespaces(nets, containers, endpoints)
    summary = {
        'networks': [{'name': n, 'bridge': nets[n].bridge, 'subnet': str(nets[n].subnet), 'gateway': str(nets[n].gateway),
                      'internal': nets[n].internal, 'icc': nets[n].icc, 'masquerade': nets[n].masquerade}
                     for n in used_nets],
        'containers': [{'name': c['name'], 'network_mode': c.get('network_mode') or 'bridge',
                        'endpoints': [{'network': ep.network, 'ifname': ep.ifname, 'address': str(ep.address),
                                       'mac': ep.mac or docker_mac(str(ep.address))}
                                      for ep in endpoints.get(c['name'], [])],
                        'ports': [str(p) for p in c.get('ports') or []] if container_mode(c) == 'bridge' else []}
                       for c in containers],
    }
    return {'namespaces': namespaces, 'bridges': bridges, 'pairs': pairs, 'isolation': isolation, 'ports': ports,
            'networks': [{'name': n.name, 'bridge': n.bridge} for n in nets.values() if n.driver == 'bridge'],
            'containers': [c['name'] for c in containers if container_mode(c) in ('bridge', 'none')],
            'warnings': warnings, 'summary': summary}


def _namespaces(nets, containers, endpoints):
    """netns arguments: one namespace per bridge/none container with its hosts file; container: modes share one."""
    by_network = {}
    for eps in endpoints.values():
        for ep in eps:
            by_network.setdefault(ep.network, []).append(ep)
    hosts_of = {}
    for container in containers:
        name = container['name']
        mode = container_mode(container)
        if mode not in ('bridge', 'none'):
            continue
        entries = []
        seen = set()

        def add(address, names, entries=entries, seen=seen):
            fresh = [n for n in names if n not in seen]
            if fresh:
                seen.update(fresh)
                entries.append({'address': str(address), 'names': fresh})

        eps = endpoints.get(name, [])
        if eps:
            add(eps[0].address, [container_id(name)[:12], name] + eps[0].aliases)
        for ep in eps:
            if nets[ep.network].default:
                continue  # Docker's default network resolves only links
            if ep is not eps[0] and ep.aliases:
                add(ep.address, ep.aliases)
            for other in by_network[ep.network]:
                if other.container != name:
                    add(other.address, [other.container] + other.aliases)
        for link in container.get('links') or []:
            target, alias = parse_link(link)
            network = link_address_network(name, target, endpoints, nets)
            address = next(ep.address for ep in endpoints[target] if ep.network == network)
            add(address, [alias, container_id(target)[:12], target] if alias != target else [target, container_id(target)[:12]])
        hosts_of[name] = entries
    namespaces = []
    for container in containers:
        name = container['name']
        mode = container_mode(container)
        if mode in ('bridge', 'none'):
            namespaces.append({'name': name, 'hosts': hosts_of[name]})
        elif mode == 'container':
            other = container['network_mode'].split(':', 1)[1]
            namespaces.append({'name': name, 'share': other, 'hosts': hosts_of.get(other, [])})
    return namespaces
