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
- name: Docker's default bridge with its gateway (seed S2)
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

import copy

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.container.plugins.module_utils._links import (
    Views,
    Writer,
    object_key,
    owned,
    parse_addresses,
    parse_ns,
    where,
)
from ansible_collections.linuxnet.container.plugins.module_utils._expect import Expect, argument_spec as expect_spec, parse_expect
from ansible_collections.linuxnet.container.plugins.module_utils._module import run_module
from ansible_collections.linuxnet.container.plugins.module_utils._netlink import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._normalize import TAG, normalize_mac, validate_ifname
from ansible_collections.linuxnet.container.plugins.module_utils._reconcile import ABSENT, Plan, Reconciler

_PER_BRIDGE = ('addresses', 'purge_addresses', 'mtu', 'mac', 'stp', 'vlan_filtering', 'link_state', 'ports', 'purge_ports')


def _state_key(state):
    return state['name'] if not state['namespace'] else '%s/%s' % (state['namespace'], state['name'])


class BridgeReconciler(Reconciler):
    kind = 'bridge'

    def __init__(self, module, netlink, expect=None):
        super().__init__(module, netlink)
        self.writer = Writer(netlink)
        self.expect = expect if expect is not None else Expect.inert()
        self.unset = {}
        self.meta = {}

    def read(self, desired):
        views = Views(self.netlink, self.expect)
        current = {}
        for key, want in desired.items():
            ref = want['ref']
            if not ref.exists():
                current[key] = ABSENT
                continue
            view = views.get(ref)
            info = view.link(want['name'])
            if info is None:
                current[key] = ABSENT
                continue
            state = {
                'name': want['name'],
                'namespace': None if ref.is_host else ref.label,
                'state': 'present',
                'kind': info['kind'],
                'owned': owned(info),
                'up': info['up'],
                'mtu': info['mtu'],
                'mac': info['mac'],
                'stp': info.get('stp', False),
                'vlan_filtering': info.get('vlan_filtering', False),
                'addresses': view.addresses(info['index']),
                'ports': view.ports_of(info['index']),
            }
            self.meta[key] = (info['index'], view)
            current[key] = state
        return current

    def comparable(self, state):
        drop = self.unset.get(_state_key(state), ())
        return {k: v for k, v in state.items() if k not in drop}

    def plan(self, desired, current):
        plan = Plan()
        predicted = {}
        for key, want in desired.items():
            have = current.get(key, ABSENT)
            name = want['name']
            label = 'bridge %s in %s' % (name, where(want['ref']))
            if have is not ABSENT and have['kind'] != 'bridge':
                raise LinuxnetError('%s: %s already exists and is a %s link, not a bridge. Fix: pick another name or remove '
                                    'that link' % (want['where'], name, have['kind'] or 'plain'))
            if want['state'] == 'absent':
                predicted[key] = ABSENT
                if have is not ABSENT:
                    what = 'delete %s' % label
                    if have['ports']:
                        what += ', releasing its ports %s' % ', '.join(have['ports'])
                    plan.add(key, what, lambda r=want['ref'], n=name, i=self.meta[key][0]: self.writer.link_del(r, n, i))
                continue
            if not self.expect.exists(want['ref']):
                raise LinuxnetError('%s: network namespace %s does not exist. Fix: create it first (linuxnet.container.netns)%s'
                                    % (want['where'], want['ref'].label, self.expect.hint('namespaces')))
            self.unset[key] = [f for f in ('mtu', 'mac') if want[f] is None]
            predicted[key] = self._plan_present(plan, key, want, have, label)
        return plan, predicted

    def _check_ports(self, want, view):
        found = {}
        for port in want['ports'] or []:
            info = view.link(port)
            if info is None:
                raise LinuxnetError('%s: port %s does not exist in %s. Fix: create it first (linuxnet.container.veth) '
                                    'or check its name' % (want['where'], port, where(want['ref'])))
            found[port] = info['index']
        return found

    def _plan_present(self, plan, key, want, have, label):
        ref, name = want['ref'], want['name']
        writer = self.writer
        if have is ABSENT:
            view = Views(self.netlink, self.expect).get(ref)
            ports = self._check_ports(want, view)
            after = {'name': name, 'namespace': None if ref.is_host else ref.label, 'state': 'present', 'kind': 'bridge',
                     'owned': True, 'up': want['link_state'] == 'up', 'mtu': want['mtu'] or 1500, 'mac': want['mac'],
                     'stp': bool(want['stp']), 'vlan_filtering': bool(want['vlan_filtering']),
                     'addresses': list(want['addresses'] or []), 'ports': sorted(ports)}
            create = {'kind': 'bridge'}
            if want['mtu']:
                create['mtu'] = want['mtu']
            if want['mac']:
                create['address'] = want['mac']
            if want['stp']:
                create['br_stp_state'] = 1
            if want['vlan_filtering']:
                create['br_vlan_filtering'] = 1
            up = want['link_state'] == 'up'
            cell = {}

            def apply_create():
                writer.link_add(ref, name, 'create bridge', **create)
                cell['index'] = writer.index(ref, name)
                extra = {'state': 'up'} if up else {}
                writer.link_set(ref, name, cell['index'], 'tag' + (' and bring up' if up else ''), ifalias=TAG, **extra)
            details = ['%s %s' % (k, want[k]) for k in ('mtu', 'mac', 'stp', 'vlan_filtering') if want[k]]
            plan.add(key, 'create %s%s' % (label, ' with %s' % ', '.join(details) if details else ''), apply_create)
            for address in after['addresses']:
                plan.add(key, 'add address %s to %s' % (address, label),
                         lambda a=address: writer.addr(ref, name, cell['index'], 'add', a))
            for port, port_index in sorted(ports.items()):
                plan.add(key, 'enslave %s to %s' % (port, label),
                         lambda p=port, i=port_index: writer.link_set(ref, p, i, 'enslave to bridge %s' % name, master=cell['index']))
            return after

        index, view = self.meta[key]
        after = copy.deepcopy(have)
        after['kind'] = 'bridge'
        changes, setting = [], {}
        if want['mtu'] is not None and want['mtu'] != have['mtu']:
            changes.append('mtu %d' % want['mtu'])
            setting['mtu'] = after['mtu'] = want['mtu']
        if want['mac'] is not None and want['mac'] != have['mac']:
            changes.append('mac %s' % want['mac'])
            setting['address'] = after['mac'] = want['mac']
        if want['stp'] is not None and want['stp'] != have['stp']:
            changes.append('stp %s' % ('on' if want['stp'] else 'off'))
            setting['kind'] = 'bridge'
            setting['br_stp_state'] = int(want['stp'])
            after['stp'] = want['stp']
        if want['vlan_filtering'] is not None and want['vlan_filtering'] != have['vlan_filtering']:
            changes.append('vlan_filtering %s' % ('on' if want['vlan_filtering'] else 'off'))
            setting['kind'] = 'bridge'
            setting['br_vlan_filtering'] = int(want['vlan_filtering'])
            after['vlan_filtering'] = want['vlan_filtering']
        if setting:
            plan.add(key, 'set %s of %s' % (', '.join(changes), label),
                     lambda s=setting: writer.link_set(ref, name, index, 'set ' + ', '.join(changes), **s))
        up = want['link_state'] == 'up'
        if up and not have['up']:
            after['up'] = True
            plan.add(key, 'bring up %s' % label, lambda: writer.link_set(ref, name, index, 'bring up', state='up'))
        wanted = want['addresses'] or []
        for address in wanted:
            if address not in have['addresses']:
                plan.add(key, 'add address %s to %s' % (address, label),
                         lambda a=address: writer.addr(ref, name, index, 'add', a))
        extra = [a for a in have['addresses'] if a not in wanted] if want['purge_addresses'] else []
        for address in extra:
            plan.add(key, 'remove address %s from %s (not listed)' % (address, label),
                     lambda a=address: writer.addr(ref, name, index, 'del', a))
        after['addresses'] = sorted((set(have['addresses']) | set(wanted)) - set(extra))
        ports = self._check_ports(want, view)
        for port, port_index in sorted(ports.items()):
            if port not in have['ports']:
                plan.add(key, 'enslave %s to %s' % (port, label),
                         lambda p=port, i=port_index: writer.link_set(ref, p, i, 'enslave to bridge %s' % name, master=index))
        released = [p for p in have['ports'] if p not in ports] if want['purge_ports'] else []
        for port in released:
            plan.add(key, 'release port %s from %s (not listed)' % (port, label),
                     lambda p=port: writer.link_set(ref, p, view.link(p)['index'], 'release from bridge %s' % name, master=0))
        after['ports'] = sorted((set(have['ports']) | set(ports)) - set(released))
        if not up and have['up']:
            # Last: a link going down loses its IPv6 addresses (unless keep_addr_on_down), so address changes go first.
            after['up'] = False
            plan.add(key, 'bring down %s' % label, lambda: writer.link_set(ref, name, index, 'bring down', state='down'))
        return after


def _desired(module):
    params = module.params
    items = params['bridges']
    if items is None:
        items = [dict((k, params[k]) for k in ('name',) + _PER_BRIDGE)]
        items[0]['state'] = None
        items[0]['namespace'] = None
    desired = {}
    for position, item in enumerate(items):
        place = 'bridges[%d]' % position if params['bridges'] is not None else 'name'
        name = item['name']
        problem = validate_ifname(name)
        if problem:
            raise LinuxnetError('%s: bridge %s' % (place, problem))
        ref = parse_ns(item.get('namespace') or params['namespace'], '%s: bridge %s' % (place, name))
        key = object_key(ref, name)
        obj = '%s: bridge %s' % (place, key)
        if key in desired:
            raise LinuxnetError('%s is listed twice. Fix: list each bridge once' % obj)
        want = dict(item)
        want.update(name=name, ref=ref, where=obj, state=item.get('state') or params['state'])
        want['addresses'] = parse_addresses(item.get('addresses'), obj) if item.get('addresses') is not None else None
        if want['mac'] is not None:
            try:
                want['mac'] = normalize_mac(want['mac'])
            except ValueError as err:
                raise LinuxnetError('%s: mac %s' % (obj, err))
        if want['mtu'] is not None and not 68 <= want['mtu'] <= 65535:
            raise LinuxnetError('%s: mtu %d is out of range. Fix: use 68 to 65535' % (obj, want['mtu']))
        for port in want['ports'] or []:
            problem = validate_ifname(port)
            if problem:
                raise LinuxnetError('%s: port %s' % (obj, problem))
            if port == name:
                raise LinuxnetError('%s: a bridge cannot be its own port' % obj)
        if want['ports'] and len(set(want['ports'])) != len(want['ports']):
            raise LinuxnetError('%s: a port is listed twice' % obj)
        desired[key] = want
    return desired


def _options(top):
    options = dict(
        addresses=dict(type='list', elements='str'),
        purge_addresses=dict(type='bool', default=False),
        mtu=dict(type='int'),
        mac=dict(type='str'),
        stp=dict(type='bool'),
        vlan_filtering=dict(type='bool'),
        link_state=dict(type='str', choices=['up', 'down'], default='up'),
        ports=dict(type='list', elements='str'),
        purge_ports=dict(type='bool', default=False),
    )
    if top:
        options.update(name=dict(type='str'), state=dict(type='str', choices=['present', 'absent'], default='present'),
                       namespace=dict(type='str'))
    else:
        options.update(name=dict(type='str', required=True), state=dict(type='str', choices=['present', 'absent']),
                       namespace=dict(type='str'))
    return options


def main():
    spec = _options(True)
    spec['bridges'] = dict(type='list', elements='dict', options=_options(False))
    spec['expect'] = expect_spec()
    module = AnsibleModule(
        argument_spec=spec,
        mutually_exclusive=[('name', 'bridges')] + [('bridges', k) for k in ('addresses', 'mtu', 'mac', 'stp', 'vlan_filtering', 'ports')],
        required_one_of=[('name', 'bridges')],
        supports_check_mode=True,
    )

    def body(netlink):
        expect = parse_expect(module.params['expect'], module.check_mode)
        desired = _desired(module)
        reconciler = BridgeReconciler(module, netlink, expect)
        result = reconciler.run(desired)
        after = result.pop('after')
        result.pop('before')
        result['bridges'] = [after.get(key) or {'name': want['name'], 'state': 'absent', 'namespace': None if want['ref'].is_host else want['ref'].label}
                             for key, want in desired.items()]
        result['netlink_writes'] = reconciler.writer.count
        return result

    run_module(module, body)


if __name__ == '__main__':
    main()
