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

from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import container_id, host_veth_name
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import docker_mac, mac_ipv4
from ansible_collections.linuxnet.container.plugins.module_utils._common.ports import ANY, ANY6, LOOPBACK6, PortError, parse_allow, parse_publish
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.ipam import Allocator, PoolExhausted, exhausted
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.ipam_etcd import lease_space, owner_of
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.names import (
    GLOBAL_DRIVERS,
    GWBRIDGE,
    OVERLAY_BRIDGE,
    container_mode,
    has_global_endpoints,
)
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.overlay import (
    Fleet,
    FleetError,
    overlay_namespace,
)
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.topology import (
    DEFAULT_SUBNET,
    FAMILIES,
    Endpoint,
    Network,
    default_pools,
    link_address_network,
    network_clashes,
    parse_link,
    publications,
    read_container_endpoints,
    read_dns,
    read_networks,
    resolvers,
    ula_pool,
)


class PlanError(Exception):
    """A host whose inventory is valid but cannot be planned (an exhausted pool)."""


def _existing(facts):
    """From network_info facts: {(container, network): IPv4Address}, {network name: subnet}, routed subnets; and the
    IPv6 side: {(container, network): IPv6Address}, {network name: (IPv6 subnet, gateway)}."""
    addresses, addresses6, subnets6 = {}, {}, {}
    for ep in facts.get('endpoints') or []:
        for cidr in ep.get('addresses') or []:
            iface = ipaddress.ip_interface(cidr)
            found = addresses if iface.version == 4 else addresses6
            found.setdefault((ep['container'], ep['network']), iface.ip)
    subnets = {}
    bridges_now = {}
    for net in facts.get('networks') or []:
        if not net.get('Exists', True):
            continue
        bridge = (net.get('Options') or {}).get('com.docker.network.bridge.name') or net.get('Name')
        bridges_now[bridge] = net.get('Name')
        for config in (net.get('IPAM') or {}).get('Config') or []:
            if config.get('Subnet'):
                found = subnets6 if ':' in config['Subnet'] else subnets
                found.setdefault(net['Name'], (ipaddress.ip_network(config['Subnet']), ipaddress.ip_address(config['Gateway'])
                                               if config.get('Gateway') else None))
    routes = []
    for route in (facts.get('routes') or []) + (facts.get('routes6') or []):
        if route.get('dst') in (None, 'default', '0.0.0.0/0', '::/0'):
            continue
        routes.append((ipaddress.ip_network(route['dst'], strict=False), route.get('dev')))
    return addresses, subnets, bridges_now, routes, addresses6, subnets6


def _foreign_addresses(facts, nets):
    """{IPv4Address or IPv6Address: what holds it} of the addresses network_info found on the host's links and in the containers'
    namespaces that no endpoint owns: the gateways of the networks on their bridges, the bridge networks' endpoints
    and the overlay and macvlan interfaces (which the fleet plans) left out."""
    gateways = {(net.bridge, gateway) for net in nets.values() for gateway in (net.gateway, net.gateway6) if gateway is not None}
    endpoints = {(ep['container'], ep.get('ifname')) for ep in facts.get('endpoints') or []}
    fleet_subnets = [subnet for net in nets.values() if net.driver in GLOBAL_DRIVERS
                     for subnet in (net.subnet, net.subnet6) if subnet is not None]
    found = {}

    def add(cidr, what, skip=lambda ip: False):
        iface = ipaddress.ip_interface(cidr)
        if not skip(iface.ip):
            found.setdefault(iface.ip, what)
    for link in facts.get('links') or []:
        for cidr in link.get('addresses') or []:
            add(cidr, '%s in the host namespace' % link['name'], lambda ip, name=link['name']: (name, ip) in gateways)
    for iface in facts.get('interfaces') or []:
        if (iface['container'], iface['ifname']) in endpoints:
            continue
        for cidr in iface.get('addresses') or []:
            add(cidr, '%s in network namespace %s' % (iface['ifname'], iface['container']),
                lambda ip: any(ip in subnet for subnet in fleet_subnets))
    return found


def _assign_subnets(nets, used_nets, subnets_now, routes, host, owned_links=(), version=4):
    """Give every used bridge network without a configured subnet of the family ``version`` one (IPv6: the networks
    with enable_ipv6): its bridge's, else a free pool block (IPv4: Docker's default pools; IPv6: the host's ULA /64s).

    A set subnet of a used bridge network must not overlap what the host routes through devices that are not the
    collection's (its bridges now, declared or about to be pruned): Docker's "Pool overlaps" check, before any change.
    """
    key = FAMILIES[version]['subnet']
    wanted = [name for name in used_nets if nets[name].driver == 'bridge' and (version == 4 or nets[name].ipv6)]
    ours = {net.bridge for net in nets.values() if net.driver == 'bridge'} | set(owned_links)
    taken = [r for r, dev in routes if dev not in ours]
    problems = []
    for name in wanted:
        ipam = nets[name].ipam(version)
        if not ipam.user_subnet:
            continue
        for route, dev in routes:
            if dev not in ours and route.overlaps(ipam.subnet):
                problems.append('host %s: network %s: %s %s overlaps the route to %s on %s, which this host has already '
                                '(Pool overlaps with other one on this address space). Fix: give %s %s that the host '
                                'does not route yet' % (host, name, key, ipam.subnet, route, dev or 'no device', name,
                                                        'a subnet' if version == 4 else 'an ipv6_subnet'))
    if problems:
        raise PlanError('\n'.join(problems))
    taken.extend(n.ipam(version).subnet for n in nets.values() if n.ipam(version).subnet is not None)
    for name in wanted:
        net = nets[name]
        if net.ipam(version).subnet is not None:
            continue
        now = subnets_now.get(name)
        if now is not None:
            net.set_ipam(version, now[0], now[1] or now[0].network_address + 1)
            taken.append(now[0])
    for name in wanted:
        net = nets[name]
        if net.ipam(version).subnet is not None:
            continue
        if version == 6:
            candidates = ula_pool(host)
        else:
            # 172.17.0.0/16 is the default network's (Docker's docker0 always holds it); user networks start at 172.18.
            candidates = [p for p in default_pools() if net.default or p != ipaddress.ip_network(DEFAULT_SUBNET)]
        for pool in candidates:
            if not any(pool.overlaps(t) for t in taken):
                net.set_ipam(version, pool, pool.network_address + 1)
                taken.append(pool)
                break
        else:
            raise PlanError('host %s: network %s: could not find an available, non-overlapping %s address pool among the '
                            'defaults to assign to the network. Fix: set %s on %s in linuxnet_networks'
                            % (host, name, FAMILIES[version]['name'], key, name))


def _allocate(host, nets, used_nets, endpoints, foreign, addresses_now, version):
    """Every endpoint of ``used_nets`` gets its address of the family ``version`` (Endpoint.address, address6): static
    ones reserved first, then the addresses the host holds that are no endpoint's (``foreign``), then those existing
    endpoints hold (``addresses_now``) and may keep, then (IPv4) Docker's MAC-derived addresses of mac_address; new
    endpoints take the lowest free address. Raises PlanError."""
    field = 'address' if version == 4 else 'address6'
    key = FAMILIES[version]['address']
    members = [ep for eps in endpoints.values() for ep in eps if ep.network in used_nets]
    allocators = {name: Allocator(nets[name].ipam(version)) for name in used_nets}
    problems = []
    for ep in members:
        address = getattr(ep, field)
        if address is None:
            continue
        allocators[ep.network].reserve(address)
        # Addresses the host already holds that are no endpoint's (a user's, a runtime's): never handed out, and a
        # static address on one of them is refused.
        if address in foreign:
            problems.append('host %s: container %s: network %s: %s %s: Address already in use: %s already holds '
                            'it (not an endpoint of this inventory). Fix: give %s another %s, or remove %s from %s'
                            % (host, ep.container, ep.network, key, address, foreign[address], ep.container, key, address,
                               foreign[address]))
    if problems:
        raise PlanError('\n'.join(problems))
    for address in foreign:
        for name in used_nets:
            if address in nets[name].ipam(version).subnet:
                allocators[name].reserve(address)
    # Existing endpoints keep their address when it still fits the network and nobody claims it statically.
    kept = {}
    for ep in members:
        now = addresses_now.get((ep.container, ep.network))
        if getattr(ep, field) is None and allocators[ep.network].keep(now):
            kept[(ep.container, ep.network)] = now
    # A mac_address that is Docker's MAC of an address (02:42 + IPv4) keeps that address from new endpoints; an endpoint
    # that holds it already, or the gateway, is a clash (network_clashes).
    for ep in members if version == 4 else ():
        address = mac_ipv4(ep.mac)
        if address is not None and address in nets[ep.network].subnet:
            allocators[ep.network].reserve(address)
    for ep in members:
        if getattr(ep, field) is None:
            try:
                setattr(ep, field, kept.get((ep.container, ep.network)) or allocators[ep.network].take())
            except PoolExhausted:
                raise PlanError(exhausted(host, ep.container, nets[ep.network].ipam(version), version)) from None


def _egress_endpoint(eps, nets):
    """The endpoint that leads a container out (its published ports too): the first non-internal bridge or macvlan
    network's."""
    return next((ep for ep in eps if nets[ep.network].driver in ('bridge', 'macvlan') and not nets[ep.network].internal), None)


def _gateway_endpoint(eps, nets):
    """The endpoint that carries a container's default route: the egress endpoint, else the first internal bridge
    or macvlan network's. Docker sorts internal endpoints last and takes the first with a gateway, so a container
    only on internal networks keeps a default route whose packets the isolation drops (a program sees a timeout,
    not "network is unreachable")."""
    egress = _egress_endpoint(eps, nets)
    return egress or next((ep for ep in eps if nets[ep.network].driver in ('bridge', 'macvlan')), None)


def plan_fleet(members, state='present', leases=None):
    """{host: plan} for every host of ``members`` ([(host, host vars, facts)] in play order).

    The fleet part (overlay and macvlan addresses, VNIs, MTU, VTEPs) is computed once and shared, so
    planning N hosts costs O(fleet), not O(N x fleet). ``state='absent'`` plans every host's removal.
    ``leases`` (an ipam_etcd.Leases, read; None for the inventory backend): overlay and macvlan addresses are leased
    in etcd; each plan's ``ipam_release`` lists the leases of its host that the plan no longer uses, to release once the
    host has converged (ipam_etcd.release_leases).
    """
    members = list(members)
    states = {h: 'absent' if state == 'absent' else (v.get('linuxnet_state') or 'present') for h, v, _f in members}
    fleet = None
    if state != 'absent' and any(has_global_endpoints(v) for _h, v, _f in members):
        problems = []
        nets = read_networks(members[0][1].get('linuxnet_networks'), 'host %s' % members[0][0], problems)
        if problems:
            raise PlanError('\n'.join(problems))
        try:
            fleet = Fleet(nets, [(h, v if states[h] == 'present' else dict(linuxnet_containers=[]), f) for h, v, f in members],
                          leases=leases)
        except FleetError as err:
            raise PlanError(str(err))
    plans = {h: plan_host(h, v, f, states[h], fleet=fleet) for h, v, f in members}
    for host, plan in plans.items():
        plan['evpn'] = fleet.evpn_part(host) if fleet is not None and states[host] == 'present' else None
    # The leases of containers the plan no longer has: released after the converge removed them (release_leases).
    stale = {}
    if leases is not None:
        keep = {(lease_space(network, version), owner_of(host, container))
                for version, planned in ((4, fleet.addresses if fleet else {}), (6, fleet.addresses6 if fleet else {}))
                for host, container, network in planned}
        stale = leases.others([h for h, _v, _f in members], keep)
    for host, plan in plans.items():
        plan['ipam_release'] = stale.get(host, [])
    return plans


def plan_host(host, hv, facts, state='present', fleet=None):
    """The module arguments that converge one host. Raises PlanError; inventory problems were checked before.

    Overlay and macvlan addresses are planned for the whole fleet: ``fleet`` is the Fleet plan_fleet shares
    between every host; a host with such endpoints and no fleet is planned as a fleet of its own.
    """
    problems = []
    nets = read_networks(hv.get('linuxnet_networks'), 'host %s' % host, problems)
    if problems:
        raise PlanError('\n'.join(problems))
    containers = [] if state == 'absent' else list(hv.get('linuxnet_containers') or [])
    addresses_now, subnets_now, bridges_now, routes, addresses6_now, subnets6_now = _existing(facts)
    warnings = []

    all_endpoints = {}
    for container in containers:
        mode = container_mode(container)
        if mode == 'bridge':
            eps = read_container_endpoints(container, nets, 'host %s: container %s' % (host, container['name']), problems)
            all_endpoints[container['name']] = eps
        elif container.get('ports'):
            warnings.append('host %s: container %s: Published ports are discarded when using %s network mode'
                            % (host, container['name'], container['network_mode']))
    if problems:
        raise PlanError('\n'.join(problems))
    if any(nets[ep.network].driver in GLOBAL_DRIVERS for eps in all_endpoints.values() for ep in eps):
        if fleet is None:
            try:
                fleet = Fleet(nets, [(host, hv, facts)])
            except FleetError as err:
                raise PlanError(str(err))
        for name, net in nets.items():
            if net.driver in GLOBAL_DRIVERS and name in fleet.nets:
                net.subnet, net.gateway = fleet.nets[name].subnet, fleet.nets[name].gateway
        for eps in all_endpoints.values():
            for ep in eps:
                if nets[ep.network].driver in GLOBAL_DRIVERS:
                    ep.address = fleet.addresses[(host, ep.container, ep.network)]
                    ep.address6 = fleet.addresses6.get((host, ep.container, ep.network))
            # Docker's docker_gwbridge: egress for containers whose networks give them none.
            if any(nets[ep.network].driver == 'overlay' for ep in eps) and _egress_endpoint(eps, nets) is None:
                if GWBRIDGE not in nets:
                    nets[GWBRIDGE] = Network(GWBRIDGE, bridge=GWBRIDGE, icc=False, masquerade=True)
                eps.append(Endpoint(eps[0].container, GWBRIDGE, 'eth%d' % len(eps)))
    else:
        fleet = None
    _keep_interface_names(all_endpoints, nets, facts)
    endpoints = {name: [ep for ep in eps if nets[ep.network].driver == 'bridge'] for name, eps in all_endpoints.items()}
    used_nets = []
    for eps in endpoints.values():
        for ep in eps:
            if ep.network not in used_nets:
                used_nets.append(ep.network)
    used_nets.sort(key=lambda n: (not nets[n].default, list(nets).index(n)))
    # Links the collection made (its bridges, also those of networks about to be pruned): their routes are its own.
    owned_links = set(bridges_now) | {link['name'] for link in facts.get('links') or [] if link.get('owned')}
    _assign_subnets(nets, used_nets, subnets_now, routes, host, owned_links)
    _assign_subnets(nets, used_nets, subnets6_now, routes, host, owned_links, version=6)

    foreign = _foreign_addresses(facts, nets)
    _allocate(host, nets, used_nets, endpoints, foreign, addresses_now, 4)
    _allocate(host, nets, [n for n in used_nets if nets[n].ipv6], endpoints, foreign, addresses6_now, 6)
    for name in used_nets:
        network_clashes(nets[name], [('host %s: container %s' % (host, ep.container), ep.container, ep)
                                     for eps in endpoints.values() for ep in eps if ep.network == name], problems)
    if problems:
        raise PlanError('\n'.join(problems))

    planned = {(ep.container, ep.network) for eps in endpoints.values() for ep in eps}
    stale = [{'name': ep['host_ifname'], 'state': 'absent'} for ep in facts.get('endpoints') or []
             if ep['container'] in endpoints and (ep['container'], ep['network']) not in planned and ep.get('host_ifname')]
    parents = {link['name'] for link in facts.get('links') or []}
    plan = _render(host, nets, used_nets, containers, all_endpoints, bridges_now, warnings, fleet, parents,
                   parse_allow(hv.get('linuxnet_publish_allow')))
    _add_resolvers(plan['namespaces'], containers, all_endpoints, nets, read_dns(hv, 'host %s' % host, [], prefix='linuxnet_'))
    plan['pairs'].extend(stale)
    plan['pairs'].extend(_stale_global(facts, all_endpoints, nets))
    return plan


def _add_resolvers(namespaces, containers, all_endpoints, nets, global_dns):
    """Every container namespace's resolv_conf; a second name (container:NAME) gets that of the namespace it names, as
    Docker shares it. The overlays' own namespaces get none."""
    by_name = {container['name']: container for container in containers}
    for item in namespaces:
        source = by_name.get(item.get('share') or item['name'])
        if source is not None:
            networks = [ep.network for ep in all_endpoints.get(source['name'], [])]
            item['resolv_conf'] = resolvers(source, networks, nets, global_dns)


def _keep_interface_names(all_endpoints, nets, facts):
    """Endpoints that exist keep their interface name; new ones take the lowest ethN no interface holds.

    Docker names a container's interfaces in the order they are connected, so connecting one more
    network adds the next ethN and renames nothing (a veth cannot be renamed in place).
    """
    known, taken = {}, {}
    for ep in facts.get('endpoints') or []:
        if ep.get('ifname'):
            known[(ep['container'], ep['network'])] = ep['ifname']
            taken.setdefault(ep['container'], set()).add(ep['ifname'])
    global_nets = [n for n in nets.values() if n.driver in GLOBAL_DRIVERS and n.subnet is not None]
    for iface in facts.get('interfaces') or []:
        taken.setdefault(iface['container'], set()).add(iface['ifname'])
        for cidr in iface.get('addresses') or []:
            ip = ipaddress.ip_interface(cidr).ip
            for net in global_nets:
                if ip.version == 4 and ip in net.subnet:
                    known.setdefault((iface['container'], net.name), iface['ifname'])
    for container, eps in all_endpoints.items():
        used = set()
        for ep in eps:
            name = known.get((container, ep.network))
            if name and name not in used:
                ep.ifname = name
                used.add(name)
            else:
                ep.ifname = None
        busy = used | taken.get(container, set())
        index = 0
        for ep in eps:
            if ep.ifname is None:
                while 'eth%d' % index in busy:
                    index += 1
                ep.ifname = 'eth%d' % index
                busy.add(ep.ifname)


def _stale_global(facts, all_endpoints, nets):
    """Overlay endpoints of containers that left the network: the container end, found by the address it holds."""
    overlays = [n for n in nets.values() if n.driver == 'overlay' and n.subnet is not None]
    planned = {(ep.container, ep.ifname) for eps in all_endpoints.values() for ep in eps}
    stale = []
    for iface in facts.get('interfaces') or []:
        if iface['container'] not in all_endpoints or iface.get('kind') != 'veth' or (iface['container'], iface['ifname']) in planned:
            continue
        for cidr in iface.get('addresses') or []:
            ip = ipaddress.ip_interface(cidr).ip
            if any(ip in n.subnet for n in overlays if ip.version == 4):
                stale.append({'name': iface['ifname'], 'namespace': iface['container'], 'state': 'absent'})
                break
    return stale


# Docker's MTU for bridge networks that set none (com.docker.network.driver.mtu).
DEFAULT_MTU = 1500


def _cidrs(net, address, address6):
    """ADDRESS/PREFIX of an interface on ``net``: its IPv4 address, and its IPv6 one where the network has IPv6."""
    out = ['%s/%d' % (address, net.subnet.prefixlen)]
    if address6 is not None:
        out.append('%s/%d' % (address6, net.subnet6.prefixlen))
    return out


def _render(host, nets, used_nets, containers, endpoints, bridges_now, warnings, fleet, parents, host_allow):
    bridges = []
    for name in used_nets:
        net = nets[name]
        # A fixed MAC, Docker's 02:42 + IPv4 of the gateway: a bridge with no MAC set takes its lowest port's, which
        # changes as containers come and go (neighbours' ARP entries for the gateway go stale) and at every boot.
        bridge = {'name': net.bridge, 'addresses': _cidrs(net, net.gateway, net.gateway6), 'purge_addresses': True,
                  'mac': docker_mac(str(net.gateway))}
        # Always set (Docker's default 1500 when the network has none), so that an MTU changed by hand is repaired.
        bridge['mtu'] = net.mtu or DEFAULT_MTU
        bridges.append(bridge)
    planned = {b['name'] for b in bridges}
    for bridge in sorted(bridges_now):
        if bridge not in planned:
            bridges.append({'name': bridge, 'state': 'absent'})

    pairs, macvlans = [], []
    for container in containers:
        eps = endpoints.get(container['name'], [])
        gateway = _gateway_endpoint(eps, nets)
        # The IPv6 default route: chosen the same way among the endpoints on networks with IPv6, as Docker does.
        gateway6 = _gateway_endpoint([ep for ep in eps if nets[ep.network].ipv6], nets)
        for ep in eps:
            net = nets[ep.network]
            peer = {'name': ep.ifname, 'namespace': ep.container, 'addresses': _cidrs(net, ep.address, ep.address6),
                    'mac': ep.mac or docker_mac(str(ep.address))}
            if ep is gateway:
                peer['routes'] = [{'dst': 'default', 'gateway': str(net.gateway)}]
            if ep is gateway6:
                peer.setdefault('routes', []).append({'dst': '::/0', 'gateway': str(net.gateway6)})
            if net.driver == 'macvlan':
                if net.parent not in parents:
                    raise PlanError('host %s: container %s: network %s: parent %s does not exist on the host (its links are %s). '
                                    'Fix: set parent of %s to an interface of every host with a container on it'
                                    % (host, ep.container, net.name, net.parent, ', '.join(sorted(parents)) or 'unknown', net.name))
                peer.update(parent=net.parent, mode='bridge')
                if net.mtu:
                    peer['mtu'] = net.mtu
                macvlans.append(peer)
                continue
            pair = {'name': host_veth_name(ep.container, ep.network), 'master': net.bridge, 'hairpin': True,
                    'purge_addresses': True, 'peer': peer}
            if net.driver == 'overlay':
                pair.update(namespace=overlay_namespace(net.name), master=OVERLAY_BRIDGE, mtu=fleet.mtu[net.name])
                del pair['hairpin']
            else:
                pair['mtu'] = net.mtu or DEFAULT_MTU
            pairs.append(pair)

    isolation = [{'bridge': nets[n].bridge, 'subnet': str(nets[n].subnet), 'icc': nets[n].icc,
                  'masquerade': nets[n].masquerade, 'internal': nets[n].internal} for n in used_nets]
    for item, name in zip(isolation, used_nets):
        if nets[name].ipv6:
            item['ipv6'] = True
            # NAT66 as Docker 27 (gateway_mode_ipv6: nat), unless routed; masquerade: false turns off both families.
            item['ipv6_subnet'] = str(nets[name].subnet6)
            if nets[name].gateway_mode_ipv6 == 'routed':
                item['ipv6_masquerade'] = False
        # Docker 28's filter of direct routing from outside the host, per family (nat: the default, left out).
        for version in (4, 6):
            mode = getattr(nets[name], 'gateway_mode_ipv%d' % version)
            if mode != 'nat':
                item['gateway_mode_ipv%d' % version] = mode

    routed = {}
    ports = _port_items(host, host_allow, containers, endpoints, nets, warnings, routed)
    for item, name in zip(isolation, used_nets):
        if routed.get(name):
            item['routed_ports'] = routed[name]

    remote = fleet.remote_endpoints(host) if fleet else []
    namespaces, hosts_sets = _namespaces(nets, containers, endpoints, remote)
    part = fleet.host_part(host) if fleet else {'namespaces': [], 'bridges': [], 'devices': [], 'vteps': [], 'vtep_members': []}
    namespaces.extend(part['namespaces'])
    bridges.extend(part['bridges'])
    return {'namespaces': namespaces, 'bridges': bridges, 'pairs': pairs, 'isolation': isolation, 'ports': ports,
            'macvlans': macvlans, 'vxlan': part['devices'], 'vteps': part['vteps'], 'vtep_members': part['vtep_members'],
            'hosts_sets': hosts_sets, 'evpn': fleet.evpn_part(host) if fleet else None,
            'ipam_release': [],  # the etcd leases to release after the converge: plan_fleet fills it in
            'warnings': warnings}


def _port_items(host, host_allow, containers, endpoints, nets, warnings, routed=None):
    """port_map's ports: one item per container and allow-list. A publication's own allow wins, then the
    publish_allow of the network the ports lead to, then ``host_allow`` (linuxnet_publish_allow); () (everyone)
    leaves allow out.

    On a network whose IPv6 is routed (gateway_mode_ipv6: routed), as in Docker 28, the IPv6 side of a publication is
    not DNATed: its container port opens at the container's IPv6 address (``routed``: {network: [docker_isolation
    routed_ports]}, filled here), and the host port is not used."""
    items = []
    routed = {} if routed is None else routed
    for container in containers:
        if container_mode(container) != 'bridge' or not container.get('ports'):
            continue
        specs = publications(container)
        target = _egress_endpoint(endpoints[container['name']], nets)
        if target is None:
            warnings.append('host %s: container %s: its networks are all internal, so its published ports %s are not '
                            'reachable and were not published' % (host, container['name'], ', '.join(str(s) for s, _a in specs)))
            continue
        default = nets[target.network].publish_allow
        default = host_allow if default is None else default
        routed6 = target.address6 is not None and nets[target.network].gateway_mode_ipv6 == 'routed'
        if routed6:
            specs = _routed_specs(host, container['name'], specs, target, routed.setdefault(target.network, []), warnings)
        groups = {}
        for spec, allow in specs:
            groups.setdefault(default if allow is None else parse_allow(allow), []).append(str(spec))
        for sources, publish in groups.items():
            item = {'name': container['name'], 'container_ip': str(target.address), 'publish': publish}
            if target.address6 is not None and not routed6:  # published over IPv6 too (Docker 27: 0.0.0.0 and [::])
                item['container_ip6'] = str(target.address6)
            if sources:
                item['allow'] = list(sources)
            items.append(item)
    return items


def _routed_specs(host, name, specs, target, opened, warnings):
    """The publications of a container on a routed IPv6 network that are DNATed (their IPv4 side): the others are
    IPv6 only. The IPv6 side of each (0.0.0.0 or an IPv6 host address) opens its container ports at the container's
    IPv6 address, appended to ``opened`` as docker_isolation's routed_ports."""
    kept = []
    for spec, allow in specs:
        try:
            publication = parse_publish(spec)
        except PortError:
            kept.append((spec, allow))  # refused by the validation already; port_map says so again
            continue
        host_ip = publication['host_ip']
        if host_ip == LOOPBACK6:
            kept.append((spec, allow))  # served by a userland proxy on the host, to the container's IPv4 address
            continue
        if ':' not in host_ip:
            kept.append((spec, allow))
            if host_ip != ANY:
                continue  # one IPv4 address: IPv4 only
        elif host_ip != ANY6:
            warnings.append('host %s: container %s: ports: %s: on network %s (gateway_mode_ipv6: routed) the IPv6 host '
                            'address %s and the host port are not used, as in Docker: container port %s opens at %s'
                            % (host, name, spec, target.network, host_ip, _port_text(publication['container_ports']),
                               target.address6))
        low, high = publication['container_ports']
        for port in range(low, high + 1):
            entry = {'address': str(target.address6), 'protocol': publication['protocol'], 'port': port}
            if entry not in opened:
                opened.append(entry)
    return kept


def _port_text(ports):
    low, high = ports
    return str(low) if low == high else '%d-%d' % (low, high)


class _HostsFile:
    """Entries of one hosts file; a name appears once per family, with the first address of that family given for it."""

    def __init__(self):
        self.entries = []
        self.seen = set()

    def add(self, address, names, address6=None):
        """An entry for ``names`` at ``address``, and one at ``address6`` (an endpoint's IPv6 address) when set."""
        for ip in (address, address6):
            if ip is None:
                continue
            fresh = [n for n in names if (ip.version, n) not in self.seen]
            if fresh:
                self.seen.update((ip.version, n) for n in fresh)
                self.entries.append({'address': str(ip), 'names': fresh})


def _namespaces(nets, containers, endpoints, remote=()):
    """netns arguments: one namespace per bridge/none container; container: modes share one.

    A container's hosts file is its own entries (its name, aliases and links) followed by a set shared
    by every container on the same user-defined networks (their members' names and aliases), so the
    netns call's arguments grow with the containers, not with their square.
    Returns (namespace items, hosts sets by key).
    """
    by_network = {}
    for eps in endpoints.values():
        for ep in eps:
            by_network.setdefault(ep.network, []).append(ep)
    for ep in remote:
        by_network.setdefault(ep.network, []).append(ep)
    sets = {}
    items = {}
    for container in containers:
        name = container['name']
        if container_mode(container) not in ('bridge', 'none'):
            continue
        own = _HostsFile()
        eps = endpoints.get(name, [])
        if eps:
            own.add(eps[0].address, [container_id(name)[:12], name] + eps[0].aliases, eps[0].address6)
        for ep in eps[1:]:
            if ep.aliases and not nets[ep.network].default:
                own.add(ep.address, ep.aliases, ep.address6)
        for link in container.get('links') or []:
            target, alias = parse_link(link)
            network = link_address_network(name, target, endpoints, nets)
            linked = next(ep for ep in endpoints[target] if ep.network == network)
            own.add(linked.address, [alias, container_id(target)[:12], target] if alias != target else [target, container_id(target)[:12]],
                    linked.address6)
        # Docker's default network resolves only links; docker_gwbridge resolves nothing.
        shared = [ep.network for ep in eps if not nets[ep.network].default and ep.network != GWBRIDGE]
        # IPv6 is off in a container with no network with IPv6 (Docker: no ::1, no link-local address), on otherwise.
        item = {'name': name, 'hosts': own.entries, 'ipv6': any(nets[ep.network].ipv6 for ep in eps)}
        if shared:
            key = '+'.join(shared)
            if key not in sets:
                members = _HostsFile()
                for network in shared:
                    for other in by_network[network]:
                        members.add(other.address, [other.container] + other.aliases, other.address6)
                sets[key] = members.entries
            item['hosts_set'] = key
        items[name] = item
    namespaces = []
    for container in containers:
        mode = container_mode(container)
        if mode in ('bridge', 'none'):
            namespaces.append(items[container['name']])
        elif mode == 'container':
            other = items[container['network_mode'].split(':', 1)[1]]
            shared = dict(other, name=container['name'], share=other['name'])
            del shared['ipv6']  # the namespace's own, which it shares
            namespaces.append(shared)
    return namespaces, sets
