# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""linuxnet.container.vxlan: its reconciler, module_spec() and run() (see _converge/module.run_impl)."""

from __future__ import annotations

import copy
import errno
import ipaddress
import os
import socket
import time


from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import (
    Views,
    Writer,
    namespace_id,
    object_key,
    open_ns_fd,
    parse_ns,
    where,
)
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import (
    evpn_netns_bind,
    evpn_netns_bound,
    evpn_netns_unbind,
)
from ansible_collections.linuxnet.container.plugins.module_utils._converge.expect import Expect, argument_spec as expect_spec, parse_expect
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import is_gone, LinuxnetError, netlink_errors, NetlinkError
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import (
    TAG,
    VXLAN_OVERHEAD,
    normalize_address,
    normalize_mac,
    validate_ifname,
)
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT, Plan, Reconciler

ZERO_MAC = '00:00:00:00:00:00'
EVPN_DIR_LABEL = '/run/linuxnet-container/evpn'
NUD_PERMANENT = 0x80
NUD_NOARP = 0x40
NTF_SELF = 0x02
NTF_MASTER = 0x04
# zebra (FRR 8.4) turns protodown on for a VXLAN device of a namespace it adopts while running (its start-up sweep of
# the namespace's links); nothing turns it off again. After naming a namespace for FRR, wait this long for it.
ZEBRA_PID = '/run/frr/zebra.pid'
ZEBRA_SWEEP_WAIT = 5.0
IDENTITY = ('vni', 'port', 'local', 'dev', 'underlay_namespace', 'proxy')
_PER_DEVICE = ('vni', 'learning', 'proxy', 'ttl', 'mtu', 'master', 'link_state', 'peers', 'fdb', 'neighbors',
               'purge', 'recreate', 'evpn', 'static_macs')
# Top-level per-device options without a default: an error next to devices (those with one cannot be detected).
_NO_DEFAULT = ('vni', 'learning', 'proxy', 'ttl', 'mtu', 'master', 'peers', 'fdb', 'neighbors', 'evpn', 'static_macs')
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

    def static_mac(self, ref, name, command, entry):
        """A static FDB entry of the master bridge (``bridge fdb replace MAC dev PORT master static``)."""
        what = 'static FDB entry %s on port %s' % (entry['mac'], entry['port'])
        try:
            port = self.index(ref, entry['port'])
        except LinuxnetError:
            if command == 'del':
                return None  # the port is gone, and its entries with it
            raise
        kwargs = {'ifindex': port, 'lladdr': entry['mac'], 'state': NUD_NOARP, 'flags': NTF_MASTER}
        if command == 'del':
            try:
                return self._call(ref, name, 'remove ' + what, 'fdb', 'del', **kwargs)
            except LinuxnetError as err:
                if err.details.get('errno') in (errno.ENOENT, errno.ENODEV):
                    return None
                raise
        return self._call(ref, name, 'add ' + what, 'fdb', 'replace', **kwargs)

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
            self._nsids[key] = namespace_id(self.netlink, ref, underlay)
        return self._nsids[key]

    def _get_link(self, ref, name):
        try:
            return self.netlink.channel(ref).get('link', {'ifname': name})[0]
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
        self.meta[want['key']] = {'index': index, 'master_index': msg.get('master') or None}
        if kind != 'vxlan':
            return state
        attrs = vxlan_attrs(msg.get(('linkinfo', 'data')))
        vni = attrs['vni']
        state.update((field, attrs[field]) for field in ('vni', 'port', 'local', 'learning', 'proxy', 'ttl'))
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
        dev_index = attrs['link']
        if not dev_index:
            state['dev'] = None
        elif known:
            state['dev'] = views.get(under_ref).name_of(dev_index) or 'ifindex:%d' % dev_index
        else:
            state['dev'] = 'ifindex:%d' % dev_index
        ipr = self.netlink.ipr(ref)
        with netlink_errors('%s in %s' % (name, where(ref)), 'list FDB entries'):
            fdb_msgs = list(ipr.fdb('dump'))
        with netlink_errors(where(ref), 'list neighbour entries'):
            neigh_msgs = list(ipr.neigh('dump'))
        state.update(device_entries(fdb_msgs, neigh_msgs, index, vni, msg.get('master') or None))
        if want.get('evpn') is not None:
            state['evpn'] = bool(ref.name) and evpn_netns_bound(ref.name)
            state['protodown'] = bool(msg.get('IFLA_PROTO_DOWN'))
            state['port_learning'] = port_learning(msg)
        if want.get('static_macs') is not None:
            state['static_macs'] = static_entries(fdb_msgs, view, index, msg.get('master') or None)
        return state

    def comparable(self, state):
        # A device named for FRR has FRR's remote entries (flood list, remote MACs), which come and go while the module runs.
        skip = ('mac', 'peers', 'fdb', 'neighbors') if state.get('evpn') else ('mac',)
        return {k: v for k, v in state.items() if k not in skip}

    # -- planning: facts read here, the plan itself is plan_devices() (pure) --------------------------
    def facts(self, desired, current):
        """What plan_devices needs besides the states, read from the kernel (plain data): per key, the device's
        ``index`` and ``master_index`` (from read()), and for a device to be present ``dev_index``, the default ``mtu``
        (from the underlay device) and ``master`` ({index, kind} of the wanted bridge, or None)."""
        facts = {}
        for key, want in desired.items():
            have = current.get(key, ABSENT)
            fact = dict(self.meta.get(key) or {'index': None, 'master_index': None})
            if want['state'] == 'present' and (have is ABSENT or have['kind'] == 'vxlan'):
                fact['dev_index'], fact['mtu'], fact['master'] = self._underlay(want)
                fact['evpn'] = bool(want.get('evpn')) and evpn_netns_bound(want['ref'].name)
                fact['static_macs'] = []
                if have is ABSENT and want.get('static_macs') is not None and fact['master'] and want['ref'].exists():
                    with netlink_errors(where(want['ref']), 'list FDB entries'):
                        msgs = list(self.netlink.ipr(want['ref']).fdb('dump'))
                    fact['static_macs'] = static_entries(msgs, Views(self.netlink, self.expect).get(want['ref']), None,
                                                         fact['master']['index'])
            facts[key] = fact
        return facts

    def plan(self, desired, current):
        actions, predicted = plan_devices(desired, current, self.facts(desired, current))
        created = {}

        def apply(act):
            return apply_action(self.writer, desired[act['key']], act, created.setdefault(act['key'], {}))
        return Plan.of_actions(actions, apply), predicted

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
            master = {'index': master['index'], 'kind': master['kind']}
        if any(n['on'] == 'master' for n in want['neighbors'] or []) and not want['master']:
            raise LinuxnetError('%s: neighbours with on=master need master (the bridge to put them on)' % want['where'])
        return dev_index, want['mtu'] or mtu, master


# -- kernel records, decoded once (network_info's read-back uses these too) ------------------------------------

def vxlan_attrs(data):
    """IFLA_INFO_DATA of a vxlan link (a pyroute2 nla, or None) -> {vni, port, local, learning, proxy, ttl, link}."""
    attr = data.get_attr if data is not None else (lambda _k: None)
    local = attr('IFLA_VXLAN_LOCAL') or attr('IFLA_VXLAN_LOCAL6')
    return {'vni': attr('IFLA_VXLAN_ID'), 'port': attr('IFLA_VXLAN_PORT'), 'local': normalize_address(local) if local else None,
            'learning': bool(attr('IFLA_VXLAN_LEARNING')), 'proxy': bool(attr('IFLA_VXLAN_PROXY')),
            'ttl': attr('IFLA_VXLAN_TTL'), 'link': attr('IFLA_VXLAN_LINK')}


def port_learning(msg):
    """Whether the device, as a bridge port, learns source MACs (IFLA_BRPORT_LEARNING); None when it is no port."""
    if msg.get(('linkinfo', 'slave_kind')) != 'bridge':
        return None
    data = msg.get(('linkinfo', 'slave_data'))
    return None if data is None else bool(data.get('IFLA_BRPORT_LEARNING'))


def static_entries(fdb_msgs, view, index, master_index):
    """The static FDB entries ({mac, port}) of the bridge ``master_index``'s ports other than device ``index``: what
    ``static_macs`` writes (``master static``: NUD_NOARP, not the bridge's own permanent ones)."""
    found = []
    for msg in fdb_msgs:
        # A bridge reports its entries with NDA_MASTER (iproute2's "master BRIDGE"), not with the NTF_MASTER flag.
        if not master_index or msg['ifindex'] == index or msg['flags'] & NTF_SELF:
            continue
        if msg.get('NDA_MASTER') != master_index or not msg['state'] & NUD_NOARP or msg['state'] & NUD_PERMANENT:
            continue
        port = view.name_of(msg['ifindex']) or 'ifindex:%d' % msg['ifindex']
        found.append({'mac': normalize_mac(msg.get('lladdr')), 'port': port})
    return sorted(found, key=lambda e: (e['mac'], e['port']))


def device_entries(fdb_msgs, neigh_msgs, index, vni, master_index):
    """The peers, FDB and neighbour entries of device ``index`` (VNI ``vni``, bridge ``master_index``) in an FDB dump
    and a neighbour dump: what the module writes (permanent entries with a destination), in a stable order."""
    peers, fdb = [], []
    for msg in fdb_msgs:
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
    for msg in neigh_msgs:
        place = places.get(msg['ifindex'])
        if place is None or msg['family'] not in (socket.AF_INET, socket.AF_INET6) or not msg['state'] & NUD_PERMANENT:
            continue
        if not msg.get('lladdr') or not msg.get('dst'):
            continue
        neighbors.append({'address': normalize_address(msg.get('dst')), 'mac': normalize_mac(msg.get('lladdr')), 'on': place})
    return {'peers': sorted(peers, key=_addr_sort),
            'fdb': sorted(fdb, key=_fdb_key),
            'neighbors': sorted(neighbors, key=_neigh_key)}


# -- the plan: pure, from plain data to plain data -------------------------------------------------------------
#
# An action is a dict: key (the device), description (None: a step of the one before, not listed), op, and what the
# op needs. ops: 'delete' (index), 'create' (create: the link attributes, up, master_index), 'set' (index, what,
# attrs), 'fdb' (index, command append/del, entry), 'neigh' (index, command replace/del, entry). An index of None is
# the device this plan creates: apply_action fills it in.

def _action(key, description, op, **fields):
    return dict(fields, key=key, description=description, op=op)


def plan_devices(desired, current, facts):
    """(actions, predicted) taking the devices from ``current`` (read()'s states) to ``desired``, with ``facts`` (see
    VxlanReconciler.facts). Raises LinuxnetError for what no action can fix (a link of another kind, an identity
    change without recreate)."""
    actions, predicted = [], {}
    for key, want in desired.items():
        have = current.get(key, ABSENT)
        label = 'vxlan %s in %s' % (want['name'], where(want['ref']))
        if have is not ABSENT and have['kind'] != 'vxlan':
            raise LinuxnetError('%s: %s already exists in %s and is a %s link, not a vxlan device. Fix: pick another '
                                'name or remove that link' % (want['where'], want['name'], where(want['ref']),
                                                              have['kind'] or 'plain'))
        fact = facts[key]
        if want['state'] == 'absent':
            predicted[key] = ABSENT
            if have is not ABSENT:
                actions.append(_action(key, 'delete %s' % label, 'delete', index=fact['index']))
            continue
        if have is not ABSENT:
            wrong = _identity_diff(want, have)
            if wrong and not want['recreate']:
                raise LinuxnetError(
                    '%s: the device exists with %s; the kernel cannot change these in place. Fix: set recreate: true to '
                    'delete and create the device again (traffic stops briefly), or keep the current values'
                    % (want['where'], '; '.join('%s %r (wanted %r)' % (f, have[f], want[f]) for f in wrong)))
            if wrong:
                actions.append(_action(key, 'delete %s to recreate it (%s changed)' % (label, ', '.join(wrong)), 'delete',
                                       index=fact['index']))
                have = ABSENT
        if have is ABSENT:
            predicted[key] = _plan_create(actions, key, want, label, fact)
        else:
            predicted[key] = _plan_change(actions, key, want, have, label, fact)
    return actions, predicted


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


def _plan_create(actions, key, want, label, fact):
    ref, under, name = want['ref'], want['underlay'], want['name']
    mtu, master = fact['mtu'], fact['master']
    create = {'kind': 'vxlan', 'vxlan_id': want['vni'], 'vxlan_port': want['port'], 'mtu': mtu}
    if want['local']:
        create['vxlan_local6' if ':' in want['local'] else 'vxlan_local'] = want['local']
    if fact['dev_index']:
        create['vxlan_link'] = fact['dev_index']
    if want['learning'] is not None:
        create['vxlan_learning'] = int(want['learning'])
    if want['proxy'] is not None:
        create['vxlan_proxy'] = int(want['proxy'])
    if want['ttl'] is not None:
        create['vxlan_ttl'] = want['ttl']
    up = want['link_state'] == 'up'
    details = ['vni %d' % want['vni'], 'port %d' % want['port']]
    details += ['%s %s' % (f, want[f]) for f in ('local', 'dev') if want[f]]
    if want['dev'] or under.path != ref.path:
        details[-1] += ' in %s' % where(under)
    details += ['%s %s' % (f, 'on' if want[f] else 'off') for f in ('learning', 'proxy') if want[f] is not None]
    details.append('mtu %d' % mtu)
    if master:
        details.append('master %s' % want['master'])
    actions.append(_action(key, 'create %s with %s' % (label, ', '.join(details)), 'create', create=create, up=up,
                           master_index=master['index'] if master else None))
    after = {
        'name': name, 'namespace': _ns_label(ref), 'state': 'present', 'kind': 'vxlan', 'owned': True, 'up': up,
        'mtu': mtu, 'mac': None, 'master': want['master'] or None, 'vni': want['vni'], 'port': want['port'],
        'local': want['local'], 'learning': True if want['learning'] is None else want['learning'],
        'proxy': bool(want['proxy']), 'ttl': want['ttl'] or 0,
        'underlay_namespace': _ns_label(under) if under.path != ref.path else _ns_label(ref),
        'dev': want['dev'], 'peers': [], 'fdb': [], 'neighbors': [],
    }
    if want.get('evpn') is not None:
        # A new bridge port learns (the kernel's default) until told not to.
        after.update(evpn=fact.get('evpn', False), protodown=False, port_learning=True if master else None)
    if want.get('static_macs') is not None:
        after['static_macs'] = list(fact.get('static_macs') or [])
    _plan_entries(actions, key, want, after, label, {'device': None, 'master': master['index'] if master else None})
    _plan_evpn(actions, key, want, after, label, None)
    return after


def _plan_change(actions, key, want, have, label, fact):
    mtu, master, index = fact['mtu'], fact['master'], fact['index']
    after = copy.deepcopy(have)

    def link_set(description, what, **attrs):
        actions.append(_action(key, description, 'set', index=index, what=what, attrs=attrs))

    if mtu != have['mtu']:
        after['mtu'] = mtu
        link_set('set mtu %d of %s' % (mtu, label), 'set mtu %d' % mtu, mtu=mtu)
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
        link_set('set %s of %s' % (', '.join(changes), label), 'set ' + ', '.join(changes), kind='vxlan', **data)
    if want['master'] is not None and (want['master'] or None) != have['master']:
        if want['master']:
            link_set('enslave %s to bridge %s' % (label, want['master']), 'enslave to bridge %s' % want['master'],
                     master=master['index'])
        else:
            link_set('release %s from bridge %s' % (label, have['master']), 'release from bridge %s' % have['master'], master=0)
        after['master'] = want['master'] or None
        if have['master'] and any(n['on'] == 'master' for n in have['neighbors']):
            # Entries on the old bridge are no longer this device's to report.
            after['neighbors'] = [n for n in have['neighbors'] if n['on'] != 'master']
    up = want['link_state'] == 'up'
    if up != have['up']:
        after['up'] = up
        verb = 'up' if up else 'down'
        link_set('bring %s %s' % (verb, label), 'bring ' + verb, state=verb)
    master_index = master['index'] if master else fact['master_index']
    _plan_entries(actions, key, want, after, label, {'device': index, 'master': master_index})
    _plan_evpn(actions, key, want, after, label, index)
    return after


def _plan_evpn(actions, key, want, after, label, index):
    """Static FDB entries of the bridge ports (static_macs), the namespace's name for FRR and protodown off (evpn)."""
    if want.get('static_macs') is not None:
        wanted = {(e['mac'], e['port']): e for e in want.get('static_macs')}
        have = {(e['mac'], e['port']): e for e in after.get('static_macs') or []}
        for spot, entry in sorted(have.items()):
            if spot not in wanted:
                actions.append(_action(key, 'remove static FDB entry %s on %s of %s (not listed)' % (entry['mac'], entry['port'], label),
                                       'static_mac', index=None, command='del', entry=entry))
        for spot, entry in sorted(wanted.items()):
            if spot not in have:
                actions.append(_action(key, 'add static FDB entry %s on port %s of %s' % (entry['mac'], entry['port'], label),
                                       'static_mac', index=None, command='replace', entry=entry))
        after['static_macs'] = sorted(wanted.values(), key=lambda e: (e['mac'], e['port']))
    if want.get('evpn') is None:
        return
    if want.get('evpn') and after.get('master') and after.get('port_learning') is not False:
        # As FRR wants it: the remote MACs are FRR's (extern_learn) and the local ones static; the port learns none.
        actions.append(_action(key, 'turn bridge port learning off on %s' % label, 'brport', index=index,
                               what='set learning off', attrs={'learning': 0}))
        after['port_learning'] = False
    if want.get('evpn') and not after.get('evpn'):
        actions.append(_action(key, 'name %s for FRR (%s/%s) and turn protodown off once zebra has adopted it'
                               % (where(want['ref']), EVPN_DIR_LABEL, want['ref'].name), 'evpn_bind', index=index))
        after.update(evpn=True, protodown=False)
    elif want.get('evpn') and after.get('protodown'):
        actions.append(_action(key, 'turn protodown off on %s' % label, 'set', index=index, what='protodown off',
                               attrs={'IFLA_PROTO_DOWN': 0}))
        after['protodown'] = False
    elif not want.get('evpn') and after.get('evpn'):
        actions.append(_action(key, 'remove the name of %s for FRR' % where(want['ref']), 'evpn_unbind', index=index))
        after['evpn'] = False


def _plan_entries(actions, key, want, after, label, index_of):
    """Plan peers, FDB and neighbour entries from ``after`` (the device's current entries) to the wanted ones."""
    if want.get('evpn') and not after.get('evpn'):
        # An overlay switched from static to evpn in place: the static remote entries go before FRR adopts the device
        # (FRR installs its own; a device it has adopted is not purged, as its entries are FRR's).
        want = dict(want, purge=True, peers=[], fdb=[], neighbors=[])
    purge = want['purge']

    def fdb(description, command, entry):
        actions.append(_action(key, description, 'fdb', index=index_of['device'], command=command, entry=entry))

    def neigh(description, command, entry):
        actions.append(_action(key, description, 'neigh', index=index_of[entry['on']], command=command, entry=entry))

    # Peers: all-zero entries.
    have_peers = list(after['peers'])
    wanted_peers = want['peers'] or []
    for peer in wanted_peers:
        if peer not in have_peers:
            fdb('add peer %s to %s' % (peer, label), 'append', {'mac': ZERO_MAC, 'dst': peer, 'vni': None})
    stale = [p for p in have_peers if p not in wanted_peers] if purge and want['peers'] is not None else []
    for peer in stale:
        fdb('remove peer %s from %s (not listed)' % (peer, label), 'del', {'mac': ZERO_MAC, 'dst': peer, 'vni': None})
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
            fdb('remove FDB entry %s dst %s from %s (%s)' % (entry['mac'], entry['dst'], label, why), 'del', entry)
        else:
            keep.append(entry)
    have_keys = {_fdb_key(e) for e in after['fdb']}
    for fkey, entry in sorted(wanted.items()):
        if fkey not in have_keys:
            vni = ' vni %d' % entry['vni'] if entry['vni'] else ''
            fdb('add FDB entry %s dst %s%s to %s' % (entry['mac'], entry['dst'], vni, label), 'append', entry)
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
            neigh('remove neighbour %s (%s) from %s of %s (not listed)' % (entry['address'], entry['mac'], _place(entry['on']), label),
                  'del', entry)
        else:
            keep.append(entry)
    have_n = {_neigh_key(e) for e in after['neighbors']}
    for spot, entry in sorted(wanted_n.items()):
        if _neigh_key(entry) not in have_n:
            neigh('set neighbour %s to %s on %s of %s' % (entry['address'], entry['mac'], _place(entry['on']), label),
                  'replace', entry)
            keep.append(entry)
    after['neighbors'] = sorted(keep, key=_neigh_key)


def apply_action(writer, want, action, created):
    """Perform one action of plan_devices for device ``want`` with ``writer``. ``created``: this device's {'index'}
    once an earlier action created it (filled in here), for the actions planned with index None."""
    ref, under, name = want['ref'], want['underlay'], want['name']
    op = action['op']
    if op == 'delete':
        return writer.link_del(ref, name, action['index'])
    if op == 'create':
        if under.path == ref.path:
            writer.link_add(ref, name, 'create vxlan device', **action['create'])
        else:
            fd = open_ns_fd(ref)
            try:
                writer.link_add(under, name, 'create vxlan device in %s' % where(ref), net_ns_fd=fd, **action['create'])
            finally:
                os.close(fd)
        created['index'] = writer.index(ref, name)
        extra = {'state': 'up'} if action['up'] else {}
        if action['master_index']:
            extra['master'] = action['master_index']
        return writer.link_set(ref, name, created['index'], 'tag' + (', enslave' if action['master_index'] else '')
                               + (' and bring up' if action['up'] else ''), ifalias=TAG, **extra)
    if op == 'static_mac':
        return writer.static_mac(ref, name, action['command'], action['entry'])
    if op == 'evpn_unbind':
        return evpn_netns_unbind(ref.name)
    if op == 'evpn_bind':
        writer.flush()  # the device is up on its bridge before zebra sees the namespace
        with netlink_errors('network namespace %s' % ref.name, 'name for FRR'):
            evpn_netns_bind(ref.name)
        _protodown_off_after_sweep(writer, ref, name)
        # zebra reads the bridge's entries when it adopts the namespace, while the device is still protodown: write the
        # static local MACs again, so that it hears of them (and advertises them) now that the VNI is up.
        for entry in want.get('static_macs') or []:
            writer.static_mac(ref, name, 'replace', entry)
        return None
    index = action['index'] if action['index'] is not None else created['index']
    if op == 'set':
        return writer.link_set(ref, name, index, action['what'], **action['attrs'])
    if op == 'brport':
        return writer.brport_set(ref, name, index, action['what'], **action['attrs'])
    if op == 'fdb':
        return writer.fdb(ref, name, action['command'], index, action['entry'])
    if op == 'neigh':
        return writer.neigh(ref, name, action['command'], index, action['entry'])
    raise ValueError('unknown vxlan action %r' % op)


def _zebra_running():
    """Whether zebra runs with network namespaces as VRFs (-n): only that zebra adopts the namespaces named for FRR."""
    try:
        with open(ZEBRA_PID) as handle:
            pid = int(handle.read().strip())
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            args = handle.read().split(b'\0')
    except (OSError, ValueError):
        return False
    return b'-n' in args or b'--vrfwnetns' in args


def _protodown_off_after_sweep(writer, ref, name, wait=ZEBRA_SWEEP_WAIT):
    """A running zebra adopts the namespace about a second after it is named, and its sweep of the new namespace's links
    turns protodown on for the VXLAN device (FRR 8.4): wait for that, then turn it off (zebra leaves it so). A zebra that
    does not run adopts it when it starts, with no sweep of this kind."""
    if not _zebra_running():
        return None
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            msg = writer.netlink.channel(ref).get('link', {'ifname': name})[0]
        except (NetlinkError, IndexError):
            return None
        if msg.get('IFLA_PROTO_DOWN'):
            return writer.link_set(ref, name, msg['index'], 'protodown off', wait=True, IFLA_PROTO_DOWN=0)
        time.sleep(0.1)
    return None


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
    if want.get('evpn') and not want['ref'].name:
        raise LinuxnetError('%s: evpn needs the device in a named namespace (/run/netns/NAME), which FRR adopts as a VRF. '
                            'Fix: set namespace to a name' % obj)
    if want.get('static_macs') is not None:
        statics, seen = [], set()
        for position, item in enumerate(want.get('static_macs')):
            where_ = 'static_macs[%d]' % position
            entry = {'mac': _mac(item['mac'], obj, where_ + ': mac'), 'port': item['port']}
            problem = validate_ifname(entry['port'])
            if problem:
                raise LinuxnetError('%s: %s: port: %s' % (obj, where_, problem))
            if entry['mac'] in seen:
                raise LinuxnetError('%s: %s: MAC %s is listed twice. Fix: give each MAC one port' % (obj, where_, entry['mac']))
            if not want['master']:
                raise LinuxnetError('%s: static_macs need master (the bridge whose ports hold them)' % obj)
            seen.add(entry['mac'])
            statics.append(entry)
        want['static_macs'] = statics


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
        evpn=dict(type='bool'),
        static_macs=dict(type='list', elements='dict', options=dict(mac=dict(type='str', required=True),
                                                                    port=dict(type='str', required=True))),
    )
    if top:
        options.update(name=dict(type='str'), state=dict(type='str', choices=['present', 'absent'], default='present'),
                       port=dict(type='int', default=4789))
    else:
        options.update(name=dict(type='str', required=True), state=dict(type='str', choices=['present', 'absent']),
                       port=dict(type='int'))
    return options


def module_spec():
    spec = _options(True)
    spec['devices'] = dict(type='list', elements='dict', options=_options(False))
    spec['expect'] = expect_spec()
    return dict(
        argument_spec=spec,
        mutually_exclusive=[('name', 'devices')] + [('devices', k) for k in _NO_DEFAULT],
        required_one_of=[('name', 'devices')],
    )


def run(module, netlink):
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
