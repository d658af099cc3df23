#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: macvlan
short_description: Manage macvlan endpoints of containers (Docker's macvlan driver)
version_added: 0.1.0
description:
  - Creates, changes and removes macvlan devices, many in one call, as Docker's C(macvlan) network driver gives
    containers an interface of their own on a host's physical network (C(driver macvlan), C(parent eth0)).
  - Each endpoint is a macvlan child of a parent link in the host namespace (or in O(endpoints[].parent_namespace)),
    living in the container's network namespace under its own name, usually C(eth0). It is created directly inside
    that namespace, never created next to the parent and moved.
  - Per endpoint it manages the mode, the MAC address (explicit or Docker's derivation from the first IPv4 address,
    C(198.51.100.2) -> C(02:42:c6:33:64:02)), addresses, routes, MTU and link state.
  - Compares only what is set; options left out are not touched (O(endpoints[].mode) defaults to V(bridge) and is
    always compared).
  - The parent and its namespace cannot change on an existing endpoint, nor can the mode change to or from
    V(passthru). Such an endpoint fails with a message naming the difference unless O(endpoints[].recreate=true)
    allows deleting and creating it again. Changes between V(bridge), V(private) and V(vepa) happen in place.
  - A link of another kind that holds the endpoint's name is replaced only with O(endpoints[].recreate=true) and only
    if the collection made it (it carries the tag); a foreign link is never touched.
  - Links the module creates carry the collection's tag (interface alias C(linuxnet.container)); O(prune=true)
    removes tagged macvlans of the listed namespaces that are not listed.
  - Check mode reads the kernel and reports what would change without touching it. Namespaces an earlier task of
    the same run creates (the containers') are listed in O(expect), so that check mode predicts the endpoints in them.
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
      - With O(expect), also for endpoints in namespaces an earlier task of the run creates.
  diff_mode:
    support: full
    description: Before and after state of every endpoint that changes or is pruned.
options:
  endpoints:
    description:
      - The macvlan endpoints, each given by its name in its namespace.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the macvlan device in its namespace (at most 15 bytes), like C(eth0) inside a container.
        type: str
        required: true
      namespace:
        description:
          - Network namespace of the endpoint, the container's. Omitted, the host's (the namespace the module runs in).
          - A name (as C(ip netns) uses), an absolute path of a namespace file (like C(/proc/1234/ns/net) or a
            runtime's bind mount) or a process ID as C(pid:1234). It must exist for an endpoint that should be present.
        type: str
      parent:
        description:
          - The parent link (the macvlan's lower device), like C(eth0) of the host. Required for an endpoint that should
            be present; it must exist in O(endpoints[].parent_namespace) and must not be a macvlan itself.
        type: str
      parent_namespace:
        description:
          - Network namespace of the parent, in the forms O(endpoints[].namespace) takes. Omitted, the host's.
        type: str
      mode:
        description:
          - The macvlan mode, as C(ip link add ... type macvlan mode MODE) and Docker's C(macvlan_mode) take it.
          - V(bridge) lets the children of one parent reach each other directly; V(private) forbids it; V(vepa) sends
            their traffic to the external switch; V(passthru) gives one child the parent itself (its MAC address and
            all its traffic), so the parent may carry no other macvlan.
        type: str
        choices: [bridge, private, vepa, passthru]
        default: bridge
      mac:
        description:
          - MAC address of the endpoint. Omitted, the kernel picks one for a new endpoint and it is left alone.
          - Not with O(endpoints[].mode=passthru), where the endpoint takes the parent's MAC address.
        type: str
      mac_from_ip:
        description: Derive the MAC from the first IPv4 address as Docker does (C(02:42) and the four octets).
        type: bool
        default: false
      addresses:
        description:
          - Addresses with prefix length, like C(198.51.100.2/24) or C(fd00:db8:50::2/64).
          - IPv6 ones are added without duplicate address detection, so they are usable at once (as Docker adds its
            endpoints' addresses). They need IPv6 on in the namespace, as a new namespace has it
            (M(linuxnet.container.netns)'s O(linuxnet.container.netns#module:namespaces[].ipv6) turns it off and on).
        type: list
        elements: str
      routes:
        description:
          - Routes through the endpoint (in its namespace's main table), like the default route via the network's
            gateway. Others are left alone. They need O(endpoints[].link_state=up).
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
      mtu:
        description:
          - MTU of the endpoint, at most the parent's. Omitted, a new endpoint gets the parent's MTU and it is left alone.
        type: int
      link_state:
        description: Administrative state of the endpoint.
        type: str
        choices: [up, down]
        default: up
      purge_addresses:
        description: Remove addresses of the endpoint that are not listed (IPv6 link-local ones stay).
        type: bool
        default: false
      state:
        description: Overrides the top-level O(state) for this endpoint.
        type: str
        choices: [present, absent]
      recreate:
        description: Overrides the top-level O(recreate) for this endpoint.
        type: bool
  state:
    description:
      - Whether the endpoints should exist, the default for items that do not set their own.
      - V(absent) deletes the macvlan with that name in its namespace (with its addresses and routes).
    type: str
    choices: [present, absent]
    default: present
  recreate:
    description:
      - Allow deleting and creating again an endpoint whose parent, parent namespace or passthru mode differs from
        the request, or whose name is held by a link of another kind that the collection made. Without it such an
        endpoint fails with a message and nothing changes.
      - The default for items that do not set their own.
    type: bool
    default: false
  prune:
    description:
      - Also delete macvlans that carry the collection's tag in the namespaces of the listed endpoints but are not
        listed themselves (the endpoints of networks a container left). Links made by anything else are never pruned.
    type: bool
    default: false
extends_documentation_fragment:
  - linuxnet.container.attributes
  - linuxnet.container.expect
seealso:
  - module: linuxnet.container.netns
  - module: linuxnet.container.veth
  - name: ip-link(8)
    description: The iproute2 command this module replaces (C(ip link add link eth0 type macvlan mode bridge)).
    link: https://man7.org/linux/man-pages/man8/ip-link.8.html
'''

EXAMPLES = r'''
- name: A container on the host's LAN, as docker network create -d macvlan -o parent=eth0 would do it
  linuxnet.container.macvlan:
    endpoints:
      - name: eth0
        namespace: web
        parent: eth0
        addresses: [198.51.100.2/24]
        mac_from_ip: true
        routes: [{dst: default, gateway: 198.51.100.1}]

- name: Dual stack, as docker network create -d macvlan --ipv6 --subnet fd00:db8:50::/64 -o parent=eth0 would do it
  linuxnet.container.macvlan:
    endpoints:
      - name: eth0
        namespace: web
        parent: eth0
        addresses: [198.51.100.2/24, "fd00:db8:50::2/64"]
        mac_from_ip: true
        routes: [{dst: default, gateway: 198.51.100.1}, {dst: default, gateway: "fd00:db8:50::1"}]

- name: Several containers in one call; the ones that left the network are pruned
  linuxnet.container.macvlan:
    prune: true
    endpoints:
      - {name: eth0, namespace: c1, parent: eth0, addresses: [198.51.100.2/24], mac_from_ip: true}
      - {name: eth0, namespace: c2, parent: eth0, addresses: [198.51.100.3/24], mac_from_ip: true}

- name: Check mode on a fresh host, after a netns task of the same run that creates c1
  linuxnet.container.macvlan:
    expect:
      namespaces: [c1]
    endpoints:
      - {name: eth0, namespace: c1, parent: eth0, addresses: [198.51.100.2/24], mac_from_ip: true}

- name: A container that another runtime started with --network none (by its PID), in private mode
  linuxnet.container.macvlan:
    endpoints:
      - name: eth1
        namespace: "pid:{{ container_pid }}"
        parent: eth0
        mode: private
        addresses: [198.51.100.9/24]

- name: The host's own shim on the macvlan network (a macvlan parent cannot reach its children in bridge mode)
  linuxnet.container.macvlan:
    endpoints:
      - name: mvshim
        parent: eth0
        addresses: [198.51.100.254/32]
        routes: [{dst: 198.51.100.0/24}]

- name: Move an endpoint to another parent (deleted and created again)
  linuxnet.container.macvlan:
    recreate: true
    endpoints:
      - {name: eth0, namespace: web, parent: eth1, addresses: [198.51.100.2/24], mac_from_ip: true}

- name: Remove an endpoint
  linuxnet.container.macvlan:
    state: absent
    endpoints:
      - {name: eth0, namespace: web}
'''

RETURN = r'''
endpoints:
  description:
    - State of every listed endpoint after the run (predicted in check mode; a MAC the kernel will pick is null).
    - C(parent_namespace) is null for the host's; C(parent) is C(ifindex:N) and C(parent_namespace) C(nsid:N) for a
      parent in a namespace the module was not told about.
  returned: always
  type: list
  elements: dict
  sample:
    - name: eth0
      namespace: web
      state: present
      kind: macvlan
      owned: true
      parent: eth0
      parent_namespace: null
      mode: bridge
      up: true
      mtu: 1500
      mac: "02:42:c6:33:64:02"
      addresses: [198.51.100.2/24]
      routes: [{dst: 0.0.0.0/0, gateway: 198.51.100.1}]
removed:
  description: The tagged macvlans O(prune=true) deleted (or would delete in check mode), each with its name and namespace.
  returned: always
  type: list
  elements: dict
  sample: [{name: eth1, namespace: web}]
actions:
  description: What the run did (or would do in check mode), one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create macvlan eth0 in network namespace web on parent eth0 in the host namespace, mode bridge, mac 02:42:c6:33:64:02"]
netlink_writes:
  description: Number of netlink requests that changed the kernel (0 in check mode and when nothing changed).
  returned: always
  type: int
  sample: 4
'''

# First of the collection's imports: the module_utils below are compiled once per host, not at every call.
from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode  # noqa: F401  pylint: disable=unused-import
from ansible_collections.linuxnet.container.plugins.module_utils._parts import macvlan as part
from ansible_collections.linuxnet.container.plugins.module_utils._converge.module import run_impl


def main():
    run_impl(part)


if __name__ == '__main__':
    main()
