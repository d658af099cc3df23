# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""linuxnet.container.bridge: its reconciler, module_spec() and run() (see _module.run_impl)."""

from __future__ import annotations

import copy


from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import (
    Views,
    Writer,
    object_key,
    owned,
    parse_addresses,
    parse_ns,
    plan_addresses,
    where,
)
from ansible_collections.linuxnet.container.plugins.module_utils._converge.expect import Expect, argument_spec as expect_spec, parse_expect
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import TAG, normalize_mac, validate_ifname
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT, Plan, Reconciler

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
        plan_addresses(plan, key, label, writer, (ref, name, index), after, want['addresses'], want['purge_addresses'])
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


def module_spec():
    spec = _options(True)
    spec['bridges'] = dict(type='list', elements='dict', options=_options(False))
    spec['expect'] = expect_spec()
    return dict(
        argument_spec=spec,
        mutually_exclusive=[('name', 'bridges')] + [('bridges', k) for k in ('addresses', 'mtu', 'mac', 'stp', 'vlan_filtering', 'ports')],
        required_one_of=[('name', 'bridges')],
    )


def run(module, netlink):
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
