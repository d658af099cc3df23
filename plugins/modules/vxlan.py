#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: vxlan
short_description: Manage VXLAN devices with a static control plane (peers, FDB and neighbour entries)
version_added: 0.1.0
description:
  - Creates, changes and removes VXLAN devices, many in one call, in the host namespace or in another network
    namespace, as Docker's overlay driver does (docs/examples/s8-overlay.md) without any key-value store.
  - The device may live in another namespace than its underlay. Docker keeps C(br0) and the VXLAN device in a
    per-network namespace while the tunnel runs over the host's interface; the module does exactly that by
    creating the device from the underlay's namespace directly inside its own namespace (the kernel keeps the
    UDP socket and the underlay device in the namespace the device was created from).
  - Programs a static control plane. O(peers) become all-zero FDB entries (C(00:00:00:00:00:00 dst PEER),
    head-end replication of broadcast and unknown traffic to every peer VTEP). O(fdb) adds per-MAC entries and
    O(neighbors) permanent ARP/NDP entries for remote endpoints, so that known endpoints are reached without
    flooding, as Docker's overlay and flannel program them. O(purge=true) removes entries that are not listed.
  - FDB entries are normalised before they are compared (MAC case, address form, a VNI equal to the device's
    own, which the kernel omits when it reports the entry).
  - The VNI, UDP port, local address, underlay device and namespace and ARP proxy cannot be changed on an
    existing device. The module recreates the device when they differ only with O(recreate=true); otherwise it
    fails and names the differences.
  - Compares only what is set; options left out are not touched (except O(mtu), which defaults to the
    underlay's MTU minus the VXLAN overhead).
  - Devices the module creates carry the collection's tag (interface alias C(linuxnet.container)).
  - Check mode reads the kernel and reports what would change without touching it; it creates nothing. Namespaces
    and bridges an earlier task of the same run creates (an overlay's namespace and its C(br0)) are listed in
    O(expect), so that check mode predicts the devices in them.
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
      - With O(expect), also for devices in namespaces and on bridges an earlier task of the run creates.
  diff_mode:
    support: full
    description: Before and after state of every VXLAN device that changes, with its FDB and neighbour entries.
options:
  name:
    description:
      - Name of one VXLAN device (at most 15 bytes). Shorthand for a one-element O(devices); the other
        per-device options at the top level apply to it.
      - Mutually exclusive with O(devices).
    type: str
  state:
    description:
      - Whether the devices should exist. The default for items of O(devices) that do not set their own.
      - V(absent) deletes the device with its FDB and neighbour entries.
    type: str
    choices: [present, absent]
    default: present
  namespace:
    description:
      - Network namespace the VXLAN device lives in; the default for items of O(devices) that do not set their own.
      - Omitted, the namespace the module runs in (the host's). Otherwise a name (as C(ip netns) uses), an
        absolute path of a namespace file (like C(/proc/1234/ns/net)) or a process ID as C(pid:1234).
      - The namespace must exist.
    type: str
  underlay_namespace:
    description:
      - Network namespace of the underlay, where the tunnel's UDP socket lives and where O(dev) is looked up; the
        default for items of O(devices) that do not set their own.
      - Omitted, the namespace the module runs in (the host's), whatever O(namespace) is. This is Docker's layout, with
        the device in the overlay's namespace and the tunnel over the host's interface.
      - Same forms as O(namespace).
    type: str
  vni:
    description:
      - VXLAN network identifier, 1 to 16777215. Required for devices that should be present.
      - Docker's first overlay network uses 256.
    type: int
  port:
    description:
      - Destination UDP port of the tunnel; the default for items of O(devices) that do not set their own.
      - 4789 is the IANA port that Docker and most VTEPs use.
    type: int
    default: 4789
  local:
    description:
      - Source address of the tunnel (the host's underlay address), IPv4 or IPv6; the default for items of
        O(devices) that do not set their own.
      - Omitted, the kernel picks one by route lookup; an existing device is not compared.
    type: str
  dev:
    description:
      - Underlay interface in O(underlay_namespace) that carries the tunnel, like C(eth0); the default for items
        of O(devices) that do not set their own.
      - Omitted, the kernel routes the tunnel; an existing device is not compared.
    type: str
  learning:
    description:
      - Whether the device learns remote MAC addresses from incoming packets.
      - Omitted, a new device learns (the kernel's default) and an existing one is not compared. Docker's overlay
        turns learning off and programs every MAC through O(fdb).
    type: bool
  proxy:
    description:
      - Whether the device answers ARP/NDP requests itself from its neighbour entries (O(neighbors) with
        O(neighbors[].on=device)), as Docker's overlay does so that no ARP request crosses the tunnel.
      - Cannot be changed on an existing device (see O(recreate)). Omitted, a new device has it off and an
        existing one is not compared.
    type: bool
  ttl:
    description: TTL of the outer IP header, 0 to 255 (0 lets the kernel choose). Omitted, not compared.
    type: int
  mtu:
    description:
      - MTU of the device.
      - Omitted, the MTU of O(dev) minus the VXLAN overhead (50 bytes over IPv4, 70 over IPv6), or 1450 without
        O(dev). Example S8's overlay interfaces have 1450 on a 1500 underlay.
    type: int
  master:
    description:
      - Bridge in the device's namespace to enslave the device to (Docker's C(br0)). It must exist.
      - Omitted, the device's master is not compared; an empty string releases it.
    type: str
  link_state:
    description: Administrative state of the device.
    type: str
    choices: [up, down]
    default: up
  peers:
    description:
      - Addresses of the remote VTEPs (the other hosts' underlay addresses). Each becomes an all-zero FDB entry,
        so broadcast, multicast and unknown unicast frames are replicated to every peer.
      - Entries for other peers stay unless O(purge=true).
    type: list
    elements: str
  fdb:
    description:
      - Per-MAC FDB entries of remote endpoints. A listed MAC is sent only to its O(fdb[].dst); other
        destinations of that MAC are removed.
      - Entries for other MACs stay unless O(purge=true).
    type: list
    elements: dict
    suboptions:
      mac:
        description: MAC address of the remote endpoint. Not the all-zero address, which O(peers) programs.
        type: str
        required: true
      dst:
        description: Underlay address of the VTEP behind which the MAC lives.
        type: str
        required: true
      vni:
        description: VNI to use towards that VTEP. Omitted, the device's own VNI.
        type: int
  neighbors:
    description:
      - Permanent neighbour (ARP or NDP) entries for remote endpoints, address to MAC.
      - Entries for other addresses stay unless O(purge=true).
    type: list
    elements: dict
    suboptions:
      address:
        description: IP address of the remote endpoint, like C(10.0.0.3).
        type: str
        required: true
      mac:
        description: Its MAC address.
        type: str
        required: true
      'on':
        description:
          - Where the entry lives. V(device) is the VXLAN device itself, which answers ARP from it when O(proxy=true)
            (Docker's overlay). V(master) is the bridge of O(master) (a host that routes into the overlay).
        type: str
        choices: [device, master]
        default: device
  purge:
    description:
      - Make each listed kind of entry exact. With O(peers) given, remove all-zero FDB entries of other peers; with
        O(fdb) given, remove permanent per-MAC FDB entries of other MACs; with O(neighbors) given, remove permanent
        neighbour entries of other addresses on the device (and on its master bridge). An empty list removes all
        entries of its kind; a kind left out is not touched.
      - Entries the kernel learned (not permanent) are never removed; they age out.
    type: bool
    default: false
  recreate:
    description:
      - Delete and create the device again when its VNI, port, local address, underlay device or namespace or
        ARP proxy differ from the wanted ones (the kernel cannot change them in place). Traffic through the device
        stops for a moment and its entries are programmed again.
      - Without it such a difference fails the task and nothing changes.
    type: bool
    default: false
  evpn:
    description:
      - V(true) makes the device's namespace visible to FRR for BGP EVPN (the overlays with C(control_plane=evpn) of
        the network roles). The namespace gets a second name, C(/run/linuxnet-container/evpn/NAME) (a bind mount),
        which a drop-in of C(frr.service) binds onto FRR's C(/run/netns), so that zebra (C(-n), namespaces as
        VRFs) adopts it and no other namespace of the host. A second name of an older namespace of that name is
        replaced.
      - Then protodown is kept off on the device. FRR 8.4's zebra turns it on for a VXLAN device of a namespace it
        adopts while running, and never turns it off. After naming the namespace, the module waits up to 5 s for
        that (only while a zebra with C(-n) runs) and turns it off.
      - V(false) removes that second name. Omitted, neither is read nor changed. Needs a named O(namespace).
    type: bool
  static_macs:
    description:
      - Static FDB entries of the O(master) bridge's ports (C(bridge fdb replace MAC dev PORT master static)), for
        example the MACs of local containers, so that they never age out (EVPN advertises the MACs the bridge knows).
      - Exact when given. Static entries of other MACs or ports on the bridge's ports are removed. Omitted, they are
        neither read nor changed.
    type: list
    elements: dict
    suboptions:
      mac:
        description: The MAC address.
        type: str
        required: true
      port:
        description: The bridge port it lives behind, in the device's namespace, like C(veth1a2b3c4).
        type: str
        required: true
  devices:
    description:
      - Many VXLAN devices in one call. Each item takes the per-device options above.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name of the device (at most 15 bytes).
        type: str
        required: true
      state:
        description: Overrides the top-level O(state).
        type: str
        choices: [present, absent]
      namespace:
        description: Overrides the top-level O(namespace).
        type: str
      underlay_namespace:
        description: Overrides the top-level O(underlay_namespace).
        type: str
      vni:
        description: As the top-level O(vni).
        type: int
      port:
        description: Overrides the top-level O(port).
        type: int
      local:
        description: Overrides the top-level O(local).
        type: str
      dev:
        description: Overrides the top-level O(dev).
        type: str
      learning:
        description: As the top-level O(learning).
        type: bool
      proxy:
        description: As the top-level O(proxy).
        type: bool
      ttl:
        description: As the top-level O(ttl).
        type: int
      mtu:
        description: As the top-level O(mtu).
        type: int
      master:
        description: As the top-level O(master).
        type: str
      link_state:
        description: As the top-level O(link_state).
        type: str
        choices: [up, down]
        default: up
      peers:
        description: As the top-level O(peers).
        type: list
        elements: str
      fdb:
        description: As the top-level O(fdb).
        type: list
        elements: dict
        suboptions:
          mac:
            description: As O(fdb[].mac).
            type: str
            required: true
          dst:
            description: As O(fdb[].dst).
            type: str
            required: true
          vni:
            description: As O(fdb[].vni).
            type: int
      neighbors:
        description: As the top-level O(neighbors).
        type: list
        elements: dict
        suboptions:
          address:
            description: As O(neighbors[].address).
            type: str
            required: true
          mac:
            description: As O(neighbors[].mac).
            type: str
            required: true
          'on':
            description: As O(neighbors[].on).
            type: str
            choices: [device, master]
            default: device
      purge:
        description: As the top-level O(purge).
        type: bool
        default: false
      recreate:
        description: As the top-level O(recreate).
        type: bool
        default: false
      evpn:
        description: As the top-level O(evpn).
        type: bool
      static_macs:
        description: As the top-level O(static_macs).
        type: list
        elements: dict
        suboptions:
          mac:
            description: As O(static_macs[].mac).
            type: str
            required: true
          port:
            description: As O(static_macs[].port).
            type: str
            required: true
extends_documentation_fragment:
  - linuxnet.container.attributes
  - linuxnet.container.expect
notes:
  - The device is created in one request from the underlay's namespace with its target namespace given, never
    created and then moved (moving costs about eight times as much and the result is the same).
  - UDP port 4789 must be open between the hosts on the underlay.
  - With O(learning=false) and no O(fdb) entries, unicast frames to remote MACs are still flooded to every peer,
    so connectivity works; per-MAC entries only avoid the flooding.
seealso:
  - module: linuxnet.container.bridge
  - module: linuxnet.container.veth
  - module: linuxnet.container.netns
  - name: ip-link(8)
    description: The iproute2 command this module replaces (C(ip link add type vxlan)).
    link: https://man7.org/linux/man-pages/man8/ip-link.8.html
  - name: bridge(8)
    description: C(bridge fdb append 00:00:00:00:00:00 dev vxlan0 dst PEER), what O(peers) programs.
    link: https://man7.org/linux/man-pages/man8/bridge.8.html
'''

EXAMPLES = r'''
- name: Docker's overlay on docker-node1 (docs/examples/s8-overlay.md) - br0 and vxlan0 in the overlay's namespace, tunnel over eth0
  linuxnet.container.vxlan:
    name: vxlan0
    namespace: 1-ov-demo
    vni: 256
    dev: eth0
    local: 192.0.2.11
    learning: false
    proxy: true
    master: br0
    peers: [192.0.2.12]
    fdb:
      - mac: "02:42:0a:00:00:03"
        dst: 192.0.2.12
    neighbors:
      - address: 10.0.0.3
        mac: "02:42:0a:00:00:03"
    purge: true

- name: Two overlays in the host namespace, same underlay
  linuxnet.container.vxlan:
    dev: eth0
    local: 192.0.2.11
    devices:
      - name: vx256
        vni: 256
        master: br-ov1
        peers: [192.0.2.12, 192.0.2.13]
      - name: vx257
        vni: 257
        master: br-ov2
        peers: [192.0.2.12]

- name: Move an overlay to another VNI (the device is recreated)
  linuxnet.container.vxlan:
    name: vx256
    vni: 4096
    dev: eth0
    recreate: true

- name: Check mode on a fresh host, after netns and bridge tasks of the same run that create 1-ov-demo and its br0
  linuxnet.container.vxlan:
    name: vxlan0
    namespace: 1-ov-demo
    vni: 256
    dev: eth0
    master: br0
    expect:
      namespaces: [1-ov-demo]
      links: [{name: br0, namespace: 1-ov-demo}]

- name: Remove a VXLAN device
  linuxnet.container.vxlan:
    name: vxlan0
    namespace: 1-ov-demo
    state: absent
'''

RETURN = r'''
devices:
  description:
    - State of every listed device after the run (predicted in check mode; an unknown MAC is null).
    - With O(evpn) given, also C(evpn) (the namespace is named for FRR) and C(protodown). With O(static_macs)
      given, also C(static_macs), the static entries ({mac, port}) of the master bridge's ports.
  returned: always
  type: list
  elements: dict
  sample:
    - name: vxlan0
      namespace: 1-ov-demo
      state: present
      owned: true
      vni: 256
      port: 4789
      local: 192.0.2.11
      dev: eth0
      underlay_namespace: null
      learning: false
      proxy: true
      ttl: 0
      mtu: 1450
      master: br0
      up: true
      mac: "6e:51:0c:4f:2a:10"
      peers: [192.0.2.12]
      fdb:
        - mac: "02:42:0a:00:00:03"
          dst: 192.0.2.12
          vni: null
      neighbors:
        - address: 10.0.0.3
          mac: "02:42:0a:00:00:03"
          'on': device
actions:
  description: What the run did (or would do in check mode), one line per change.
  returned: always
  type: list
  elements: str
  sample:
    - create vxlan vxlan0 in network namespace 1-ov-demo with vni 256, port 4789, dev eth0 in the host namespace
    - add peer 192.0.2.12 to vxlan vxlan0 in network namespace 1-ov-demo
netlink_writes:
  description: Number of netlink requests that changed the kernel (0 in check mode and when nothing changed).
  returned: always
  type: int
  sample: 4
'''

# First of the collection's imports: the module_utils below are compiled once per host, not at every call.
from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode  # noqa: F401  pylint: disable=unused-import
from ansible_collections.linuxnet.container.plugins.module_utils._parts import vxlan as part
from ansible_collections.linuxnet.container.plugins.module_utils._converge.module import run_impl


def main():
    run_impl(part)


if __name__ == '__main__':
    main()
