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

from ansible.module_utils.basic import AnsibleModule

# First of the collection's imports: the module_utils below are compiled once per host, not at every call.
from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode  # noqa: F401  pylint: disable=unused-import
from ansible_collections.linuxnet.container.plugins.module_utils._converge.module import run_module
from ansible_collections.linuxnet.container.plugins.module_utils._converge.read import READ_SPEC, gather


def main():
    module = AnsibleModule(
        argument_spec=READ_SPEC,
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
