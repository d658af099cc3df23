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
    namespace, as Docker's overlay driver does (seed S8) without any key-value store.
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
  idempotent:
    support: full
    description: A second run with the same arguments reports no change and makes no netlink write.
  platform:
    support: full
    platforms: posix
    description: Linux only.
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
        O(dev). Seed S8's overlay interfaces have 1450 on a 1500 underlay.
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
extends_documentation_fragment:
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
- name: Docker's overlay on docker-node1 (seed S8) - br0 and vxlan0 in the overlay's namespace, tunnel over eth0
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
  description: State of every listed device after the run (predicted in check mode; an unknown MAC is null).
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

import copy
import errno
import ipaddress
import os
import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.container.plugins.module_utils._links import (
    Views,
    Writer,
    object_key,
    open_ns_fd,
    parse_ns,
    where,
)
from ansible_collections.linuxnet.container.plugins.module_utils._expect import Expect, argument_spec as expect_spec, parse_expect
from ansible_collections.linuxnet.container.plugins.module_utils._module import run_module
from ansible_collections.linuxnet.container.plugins.module_utils._netlink import (
    LinuxnetError,
    NetlinkError,
    is_gone,
    netlink_errors,
)
from ansible_collections.linuxnet.container.plugins.module_utils._normalize import (
    TAG,
    normalize_address,
    normalize_mac,
    validate_ifname,
)
from ansible_collections.linuxnet.container.plugins.module_utils._reconcile import ABSENT, Plan, Reconciler

ZERO_MAC = '00:00:00:00:00:00'
NUD_PERMANENT = 0x80
NUD_NOARP = 0x40
NTF_SELF = 0x02
NSID_NOT_ASSIGNED = (-1, 4294967295)
VXLAN_OVERHEAD = {4: 50, 6: 70}
IDENTITY = ('vni', 'port', 'local', 'dev', 'underlay_namespace', 'proxy')
_PER_DEVICE = ('vni', 'learning', 'proxy', 'ttl', 'mtu', 'master', 'link_state', 'peers', 'fdb', 'neighbors',
               'purge', 'recreate')
# Top-level per-device options without a default: an error next to devices (those with one cannot be detected).
_NO_DEFAULT = ('vni', 'learning', 'proxy', 'ttl', 'mtu', 'master', 'peers', 'fdb', 'neighbors')
_INHERITED = ('state', 'namespace', 'underlay_namespace', 'port', 'local', 'dev')


def _fdb_key(entry):
    return (entry['mac'], entry['dst'], entry['vni'] or 0)


def _neigh_key(entry):
    return (entry['on'], entry['address'], entry['mac'])


def _ns_label(ref):
    return None if ref.is_host else ref.label


class VxlanWriter(Writer):
    """Link writes from _links plus the FDB and neighbour writes of a VXLAN device."""

    def fdb(self, ref, name, command, index, entry):
        kwargs = {'ifindex': index, 'lladdr': entry['mac'], 'dst': entry['dst'],
                  'state': NUD_PERMANENT | NUD_NOARP, 'flags': NTF_SELF}
        if entry.get('vni'):
            kwargs['vni'] = entry['vni']
        what = 'peer %s' % entry['dst'] if entry['mac'] == ZERO_MAC else 'FDB entry %s dst %s' % (entry['mac'], entry['dst'])
        if command == 'del':
            try:
                return self._call(ref, name, 'remove ' + what, 'fdb', 'del', **kwargs)
            except LinuxnetError as err:
                if err.details.get('errno') in (errno.ENOENT, errno.ENODEV):
                    return None  # already gone: the wanted state
                raise
        return self._call(ref, name, 'add ' + what, 'fdb', 'append', **kwargs)

    def neigh(self, ref, name, command, index, entry):
        kwargs = {'ifindex': index, 'dst': entry['address']}
        if command == 'replace':
            kwargs.update(lladdr=entry['mac'], state=NUD_PERMANENT)
        verb = 'add' if command == 'replace' else 'remove'
        return self._call(ref, name, '%s neighbour %s' % (verb, entry['address']), 'neigh', command, **kwargs)


class VxlanReconciler(Reconciler):
    kind = 'vxlan'

    def __init__(self, module, netlink, expect=None):
        super().__init__(module, netlink)
        self.writer = VxlanWriter(netlink)
        self.expect = expect if expect is not None else Expect.inert()
        self.meta = {}
        self._nsids = {}

    # -- reading -------------------------------------------------------------
    def _nsid(self, ref, underlay):
        """The id under which namespace ``ref`` knows ``underlay`` (None when it has not assigned one)."""
        key = (ref.path, underlay.path)
        if key not in self._nsids:
            path = underlay.path or '/proc/self/ns/net'
            fd = os.open(path, os.O_RDONLY)
            try:
                with netlink_errors(where(ref), 'look up the id of %s' % where(underlay)):
                    reply = self.netlink.ipr(ref).get_netnsid(fd=fd)
            finally:
                os.close(fd)
            nsid = reply.get('nsid') if reply else None
            self._nsids[key] = None if nsid in NSID_NOT_ASSIGNED else nsid
        return self._nsids[key]

    def _get_link(self, ref, name):
        try:
            return self.netlink.ipr(ref).link('get', ifname=name)[0]
        except NetlinkError as err:
            if is_gone(err):
                return None
            raise LinuxnetError('%s in %s: cannot read it: %s' % (name, where(ref), err))

    def read(self, desired):
        views = Views(self.netlink, self.expect)
        current = {}
        for key, want in desired.items():
            ref = want['ref']
            if not ref.exists():
                current[key] = ABSENT
                continue
            msg = self._get_link(ref, want['name'])
            if msg is None:
                current[key] = ABSENT
                continue
            current[key] = self._state(views, want, msg)
        return current

    def _state(self, views, want, msg):
        ref, name = want['ref'], want['name']
        view = views.get(ref)
        kind = msg.get(('linkinfo', 'kind'))
        index = msg['index']
        state = {
            'name': name, 'namespace': _ns_label(ref), 'state': 'present', 'kind': kind,
            'owned': msg.get('ifalias') == TAG, 'up': bool(msg['flags'] & 1), 'mtu': msg.get('mtu'),
            'mac': (msg.get('address') or '').lower() or None,
            'master': view.name_of(msg.get('master')) if msg.get('master') else None,
        }
        self.meta[want['key']] = {'index': index, 'master_index': msg.get('master') or None, 'view': view}
        if kind != 'vxlan':
            return state
        data = msg.get(('linkinfo', 'data'))
        attr = data.get if data is not None else (lambda _k: None)
        vni = attr('IFLA_VXLAN_ID')
        local = attr('IFLA_VXLAN_LOCAL') or attr('IFLA_VXLAN_LOCAL6')
        state.update(vni=vni, port=attr('IFLA_VXLAN_PORT'), local=normalize_address(local) if local else None,
                     learning=bool(attr('IFLA_VXLAN_LEARNING')), proxy=bool(attr('IFLA_VXLAN_PROXY')),
                     ttl=attr('IFLA_VXLAN_TTL'))
        # Where the tunnel lives: the device's own namespace, or the one its link-netnsid names.
        underlay = want['underlay']
        link_nsid = msg.get('link_netnsid')
        if link_nsid is None:
            under_ref, known = ref, True
        elif self._nsid(ref, underlay) == link_nsid:
            under_ref, known = underlay, True
        else:
            under_ref, known = None, False
        if known:
            state['underlay_namespace'] = _ns_label(under_ref)
        else:
            state['underlay_namespace'] = 'nsid:%d' % link_nsid
        dev_index = attr('IFLA_VXLAN_LINK')
        if not dev_index:
            state['dev'] = None
        elif known:
            state['dev'] = views.get(under_ref).name_of(dev_index) or 'ifindex:%d' % dev_index
        else:
            state['dev'] = 'ifindex:%d' % dev_index
        state.update(self._entries(ref, index, vni, msg.get('master') or None, want))
        return state

    def _entries(self, ref, index, vni, master_index, want):
        ipr = self.netlink.ipr(ref)
        peers, fdb = [], []
        with netlink_errors('%s in %s' % (want['name'], where(ref)), 'list FDB entries'):
            msgs = list(ipr.fdb('dump', ifindex=index))
        for msg in msgs:
            if msg['ifindex'] != index or not msg['flags'] & NTF_SELF or not msg['state'] & NUD_PERMANENT:
                continue
            dst = msg.get('dst')
            if not dst:
                continue
            entry = {'mac': normalize_mac(msg.get('lladdr')), 'dst': normalize_address(dst), 'vni': msg.get('vni')}
            if entry['vni'] == vni:
                entry['vni'] = None
            if entry['mac'] == ZERO_MAC and entry['vni'] is None:
                peers.append(entry['dst'])
            else:
                fdb.append(entry)
        places = {index: 'device'}
        if master_index:
            places[master_index] = 'master'
        neighbors = []
        with netlink_errors(where(ref), 'list neighbour entries'):
            msgs = list(ipr.neigh('dump'))
        for msg in msgs:
            place = places.get(msg['ifindex'])
            if place is None or msg['family'] not in (socket.AF_INET, socket.AF_INET6) or not msg['state'] & NUD_PERMANENT:
                continue
            if not msg.get('lladdr') or not msg.get('dst'):
                continue
            neighbors.append({'address': normalize_address(msg.get('dst')), 'mac': normalize_mac(msg.get('lladdr')), 'on': place})
        return {'peers': sorted(peers, key=_addr_sort),
                'fdb': sorted(fdb, key=_fdb_key),
                'neighbors': sorted(neighbors, key=_neigh_key)}

    def comparable(self, state):
        return {k: v for k, v in state.items() if k != 'mac'}

    # -- planning ------------------------------------------------------------
    def plan(self, desired, current):
        plan = Plan()
        predicted = {}
        for key, want in desired.items():
            have = current.get(key, ABSENT)
            label = 'vxlan %s in %s' % (want['name'], where(want['ref']))
            if have is not ABSENT and have['kind'] != 'vxlan':
                raise LinuxnetError('%s: %s already exists in %s and is a %s link, not a vxlan device. Fix: pick another '
                                    'name or remove that link' % (want['where'], want['name'], where(want['ref']),
                                                                  have['kind'] or 'plain'))
            if want['state'] == 'absent':
                predicted[key] = ABSENT
                if have is not ABSENT:
                    index = self.meta[key]['index']
                    plan.add(key, 'delete %s' % label,
                             lambda r=want['ref'], n=want['name'], i=index: self.writer.link_del(r, n, i))
                continue
            predicted[key] = self._plan_present(plan, key, want, have, label)
        return plan, predicted

    def _underlay(self, want):
        """Check the namespaces, the underlay device and the master; return (dev index, default MTU, master info)."""
        ref, under = want['ref'], want['underlay']
        for nsref, what in ((ref, 'namespace'), (under, 'underlay_namespace')):
            if not self.expect.exists(nsref):
                raise LinuxnetError('%s: %s %s does not exist. Fix: create it first (linuxnet.container.netns)%s'
                                    % (want['where'], what, nsref.label, self.expect.hint('namespaces')))
        views = Views(self.netlink, self.expect)
        dev_index = None
        family = ipaddress.ip_address(want['local']).version if want['local'] else 4
        if want['peers'] and not want['local']:
            family = ipaddress.ip_address(want['peers'][0]).version
        mtu = 1500 - VXLAN_OVERHEAD[family]
        if want['dev']:
            info = views.get(under).link(want['dev'])
            if info is None:
                raise LinuxnetError('%s: underlay device %s does not exist in %s. Fix: check dev and underlay_namespace'
                                    % (want['where'], want['dev'], where(under)))
            dev_index = info['index']
            mtu = info['mtu'] - VXLAN_OVERHEAD[family]
        master = None
        if want['master']:
            master = views.get(ref).link(want['master'])
            if master is None:
                raise LinuxnetError('%s: master bridge %s does not exist in %s. Fix: create it first '
                                    '(linuxnet.container.bridge) or check the name%s'
                                    % (want['where'], want['master'], where(ref), self.expect.hint('links')))
            if master['kind'] != 'bridge':
                raise LinuxnetError('%s: master %s in %s is a %s link, not a bridge'
                                    % (want['where'], want['master'], where(ref), master['kind'] or 'plain'))
        if any(n['on'] == 'master' for n in want['neighbors'] or []) and not want['master']:
            raise LinuxnetError('%s: neighbours with on=master need master (the bridge to put them on)' % want['where'])
        return dev_index, want['mtu'] or mtu, master

    def _plan_present(self, plan, key, want, have, label):
        dev_index, mtu, master = self._underlay(want)
        if have is not ABSENT:
            wrong = self._identity_diff(want, have)
            if wrong and not want['recreate']:
                raise LinuxnetError(
                    '%s: the device exists with %s; the kernel cannot change these in place. Fix: set recreate: true to '
                    'delete and create the device again (traffic stops briefly), or keep the current values'
                    % (want['where'], '; '.join('%s %r (wanted %r)' % (f, have[f], want[f]) for f in wrong)))
            if wrong:
                index = self.meta[key]['index']
                plan.add(key, 'delete %s to recreate it (%s changed)' % (label, ', '.join(wrong)),
                         lambda r=want['ref'], n=want['name'], i=index: self.writer.link_del(r, n, i))
                have = ABSENT
        if have is ABSENT:
            return self._plan_create(plan, key, want, label, dev_index, mtu, master)
        return self._plan_change(plan, key, want, have, label, mtu, master)

    @staticmethod
    def _identity_diff(want, have):
        wrong = []
        for field in IDENTITY:
            if field == 'underlay_namespace':
                value = _ns_label(want['underlay'])
            else:
                value = want[field]
            if value is None and field in ('local', 'dev', 'proxy'):
                continue
            if value != have.get(field):
                wrong.append(field)
        return wrong

    def _plan_create(self, plan, key, want, label, dev_index, mtu, master):
        ref, under, name = want['ref'], want['underlay'], want['name']
        writer = self.writer
        create = {'kind': 'vxlan', 'vxlan_id': want['vni'], 'vxlan_port': want['port'], 'mtu': mtu}
        if want['local']:
            create['vxlan_local6' if ':' in want['local'] else 'vxlan_local'] = want['local']
        if dev_index:
            create['vxlan_link'] = dev_index
        if want['learning'] is not None:
            create['vxlan_learning'] = int(want['learning'])
        if want['proxy'] is not None:
            create['vxlan_proxy'] = int(want['proxy'])
        if want['ttl'] is not None:
            create['vxlan_ttl'] = want['ttl']
        up = want['link_state'] == 'up'
        cell = {}

        def apply_create():
            if under.path == ref.path:
                writer.link_add(ref, name, 'create vxlan device', **create)
            else:
                fd = open_ns_fd(ref)
                try:
                    writer.link_add(under, name, 'create vxlan device in %s' % where(ref), net_ns_fd=fd, **create)
                finally:
                    os.close(fd)
            cell['index'] = writer.index(ref, name)
            extra = {'state': 'up'} if up else {}
            if master:
                extra['master'] = master['index']
            writer.link_set(ref, name, cell['index'], 'tag' + (', enslave' if master else '') + (' and bring up' if up else ''),
                            ifalias=TAG, **extra)

        details = ['vni %d' % want['vni'], 'port %d' % want['port']]
        details += ['%s %s' % (f, want[f]) for f in ('local', 'dev') if want[f]]
        if want['dev'] or under.path != ref.path:
            details[-1] += ' in %s' % where(under)
        details += ['%s %s' % (f, 'on' if want[f] else 'off') for f in ('learning', 'proxy') if want[f] is not None]
        details.append('mtu %d' % mtu)
        if master:
            details.append('master %s' % want['master'])
        plan.add(key, 'create %s with %s' % (label, ', '.join(details)), apply_create)
        after = {
            'name': name, 'namespace': _ns_label(ref), 'state': 'present', 'kind': 'vxlan', 'owned': True, 'up': up,
            'mtu': mtu, 'mac': None, 'master': want['master'] or None, 'vni': want['vni'], 'port': want['port'],
            'local': want['local'], 'learning': True if want['learning'] is None else want['learning'],
            'proxy': bool(want['proxy']), 'ttl': want['ttl'] or 0,
            'underlay_namespace': _ns_label(under) if under.path != ref.path else _ns_label(ref),
            'dev': want['dev'], 'peers': [], 'fdb': [], 'neighbors': [],
        }
        index_of = {'device': lambda: cell['index'], 'master': lambda: master['index'] if master else None}
        self._plan_entries(plan, key, want, after, label, index_of)
        return after

    def _plan_change(self, plan, key, want, have, label, mtu, master):
        ref, name = want['ref'], want['name']
        writer = self.writer
        meta = self.meta[key]
        index = meta['index']
        after = copy.deepcopy(have)
        if mtu != have['mtu']:
            after['mtu'] = mtu
            plan.add(key, 'set mtu %d of %s' % (mtu, label),
                     lambda: writer.link_set(ref, name, index, 'set mtu %d' % mtu, mtu=mtu))
        # VXLAN attributes go in a request of their own: the kernel rejects them together with IFLA_MTU (EOPNOTSUPP).
        changes, data = [], {}
        if want['learning'] is not None and want['learning'] != have['learning']:
            changes.append('learning %s' % ('on' if want['learning'] else 'off'))
            data['vxlan_learning'] = int(want['learning'])
            after['learning'] = want['learning']
        if want['ttl'] is not None and want['ttl'] != have['ttl']:
            changes.append('ttl %d' % want['ttl'])
            data['vxlan_ttl'] = want['ttl']
            after['ttl'] = want['ttl']
        if data:
            plan.add(key, 'set %s of %s' % (', '.join(changes), label),
                     lambda: writer.link_set(ref, name, index, 'set ' + ', '.join(changes), kind='vxlan', **data))
        if want['master'] is not None and (want['master'] or None) != have['master']:
            if want['master']:
                plan.add(key, 'enslave %s to bridge %s' % (label, want['master']),
                         lambda: writer.link_set(ref, name, index, 'enslave to bridge %s' % want['master'], master=master['index']))
            else:
                plan.add(key, 'release %s from bridge %s' % (label, have['master']),
                         lambda: writer.link_set(ref, name, index, 'release from bridge %s' % have['master'], master=0))
            after['master'] = want['master'] or None
            if have['master'] and any(n['on'] == 'master' for n in have['neighbors']):
                # Entries on the old bridge are no longer this device's to report.
                after['neighbors'] = [n for n in have['neighbors'] if n['on'] != 'master']
        up = want['link_state'] == 'up'
        if up != have['up']:
            after['up'] = up
            plan.add(key, 'bring %s %s' % ('up' if up else 'down', label),
                     lambda s='up' if up else 'down': writer.link_set(ref, name, index, 'bring ' + s, state=s))
        master_index = master['index'] if master else meta['master_index']
        index_of = {'device': lambda: index, 'master': lambda: master_index}
        self._plan_entries(plan, key, want, after, label, index_of)
        return after

    def _plan_entries(self, plan, key, want, after, label, index_of):
        """Plan peers, FDB and neighbour entries from ``after`` (the device's current entries) to the wanted ones."""
        ref, name = want['ref'], want['name']
        writer, purge = self.writer, want['purge']
        # Peers: all-zero entries.
        have_peers = list(after['peers'])
        wanted_peers = want['peers'] or []
        for peer in wanted_peers:
            if peer not in have_peers:
                entry = {'mac': ZERO_MAC, 'dst': peer, 'vni': None}
                plan.add(key, 'add peer %s to %s' % (peer, label),
                         lambda e=entry: writer.fdb(ref, name, 'append', index_of['device'](), e))
        stale = [p for p in have_peers if p not in wanted_peers] if purge and want['peers'] is not None else []
        for peer in stale:
            entry = {'mac': ZERO_MAC, 'dst': peer, 'vni': None}
            plan.add(key, 'remove peer %s from %s (not listed)' % (peer, label),
                     lambda e=entry: writer.fdb(ref, name, 'del', index_of['device'](), e))
        after['peers'] = sorted((set(have_peers) | set(wanted_peers)) - set(stale), key=_addr_sort)
        # Per-MAC entries: a listed MAC goes only to its listed destination.
        wanted = {_fdb_key(e): e for e in want['fdb'] or []}
        wanted_macs = {e['mac'] for e in wanted.values()}
        keep = []
        for entry in after['fdb']:
            if _fdb_key(entry) in wanted:
                keep.append(entry)
            elif entry['mac'] in wanted_macs or (purge and want['fdb'] is not None):
                why = 'replaced' if entry['mac'] in wanted_macs else 'not listed'
                plan.add(key, 'remove FDB entry %s dst %s from %s (%s)' % (entry['mac'], entry['dst'], label, why),
                         lambda e=entry: writer.fdb(ref, name, 'del', index_of['device'](), e))
            else:
                keep.append(entry)
        have_keys = {_fdb_key(e) for e in after['fdb']}
        for fkey, entry in sorted(wanted.items()):
            if fkey not in have_keys:
                vni = ' vni %d' % entry['vni'] if entry['vni'] else ''
                plan.add(key, 'add FDB entry %s dst %s%s to %s' % (entry['mac'], entry['dst'], vni, label),
                         lambda e=entry: writer.fdb(ref, name, 'append', index_of['device'](), e))
                keep.append(entry)
        after['fdb'] = sorted(keep, key=_fdb_key)
        # Neighbours: one MAC per (place, address).
        wanted_n = {(n['on'], n['address']): n for n in want['neighbors'] or []}
        keep = []
        for entry in after['neighbors']:
            spot = (entry['on'], entry['address'])
            if spot in wanted_n:
                if wanted_n[spot]['mac'] == entry['mac']:
                    keep.append(entry)
                continue  # replaced below
            if purge and want['neighbors'] is not None:
                plan.add(key, 'remove neighbour %s (%s) from %s of %s (not listed)'
                         % (entry['address'], entry['mac'], _place(entry['on']), label),
                         lambda e=entry: writer.neigh(ref, name, 'del', index_of[e['on']](), e))
            else:
                keep.append(entry)
        have_n = {_neigh_key(e) for e in after['neighbors']}
        for spot, entry in sorted(wanted_n.items()):
            if _neigh_key(entry) not in have_n:
                plan.add(key, 'set neighbour %s to %s on %s of %s' % (entry['address'], entry['mac'], _place(entry['on']), label),
                         lambda e=entry: writer.neigh(ref, name, 'replace', index_of[e['on']](), e))
                keep.append(entry)
        after['neighbors'] = sorted(keep, key=_neigh_key)


def _place(on):
    return 'the device' if on == 'device' else 'the master bridge'


def _addr_sort(address):
    addr = ipaddress.ip_address(address)
    return (addr.version, int(addr))


def _address(value, obj, what):
    try:
        return normalize_address(value)
    except ValueError as err:
        raise LinuxnetError('%s: %s %s' % (obj, what, err))


def _mac(value, obj, what):
    try:
        return normalize_mac(value)
    except ValueError as err:
        raise LinuxnetError('%s: %s %s' % (obj, what, err))


def _check_range(value, low, high, obj, what):
    if value is not None and not low <= value <= high:
        raise LinuxnetError('%s: %s %d is out of range. Fix: use %d to %d' % (obj, what, value, low, high))


def _validate(want, obj):
    """Normalise one device's options; raise LinuxnetError naming the item and the fix."""
    if want['state'] == 'present' and want['vni'] is None:
        raise LinuxnetError('%s: vni is required for a device that should be present. Fix: set vni (1 to 16777215)' % obj)
    _check_range(want['vni'], 1, 16777215, obj, 'vni')
    _check_range(want['port'], 1, 65535, obj, 'port')
    _check_range(want['ttl'], 0, 255, obj, 'ttl')
    _check_range(want['mtu'], 68, 65535, obj, 'mtu')
    for field in ('dev', 'master'):
        if want[field]:
            problem = validate_ifname(want[field])
            if problem:
                raise LinuxnetError('%s: %s: %s' % (obj, field, problem))
    if want['master'] == want['name']:
        raise LinuxnetError('%s: a device cannot be its own master' % obj)
    if want['local']:
        want['local'] = _address(want['local'], obj, 'local')
    family = ipaddress.ip_address(want['local']).version if want['local'] else None
    peers = []
    for peer in want['peers'] or []:
        norm = _address(peer, obj, 'peer')
        if norm in peers:
            raise LinuxnetError('%s: peer %s is listed twice' % (obj, norm))
        version = ipaddress.ip_address(norm).version
        if family and version != family:
            raise LinuxnetError('%s: peer %s is IPv%d but local %s is IPv%d (wrong address family). Fix: use peers of the '
                                'same family as local' % (obj, norm, version, want['local'], family))
        family = family or version
        if norm == want['local']:
            raise LinuxnetError('%s: peer %s is the local address itself. Fix: list only the other hosts' % (obj, norm))
        peers.append(norm)
    want['peers'] = sorted(peers, key=_addr_sort) if want['peers'] is not None else None
    fdb, macs = [], set()
    for position, item in enumerate(want['fdb'] or []):
        where_ = 'fdb[%d]' % position
        entry = {'mac': _mac(item['mac'], obj, where_ + ': mac'), 'dst': _address(item['dst'], obj, where_ + ': dst'),
                 'vni': item.get('vni')}
        _check_range(entry['vni'], 1, 16777215, obj, where_ + ': vni')
        if entry['vni'] == want['vni']:
            entry['vni'] = None  # the kernel omits a VNI equal to the device's: compare as it reports
        if entry['mac'] == ZERO_MAC and entry['vni'] is None:
            raise LinuxnetError('%s: %s: the all-zero MAC is a peer. Fix: list %s in peers instead' % (obj, where_, entry['dst']))
        if entry['mac'] in macs:
            raise LinuxnetError('%s: %s: MAC %s is listed twice. Fix: give each MAC one dst' % (obj, where_, entry['mac']))
        macs.add(entry['mac'])
        fdb.append(entry)
    want['fdb'] = fdb if want['fdb'] is not None else None
    neighbors, spots = [], set()
    for position, item in enumerate(want['neighbors'] or []):
        where_ = 'neighbors[%d]' % position
        entry = {'address': _address(item['address'], obj, where_ + ': address'),
                 'mac': _mac(item['mac'], obj, where_ + ': mac'), 'on': item.get('on') or 'device'}
        if (entry['on'], entry['address']) in spots:
            raise LinuxnetError('%s: %s: address %s is listed twice on the %s' % (obj, where_, entry['address'], entry['on']))
        spots.add((entry['on'], entry['address']))
        neighbors.append(entry)
    want['neighbors'] = neighbors if want['neighbors'] is not None else None


def _desired(module):
    params = module.params
    items = params['devices']
    if items is None:
        items = [dict((k, params[k]) for k in ('name',) + _PER_DEVICE)]
    desired = {}
    for position, item in enumerate(items):
        place = 'devices[%d]' % position if params['devices'] is not None else 'name'
        name = item['name']
        problem = validate_ifname(name)
        if problem:
            raise LinuxnetError('%s: vxlan %s' % (place, problem))
        want = dict(item)
        for field in _INHERITED:
            if want.get(field) is None:
                want[field] = params[field]
        ref = parse_ns(want['namespace'], '%s: vxlan %s' % (place, name))
        underlay = parse_ns(want['underlay_namespace'], '%s: vxlan %s: underlay_namespace' % (place, name))
        key = object_key(ref, name)
        obj = '%s: vxlan %s' % (place, key)
        if key in desired:
            raise LinuxnetError('%s is listed twice. Fix: list each device once' % obj)
        want.update(name=name, key=key, ref=ref, underlay=underlay, where=obj)
        _validate(want, obj)
        desired[key] = want
    return desired


def _options(top):
    fdb = dict(mac=dict(type='str', required=True), dst=dict(type='str', required=True), vni=dict(type='int'))
    neighbors = {'address': dict(type='str', required=True), 'mac': dict(type='str', required=True),
                 'on': dict(type='str', choices=['device', 'master'], default='device')}
    options = dict(
        vni=dict(type='int'),
        local=dict(type='str'),
        dev=dict(type='str'),
        underlay_namespace=dict(type='str'),
        namespace=dict(type='str'),
        learning=dict(type='bool'),
        proxy=dict(type='bool'),
        ttl=dict(type='int'),
        mtu=dict(type='int'),
        master=dict(type='str'),
        link_state=dict(type='str', choices=['up', 'down'], default='up'),
        peers=dict(type='list', elements='str'),
        fdb=dict(type='list', elements='dict', options=fdb),
        neighbors=dict(type='list', elements='dict', options=neighbors),
        purge=dict(type='bool', default=False),
        recreate=dict(type='bool', default=False),
    )
    if top:
        options.update(name=dict(type='str'), state=dict(type='str', choices=['present', 'absent'], default='present'),
                       port=dict(type='int', default=4789))
    else:
        options.update(name=dict(type='str', required=True), state=dict(type='str', choices=['present', 'absent']),
                       port=dict(type='int'))
    return options


def main():
    spec = _options(True)
    spec['devices'] = dict(type='list', elements='dict', options=_options(False))
    spec['expect'] = expect_spec()
    module = AnsibleModule(
        argument_spec=spec,
        mutually_exclusive=[('name', 'devices')] + [('devices', k) for k in _NO_DEFAULT],
        required_one_of=[('name', 'devices')],
        supports_check_mode=True,
    )

    def body(netlink):
        expect = parse_expect(module.params['expect'], module.check_mode)
        desired = _desired(module)
        reconciler = VxlanReconciler(module, netlink, expect)
        result = reconciler.run(desired)
        after = result.pop('after')
        result.pop('before')
        result['devices'] = [after.get(key) or {'name': want['name'], 'state': 'absent', 'namespace': _ns_label(want['ref'])}
                             for key, want in desired.items()]
        result['netlink_writes'] = reconciler.writer.count
        return result

    run_module(module, body)


if __name__ == '__main__':
    main()
