# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""linuxnet.container.veth: its reconciler, module_spec() and run() (see _converge/module.run_impl)."""

from __future__ import annotations

import copy
import os


from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import (
    Views,
    Writer,
    address_actions,
    apply_link_action,
    format_route,
    link_attr_actions,
    namespace_id,
    object_key,
    open_ns_fd,
    owned,
    parse_addresses,
    parse_ns,
    parse_routes,
    raise_fd_limit,
    where,
)
from ansible_collections.linuxnet.container.plugins.module_utils._converge.expect import Expect, argument_spec as expect_spec, parse_expect
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import list_named_netns, NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import TAG, docker_mac, normalize_mac, validate_ifname
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT, Plan, Reconciler
from ansible_collections.linuxnet.container.plugins.module_utils._common.action import action

_END_FIELDS = ('mac', 'mac_from_ip', 'addresses', 'routes', 'master', 'hairpin')


def _end_label(end):
    return '%s (%s)' % (end['name'], 'host' if end['ref'].is_host else end['ref'].label)


def _same_ns(a, b):
    return a.path == b.path


class VethReconciler(Reconciler):
    kind = 'veth pair'

    def __init__(self, module, netlink, expect=None):
        super().__init__(module, netlink)
        self.writer = Writer(netlink)
        self.expect = expect if expect is not None else Expect.inert()
        self.unset = {}
        self.facts = {}
        self.created = {}
        self._named_ids = {}  # {namespace path: the ids it gives the named namespaces}, read when an end is suspect

    # -- reading -----------------------------------------------------------
    def _end_state(self, view, info):
        return {
            'name': info['name'],
            'namespace': None if view.ref.is_host else view.ref.label,
            'owned': owned(info),
            'kind': info['kind'],
            'up': info['up'],
            'mtu': info['mtu'],
            'mac': info['mac'],
            'master': view.name_of(info['master_index']),
            'hairpin': info['hairpin'],
            'addresses': view.addresses(info['index']),
            'routes': view.routes(info['index']),
        }

    def _paired(self, view_a, info_a, view_b, info_b):
        """True when the two links are the two ends of one veth pair."""
        if info_a['kind'] != 'veth' or info_b['kind'] != 'veth':
            return False
        if info_a['link'] != info_b['index'] or info_b['link'] != info_a['index']:
            return False
        if _same_ns(view_a.ref, view_b.ref):
            return info_a['link_netnsid'] is None and info_a['index'] != info_b['index']
        if info_a['link_netnsid'] is None:
            return False
        return namespace_id(self.netlink, view_a.ref, view_b.ref) == info_a['link_netnsid']

    def _stale(self, view, info, peer_ref):
        """True for an end this collection made whose peer lives in a namespace nothing names any more: the
        namespace was removed (by a teardown, or by a runtime that re-created it) while a process still ran in it.
        Such an end is replaced, not an error. An end whose peer is in a named namespace, or in the one wanted for
        the peer, is not stale."""
        if not owned(info) or info['link_netnsid'] is None:
            return False
        key = view.ref.path
        if key not in self._named_ids:
            refs = [NamespaceRef(name) for name in list_named_netns()] + [peer_ref]
            self._named_ids[key] = {namespace_id(self.netlink, view.ref, ref) for ref in refs
                                    if ref.exists() and not _same_ns(ref, view.ref)}
        return info['link_netnsid'] not in self._named_ids[key]

    def read(self, desired):
        """The pairs, and (in ``self.facts``, for the planner) per pair: the links found under the names of both
        ends (a: the end, b: the peer), whether they are the two ends of one pair, which one an absent pair found,
        whether each end's namespace exists (or an earlier task creates it), the links named as masters, and whether
        an end of another pair is stale (see _stale)."""
        views = Views(self.netlink, self.expect)
        views.prefetch((end['ref'], end['name']) for want in desired.values() for end in (want['end'], want['peer']) if end is not None)
        current = {}
        for key, want in desired.items():
            a, b = want['end'], want['peer']
            fact = self.facts[key] = {'a': None, 'b': None, 'paired': False, 'found': None, 'stale': False}
            if want['state'] == 'present':
                self._read_wanted(fact, want, views)
            if not a['ref'].exists() and (b is None or not b['ref'].exists()):
                current[key] = ABSENT
                continue
            view_a = views.get(a['ref']) if a['ref'].exists() else None
            info_a = fact['a'] = view_a.link(a['name']) if view_a else None
            view_b = views.get(b['ref']) if b is not None and b['ref'].exists() else None
            info_b = fact['b'] = view_b.link(b['name']) if view_b else None
            if info_a is None:
                if want['state'] == 'absent' and info_b is not None:
                    current[key] = dict(self._end_state(view_b, info_b), state='present', peer=None)
                    fact['found'] = 'b'
                else:
                    current[key] = ABSENT
                continue
            state = dict(self._end_state(view_a, info_a), state='present', peer=None)
            fact['found'] = 'a'
            if info_b is not None and self._paired(view_a, info_a, view_b, info_b):
                state['peer'] = self._end_state(view_b, info_b)
                fact['paired'] = True
            elif want['state'] == 'present' and info_a['kind'] == 'veth':
                fact['stale'] = self._stale(view_a, info_a, b['ref'])
            current[key] = state
        return current

    def _read_wanted(self, fact, want, views):
        fact['exists'] = {}
        fact['masters'] = {}
        for side, end in (('a', want['end']), ('b', want['peer'])):
            exists = fact['exists'][side] = self.expect.exists(end['ref'])
            if exists and end['master']:
                fact['masters'][side] = views.get(end['ref']).link(end['master'])
        fact['hints'] = {what: self.expect.hint(what) for what in ('namespaces', 'links')}

    def read_after(self, desired, keys):
        return self.read({key: desired[key] for key in keys if key in desired})

    def comparable(self, state):
        key = '%s/%s' % (state['namespace'], state['name']) if state['namespace'] else state['name']
        unset = self.unset.get(key, ())
        out = {k: v for k, v in state.items() if not (k == 'mac' and 'mac' in unset)}
        if state.get('peer') and 'peer.mac' in unset:
            out['peer'] = {k: v for k, v in state['peer'].items() if k != 'mac'}
        return out

    # -- planning and applying -----------------------------------------------
    def plan(self, desired, current):
        actions, predicted = plan_pairs(desired, current, self.facts)
        self.unset = {key: [f for f, end in (('mac', want['end']), ('peer.mac', want['peer'])) if end['mac'] is None]
                      for key, want in desired.items() if want['state'] != 'absent'}
        return Plan.of_actions(actions, self.apply), predicted

    def apply(self, act):
        apply_action(act, self.writer, self.created, self.netlink)


def apply_action(act, writer, created, netlink):
    """Perform one action of plan_pairs with the handles it needs (see apply_link_action)."""
    if act['kind'] == 'veth_add':
        peer = dict(act['peer'])
        fd = None
        if not _same_ns(act['ref'], act['peer_ref']):
            fd = peer['net_ns_fd'] = open_ns_fd(act['peer_ref'])
        try:
            writer.link_add(act['ref'], act['name'], act['what'], kind='veth', peer=peer, **act['attrs'])
        finally:
            if fd is not None:
                os.close(fd)
    elif act['kind'] == 'veth_setup':
        # Phase 1, once every pair of the plan exists: one link dump of the first end's namespace gives every
        # new end's index and, as IFLA_LINK, its peer's (the index in the peer's namespace).
        ref, name, peer_ref, peer_name = act['ref'], act['name'], act['peer_ref'], act['peer_name']
        index_a, index_b = writer.indexes(ref, name)
        writer.link_set(ref, name, index_a, 'tag', ifalias=TAG)
        writer.link_set(peer_ref, peer_name, index_b, act['peer_what'], **act['peer_attrs'])
        created[(ref.path, name)] = index_a
        created[(peer_ref.path, peer_name)] = index_b
    else:
        apply_link_action(act, writer, created, netlink)


def plan_pairs(desired, current, facts):
    """The pure planner: (actions, predicted) from the desired pairs, their current states as read() returns them,
    and the facts read() gathered (see VethReconciler.read)."""
    actions, predicted = [], {}
    for key, want in desired.items():
        have = current.get(key, ABSENT)
        fact = facts[key]
        if want['state'] == 'absent':
            predicted[key] = ABSENT
            if have is ABSENT:
                continue
            end = want['end'] if fact['found'] == 'a' else want['peer']
            info = fact[fact['found']]
            if info['kind'] != 'veth':
                raise LinuxnetError('%s: %s in %s is a %s link, not a veth: not removed. Fix: remove it with the module '
                                    'that manages it' % (want['where'], info['name'], where(end['ref']), info['kind'] or 'plain'))
            actions.append(action('link_del', key, 'delete veth pair %s in %s (both ends)' % (info['name'], where(end['ref'])),
                                  ref=end['ref'], name=info['name'], index=info['index']))
            continue
        predicted[key] = _plan_present(actions, key, want, have, fact)
    return actions, predicted


def _check_master(want, end, info, hint):
    if not end['master']:
        return None
    if info is None:
        raise LinuxnetError('%s: master bridge %s does not exist in %s. Fix: create it first (linuxnet.container.bridge) '
                            'or check its name and namespace%s' % (want['where'], end['master'], where(end['ref']), hint))
    if info['kind'] != 'bridge':
        raise LinuxnetError('%s: master %s in %s is a %s link, not a bridge. Fix: name a bridge'
                            % (want['where'], end['master'], where(end['ref']), info['kind'] or 'plain'))
    return info['index']


def _plan_present(actions, key, want, have, fact):
    a, b = want['end'], want['peer']
    for end, side in ((a, 'a'), (b, 'b')):
        if not fact['exists'][side]:
            raise LinuxnetError('%s: network namespace %s of %s does not exist. Fix: create it first '
                                '(linuxnet.container.netns) or check the name, path or PID%s'
                                % (want['where'], end['ref'].label, end['name'], fact['hints']['namespaces']))
    info_a, info_b = fact['a'], fact['b']
    master_a = _check_master(want, a, fact['masters'].get('a'), fact['hints']['links'])
    master_b = _check_master(want, b, fact['masters'].get('b'), fact['hints']['links'])
    recreate = want['recreate']
    if have is not ABSENT and not fact['paired']:
        if info_a['kind'] != 'veth':
            raise LinuxnetError('%s: %s already exists in %s and is a %s link, not a veth. Fix: pick another name or remove '
                                'that link' % (want['where'], a['name'], where(a['ref']), info_a['kind'] or 'plain'))
        stale = fact['stale']
        if not recreate and not stale:
            raise LinuxnetError('%s: veth %s exists in %s but its peer is not %s: the namespace or peer of an end cannot '
                                'change in place. Fix: set recreate: true to delete and create the pair again, or '
                                'remove it first' % (want['where'], a['name'], where(a['ref']), _end_label(b)))
        reason = ('its peer is in a network namespace that has no name any more, left behind by a process still '
                  'running in it' if stale else 'its peer is not %s' % _end_label(b))
        actions.append(action('link_del', key, 'delete veth %s in %s (%s) to recreate it' % (a['name'], where(a['ref']), reason),
                              ref=a['ref'], name=a['name'], index=info_a['index']))
        have = ABSENT
    if have is ABSENT and info_b is not None and not (info_a is not None and fact['paired']):
        if info_b['kind'] != 'veth' or not recreate:
            raise LinuxnetError('%s: the peer name %s is already taken in %s by %s. Fix: %s'
                                % (want['where'], b['name'], where(b['ref']),
                                   'a %s link' % (info_b['kind'] or 'plain') if info_b['kind'] != 'veth' else 'the end of another veth pair',
                                   'pick another name or remove it' if info_b['kind'] != 'veth' else
                                   'set recreate: true to replace that pair, or remove it'))
        actions.append(action('link_del', key, 'delete veth %s in %s (its name is wanted for the peer) to recreate the pair'
                              % (b['name'], where(b['ref'])), ref=b['ref'], name=b['name'], index=info_b['index']))
    if have is ABSENT:
        return _plan_create(actions, key, want, master_a, master_b)
    return _plan_update(actions, key, want, have, fact, master_a, master_b)


def _predict_end(end, want, master_name):
    return {'name': end['name'], 'namespace': None if end['ref'].is_host else end['ref'].label, 'owned': True, 'kind': 'veth',
            'up': want['link_state'] == 'up', 'mtu': want['mtu'] or 1500, 'mac': end['mac'], 'master': master_name,
            'hairpin': bool(end['hairpin']) if master_name else None,
            'addresses': list(end['addresses'] or []), 'routes': list(end['routes'] or [])}


def _plan_create(actions, key, want, master_a, master_b):
    a, b = want['end'], want['peer']
    up = want['link_state'] == 'up'
    after = dict(_predict_end(a, want, a['master']), state='present', peer=_predict_end(b, want, b['master']))
    peer = {'ifname': b['name']}
    if b['mac']:
        peer['address'] = b['mac']
    if want['mtu']:
        peer['mtu'] = want['mtu']
    attrs = {}
    if a['mac']:
        attrs['address'] = a['mac']
    if want['mtu']:
        attrs['mtu'] = want['mtu']
    if master_a:
        attrs['master'] = master_a
    if up:
        attrs.update(flags=1, change=1)
    peer_attrs = {'ifalias': TAG}
    if up:
        peer_attrs['state'] = 'up'
    if master_b:
        peer_attrs['master'] = master_b
    detail_a = ', master %s' % a['master'] if a['master'] else ''
    detail_b = ', master %s' % b['master'] if b['master'] else ''
    actions.append(action('veth_add', key, 'create veth pair %s%s <-> %s%s' % (_end_label(a), detail_a, _end_label(b), detail_b),
                          ref=a['ref'], name=a['name'], peer_ref=b['ref'], what='create veth pair with peer %s' % _end_label(b),
                          attrs=attrs, peer=peer))
    actions.append(action('veth_setup', key, None, 1, ref=a['ref'], name=a['name'], peer_ref=b['ref'], peer_name=b['name'],
                          peer_what='tag and bring up' if up else 'tag', peer_attrs=peer_attrs))
    for end in (a, b):
        # A new port starts with hairpin off; turned on once the end is a port (after the create enslaved it).
        if end['master'] and end['hairpin']:
            actions.append(action('brport_set', key, 'set hairpin on of %s' % _end_label(end), 1, ref=end['ref'], name=end['name'],
                                  index=None, what='set hairpin on', attrs={'mode': 1}))
    for end in (a, b):
        for address in end['addresses'] or []:
            actions.append(action('addr', key, 'add address %s to %s' % (address, _end_label(end)), 1, ref=end['ref'],
                                  name=end['name'], index=None, command='add', address=address))
    for end in (a, b):
        for route in end['routes'] or []:
            actions.append(action('route_replace', key, 'add route %s to %s' % (format_route(route), _end_label(end)), 1,
                                  ref=end['ref'], name=end['name'], index=None, route=route))
    return after


def _plan_update(actions, key, want, have, fact, master_a, master_b):
    a, b = want['end'], want['peer']
    after = copy.deepcopy(have)
    up = want['link_state'] == 'up'
    for end, info, master_index, now in ((a, fact['a'], master_a, after), (b, fact['b'], master_b, after['peer'])):
        label = _end_label(end)
        target = (end['ref'], end['name'], info['index'])
        have_addresses = list(now['addresses'])
        going_down = not up and now['up']
        attrs = link_attr_actions(key, label, target, now, mtu=want['mtu'], mac=end['mac'], master=end['master'],
                                  master_index=master_index, up=up)
        actions.extend(attrs)
        setting = attrs[0]['attrs'] if attrs else {}
        if 'master' in setting:
            now['hairpin'] = False  # enslaved anew: a fresh bridge port, hairpin off
        # Its own request after any master change: the kernel applies bridge_slave data through the current master.
        if end['hairpin'] is not None and now['hairpin'] is not None and end['hairpin'] != now['hairpin']:
            word = 'on' if end['hairpin'] else 'off'
            now['hairpin'] = end['hairpin']
            actions.append(action('brport_set', key, 'set hairpin %s of %s' % (word, label), ref=end['ref'], name=end['name'],
                                  index=info['index'], what='set hairpin ' + word, attrs={'mode': int(word == 'on')}))
        actions.extend(address_actions(key, label, target, now, end['addresses'], want['purge_addresses'], end['routes']))
        if now['up'] and ('address' in setting or any(x not in have_addresses for x in now['addresses'])):
            actions.append(action('announce', key, None, ref=end['ref'], name=end['name'], mac=now['mac'],
                                  addresses=list(now['addresses'])))
        if going_down:
            # Last: a link going down loses its IPv6 addresses and its routes' next hops.
            now['up'] = False
            actions.append(action('link_set', key, 'bring down %s' % label, ref=end['ref'], name=end['name'], index=info['index'],
                                  what='bring down', attrs={'state': 'down'}))
    return after


def _parse_end(raw, obj, state, expect):
    ref = parse_ns(raw.get('namespace'), obj)
    name = raw.get('name')
    problem = validate_ifname(name)
    if problem:
        raise LinuxnetError('%s: %s' % (obj, problem))
    end = {'name': name, 'ref': ref}
    end['addresses'] = parse_addresses(raw.get('addresses'), '%s end %s' % (obj, name)) if raw.get('addresses') is not None else None
    end['routes'] = parse_routes(raw.get('routes'), '%s end %s' % (obj, name)) if raw.get('routes') is not None else None
    end['master'] = raw.get('master')
    end['hairpin'] = raw.get('hairpin')
    if end['master'] is not None:
        problem = validate_ifname(end['master'])
        if problem:
            raise LinuxnetError('%s: master %s' % (obj, problem))
    mac = raw.get('mac')
    if mac is not None and raw.get('mac_from_ip'):
        raise LinuxnetError('%s: end %s sets both mac and mac_from_ip. Fix: keep one' % (obj, name))
    if mac is not None:
        try:
            mac = normalize_mac(mac)
        except ValueError as err:
            raise LinuxnetError('%s: end %s: mac %s' % (obj, name, err))
    elif raw.get('mac_from_ip'):
        ipv4 = [x for x in end['addresses'] or [] if ':' not in x]
        if not ipv4:
            raise LinuxnetError('%s: end %s has mac_from_ip but no IPv4 address (wrong address family?). Fix: add an IPv4 '
                                'address to the end or set mac' % (obj, name))
        mac = docker_mac(ipv4[0])
    end['mac'] = mac
    if state == 'present' and not expect.exists(ref):
        raise LinuxnetError('%s: network namespace %s of %s does not exist. Fix: create it first (linuxnet.container.netns) '
                            'or check the name, path or PID%s' % (obj, ref.label, name, expect.hint('namespaces')))
    return end


def _desired(module, expect=None):
    params = module.params
    expect = expect if expect is not None else Expect.inert()
    desired = {}
    seen = {}
    for position, item in enumerate(params['pairs']):
        obj = 'pairs[%d]' % position
        state = item.get('state') or params['state']
        recreate = item['recreate'] if item.get('recreate') is not None else params['recreate']
        end = _parse_end(item, obj, state, expect)
        obj = '%s (veth %s)' % (obj, object_key(end['ref'], end['name']))
        peer = None
        if item.get('peer'):
            peer = _parse_end(item['peer'], obj + ' peer', state, expect)
        elif state == 'present':
            raise LinuxnetError('%s: peer is required to create a pair. Fix: add peer: {name: eth0, namespace: ...}' % obj)
        if want_mtu_bad(item.get('mtu')):
            raise LinuxnetError('%s: mtu %d is out of range. Fix: use 68 to 65535' % (obj, item['mtu']))
        for e in (end, peer):
            if e is None:
                continue
            if e['hairpin'] and e['master'] is None:
                raise LinuxnetError('%s: end %s sets hairpin: true but no master; hairpin mode is a setting of a bridge port. '
                                    'Fix: set master (the bridge) on the same end, or drop hairpin' % (obj, _end_label(e)))
            where_key = (e['ref'].path, e['name'])
            if where_key in seen:
                raise LinuxnetError('%s: %s is listed twice (also in %s). Fix: give every end its own name in its namespace'
                                    % (obj, _end_label(e), seen[where_key]))
            seen[where_key] = obj
        key = object_key(end['ref'], end['name'])
        desired[key] = {'end': end, 'peer': peer, 'state': state, 'recreate': recreate, 'where': obj, 'mtu': item.get('mtu'),
                        'link_state': item.get('link_state') or 'up', 'purge_addresses': bool(item.get('purge_addresses'))}
    return desired


def want_mtu_bad(mtu):
    return mtu is not None and not 68 <= mtu <= 65535


def module_spec():
    route_spec = dict(type='list', elements='dict', options=dict(dst=dict(type='str', required=True), gateway=dict(type='str')))
    end_spec = dict(
        mac=dict(type='str'),
        mac_from_ip=dict(type='bool', default=False),
        addresses=dict(type='list', elements='str'),
        routes=route_spec,
        master=dict(type='str'),
        hairpin=dict(type='bool'),
    )
    peer_spec = dict(end_spec, name=dict(type='str', required=True), namespace=dict(type='str'))
    pair_spec = dict(
        end_spec,
        name=dict(type='str', required=True),
        namespace=dict(type='str'),
        peer=dict(type='dict', options=peer_spec),
        mtu=dict(type='int'),
        link_state=dict(type='str', choices=['up', 'down'], default='up'),
        purge_addresses=dict(type='bool', default=False),
        state=dict(type='str', choices=['present', 'absent']),
        recreate=dict(type='bool'),
    )
    return dict(argument_spec=dict(
        pairs=dict(type='list', elements='dict', required=True, options=pair_spec),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        recreate=dict(type='bool', default=False),
        expect=expect_spec(),
    ))


def run(module, netlink):
    raise_fd_limit()
    expect = parse_expect(module.params['expect'], module.check_mode)
    desired = _desired(module, expect)
    reconciler = VethReconciler(module, netlink, expect)
    result = reconciler.run(desired)
    after = result.pop('after')
    result.pop('before')
    result['pairs'] = [after.get(key) or {'name': want['end']['name'], 'state': 'absent',
                                          'namespace': None if want['end']['ref'].is_host else want['end']['ref'].label}
                       for key, want in desired.items()]
    result['netlink_writes'] = reconciler.writer.count
    return result
