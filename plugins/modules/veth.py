#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: veth
short_description: Manage veth pairs with each end in any network namespace (container endpoints)
version_added: 0.1.0
description:
  - Creates, changes and removes veth pairs, many in one call. Each end lives in the host namespace, a named
    namespace, a namespace file or the namespace of a process, so a container started by another runtime with
    C(--network none) can be wired.
  - Per end it manages the name (the container end is usually C(eth0), C(eth1), ...), the MAC address (explicit
    or Docker's derivation from the first IPv4 address, C(172.17.0.2) -> C(02:42:ac:11:00:02)), addresses,
    routes (like the default route via the network's gateway) and the bridge it is a port of. MTU and link
    state apply to both ends.
  - The far end is created directly in its namespace, never created on the host and moved.
  - Compares only what is set; options left out are not touched.
  - The namespace of an end cannot change in place; a pair whose ends sit elsewhere than requested fails with a
    clear message unless O(recreate=true) allows deleting and creating it again.
  - Links the module creates carry the collection's tag (interface alias C(linuxnet.container)).
  - Check mode reads the kernel and reports what would change without touching it. Namespaces and bridges an
    earlier task of the same run creates are listed in O(expect), so that check mode predicts the pairs in them.
author:
  - linuxnet.container contributors (@linuxnet)
requirements:
  - pyroute2 >= 0.9 on the managed host
  - root (CAP_NET_ADMIN) on the managed host
attributes:
  check_mode:
    support: full
    description:
      - Reads the current state and predicts every change; creates and changes nothing.
      - With O(expect), also for pairs in namespaces and on bridges an earlier task of the run creates.
  diff_mode:
    support: full
    description: Before and after state of every pair that changes.
options:
  pairs:
    description:
      - The veth pairs, each given by its first end (O(pairs[].name) in O(pairs[].namespace)) and its O(pairs[].peer).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the first end (at most 15 bytes), like C(veth1a2b3c4) on the host.
          - With O(pairs[].state=absent) the pair is found by this name or by the peer's name.
        type: str
        required: true
      namespace:
        description:
          - Network namespace of the first end. Omitted, the host's (the namespace the module runs in).
          - A name (as C(ip netns) uses), an absolute path of a namespace file (like C(/proc/1234/ns/net) or a
            runtime's bind mount) or a process ID as C(pid:1234). It must exist.
        type: str
      mac:
        description: MAC address of the first end. Omitted, the kernel picks one for a new pair and it is left alone.
        type: str
      mac_from_ip:
        description: Derive the first end's MAC from its first IPv4 address as Docker does (C(02:42) and the four octets).
        type: bool
        default: false
      addresses:
        description: Addresses with prefix length for the first end, like C(172.17.0.2/16).
        type: list
        elements: str
      routes:
        description: Routes through the first end (in its namespace's main table). Others are left alone.
        type: list
        elements: dict
        suboptions:
          dst:
            description: Destination, V(default) or a network in CIDR form.
            type: str
            required: true
          gateway:
            description: Next hop; omitted, the destination is reached directly on the link.
            type: str
      master:
        description:
          - Bridge in the first end's namespace to enslave the first end to (for a container endpoint, the network's
            bridge, like C(docker0)). It must exist. Omitted, whatever master the end has is left alone.
        type: str
      hairpin:
        description:
          - Hairpin mode of the first end's bridge port, what C(ip link set NAME type bridge_slave hairpin on) sets.
            In hairpin mode the bridge may send a frame back out of the port it came in on.
          - A container that reaches its own published port through the host's address (DNAT back to the same
            container, as M(linuxnet.container.port_map) sets up) needs it, because with C(br_netfilter) the
            answer is bridged back to the port it arrived on. Docker turns it on for every endpoint when its
            userland proxy is off.
          - V(true) needs O(pairs[].master) on the same end. V(false) turns it off if the end is a bridge port.
            Omitted, the mode is left as it is (a port that is newly enslaved starts with it off).
        type: bool
      peer:
        description:
          - The other end. Required with O(pairs[].state=present).
        type: dict
        suboptions:
          name:
            description: Name of the other end (at most 15 bytes), like C(eth0).
            type: str
            required: true
          namespace:
            description: Network namespace of the other end, in the forms O(pairs[].namespace) takes.
            type: str
          mac:
            description: MAC address of the other end.
            type: str
          mac_from_ip:
            description: Derive the other end's MAC from its first IPv4 address as Docker does.
            type: bool
            default: false
          addresses:
            description: Addresses with prefix length for the other end.
            type: list
            elements: str
          routes:
            description: Routes through the other end, like the default route via the network's gateway.
            type: list
            elements: dict
            suboptions:
              dst:
                description: Destination, V(default) or a network in CIDR form.
                type: str
                required: true
              gateway:
                description: Next hop.
                type: str
          master:
            description: Bridge in the other end's namespace to enslave it to.
            type: str
          hairpin:
            description:
              - Hairpin mode of the other end's bridge port, as O(pairs[].hairpin) for the first end.
              - V(true) needs O(pairs[].peer.master). Omitted, left as it is.
            type: bool
      mtu:
        description: MTU of both ends. Omitted, a new pair gets the kernel's default (1500) and it is left alone.
        type: int
      link_state:
        description: Administrative state of both ends.
        type: str
        choices: [up, down]
        default: up
      purge_addresses:
        description: Remove addresses of either end that are not listed for it (IPv6 link-local ones stay).
        type: bool
        default: false
      state:
        description: Overrides the top-level O(state) for this pair.
        type: str
        choices: [present, absent]
      recreate:
        description: Overrides the top-level O(recreate) for this pair.
        type: bool
  state:
    description:
      - Whether the pairs should exist, the default for items that do not set their own.
      - V(absent) deletes the pair found by either end's name (deleting one end deletes both).
    type: str
    choices: [present, absent]
    default: present
  recreate:
    description:
      - Allow deleting and creating again a pair whose ends are not where they are requested (another namespace or
        another peer), or whose peer name is taken by the end of another veth pair. Without it such a pair fails
        with a message and nothing changes.
      - The default for items that do not set their own.
    type: bool
    default: false
extends_documentation_fragment:
  - linuxnet.container.attributes
  - linuxnet.container.expect
seealso:
  - module: linuxnet.container.bridge
  - module: linuxnet.container.netns
  - name: ip-link(8)
    description: The iproute2 command this module replaces (C(ip link add type veth peer)).
    link: https://man7.org/linux/man-pages/man8/ip-link.8.html
'''

EXAMPLES = r'''
- name: Example S1, two namespaces joined by a veth pair
  linuxnet.container.veth:
    pairs:
      - name: veth-test1
        namespace: test1
        addresses: [192.168.1.1/24]
        peer:
          name: veth-test2
          namespace: test2
          addresses: [192.168.1.2/24]

- name: Example S2, two containers on docker0 with Docker's MACs and default route
  linuxnet.container.veth:
    pairs:
      - name: veth6f1a2b3
        master: docker0
        peer:
          name: eth0
          namespace: c1
          addresses: [172.17.0.2/16]
          mac_from_ip: true
          routes: [{dst: default, gateway: 172.17.0.1}]
      - name: veth9c8d7e6
        master: docker0
        peer:
          name: eth0
          namespace: c2
          addresses: [172.17.0.3/16]
          mac_from_ip: true
          routes: [{dst: default, gateway: 172.17.0.1}]

- name: Container endpoint whose bridge port is in hairpin mode (the container can reach its own published ports)
  linuxnet.container.veth:
    pairs:
      - name: veth6f1a2b3
        master: docker0
        hairpin: true
        peer:
          name: eth0
          namespace: c1
          addresses: [172.17.0.2/16]
          mac_from_ip: true
          routes: [{dst: default, gateway: 172.17.0.1}]

- name: Wire a container another runtime started with --network none (by its PID)
  linuxnet.container.veth:
    pairs:
      - name: vethext0
        master: docker0
        peer:
          name: eth0
          namespace: "pid:{{ container_pid }}"
          addresses: [172.17.0.9/16]
          routes: [{dst: default, gateway: 172.17.0.1}]

- name: Check mode on a fresh host, after netns and bridge tasks of the same run that create c1 and docker0
  linuxnet.container.veth:
    expect:
      namespaces: [c1]
      links: [{name: docker0}]
    pairs:
      - name: veth6f1a2b3
        master: docker0
        peer:
          name: eth0
          namespace: c1
          addresses: [172.17.0.2/16]

- name: Remove a pair by the name of either end
  linuxnet.container.veth:
    state: absent
    pairs:
      - name: veth6f1a2b3
'''

RETURN = r'''
pairs:
  description:
    - State of every listed pair after the run (predicted in check mode; a MAC the kernel will pick is null).
    - C(hairpin) is the hairpin mode of an end's bridge port, null for an end that is not a bridge port.
  returned: always
  type: list
  elements: dict
  sample:
    - name: veth6f1a2b3
      namespace: null
      state: present
      owned: true
      up: true
      mtu: 1500
      mac: "7a:fc:af:33:9e:fa"
      master: docker0
      hairpin: true
      addresses: []
      routes: []
      peer:
        name: eth0
        namespace: c1
        owned: true
        up: true
        mtu: 1500
        mac: "02:42:ac:11:00:02"
        master: null
        hairpin: null
        addresses: [172.17.0.2/16]
        routes: [{dst: 0.0.0.0/0, gateway: 172.17.0.1}]
actions:
  description: What the run did (or would do in check mode), one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create veth pair veth6f1a2b3 (host, master docker0) <-> eth0 (network namespace c1)", "set hairpin on of veth6f1a2b3 (host)"]
netlink_writes:
  description: Number of netlink requests that changed the kernel (0 in check mode and when nothing changed).
  returned: always
  type: int
  sample: 5
'''

# First of the collection's imports: the module_utils below are compiled once per host, not at every call.
from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode  # noqa: F401  pylint: disable=unused-import
from ansible_collections.linuxnet.container.plugins.module_utils._parts import veth as part
from ansible_collections.linuxnet.container.plugins.module_utils._converge.module import run_impl


def main():
    run_impl(part)


if __name__ == '__main__':
    main()
