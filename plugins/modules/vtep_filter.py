#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: vtep_filter
short_description: Accept VXLAN only from the listed VTEPs, per VNI if asked, on nftables
version_added: 0.1.0
description:
  - Protects a host's VXLAN overlays (docs/examples/s8-overlay.md) on the underlay. A VXLAN device decapsulates whatever reaches
    its UDP port, from any source, so any machine that can send a UDP packet to the host can inject frames into
    an overlay. This module drops VXLAN packets (UDP to the listed O(ports)) whose source is not one of the
    listed O(vteps) and whose pair of source and VNI is not one of O(members); everything else passes untouched.
  - O(members) filters per overlay. A VTEP listed for VNI 256 only can send VNI 256 and nothing else, so a host that is
    a VTEP of one overlay cannot inject frames into another overlay of the same host. The VNI is read from the VXLAN
    header in the UDP payload (24 bits at bit 96 of the UDP header).
  - Works in the nftables table C(inet linuxnet_vtep), which belongs to this collection alone; no other table,
    chain or iptables rule is touched.
  - The filter sits on the C(input) hook of the underlay's namespace (O(namespace)). The UDP socket of a VXLAN
    device lives in the namespace of its underlay, whatever namespace the device itself is in (Docker moves it
    into the overlay's namespace), so every tunnel packet for this host is delivered locally there and crosses
    C(input) after IP reassembly; no fragment reaches the socket without its UDP header being seen. Prerouting
    is not needed, and forwarded UDP traffic is not affected.
  - The allowed addresses live in two sets (C(vteps4), C(vteps6)) and the ports in a third one, so the table
    holds two rules whatever the number of VTEPs. Adding or removing a host in O(vteps) changes only that set element.
  - The O(members) pairs are an anonymous set inside each drop rule, as in C(ip saddr . @th,96,24 != { 192.0.2.12 . 256 }).
    nftables 1.0 (Debian 12) cannot declare a named set keyed on a field of the UDP payload in its JSON interface.
    A change of O(members) writes the two rules again, in the same one transaction, so their counters start again
    from zero.
  - Each drop rule has a counter (C(nft list table inet linuxnet_vtep) shows how many packets were dropped).
  - Every change is one atomic nftables transaction; nothing is written when the table is already as planned.
author:
  - linuxnet.container contributors (@linuxnet)
requirements:
  - nftables (the C(nft) command) on the managed host
  - pyroute2 >= 0.9 on the managed host
attributes:
  check_mode:
    support: full
    description: Reads the table and reports the transaction it would apply; applies nothing, creates no namespace.
  diff_mode:
    support: full
    description: Before and after of the allowed VTEPs, the per-VNI members, the ports and the rules.
extends_documentation_fragment:
  - linuxnet.container.attributes
options:
  vteps:
    description:
      - The underlay addresses of every VTEP allowed to send VXLAN to this host (the other hosts' C(local)
        addresses; listing the host's own address as well is harmless). IPv4 or IPv6, duplicates are merged.
      - Exactly these addresses are allowed afterwards; addresses no longer listed are removed. With no IPv6
        address listed, every VXLAN packet over IPv6 is dropped (and the same for IPv4).
      - A VTEP listed here is accepted for every VNI, as if it were listed in O(members) for each of them.
      - With O(state=present), O(vteps) and O(members) must not both be empty (that would drop every VXLAN packet).
    type: list
    elements: str
    default: []
  members:
    description:
      - Per-VNI membership. A VXLAN packet whose source is not in O(vteps) is accepted only when its source is listed
        for the packet's VNI here; a VTEP of VNI 256 sending a packet for VNI 257 is dropped.
      - Exactly these pairs are allowed afterwards. Items with the same O(members[].vni) are merged; the same address
        may be listed for several VNIs.
      - The C(linuxnet.container.bridge_network) role fills this from the inventory, one item per overlay of the host
        with the VTEPs of the hosts that have containers on that overlay.
    type: list
    elements: dict
    default: []
    version_added: 1.1.0
    suboptions:
      vni:
        description: The VXLAN network identifier of an overlay (the O(linuxnet.container.vxlan#module:vni) of its device), 1 to 16777215.
        type: int
        required: true
      vteps:
        description:
          - The underlay addresses of the VTEPs that may send packets of this VNI (IPv4 or IPv6, as in O(vteps)).
        type: list
        elements: str
        required: true
  ports:
    description:
      - The UDP ports the host's VXLAN devices listen on (their C(port)); 4789 is the IANA port Docker uses,
        8472 the Linux kernel's historical default.
      - Exactly these ports are filtered afterwards.
    type: list
    elements: int
    default: [4789]
  namespace:
    description:
      - Network namespace of the underlay, where the VXLAN devices' tunnels end (their C(underlay_namespace)), as
        a name, an absolute path of a namespace file or C(pid:N). Omitted, the namespace the module runs in
        (the host's).
      - The namespace must exist; the module never creates it.
    type: str
  state:
    description: V(present) installs or updates the filter; V(absent) removes the table and so the filter.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The filter trusts the source address of the outer IP header. A machine on the same layer 2 segment as the
    host can forge a listed VTEP's address; where the underlay is shared with untrusted machines, add
    anti-spoofing on the switch or encrypt the underlay as well.
  - A packet too short to hold a VXLAN header has no VNI to match; nftables skips the rule for it and the VXLAN
    device drops it. O(members) trusts the VNI as sent, so a member of VNI 256 that forges VNI 257 is dropped by
    this filter like any other non-member of VNI 257.
  - Other nftables tables hooked at C(input) are evaluated independently; an accept in one of them does not
    skip this table's drop.
seealso:
  - module: linuxnet.container.vxlan
  - module: linuxnet.container.docker_isolation
'''

EXAMPLES = r'''
- name: Accept VXLAN only from the overlay's hosts (their linuxnet_vtep_address)
  linuxnet.container.vtep_filter:
    vteps: "{{ groups['all'] | map('extract', hostvars, 'linuxnet_vtep_address') | list }}"

- name: Two overlays on one host, each accepting only its own VTEPs (node3 cannot send into VNI 256)
  linuxnet.container.vtep_filter:
    members:
      - vni: 256
        vteps: [192.0.2.11, 192.0.2.12]
      - vni: 257
        vteps: [192.0.2.11, 192.0.2.13]

- name: Two overlays on different ports, the underlay in its own namespace
  linuxnet.container.vtep_filter:
    vteps: [192.0.2.11, 192.0.2.12, "2001:db8::12"]
    ports: [4789, 8472]
    namespace: underlay

- name: Remove the filter
  linuxnet.container.vtep_filter:
    state: absent
'''

RETURN = r'''
filter:
  description: The filter after the run (predicted in check mode); empty when it is absent.
  returned: always
  type: dict
  sample:
    vteps: [192.0.2.11, 192.0.2.12]
    members: [{vni: 257, vteps: [192.0.2.13]}]
    ports: [4789]
    rules: {input: [drop-ipv4, drop-ipv6]}
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
'''

# First of the collection's imports: the module_utils below are compiled once per host, not at every call.
from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode  # noqa: F401  pylint: disable=unused-import
from ansible_collections.linuxnet.container.plugins.module_utils._parts import vtep_filter as part
from ansible_collections.linuxnet.container.plugins.module_utils._converge.module import run_impl


def main():
    run_impl(part)


if __name__ == '__main__':
    main()
