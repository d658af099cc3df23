#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: netns
short_description: Manage named network namespaces, their loopback, sysctls and hosts file
version_added: 0.1.0
description:
  - Creates and removes named network namespaces (what C(ip netns add) and C(ip netns delete) manage,
    bind mounts under C(/run/netns)), many in one call.
  - Brings C(lo) up in every namespace it manages, as a container runtime does.
  - Sets per-namespace sysctls (only C(net.*) keys, which the kernel keeps per namespace).
  - Writes an optional hosts file at C(/etc/netns/<name>/hosts), which C(ip netns exec) shows to
    processes as C(/etc/hosts), and an optional C(/etc/netns/<name>/resolv.conf) (shown as
    C(/etc/resolv.conf)) built as Docker builds a container's.
  - Namespaces the module creates are tagged (the interface alias of their C(lo) is
    C(linuxnet.container)) so O(prune=true) removes leftovers of earlier runs and never anything else.
  - Check mode reads the host and reports what would change without touching it; it never creates
    a namespace.
author:
  - linuxnet.container contributors (@linuxnet)
requirements:
  - pyroute2 >= 0.9 on the managed host
  - root (CAP_NET_ADMIN and CAP_SYS_ADMIN) on the managed host
attributes:
  check_mode:
    support: full
    description: Reads the current state and predicts every change; creates and changes nothing.
  diff_mode:
    support: full
    description: Before and after state of every namespace that changes.
extends_documentation_fragment:
  - linuxnet.container.attributes
options:
  name:
    description:
      - Name of one namespace. Shorthand for a one-element O(namespaces).
      - Mutually exclusive with O(namespaces).
    type: str
  state:
    description:
      - Whether the namespaces should exist. The default for items of O(namespaces) that do not set
        their own.
      - V(absent) removes the namespace even if it still holds links; they go with it and are listed in
        the result.
    type: str
    choices: [present, absent]
    default: present
  sysctls:
    description:
      - Sysctls to set inside the namespace (with O(name)), as a dict of key and value. Keys in dotted
        (C(net.ipv4.ip_forward)) or slash form; only C(net.*) keys are per namespace and allowed.
    type: dict
  hosts:
    description:
      - Entries of the namespace's hosts file (with O(name)). The file starts with Docker's default
        lines (localhost, the IPv6 names) followed by these entries.
      - Omitted, the hosts file is left alone; an empty list writes only the default lines.
    type: list
    elements: dict
    suboptions:
      address:
        description: IPv4 or IPv6 address.
        type: str
        required: true
      names:
        description: Host names for the address.
        type: list
        elements: str
        required: true
  share:
    description:
      - Make O(name) a second name of this existing namespace instead of a namespace of its own (Docker's
        C(--network container:<name>)). C(ip netns exec) then works under both names, and both see the same
        links, addresses and ports. The second name has a hosts file of its own.
      - The named namespace must exist or be listed (without O(share)) in the same call. Not with O(sysctls).
      - A second name that points at another namespace is re-pointed.
    type: str
  hosts_sets:
    description:
      - Hosts file entries shared by many namespaces, by key (a dict of lists of entries with C(address) and
        C(names)). A namespace that names a key in O(namespaces[].hosts_set) gets these entries after its own
        O(namespaces[].hosts).
      - Containers on the same networks see the same names, so one set per combination of networks keeps the
        arguments of a call linear in the number of containers instead of quadratic.
    type: dict
  namespaces:
    description:
      - Many namespaces in one call. Each item takes O(name), O(state), O(sysctls), O(hosts) and O(share) as above,
        and O(namespaces[].resolv_conf).
    type: list
    elements: dict
    suboptions:
      name:
        description: Namespace name, as used by C(ip netns exec NAME).
        type: str
        required: true
      state:
        description: Overrides the top-level O(state) for this namespace.
        type: str
        choices: [present, absent]
      sysctls:
        description: As the top-level O(sysctls).
        type: dict
      hosts:
        description: As the top-level O(hosts).
        type: list
        elements: dict
        suboptions:
          address:
            description: IPv4 or IPv6 address.
            type: str
            required: true
          names:
            description: Host names for the address.
            type: list
            elements: str
            required: true
      ipv6:
        description:
          - Whether IPv6 is on in this namespace (C(net.ipv6.conf.all.disable_ipv6) and
            C(net.ipv6.conf.default.disable_ipv6)). V(false) is what Docker does in a container with no network with IPv6;
            C(lo) has no C(::1) and its interfaces no C(fe80::) address. V(true) turns it back on (the kernel then gives
            C(lo) C(::1) and each interface its link-local address).
          - Omitted, IPv6 is left as it is. A key of O(namespaces[].sysctls) wins over this. On a kernel with IPv6 disabled
            at boot (no C(/proc/sys/net/ipv6)), V(false) holds already and V(true) fails. Not with O(namespaces[].share).
        type: bool
      share:
        description: As the top-level O(share).
        type: str
      hosts_set:
        description:
          - A key of O(hosts_sets) whose entries follow this namespace's own O(namespaces[].hosts) in its hosts file.
        type: str
      resolv_conf:
        description:
          - The namespace's C(/etc/netns/<name>/resolv.conf), as C(docker run --dns --dns-search
            --dns-option) build it. Each field left out (or empty) comes from the host's C(/etc/resolv.conf)
            (C(/run/systemd/resolve/resolv.conf) when the host's only nameserver is systemd-resolved's 127.0.0.53),
            as Docker does. The host's loopback nameservers (127.0.0.0/8, C(::1)), unreachable from another namespace,
            and its IPv6 ones (unless O(namespaces[].resolv_conf.ipv6)) are left out; when none remains, Docker's
            defaults 8.8.8.8 and 8.8.4.4 are used.
          - "The file is tagged (its first line) and removed with the namespace. Omitted: the file is left alone;
            V({}): everything from the host."
        type: dict
        suboptions:
          ipv6:
            description:
              - The container has a network with IPv6 (C(--ipv6)). The host's IPv6 nameservers are then kept (not its
                loopback and link-local ones), and Docker's IPv6 defaults 2001:4860:4860::8888 and ::8844 follow 8.8.8.8
                and 8.8.4.4 when none remains, as Docker does.
            type: bool
            default: false
          nameservers:
            description: Nameserver IP addresses (C(--dns)).
            type: list
            elements: str
          search:
            description: Search domains (C(--dns-search)); V(.) alone means none.
            type: list
            elements: str
          options:
            description: Resolver options (C(--dns-option)), like V(ndots:2).
            type: list
            elements: str
  prune:
    description:
      - Also remove every namespace this collection created that is not listed (those whose C(lo)
        carries the collection's tag). Namespaces made by anything else are never pruned.
      - With O(namespaces=[]) this removes everything the collection made.
    type: bool
    default: false
  kill_holders:
    description:
      - When a namespace this call removes (O(state=absent) or pruned) still has processes inside it (a
        runtime's container started with C(--network ns:/run/netns/NAME), C(ip netns exec)), send exactly
        those processes SIGTERM, then SIGKILL to those still running after O(kill_timeout) seconds.
      - V(false) leaves them running; the module warns with their PIDs (see the notes).
    type: bool
    default: false
  kill_timeout:
    description: Seconds O(kill_holders=true) waits after SIGTERM before it sends SIGKILL.
    type: int
    default: 10
notes:
  - A namespace lives as long as a process runs inside it (its bind mount under C(/run/netns) is only one
    reference). Removing a namespace that processes still use first deletes every link in it but C(lo)
    (a veth takes its peer on the host with it; a physical link goes back to the host namespace), then
    removes its name and hosts file, and warns with the PIDs (found by comparing each process's
    C(/proc/PID/ns/net) with the namespace). Nothing is killed unless O(kill_holders=true).
seealso:
  - name: ip-netns(8)
    description: The iproute2 command this module replaces.
    link: https://man7.org/linux/man-pages/man8/ip-netns.8.html
'''

EXAMPLES = r'''
- name: Two namespaces, as in docs/examples/s1-veth-pair.md
  linuxnet.container.netns:
    namespaces:
      - name: test1
      - name: test2

- name: A router namespace that forwards, with a hosts file
  linuxnet.container.netns:
    name: router
    sysctls:
      net.ipv4.ip_forward: 1
      net.ipv4.conf.all.rp_filter: 0
    hosts:
      - address: 172.17.0.2
        names: [test1]

- name: A namespace whose resolver is set as with docker run --dns 192.0.2.53 --dns-search example.com
  linuxnet.container.netns:
    namespaces:
      - name: web
        resolv_conf:
          nameservers: [192.0.2.53]
          search: [example.com]

- name: A container that joins web's network namespace (docker run --network container:web)
  linuxnet.container.netns:
    namespaces:
      - name: web
      - name: web-sidecar
        share: web

- name: Remove one namespace (its links go with it)
  linuxnet.container.netns:
    name: test2
    state: absent

- name: Remove every namespace this collection made
  linuxnet.container.netns:
    namespaces: []
    prune: true

- name: Remove web, also stopping the processes a runtime still runs in it
  linuxnet.container.netns:
    name: web
    state: absent
    kill_holders: true
    kill_timeout: 5
'''

RETURN = r'''
namespaces:
  description:
    - State of every listed namespace after the run (predicted in check mode).
    - A hosts file longer than 64 lines is shown as its number of lines and its SHA-256, not line by line.
  returned: always
  type: list
  elements: dict
  sample:
    - name: test1
      state: present
      owned: true
      lo_up: true
      sysctls: {net.ipv4.ip_forward: "1"}
      hosts_file: ["# Managed by linuxnet.container", "127.0.0.1\tlocalhost"]
      resolv_conf: ["# Managed by linuxnet.container", "search example.com", "nameserver 192.0.2.53"]
      links: []
      share: web
removed:
  description:
    - Namespaces removed (or that would be), with the links that went with them.
    - C(holders) lists the PIDs that were still inside (only when there were any), C(stopped) those
      O(kill_holders=true) ended.
  returned: always
  type: list
  elements: dict
  sample: [{name: test2, links: [veth-test2]}, {name: web, links: [eth0], holders: [4242], stopped: [4242]}]
actions:
  description: What the run did (or would do in check mode), one line per change.
  returned: always
  type: list
  elements: str
  sample: ["create network namespace test1", "set net.ipv4.ip_forward=1 in network namespace router"]
'''

# First of the collection's imports: the module_utils below are compiled once per host, not at every call.
from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode  # noqa: F401  pylint: disable=unused-import
from ansible_collections.linuxnet.container.plugins.module_utils._parts import netns as part
from ansible_collections.linuxnet.container.plugins.module_utils._converge.module import run_impl


def main():
    run_impl(part)


if __name__ == '__main__':
    main()
