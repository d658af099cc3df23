#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: network_info
short_description: Container networks as docker network inspect and docker port show them, read from the kernel
version_added: 0.1.0
description:
  - Reads what a host's kernel really holds (links, addresses and routes over netlink, and the nftables tables
    of M(linuxnet.container.docker_isolation) and M(linuxnet.container.port_map)) and returns it shaped like
    C(docker network inspect) and C(docker port) (docs/examples/s4-user-networks.md, s7-published-ports.md). It changes nothing.
  - A container is a named network namespace (C(/run/netns/NAME)); its name is the namespace's name.
    A container's endpoint on a network is a veth in its namespace whose peer (IFLA_LINK in the namespace
    named by IFLA_LINK_NETNSID) is a port of the network's bridge.
  - Ids (C(Id), the C(Containers) keys, C(EndpointID)) are derived from the names as the collection's other
    parts derive them, so they are the same on every run and every host.
  - C(Internal), C(enable_icc) and C(enable_ip_masquerade) come from the nftables table C(inet linuxnet_isolation);
    without it a network is not internal, has icc on and is not masqueraded. So do
    C(com.docker.network.bridge.gateway_mode_ipv4) and C(com.docker.network.bridge.gateway_mode_ipv6) (Docker 28's
    filter of direct routing), shown only where they are not V(nat), the default.
  - An overlay network (its bridge in the overlay's namespace, O(namespace)) shows Docker's C(Scope) C(swarm) and
    the option C(com.docker.network.driver.overlay.vxlanid_list), the VNI of the VXLAN device that is a port of its
    bridge, with C(com.docker.network.driver.mtu), its bridge's MTU. RV(vxlan) lists every VXLAN device of O(namespace) with its local and remote VTEPs.
  - A macvlan network has no kernel object of its own on a host. Its endpoints are the macvlan links of the
    containers whose lower device is O(networks[].parent) in O(namespace) and whose IPv4 address is in
    O(networks[].subnet); C(Options.parent) names that link; C(IPAM.Config) is the O(networks[].subnet) and
    O(networks[].gateway) given (the segment's router is not on this host), then O(networks[].ipv6_subnet) and
    O(networks[].ipv6_gateway) when given (C(EnableIPv6) true); each endpoint shows its IPv6 address.
  - The cost is one link dump per container namespace (plus an address dump for those with an endpoint),
    and one link, address and route dump of the bridges' namespace (and one FDB dump when it holds VXLAN devices),
    whatever the number of networks.
author:
  - linuxnet.container contributors (@linuxnet)
requirements:
  - pyroute2 >= 0.9 on the managed host
  - root on the managed host (entering network namespaces and listing nftables tables need it)
  - nftables (the C(nft) command) to read the isolation and port tables; without it they count as absent
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode returns the same facts.
  diff_mode:
    support: none
    description: Nothing changes, so there is nothing to diff.
extends_documentation_fragment:
  - linuxnet.container.attributes.info
options:
  networks:
    description:
      - The networks to report, as the inventory declares them. Each one is returned, with C(Exists=false)
        when its bridge is missing.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The network's name (C(docker network inspect)'s C(Name)); its ids derive from it.
        type: str
        required: true
      bridge:
        description: The Linux bridge that carries the network, in O(namespace). Required unless O(networks[].driver=macvlan).
        type: str
      driver:
        description: The network's driver as the inventory gives it (C(overlay) networks have C(Scope) C(swarm)).
        type: str
        choices: [bridge, overlay, macvlan]
        default: bridge
      parent:
        description:
          - For O(networks[].driver=macvlan) (required then), the link of O(namespace) its endpoints hang from. The
            network exists when this link does.
        type: str
      subnet:
        description:
          - For O(networks[].driver=macvlan), its IPv4 subnet, which tells its endpoints from those of another
            macvlan network on the same parent, and is its C(IPAM.Config[0].Subnet).
          - Ignored for the other drivers, whose subnet is read from their bridge.
        type: str
      gateway:
        description: For O(networks[].driver=macvlan), its gateway (C(IPAM.Config[0].Gateway)); ignored for the others.
        type: str
      ip_range:
        description:
          - The range addresses are allocated from, shown as C(IPRange) in the C(IPAM.Config) entry whose subnet holds
            it (no kernel object holds it). Left out when unset, as Docker does.
        type: str
      ipv6_subnet:
        description:
          - For O(networks[].driver=macvlan) with IPv6 (C(docker network create --ipv6)), its IPv6 subnet, the second
            C(IPAM.Config) entry (and C(EnableIPv6) true). Ignored for the other drivers, whose IPv6 subnet is read from
            their bridge.
        type: str
      ipv6_gateway:
        description: For O(networks[].driver=macvlan), the gateway of O(networks[].ipv6_subnet); ignored for the others.
        type: str
      ipv6_ip_range:
        description:
          - For a network with IPv6, the IPv6 range addresses are allocated from, shown as C(IPRange) in the IPv6
            C(IPAM.Config) entry whose subnet holds it, as O(networks[].ip_range) is in the IPv4 one.
        type: str
  containers:
    description:
      - Names of the network namespaces to look into. Default every namespace in C(/run/netns), except the one
        the bridges live in. Names that do not exist are skipped.
    type: list
    elements: str
  namespace:
    description: Network namespace the bridges live in (name, path or C(pid:N)); default the one the module runs in.
    type: str
  interfaces:
    description:
      - Also return RV(interfaces), every interface of every scanned container with its addresses, whatever
        it is attached to (overlay and macvlan endpoints are not ports of a bridge in O(namespace)). Costs one
        more dump per container.
    type: bool
    default: false
  discover:
    description:
      - Also report bridges the collection made (interface alias C(linuxnet.container)) that are not in
        O(networks), named after the bridge, so callers can find and prune them.
    type: bool
    default: true
notes:
  - When O(namespace) does not exist yet, every network is reported with C(Exists=false) and the other
    results are empty.
  - Namespaces that cannot be entered (a stale file in C(/run/netns)) are skipped with a warning.
seealso:
  - module: linuxnet.container.bridge
  - module: linuxnet.container.veth
  - module: linuxnet.container.docker_isolation
  - module: linuxnet.container.port_map
'''

EXAMPLES = r'''
- name: Inspect two networks, as docker network inspect would
  linuxnet.container.network_info:
    networks:
      - name: test_net1
        bridge: br-test_net1
      - name: test_net2
        bridge: br-test_net2
      - name: macnet
        driver: macvlan
        parent: eth0
        subnet: 198.51.100.0/24
        gateway: 198.51.100.1
  register: info

- name: Show the containers of test_net2 and what web publishes
  ansible.builtin.debug:
    msg:
      - "{{ (info.networks | selectattr('Name', 'equalto', 'test_net2') | first).Containers }}"
      - "{{ info.ports['web'] | default([]) }}"

- name: Only two containers, no discovery of other bridges
  linuxnet.container.network_info:
    networks:
      - {name: test_net2, bridge: br-test_net2}
    containers: [web, db]
    discover: false
'''

RETURN = r'''
networks:
  description:
    - One entry per requested network, in the order given, then one per discovered bridge (sorted by name).
    - The keys are those of C(docker network inspect), plus C(Exists). C(EnableIPv6) is true when the bridge holds an
      IPv6 address other than link-local (its C(IPAM.Config) entry follows the IPv4 one).
    - C(Options) lacks C(com.docker.network.driver.mtu) when the bridge does not exist.
    - C(Options) are Docker's for each driver, C(com.docker.network.bridge.*) and C(com.docker.network.driver.mtu)
      for bridge networks, C(com.docker.network.driver.overlay.vxlanid_list) (left out when the VXLAN device is
      missing) and C(com.docker.network.driver.mtu) for overlay networks, C(parent) for macvlan networks.
    - C(Scope) is C(local) for bridge and macvlan networks, C(swarm) for overlay networks.
  returned: always
  type: list
  elements: dict
  sample:
    - Name: test_net2
      Id: 5d0b1e0a6b3b0fd2b7c8e8a3c4b9b7a1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7
      Scope: local
      Driver: bridge
      EnableIPv6: false
      IPAM:
        Driver: default
        Options: {}
        Config: [{Subnet: 173.20.0.0/16, Gateway: 173.20.0.1}]
      Internal: false
      Attachable: false
      Ingress: false
      Containers:
        9b2f8c1d0e4a7b6c5d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c:
          Name: web
          EndpointID: 2c4e6a8b0d1f3e5a7c9b2d4f6e8a0c1b3d5f7e9a2c4b6d8f0e1a3c5b7d9f2e4a
          MacAddress: "02:42:ad:14:00:02"
          IPv4Address: 173.20.0.2/16
          IPv6Address: ""
      Options:
        com.docker.network.bridge.name: br-test_net2
        com.docker.network.bridge.enable_icc: "true"
        com.docker.network.bridge.enable_ip_masquerade: "true"
        com.docker.network.bridge.host_binding_ipv4: 0.0.0.0
        com.docker.network.driver.mtu: "1500"
      Labels: {}
      Exists: true
endpoints:
  description:
    - Every endpoint found on the reported networks, sorted by container and interface name.
    - C(addresses) lists every address of the container end (IPv6 link-local ones left out), sorted by family
      and numerically; C(ifname) is the container end, C(host_ifname) the bridge port.
  returned: always
  type: list
  elements: dict
  contains:
    container:
      description: The container (its network namespace's name).
      type: str
    network:
      description: The network's name (the bridge's name for a discovered bridge).
      type: str
    bridge:
      description: The bridge the host end is a port of; for a macvlan endpoint, its parent.
      type: str
    ifname:
      description: The container end's name, like C(eth0).
      type: str
    host_ifname:
      description: The host end's name, the bridge port; null for a macvlan endpoint.
      type: str
    mac:
      description: The container end's MAC address.
      type: str
    addresses:
      description: The container end's addresses with prefix length.
      type: list
      elements: str
    GlobalIPv6Address:
      description: The container end's IPv6 address (its first, link-local ones left out), as C(docker inspect) shows
        it; an empty string on a network without IPv6.
      type: str
    GlobalIPv6PrefixLen:
      description: Its prefix length, 0 when there is none.
      type: int
  sample:
    - container: web
      network: test_net2
      bridge: br-test_net2
      ifname: eth0
      host_ifname: veth1a2b3c4
      mac: "02:42:ad:14:00:02"
      addresses: [173.20.0.2/16]
routes:
  description:
    - The IPv4 routes of the main table in the bridges' namespace, the kernel's own included; C(dev) is null
      for routes without an interface (blackhole, unreachable), C(gateway) null for directly connected ones.
  returned: always
  type: list
  elements: dict
  contains:
    dst:
      description: The destination in CIDR form, or C(default).
      type: str
    dev:
      description: The interface the route leaves through.
      type: str
    gateway:
      description: The next hop.
      type: str
  sample:
    - {dst: default, dev: eth0, gateway: 192.0.2.1}
    - {dst: 173.20.0.0/16, dev: br-test_net2, gateway: null}
routes6:
  description:
    - The IPv6 routes of the main table in the bridges' namespace, as RV(routes) lists the IPv4 ones; link-local
      and multicast routes (the kernel's, on every link) left out. The planner picks no IPv6 subnet they overlap.
  returned: always
  type: list
  elements: dict
  sample:
    - {dst: default, dev: eth0, gateway: "fe80::1"}
    - {dst: "fd00:db8:20::/64", dev: br-test_net2, gateway: null}
ports:
  description:
    - Per container with an endpoint on a reported network, its published ports exactly as C(docker port) prints
      them (an empty list when it publishes none), matched through the endpoint addresses.
    - Publications on C([::1]), served by C(systemd-socket-proxyd) units (see M(linuxnet.container.port_map)), are
      read from those units' files, in the host namespace only.
  returned: always
  type: dict
  sample: {"web": ["80/tcp -> 0.0.0.0:8080", "53/udp -> 127.0.0.1:5353", "80/tcp -> [::1]:8081"], "db": []}
port_allow:
  description:
    - The source allow-lists of published ports (Docker has no equivalent), per container and keyed by the line
      of RV(ports) they restrict; only ports published with one (O(linuxnet.container.port_map#module:ports[].allow)).
      Other sources are not DNATed to the container; the host itself always is.
    - Sources are IPv4 networks, a single address without C(/32).
  returned: always
  type: dict
  sample: {"web": {"80/tcp -> 0.0.0.0:8080": ["192.0.2.12", "198.51.100.0/24"]}}
tables:
  description:
    - The collection's nftables tables that exist in O(namespace), as C(FAMILY NAME), in this order
      (C(inet linuxnet_isolation) from M(linuxnet.container.docker_isolation), C(ip linuxnet_ports) from
      M(linuxnet.container.port_map), C(inet linuxnet_vtep) from M(linuxnet.container.vtep_filter)). Tables of
      the same name that the collection did not make are left out (with a warning).
  returned: always
  type: list
  elements: str
  sample: [inet linuxnet_isolation, ip linuxnet_ports]
links:
  description:
    - Every link of O(namespace) with its kind, MTU, MAC, IPv4 addresses, IPv6 addresses (C(addresses6), link-local
      ones left out), and C(owned) when the collection made it (its tag). The roles find the underlay (the VTEP's
      device and its MTU, an IPv6 C(linuxnet_vtep_address) too) and macvlan parents here, and the links whose routes
      a new subnet must not overlap.
  returned: always
  type: list
  elements: dict
  sample:
    - {name: eth0, kind: veth, mtu: 1500, mac: "0a:58:c0:00:02:0b", addresses: [192.0.2.11/24],
       addresses6: ["fd00:192:0:2::11/64"], owned: false}
containers:
  description:
    - The container namespaces that were looked into (those of O(containers), or of C(/run/netns), that exist), sorted;
      a container with only C(lo) is here and in no network.
  returned: always
  type: list
  elements: str
  sample: [db, web]
vxlan:
  description:
    - Every VXLAN device of O(namespace), sorted by interface index, with its VNI, its local VTEP address, the bridge
      it is a port of, and C(remotes), the remote VTEPs its FDB sends to (the dst of its FDB entries), sorted.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The device's name.
      type: str
    vni:
      description: Its VXLAN network identifier.
      type: int
    local:
      description: Its local VTEP address (null when it has none).
      type: str
    master:
      description: The bridge it is a port of, or null.
      type: str
    remotes:
      description: The remote VTEP addresses.
      type: list
      elements: str
  sample:
    - {name: vxlan0, vni: 256, local: 192.0.2.11, master: br0, remotes: [192.0.2.12, 192.0.2.13]}
interfaces:
  description:
    - With O(interfaces=true), every interface but C(lo) of every scanned container, with its kind, MAC and
      addresses (IPv6 link-local left out).
  returned: when O(interfaces=true)
  type: list
  elements: dict
  sample:
    - {container: web, ifname: eth0, kind: veth, mac: "02:42:0a:00:00:02", addresses: [10.0.0.2/24]}
'''

import ipaddress
import os
import socket

from ansible.module_utils.basic import AnsibleModule

# First of the collection's imports: the module_utils below are compiled once per host, not at every call.
from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode  # noqa: F401  pylint: disable=unused-import
from ansible_collections.linuxnet.container.plugins.module_utils._parts import inspect, port_proxy
from ansible_collections.linuxnet.container.plugins.module_utils._kernel import nft
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import owned, raise_fd_limit
from ansible_collections.linuxnet.container.plugins.module_utils._converge.module import run_module
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.fanout import fan_out
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import list_named_netns, NamespaceRef, netns_key
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import validate_netns_name
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import validate_ifname
from ansible_collections.linuxnet.container.plugins.module_utils._common.ports import ANY6, allow_from_elements

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


def _scan_containers(netlink, ref, names, host_links, bridges, warnings, interfaces=None, macvlans=(), scanned=None):
    """Endpoints of every container on the bridges and macvlan networks: one link dump per namespace, an address
    dump where one is found.

    With ``interfaces`` (a list), every non-loopback interface of every container is appended to it. ``macvlans``:
    the requested macvlan networks whose parent exists, with ``parent_index``.
    """
    found = []
    parents = {net['parent_index'] for net in macvlans}
    if not bridges and not parents and interfaces is None and scanned is None:
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
            if inspect.candidate_links(host_links, bridges, links, name, parents):
                nsid = inspect.read_nsid(channel, 'network namespace %s' % name, bridge_fd)
                raw = inspect.match_endpoints(host_links, bridges, name, links, nsid)
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

    names = containers if containers is not None else list_named_netns()
    if len(names) > 200:
        raise_fd_limit()
    interfaces = [] if params['interfaces'] else None
    scanned = []
    endpoints = _scan_containers(netlink, ref, names, host_links, bridges, warnings, interfaces, macvlans, scanned)
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
                                               by_network.get(net['name'], []),
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
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
        ),
        supports_check_mode=True,
    )

    def body(netlink):
        result = gather(netlink, module.params)
        for warning in result.pop('warnings'):
            module.warn(warning)
        result['changed'] = False
        return result

    run_module(module, body)


if __name__ == '__main__':
    main()
