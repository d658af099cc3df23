# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""linuxnet.container.bridge: its reconciler, module_spec() and run() (see _converge/module.run_impl)."""

from __future__ import annotations

import copy


from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import (
    Views,
    Writer,
    address_actions,
    apply_link_action,
    link_attr_actions,
    object_key,
    owned,
    parse_addresses,
    parse_ns,
    where,
)
from ansible_collections.linuxnet.container.plugins.module_utils._converge.expect import Expect, argument_spec as expect_spec, parse_expect
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import TAG, normalize_mac, validate_ifname
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT, Plan, Reconciler
from ansible_collections.linuxnet.container.plugins.module_utils._common.action import action

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
        self.facts = {}
        self.created = {}

    def read(self, desired):
        """The bridges, and (in ``self.facts``, for the planner) per bridge: whether its namespace exists (or an
        earlier task creates it), its index, and the index of each port it has or wants (None: no such link)."""
        views = Views(self.netlink, self.expect)
        current = {}
        for key, want in desired.items():
            ref = want['ref']
            fact = self.facts[key] = {'namespace_exists': self.expect.exists(ref), 'index': None, 'ports': {}}
            if not fact['namespace_exists']:
                fact['hint'] = self.expect.hint('namespaces')
            view = views.get(ref) if fact['namespace_exists'] else None
            info = view.link(want['name']) if view is not None and ref.exists() else None
            if info is None:
                current[key] = ABSENT
            else:
                fact['index'] = info['index']
                current[key] = {
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
            if view is not None and want['state'] == 'present':
                for port in list(want['ports'] or []) + (current[key]['ports'] if current[key] is not ABSENT else []):
                    port_info = view.link(port)
                    fact['ports'][port] = port_info['index'] if port_info is not None else None
        return current

    def comparable(self, state):
        drop = self.unset.get(_state_key(state), ())
        return {k: v for k, v in state.items() if k not in drop}

    def plan(self, desired, current):
        actions, predicted = plan_bridges(desired, current, self.facts)
        self.unset = {key: [f for f in ('mtu', 'mac') if want[f] is None] for key, want in desired.items() if want['state'] != 'absent'}
        return Plan.of_actions(actions, lambda act: apply_link_action(act, self.writer, self.created)), predicted


def plan_bridges(desired, current, facts):
    """The pure planner: (actions, predicted) from the desired bridges, their current states as read() returns them,
    and the facts read() gathered (see BridgeReconciler.read)."""
    actions, predicted = [], {}
    for key, want in desired.items():
        have = current.get(key, ABSENT)
        name = want['name']
        label = 'bridge %s in %s' % (name, where(want['ref']))
        fact = facts[key]
        if have is not ABSENT and have['kind'] != 'bridge':
            raise LinuxnetError('%s: %s already exists and is a %s link, not a bridge. Fix: pick another name or remove '
                                'that link' % (want['where'], name, have['kind'] or 'plain'))
        if want['state'] == 'absent':
            predicted[key] = ABSENT
            if have is not ABSENT:
                what = 'delete %s' % label
                if have['ports']:
                    what += ', releasing its ports %s' % ', '.join(have['ports'])
                actions.append(action('link_del', key, what, ref=want['ref'], name=name, index=fact['index']))
            continue
        if not fact['namespace_exists']:
            raise LinuxnetError('%s: network namespace %s does not exist. Fix: create it first (linuxnet.container.netns)%s'
                                % (want['where'], want['ref'].label, fact['hint']))
        predicted[key] = _plan_present(actions, key, want, have, label, fact)
    return actions, predicted


def _wanted_ports(want, fact):
    found = {}
    for port in want['ports'] or []:
        if fact['ports'].get(port) is None:
            raise LinuxnetError('%s: port %s does not exist in %s. Fix: create it first (linuxnet.container.veth) '
                                'or check its name' % (want['where'], port, where(want['ref'])))
        found[port] = fact['ports'][port]
    return found


def _enslave(key, want, label, port, port_index, master_index):
    return action('link_set', key, 'enslave %s to %s' % (port, label), ref=want['ref'], name=port, index=port_index,
                  what='enslave to bridge %s' % want['name'], attrs={'master': master_index},
                  master_created=want['name'] if master_index is None else None)


def _plan_present(actions, key, want, have, label, fact):
    ref, name = want['ref'], want['name']
    ports = _wanted_ports(want, fact)
    up = want['link_state'] == 'up'
    if have is ABSENT:
        after = {'name': name, 'namespace': None if ref.is_host else ref.label, 'state': 'present', 'kind': 'bridge',
                 'owned': True, 'up': up, 'mtu': want['mtu'] or 1500, 'mac': want['mac'],
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
        details = ['%s %s' % (k, want[k]) for k in ('mtu', 'mac', 'stp', 'vlan_filtering') if want[k]]
        actions.append(action('link_create', key, 'create %s%s' % (label, ' with %s' % ', '.join(details) if details else ''),
                              ref=ref, name=name, what='create bridge', attrs=create,
                              then_what='tag' + (' and bring up' if up else ''),
                              then=dict({'ifalias': TAG}, **({'state': 'up'} if up else {}))))
        for address in after['addresses']:
            actions.append(action('addr', key, 'add address %s to %s' % (address, label), ref=ref, name=name, index=None,
                                  command='add', address=address))
        actions.extend(_enslave(key, want, label, port, port_index, None) for port, port_index in sorted(ports.items()))
        return after

    index = fact['index']
    after = copy.deepcopy(have)
    after['kind'] = 'bridge'
    actions.extend(link_attr_actions(key, label, (ref, name, index), after, mtu=want['mtu'], mac=want['mac'], stp=want['stp'],
                                     vlan_filtering=want['vlan_filtering']))
    if up and not have['up']:
        after['up'] = True
        actions.append(action('link_set', key, 'bring up %s' % label, ref=ref, name=name, index=index, what='bring up',
                              attrs={'state': 'up'}))
    actions.extend(address_actions(key, label, (ref, name, index), after, want['addresses'], want['purge_addresses']))
    actions.extend(_enslave(key, want, label, port, port_index, index)
                   for port, port_index in sorted(ports.items()) if port not in have['ports'])
    released = [p for p in have['ports'] if p not in ports] if want['purge_ports'] else []
    for port in released:
        actions.append(action('link_set', key, 'release port %s from %s (not listed)' % (port, label), ref=ref, name=port,
                              index=fact['ports'][port], what='release from bridge %s' % name, attrs={'master': 0}))
    after['ports'] = sorted((set(have['ports']) | set(ports)) - set(released))
    if not up and have['up']:
        # Last: a link going down loses its IPv6 addresses (unless keep_addr_on_down), so address changes go first.
        after['up'] = False
        actions.append(action('link_set', key, 'bring down %s' % label, ref=ref, name=name, index=index, what='bring down',
                              attrs={'state': 'down'}))
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


def creates(params):
    """The bridges (with their addresses) these (validated) arguments create: host_network's check mode expects them
    in later parts, port_map follows their connected routes."""
    items = params['bridges'] if params['bridges'] is not None else [dict(params, state=None)]
    return {'links': [{'name': item['name'], 'namespace': item.get('namespace') or params['namespace'],
                       'addresses': item.get('addresses') or []}
                      for item in items if (item.get('state') or params['state']) == 'present']}


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
