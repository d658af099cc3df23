#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: bridge
short_description: Manage Linux bridges (like Docker's docker0) in the host or any network namespace
version_added: 0.1.0
description:
  - Creates, changes and removes Linux bridges, many in one call, in the host namespace or in a named
    namespace, a namespace file or a process's namespace.
  - Manages the bridge's addresses (for a Docker-style network, its gateway, like C(172.17.0.1/16)), MTU, MAC
    address, STP, VLAN filtering, link state and the ports enslaved to it.
  - Compares only what is set; options left out are not touched.
  - Bridges the module creates carry the collection's tag (interface alias C(linuxnet.container)).
  - Removing a bridge releases its ports; it never deletes them.
  - Check mode reads the kernel and reports what would change without touching it. Namespaces an earlier task of
    the same run creates (like an overlay's) are listed in O(expect), so that check mode predicts the bridges in them.
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
      - With O(expect), also for bridges in namespaces an earlier task of the run creates.
  diff_mode:
    support: full
    description: Before and after state of every bridge that changes.
options:
  name:
    description:
      - Name of one bridge (at most 15 bytes). Shorthand for a one-element O(bridges); the other per-bridge
        options at the top level apply to it.
      - Mutually exclusive with O(bridges).
    type: str
  state:
    description:
      - Whether the bridges should exist. The default for items of O(bridges) that do not set their own.
      - V(absent) deletes the bridge; its ports stay, released.
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description:
      - Network namespace of the bridge, the default for items of O(bridges) that do not set their own.
      - Omitted, the namespace the module runs in (the host's). Otherwise a name (as C(ip netns) uses), an
        absolute path of a namespace file (like C(/proc/1234/ns/net)) or a process ID as C(pid:1234).
      - The namespace must exist.
    type: str
  addresses:
    description:
      - Addresses with prefix length to have on the bridge, IPv4 or IPv6, like C(172.17.0.1/16).
      - Others already on the bridge stay unless O(purge_addresses=true). IPv6 link-local addresses are never
        listed nor removed.
    type: list
    elements: str
  purge_addresses:
    description: Remove addresses of the bridge that are not in O(addresses), making the listed set exact.
    type: bool
    default: false
  mtu:
    description: MTU of the bridge. Omitted, the kernel's choice (the smallest MTU of its ports) is left alone.
    type: int
  mac:
    description: MAC address of the bridge. Omitted, a new bridge gets one from the kernel.
    type: str
  stp:
    description: Whether the bridge runs the spanning tree protocol.
    type: bool
  vlan_filtering:
    description:
      - Whether the bridge filters by VLAN.
      - Needs a kernel built with bridge VLAN filtering; the module fails with a clear message where it is missing.
    type: bool
  link_state:
    description: Administrative state of the bridge.
    type: str
    choices: [up, down]
    default: up
  ports:
    description:
      - Interfaces in the bridge's namespace to enslave to it. They must exist.
      - Ports enslaved by anything else stay unless O(purge_ports=true).
    type: list
    elements: str
  purge_ports:
    description: Release ports of the bridge that are not in O(ports) (they are not deleted).
    type: bool
    default: false
  bridges:
    description:
      - Many bridges in one call. Each item takes the per-bridge options above.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the bridge (at most 15 bytes).
        type: str
        required: true
      state:
        description: Overrides the top-level O(state).
        type: str
        choices: [present, absent]
      namespace:
        description: Overrides the top-level O(namespace).
        type: str
      addresses:
        description: As the top-level O(addresses).
        type: list
        elements: str
      purge_addresses:
        description: As the top-level O(purge_addresses).
        type: bool
        default: false
      mtu:
        description: As the top-level O(mtu).
        type: int
      mac:
        description: As the top-level O(mac).
        type: str
      stp:
        description: As the top-level O(stp).
        type: bool
      vlan_filtering:
        description: As the top-level O(vlan_filtering).
        type: bool
      link_state:
        description: As the top-level O(link_state).
        type: str
        choices: [up, down]
        default: up
      ports:
        description: As the top-level O(ports).
        type: list
        elements: str
      purge_ports:
        description: As the top-level O(purge_ports).
        type: bool
        default: false
extends_documentation_fragment:
  - linuxnet.container.attributes
  - linuxnet.container.expect
notes:
  - Linux sets a bridge's MTU to the smallest MTU of its ports unless an MTU was set explicitly; set O(mtu) to pin it.
  - A bridge takes the lowest MAC address of its ports unless one was set; set O(mac) to pin it.
  - The kernel drops IPv6 addresses of a link that goes down (unless C(net.ipv6.conf.<name>.keep_addr_on_down=1));
    keep IPv6 addresses on bridges that are up.
seealso:
  - module: linuxnet.container.veth
  - module: linuxnet.container.netns
  - name: ip-link(8)
    description: The iproute2 command this module replaces (C(ip link add type bridge)).
    link: https://man7.org/linux/man-pages/man8/ip-link.8.html
'''

EXAMPLES = r'''
- name: Docker's default bridge with its gateway (docs/examples/s2-default-bridge.md)
  linuxnet.container.bridge:
    name: docker0
    addresses: [172.17.0.1/16]

- name: Two user-defined networks, the listed addresses exact
  linuxnet.container.bridge:
    bridges:
      - name: br-3b8ee0b3c5a1
        addresses: [173.20.0.1/16]
        purge_addresses: true
      - name: br-9d2c4f1e7a60
        addresses: [172.18.0.1/16]
        mtu: 1450

- name: An overlay bridge inside the overlay's own namespace, with its VXLAN port
  linuxnet.container.bridge:
    name: br0
    namespace: 1-ov-demo
    ports: [vxlan0]
    purge_ports: true

- name: Check mode on a fresh host, after a netns task of the same run that creates 1-ov-demo
  linuxnet.container.bridge:
    name: br0
    namespace: 1-ov-demo
    addresses: [10.0.0.1/24]
    expect:
      namespaces: [1-ov-demo]

- name: Remove a bridge (its ports stay, released)
  linuxnet.container.bridge:
    name: docker0
    state: absent
'''

RETURN = r'''
bridges:
  description: State of every listed bridge after the run (predicted in check mode; an unknown MAC is null).
  returned: always
  type: list
  elements: dict
  sample:
    - name: docker0
      namespace: null
      state: present
      owned: true
      up: true
      mtu: 1500
      mac: "02:42:5e:1c:00:01"
      stp: false
      vlan_filtering: false
      addresses: [172.17.0.1/16]
      ports: [veth1a2b3c4, veth5d6e7f8]
actions:
  description: What the run did (or would do in check mode), one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create bridge docker0", "add address 172.17.0.1/16 to bridge docker0"]
netlink_writes:
  description: Number of netlink requests that changed the kernel (0 in check mode and when nothing changed).
  returned: always
  type: int
  sample: 3
'''

# First of the collection's imports: the module_utils below are compiled once per host, not at every call.
from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode  # noqa: F401  pylint: disable=unused-import
from ansible_collections.linuxnet.container.plugins.module_utils._parts import bridge as part
from ansible_collections.linuxnet.container.plugins.module_utils._converge.module import run_impl


def main():
    run_impl(part)


if __name__ == '__main__':
    main()
