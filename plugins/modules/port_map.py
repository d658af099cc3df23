#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: port_map
short_description: Published ports like docker run -p, as nftables DNAT maps
version_added: 0.1.0
description:
  - Publishes container ports on the host (docs/examples/s7-published-ports.md), in the nftables table C(ip linuxnet_ports) that belongs to
    this collection alone; no other table, chain or iptables rule is touched. There is no userland proxy, except for
    publications on C([::1]) (below).
  - Traffic arriving from other hosts, and traffic from the host itself (its addresses and C(127.0.0.1)), is
    DNATed to the container. A container reaching its own published port through the host's address works
    (hairpin).
  - A port published on a C(127.0.0.0/8) address is reachable from the host only, never from another host,
    even one that routes packets for C(127.0.0.1) to this host (moby#45610).
  - The maps are keyed on protocol and port (and host address), so the rule count is constant, 10,000 ports
    are one transaction and publishing one more adds two map elements without rewriting the others.
  - An optional source allow-list per publication (O(ports[].allow)) restricts who is DNATed to the container. A
    source not in the list is not DNATed and goes on to the host's own input chain, as if the port were not
    published there (Docker's published ports bypass ufw and firewalld, moby#22054). The host itself (packets it
    sends, to any of its addresses or to C(127.0.0.1)) is always let in. Containers are sources like any other; a
    container reaching a restricted port through the host's address (also its own, hairpin) needs its address or
    its network's subnet in the list.
  - The allow-lists are two more sets and two more rules, whatever the number of ports and sources. The set
    C(restricted_any) (C(restricted_addr) with a host address) names the restricted ports, and the interval set
    C(allow_any) (C(allow_addr)) holds one element per source network and port.
  - C(net.ipv4.conf.<bridge>.route_localnet=1) is set only on the bridges that lead to containers
    published on all addresses or on C(127.0.0.1) (what localhost DNAT needs), never host-wide and never on
    an uplink.
  - Every change is one atomic nftables transaction; nothing is written when the maps are already as planned.
  - Over IPv6 (O(ports[].container_ip6)), as Docker 27 does, a publication on every address is published on C(0.0.0.0) and
    C([::]); C([::]:8080:80) or C([2001:db8::5]:8080:80) over IPv6 only. These live in the table C(ip6 linuxnet_ports) of the
    same layout (hairpin and allow-lists included), made only while there are IPv6 publications and changed in the same
    transaction.
  - C([::1]:8081:80) (TCP only) is not NATed, since the kernel cannot NAT the IPv6 loopback address (IPv6 has no
    C(route_localnet)), and Docker serves it with its userland proxy. Here systemd's own proxy serves it, as a
    socket-activated unit pair in C(/etc/systemd/system) per host port, C(linuxnet-proxy-tcp-8081.socket)
    (C(ListenStream=[::1]:8081), IPv6 only, enabled in C(sockets.target), so it listens again after a reboot) and
    C(linuxnet-proxy-tcp-8081.service) (C(systemd-socket-proxyd) to the container's IPv6 address, or its IPv4 address
    without O(ports[].container_ip6), as Docker's proxy does). Only the host itself reaches it; O(ports[].allow) does not
    apply. The units begin with a C(# linuxnet.container port_map) comment, and only those are rewritten and pruned (with
    O(exclusive=true), or all of them with O(state=absent) and no O(ports)). One C(systemctl daemon-reload) per run, and
    only when a unit file changed. The host must run systemd and have C(systemd-socket-proxyd) (Debian's C(systemd)
    package); in the host namespace only. C(udp) and C(sctp) on C([::1]) are refused.
author:
  - linuxnet.container contributors (@linuxnet)
requirements:
  - nftables (the C(nft) command) on the managed host
  - pyroute2 >= 0.9 on the managed host
attributes:
  check_mode:
    support: full
    description: Reads the table and reports the transaction it would apply; applies nothing.
  diff_mode:
    support: full
    description: Before and after of the published ports, the rules, the sysctls and the C([::1]) proxy units.
options:
  ports:
    description:
      - Containers and what they publish.
    type: list
    elements: dict
    default: []
    suboptions:
      container_ip:
        description: The container's IPv4 address the ports lead to.
        type: str
        required: true
      container_ip6:
        description:
          - The container's IPv6 address, for a container on a network with IPv6. Publications on every address then
            lead there over IPv6 too, and those on an IPv6 host address (C([2001:db8::5]:8080:80)) need it.
        type: str
      publish:
        description:
          - Publications in C(docker run -p) syntax, C([host_ip:]host_port:container_port[/protocol]), with ports
            or equal-length ranges (C(9000-9010:9000-9010)); protocol C(tcp) (default), C(udp) or C(sctp).
          - Docker's random host port (C(-p 80)) cannot converge and is refused.
        type: list
        elements: str
        required: true
      allow:
        description:
          - Sources allowed to reach these publications, as IPv4 or IPv6 addresses or networks (C(192.0.2.12),
            C(198.51.100.0/24), C(2001:db8::/32)); a network with host bits set is refused. Other sources are not DNATed;
            the host itself always is.
          - Per family; a publication over IPv6 takes the IPv6 sources. A list with no source of a family lets no client of
            that family in (the host itself only).
          - Empty (the default), or a list holding C(0.0.0.0/0) (and no IPv6 source but C(::/0)), lets everyone in.
          - Networks inside another one are dropped and adjacent ones merged, as RV(allow) shows.
          - Publications on a C(127.0.0.0/8) address are reachable from the host only anyway.
        type: list
        elements: str
        default: []
      name:
        description: A label (the container's name) used in messages and conflicts.
        type: str
  exclusive:
    description:
      - Remove published ports that are not listed. Without it, other published ports stay, and one that
        the list would take over fails as a conflict.
      - Without it, the module reads only the listed ports (and what could conflict with them) from the
        kernel, so publishing a few more costs the same whatever is published already; RV(published)
        then lists those ports. With it, the whole table is read and compared.
    type: bool
    default: false
  forwarding:
    description: Set C(net.ipv4.ip_forward=1), which traffic from other hosts to containers needs.
    type: bool
    default: true
  namespace:
    description: Network namespace to work in (name, path or C(pid:N)); default the one the module runs in.
    type: str
  state:
    description:
      - V(present) publishes the listed ports. V(absent) unpublishes them, or with no O(ports) removes the tables and every
        C([::1]) proxy unit of the collection.
    type: str
    choices: [present, absent]
    default: present
notes:
  - >-
    Both families: IPv4 publications DNAT in table C(ip linuxnet_ports), IPv6 ones in C(ip6 linuxnet_ports) (to the
    container's IPv6 address); C([::1]) publications are relayed by C(systemd-socket-proxyd), as the IPv6 loopback
    address cannot be NATed.
  - >-
    Before anything changes, a new publication that a listening host socket would shadow (a process on
    0.0.0.0:8080, 127.0.0.1:8080 or a dual-stack [::]:8080 for C(8080:80)) fails, naming the process, as
    Docker refuses it (C(bind: address already in use)); a publication that exists already only warns.
extends_documentation_fragment:
  - linuxnet.container.attributes
  - linuxnet.container.expect
seealso:
  - module: linuxnet.container.docker_isolation
'''

EXAMPLES = r'''
- name: Publish nginx like docker run -p 8080:80, and DNS on localhost only
  linuxnet.container.port_map:
    ports:
      - name: web
        container_ip: 172.17.0.2
        publish: ["8080:80", "127.0.0.1:5353:53/udp", "9000-9010:9000-9010"]

- name: Publish 8443 to one address and one network only (others reach the host's own input chain instead)
  linuxnet.container.port_map:
    ports:
      - name: admin
        container_ip: 172.17.0.3
        publish: ["8443:443"]
        allow: [192.0.2.12, 198.51.100.0/24]

- name: Exactly these ports, nothing else
  linuxnet.container.port_map:
    exclusive: true
    ports:
      - {name: web, container_ip: 172.17.0.2, publish: ["80:80"]}

- name: Unpublish everything
  linuxnet.container.port_map:
    state: absent
'''

RETURN = r'''
published:
  description:
    - The published ports after the run, the way C(docker port) lists them, per container address.
    - With O(exclusive=true) or O(state=absent), all of them; otherwise the listed ones.
  returned: always
  type: dict
  sample: {"172.17.0.2": ["53/udp -> 127.0.0.1:5353", "80/tcp -> 0.0.0.0:8080", "80/tcp -> [::1]:8081"]}
allow:
  description:
    - The source allow-lists of the published ports in RV(published) that have one, per container address and
      C(docker port) line.
  returned: always
  type: dict
  sample: {"172.17.0.3": {"443/tcp -> 0.0.0.0:8443": ["192.0.2.12", "198.51.100.0/24"]}}
proxy_units:
  description: The C([::1]) proxy unit pairs after the run (predicted in check mode), by name without suffix.
  returned: when O(namespace) is the host's
  type: list
  elements: str
  sample: [linuxnet-proxy-tcp-8081]
count:
  description: How many host ports are published.
  returned: always
  type: int
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
from ansible_collections.linuxnet.container.plugins.module_utils._parts import port_map as part
from ansible_collections.linuxnet.container.plugins.module_utils._converge.module import run_impl


def main():
    run_impl(part)


if __name__ == '__main__':
    main()
