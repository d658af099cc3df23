#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: docker_isolation
short_description: Docker's isolation between bridge networks, icc, internal networks and masquerade, on nftables
version_added: 0.1.0
description:
  - Gives a set of Linux bridges Docker's network semantics (docs/examples/s5-isolation.md), in nftables tables that belong to
    this collection alone (C(inet linuxnet_isolation)); no other table, chain or iptables rule is touched.
  - Traffic between two different listed bridges is dropped in both directions; within one bridge it passes.
  - O(networks[].icc=false) drops traffic between the ports of that bridge, as Docker does, through
    br_netfilter (C(net.bridge.bridge-nf-call-iptables=1) in the namespace, set when any network has
    O(networks[].icc=false)), so bridged IPv4 frames cross the forward hook with the bridge as both
    input and output interface. A C(bridge) family table would avoid br_netfilter, but it needs
    C(meta ibrname) (the nft_meta_bridge module, missing from many kernels) or rules keyed on port names
    that change whenever an endpoint joins.
  - O(networks[].internal=true) drops every forwarded packet into or out of that bridge.
  - Outbound masquerade of a network's subnet for traffic that does not leave through its own bridge.
  - Direct routing (Docker 28's gateway modes, O(networks[].gateway_mode_ipv4) and O(networks[].gateway_mode_ipv6)).
    A packet that enters from an interface that is not a listed bridge (the host's uplink, where another host routes a
    bridge's subnet through this one) and goes into a listed bridge is dropped unless it is a reply, was DNATed by a
    published port, or (V(routed) mode) goes to a container port in O(networks[].routed_ports) or is ICMP.
    V(nat-unprotected) lets everything in, as Docker before 28. The host's own traffic and traffic between bridges
    are not affected.
  - A chain C(user) in C(inet linuxnet_isolation) is evaluated before the isolation rules, like Docker's
    DOCKER-USER; users add their own rules there (for example an accept that lets two networks talk) and
    later runs leave them alone.
  - The rule count does not grow with the number of bridges; bridges, subnets and flags live in sets.
  - Sysctls it changes are given back on removal. Before it first changes C(net.ipv4.ip_forward) or
    C(net.bridge.bridge-nf-call-iptables) in a namespace, it records the previous value in
    C(/run/linuxnet-container/), and O(state=absent) restores it, so that removal leaves the host as it was.
  - Every change is one atomic nftables transaction; nothing is written when the tables are already as
    planned.
author:
  - linuxnet.container contributors (@linuxnet)
requirements:
  - nftables (the C(nft) command) on the managed host, kernel 5.2 or later (nat in the inet family)
  - pyroute2 >= 0.9 on the managed host
attributes:
  check_mode:
    support: full
    description: Reads the tables and reports the transaction it would apply; applies nothing.
  diff_mode:
    support: full
    description: Before and after of the managed sets, rules and sysctls.
extends_documentation_fragment:
  - linuxnet.container.attributes
options:
  networks:
    description:
      - The complete list of bridge networks. Bridges not listed lose their isolation and masquerade.
    type: list
    elements: dict
    default: []
    suboptions:
      bridge:
        description: The Linux bridge of the network (it need not exist yet).
        type: str
        required: true
      subnet:
        description: The network's IPv4 subnet, needed for O(networks[].masquerade).
        type: str
      icc:
        description: Traffic between the network's own endpoints.
        type: bool
        default: true
      masquerade:
        description: SNAT of the subnet for traffic that leaves through another interface.
        type: bool
        default: true
      internal:
        description: No forwarded traffic into or out of the network at all (implies no masquerade).
        type: bool
        default: false
      ipv6:
        description:
          - The network has IPv6 (C(--ipv6)). Isolation, O(networks[].icc) and O(networks[].internal) match interfaces,
            so they hold for IPv6 as for IPv4 (the table is of family C(inet)). With O(forwarding), the module also sets
            C(net.ipv6.conf.all.forwarding=1), and C(net.bridge.bridge-nf-call-ip6tables=1) for a network with
            O(networks[].icc=false), recorded and restored on removal like the IPv4 ones. Before that, an interface
            holding a route learnt from a router advertisement with C(accept_ra) 1 gets C(accept_ra) 2 (recorded and
            restored the same way), since with forwarding on the kernel would ignore its router advertisements and drop
            the default route they gave at once, which Docker does not prevent. IPv6 is masqueraded (NAT66)
            with O(networks[].ipv6_subnet).
        type: bool
        default: false
      ipv6_subnet:
        description:
          - The network's IPv6 subnet. With O(networks[].masquerade) and O(networks[].ipv6_masquerade), traffic from it
            that leaves through another interface than the bridge is masqueraded (NAT66, Docker 27's default for a
            network with IPv6), in the same table and transaction as the IPv4 masquerade.
        type: str
      ipv6_masquerade:
        description:
          - V(false) leaves the IPv6 subnet unNATed (Docker's C(com.docker.network.bridge.gateway_mode_ipv6=routed)), so the
            containers' IPv6 addresses are seen outside, which must route the subnet to the host.
        type: bool
        default: true
      gateway_mode_ipv4:
        description:
          - Docker's C(com.docker.network.bridge.gateway_mode_ipv4), for the direct-routing filter. V(nat) (Docker 28's
            default) drops new connections from outside the host addressed to the network's containers, so only replies
            and connections DNATed by a published port get in. V(nat-unprotected) lets everything in.
          - Routed IPv4 (no masquerade, direct published ports) is not supported.
        type: str
        choices: [nat, nat-unprotected]
        default: nat
      gateway_mode_ipv6:
        description:
          - Docker's C(com.docker.network.bridge.gateway_mode_ipv6). V(nat) and V(nat-unprotected) as for
            O(networks[].gateway_mode_ipv4), with NAT66 (O(networks[].ipv6_masquerade)).
          - V(routed) turns NAT66 off and lets in from outside the container ports listed in O(networks[].routed_ports)
            and ICMPv6; everything else new from outside is dropped.
        type: str
        choices: [nat, nat-unprotected, routed]
        default: nat
      routed_ports:
        description:
          - The container ports published on a routed family, opened at the container's own address (Docker's C(-p) in
            routed mode, where the host port is not used). Only addresses of a family whose gateway mode is V(routed).
        type: list
        elements: dict
        default: []
        suboptions:
          address:
            description: The container's address on this network.
            type: str
            required: true
          protocol:
            description: The transport protocol.
            type: str
            choices: [tcp, udp, sctp]
            default: tcp
          port:
            description: The container port.
            type: int
            required: true
  namespace:
    description:
      - Network namespace to work in (name, path or C(pid:N)); default the one the module runs in.
    type: str
  forwarding:
    description:
      - Set C(net.ipv4.ip_forward=1) in the namespace, which routing between networks needs, and
        C(net.bridge.bridge-nf-call-iptables=1) when a network has O(networks[].icc=false).
      - The previous value of each sysctl this changes is recorded first, and restored on removal
        (O(state=absent)).
    type: bool
    default: true
  state:
    description:
      - V(absent) removes the table, the C(user) chain included, and restores the sysctls the module changed
        in the namespace to their recorded earlier values.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The record of earlier sysctl values is one small JSON file per managed namespace,
    C(/run/linuxnet-container/docker_isolation.<key>.json), where the key is C(host) for the namespace the
    module runs in, C(netns-<name>) for a named namespace and C(nsfs-<inode>) for one given by path or PID.
    Only the first change of a sysctl is recorded; later runs never overwrite it. C(/run) is a tmpfs, so a
    reboot clears the record, as it resets the sysctls.
  - Nothing is recorded for a sysctl that already had the value the module wants; removal leaves it as it is.
  - On removal a recorded sysctl is restored only while it still holds the value the module set. When
    something else changed it since, it is left alone with a warning. The record is deleted either way.
  - A sysctl the module stops wanting while O(state=present) (for example when no network has
    O(networks[].icc=false) any more) keeps its value until removal.
seealso:
  - module: linuxnet.container.bridge
'''

EXAMPLES = r'''
- name: Two isolated networks and an internal one, as in docs/examples/s5-isolation.md
  linuxnet.container.docker_isolation:
    networks:
      - bridge: docker0
        subnet: 172.17.0.0/16
      - bridge: br-test_net2
        subnet: 173.20.0.0/16
        icc: false
      - bridge: br-backend
        subnet: 10.10.0.0/24
        internal: true
      - bridge: br-direct
        subnet: 10.79.0.0/24
        ipv6: true
        ipv6_subnet: fd00:db8:40::/64
        gateway_mode_ipv6: routed
        routed_ports:
          - {address: "fd00:db8:40::2", protocol: tcp, port: 80}

- name: Remove the isolation tables
  linuxnet.container.docker_isolation:
    state: absent
'''

RETURN = r'''
tables:
  description: The managed state after the run (predicted in check mode).
  returned: always
  type: dict
  sample:
    bridges: [br-test_net2, docker0]
    icc_off: [br-test_net2]
    internal: []
    masquerade: [["172.17.0.0/16", "docker0"], ["173.20.0.0/16", "br-test_net2"]]
    sysctls: {net.ipv4.ip_forward: "1", net.bridge.bridge-nf-call-iptables: "1"}
commands:
  description: The nftables JSON commands of the transaction (empty when nothing changed).
  returned: always
  type: list
  elements: dict
actions:
  description: What the run did, or would do in check mode.
  returned: always
  type: list
  elements: str
saved_sysctls:
  description:
    - The earlier values of the sysctls the module changed in the namespace, as recorded under
      C(/run/linuxnet-container/) after the run (predicted in check mode), with the value the module set.
    - O(state=absent) restores them and deletes the record, so it is empty after a removal.
  returned: always
  type: dict
  sample:
    net.ipv4.ip_forward: {before: "0", set: "1"}
restored_sysctls:
  description:
    - The sysctls O(state=absent) set back to their recorded earlier values, with those values (predicted in
      check mode). Empty when nothing was restored.
  returned: always
  type: dict
  sample:
    net.ipv4.ip_forward: "0"
'''

# First of the collection's imports: the module_utils below are compiled once per host, not at every call.
from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode  # noqa: F401  pylint: disable=unused-import
from ansible_collections.linuxnet.container.plugins.module_utils._parts import docker_isolation as part
from ansible_collections.linuxnet.container.plugins.module_utils._converge.module import run_impl


def main():
    run_impl(part)


if __name__ == '__main__':
    main()
