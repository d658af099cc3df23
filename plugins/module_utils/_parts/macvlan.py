# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""linuxnet.container.macvlan: its reconciler, module_spec() and run() (see _converge/module.run_impl)."""

from __future__ import annotations

import copy
import errno
import os
import zlib


from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import (
    NsView,
    Views,
    Writer,
    HOME_NS,
    _link_info,
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
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import TAG, docker_mac, normalize_mac, validate_ifname
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT, Plan, Reconciler
from ansible_collections.linuxnet.container.plugins.module_utils._common.action import action

MODES = ('bridge', 'private', 'vepa', 'passthru')
ARPHRD_ETHER = 1
IFF_LOOPBACK = 0x8
# Fields of an existing endpoint the kernel cannot change in place (the mode only to or from passthru).
IDENTITY = ('parent', 'parent_namespace')


def _ns_label(ref):
    return None if ref.is_host else ref.label


def _label(ref, name):
    return 'macvlan %s in %s' % (name, where(ref))


def identity_diff(want, have):
    """The fields that differ between the wanted endpoint and an existing macvlan and need a recreate."""
    wrong = [f for f in IDENTITY if want[f] != have.get(f)]
    if want['mode'] != have.get('mode') and 'passthru' in (want['mode'], have.get('mode')):
        wrong.append('mode')
    return wrong


def rename_needed(err, name_in_parent_ns):
    """True when a create in the parent's namespace failed only because the name is taken *there*.

    Older kernels (6.1 of Debian 12 among them; 6.18 no longer) look up IFLA_IFNAME in the namespace the request
    comes from even when IFLA_NET_NS_FD puts the new link elsewhere, so eth0 cannot be created from a host that has
    an eth0 of its own (the CNI macvlan plugin always creates under a temporary name for the same reason).
    """
    return name_in_parent_ns and err.details.get('errno') == errno.EEXIST


def temporary_name(key):
    """A name for creating a link before renaming it inside its namespace (unique enough, at most 15 bytes)."""
    return 'mvtmp%08x' % zlib.crc32(key.encode('utf-8'))


class MacvlanView(NsView):
    """NsView whose link records also carry the macvlan mode."""

    def _link_record(self, msg):
        info = _link_info(msg)
        info['mode'] = msg.get(('linkinfo', 'data', 'IFLA_MACVLAN_MODE')) if info['kind'] == 'macvlan' else None
        info['hwtype'] = 'loopback' if msg['flags'] & IFF_LOOPBACK else msg.get('ifi_type', ARPHRD_ETHER)
        return info

    def links(self):
        if self._links is None:
            self._load_links()
        return list(self._links.values())


class MacvlanViews(Views):
    view_class = MacvlanView

    def all(self):
        return list(self._views.values())


class _Reader:
    """One read of the kernel: the namespaces it looks at (one view each), and the identity (device and inode) of
    a namespace and the id one namespace gives another, each looked up once per read. Per read, not per run: a
    macvlan the run creates in a namespace may make it give its parent's namespace an id it had not given before."""

    def __init__(self, netlink, expect):
        self.netlink = netlink
        self.expect = expect
        self.views = MacvlanViews(netlink, expect)
        self.host = netlink.ref(None)
        self._inodes = {}
        self._nsids = {}

    # -- namespaces ----------------------------------------------------------
    def inode(self, ref):
        if ref.path not in self._inodes:
            if self.expect.virtual(ref):
                self._inodes[ref.path] = self.expect.identity(ref)
                return self._inodes[ref.path]
            st = os.stat(ref.path or HOME_NS)
            self._inodes[ref.path] = (st.st_dev, st.st_ino)
        return self._inodes[ref.path]

    def same_ns(self, a, b):
        return a.path == b.path or self.inode(a) == self.inode(b)

    def nsid(self, ref, other):
        """The id under which namespace ``ref`` knows ``other`` (None when it has not assigned one)."""
        key = (ref.path, other.path)
        if key not in self._nsids and (self.expect.virtual(ref) or self.expect.virtual(other)):
            self._nsids[key] = None  # a namespace that does not exist yet holds no link and is known by no id
        if key not in self._nsids:
            self._nsids[key] = namespace_id(self.netlink, ref, other)
        return self._nsids[key]

    def parent_in(self, view, info, parent_ref):
        """True when the lower device of macvlan ``info`` (seen in ``view``) lives in namespace ``parent_ref``."""
        if info['link_netnsid'] is None:
            return self.same_ns(view.ref, parent_ref)
        if not parent_ref.exists() or self.same_ns(view.ref, parent_ref):
            return False
        return self.nsid(view.ref, parent_ref) == info['link_netnsid']

    # -- states --------------------------------------------------------------
    def state(self, view, info, parent_ref):
        state = {
            'name': info['name'], 'namespace': _ns_label(view.ref), 'state': 'present', 'kind': info['kind'],
            'owned': owned(info), 'parent': None, 'parent_namespace': None, 'mode': info['mode'],
            'up': info['up'], 'mtu': info['mtu'], 'mac': info['mac'],
            'addresses': view.addresses(info['index']), 'routes': view.routes(info['index']),
        }
        if info['kind'] != 'macvlan':
            return state
        link = info['link']
        if self.parent_in(view, info, parent_ref):
            pview = self.views.get(parent_ref)
            state['parent'] = pview.name_of(link) or 'ifindex:%s' % link
            state['parent_namespace'] = _ns_label(parent_ref)
        elif info['link_netnsid'] is None:
            state['parent'] = view.name_of(link) or 'ifindex:%s' % link
            state['parent_namespace'] = _ns_label(view.ref)
        else:
            state['parent'] = 'ifindex:%s' % link
            state['parent_namespace'] = 'nsid:%s' % info['link_netnsid']
        return state

    def endpoints(self, desired):
        """(states, the link record under each name or None, the views of the namespaces that exist)."""
        current, found, listed = {}, {}, {}
        for key, want in desired.items():
            ref = want['ref']
            found[key] = None
            if not ref.exists():
                current[key] = ABSENT
                continue
            view = self.views.get(ref)
            listed[ref.path] = view
            info = found[key] = view.link(want['name'])
            current[key] = ABSENT if info is None else self.state(view, info, want['parent_ref'])
        return current, found, listed

    def unlisted(self, desired, listed, current):
        """Tagged macvlans of the listed namespaces that are not listed (prune candidates), their states put in
        ``current``: {key: {'ref', 'name', 'index'}}."""
        names = {(w['ref'].path, w['name']) for w in desired.values()}
        found = {}
        for view in listed.values():
            for info in view.links():
                if info['kind'] == 'macvlan' and owned(info) and (view.ref.path, info['name']) not in names:
                    key = object_key(view.ref, info['name'])
                    found[key] = {'ref': view.ref, 'name': info['name'], 'index': info['index']}
                    current[key] = self.state(view, info, self.host)
        return found

    # -- what the planner needs besides the states ----------------------------
    def children(self, desired):
        """Every macvlan the read saw, by parent: {(namespace identity, parent index): [(key, (path, name), mode)]}."""
        parents = {}
        for want in desired.values():
            if want['state'] == 'present' and self.expect.exists(want['parent_ref']):
                parents[want['parent_ref'].path] = want['parent_ref']
                self.views.get(want['parent_ref']).links()  # same-namespace children of the parents count too
        children = {}
        for view in self.views.all():
            for other in view.links():
                if other['kind'] != 'macvlan':
                    continue
                owner = self.inode(view.ref) if other['link_netnsid'] is None else None
                for pref in parents.values() if owner is None else ():
                    if not self.same_ns(view.ref, pref) and self.nsid(view.ref, pref) == other['link_netnsid']:
                        owner = self.inode(pref)
                        break
                if owner is not None:
                    children.setdefault((owner, other['link']), []).append(
                        (object_key(view.ref, other['name']), (view.ref.path, other['name']), other['mode']))
        return children

    def lower_name(self, view, info):
        """Name of the lower device of a macvlan, as a hint in messages."""
        if info['link_netnsid'] is None:
            return '%s in %s' % (view.name_of(info['link']) or 'ifindex %s' % info['link'], where(view.ref))
        if self.parent_in(view, info, self.host):
            return '%s in %s' % (self.views.get(self.host).name_of(info['link']) or 'ifindex %s' % info['link'], where(self.host))
        return 'its lower device (ifindex %s in another namespace)' % info['link']

    def facts(self, desired, found, pruned):
        """The facts plan_endpoints needs, as plain data (see MacvlanReconciler.read)."""
        children = self.children(desired)
        endpoints = {}
        for key, want in desired.items():
            fact = endpoints[key] = {'link': found[key]}
            if want['state'] != 'present':
                continue
            ref, pref = want['ref'], want['parent_ref']
            pview = self.views.get(pref)
            parent = pview.link(want['parent'])
            elsewhere = not self.same_ns(ref, pref)
            fact.update(parent=parent, parent_ns=self.inode(pref), elsewhere=elsewhere,
                        clash=elsewhere and pview.link(want['name']) is not None,
                        parent_lower=self.lower_name(pview, parent) if parent is not None and parent['kind'] == 'macvlan' else None,
                        children=children.get((self.inode(pref), parent['index']), []) if parent is not None else [])
        return {'endpoints': endpoints, 'pruned': pruned}


class MacvlanReconciler(Reconciler):
    kind = 'macvlan'

    def __init__(self, module, netlink, prune=False, expect=None):
        super().__init__(module, netlink)
        self.writer = Writer(netlink)
        self.expect = expect if expect is not None else Expect.inert()
        self.prune = prune
        self.facts = {'endpoints': {}, 'pruned': {}}
        self.unset = set()
        self.created = {}
        # Set after the kernel refused a name taken in the parent's namespace (older kernels, see rename_needed).
        self.quirks = {'rename_after_create': False}

    def read(self, desired):
        """The endpoints (and, with prune, the tagged macvlans of their namespaces that are not listed), and in
        ``self.facts``, for the planner: per endpoint the link found under its name; for one that should be present
        its parent's link record, the identity of the parent's namespace, whether the endpoint is made from another
        namespace than its own (and whether its name is taken there), where the parent's own lower device is when the
        parent is a macvlan, and the macvlans the kernel shows on the parent; and the prune candidates."""
        reader = _Reader(self.netlink, self.expect)
        current, found, listed = reader.endpoints(desired)
        pruned = reader.unlisted(desired, listed, current) if self.prune else {}
        self.facts = reader.facts(desired, found, pruned)
        return current

    def read_after(self, desired, keys):
        """The endpoints and prune candidates the plan changed, read again (the planner's facts are not needed)."""
        reader = _Reader(self.netlink, self.expect)
        current = reader.endpoints({key: desired[key] for key in keys if key in desired})[0]
        pruned = [self.facts['pruned'][key]['ref'] for key in keys if key in self.facts['pruned']]
        reader.unlisted(desired, {ref.path: reader.views.get(ref) for ref in pruned if ref.exists()}, current)
        return {key: current.get(key, ABSENT) for key in keys}

    def comparable(self, state):
        key = state['name'] if state['namespace'] is None else '%s/%s' % (state['namespace'], state['name'])
        return {k: v for k, v in state.items() if not (k == 'mac' and key in self.unset)}

    def plan(self, desired, current):
        actions, predicted = plan_endpoints(desired, current, self.facts)
        self.unset = {key for key, want in desired.items()
                      if want['state'] == 'present' and want['mac'] is None and want['mode'] != 'passthru'}
        return Plan.of_actions(actions, self.apply), predicted

    def apply(self, act):
        apply_action(act, self.writer, self.created, self.quirks)


def apply_action(act, writer, created, quirks):
    """Perform one action of plan_endpoints with the handles it needs: ``writer`` for the writes, ``created``
    ({(namespace path, link name): index}) for the endpoints this run creates, ``quirks`` for what the kernel taught
    this run ('rename_after_create': it refused a name taken in the parent's namespace, see rename_needed)."""
    if act['kind'] != 'macvlan_create':
        apply_link_action(act, writer, created)
        return
    ref, name = act['ref'], act['name']
    try:
        made = _create(act, writer, quirks)
    except LinuxnetError as err:
        if err.details.get('errno') != errno.EINVAL:
            raise
        raise LinuxnetError(err.msg + '. A macvlan in passthru mode allows no other on its parent: %s may already '
                            'carry one (or other macvlans, for mode passthru) in a namespace this task does not list'
                            % act['parent'], **err.details)
    index = created[(ref.path, name)] = writer.index(ref, made)
    if made == name:
        writer.link_set(ref, name, index, act['then_what'], **act['then'])
        return
    try:
        writer.link_set(ref, name, index, 'rename %s to %s, %s' % (made, name, act['then_what']), wait=True, ifname=name,
                        **act['then'])
    except LinuxnetError:
        writer.link_del(ref, made, index)  # leave no half-made link behind
        raise


def _create(act, writer, quirks):
    """Create the macvlan of a macvlan_create action; return the name it was created under."""
    ref, pref, name, settings = act['ref'], act['parent_ref'], act['name'], act['attrs']
    if not act['elsewhere']:
        writer.link_add(ref, name, act['what'], wait=True, **settings)
        return name
    fd = open_ns_fd(ref)
    try:
        if not (act['clash'] and quirks['rename_after_create']):
            try:
                writer.link_add(pref, name, act['what'], wait=True, net_ns_fd=fd, **settings)
                return name
            except LinuxnetError as err:
                if not rename_needed(err, act['clash']):
                    raise
                quirks['rename_after_create'] = True
        temp = temporary_name(act['key'])
        writer.link_add(pref, temp, act['what'] + ' (as %s: this kernel checks the name in %s)' % (temp, where(pref)),
                        wait=True, net_ns_fd=fd, **settings)
        return temp
    finally:
        os.close(fd)


def plan_endpoints(desired, current, facts):
    """The pure planner: (actions, predicted) from the desired endpoints, their current states as read() returns
    them, and the facts read() gathered (see MacvlanReconciler.read)."""
    actions, predicted = [], {}
    pruned, endpoints = facts['pruned'], facts['endpoints']
    for key, gone in sorted(pruned.items()):
        if current.get(key, ABSENT) is ABSENT:
            continue
        predicted[key] = ABSENT
        actions.append(action('link_del', key, 'delete %s (pruned: made by linuxnet.container, not listed)' % _label(gone['ref'], gone['name']),
                              ref=gone['ref'], name=gone['name'], index=gone['index']))
    going = {(gone['ref'].path, gone['name']) for gone in pruned.values()}
    going |= {(w['ref'].path, w['name']) for w in desired.values() if w['state'] == 'absent'}
    listed = {}
    for key, want in desired.items():
        if want['state'] == 'present':
            listed.setdefault((endpoints[key]['parent_ns'], want['parent']), []).append(want)
    for key, want in desired.items():
        have = current.get(key, ABSENT)
        fact = endpoints[key]
        if want['state'] == 'present':
            parent = _check_parent(want, fact, listed.get((fact['parent_ns'], want['parent']), []), going)
            predicted[key] = _plan_present(actions, key, want, have, fact, parent)
            continue
        predicted[key] = ABSENT
        if have is not ABSENT:
            actions.append(_removal(key, want, fact['link']))
    return actions, predicted


def _removal(key, want, info):
    """The action that removes a listed endpoint (``info``: the link under its name), which must be a macvlan."""
    if info['kind'] != 'macvlan':
        raise LinuxnetError('%s: %s in %s is a %s link, not a macvlan: not removed. Fix: remove it with the module that '
                            'manages it' % (want['where'], want['name'], where(want['ref']), info['kind'] or 'plain'))
    return action('link_del', key, 'delete %s' % _label(want['ref'], want['name']), ref=want['ref'], name=info['name'],
                  index=info['index'])


def _check_parent(want, fact, listed, going):
    """The parent's link record; raise when it cannot carry this endpoint (``listed``: the endpoints the task lists
    on the same parent, ``going``: the (namespace path, name) of the macvlans this plan removes)."""
    pref, parent = want['parent_ref'], want['parent']
    info = fact['parent']
    if info is None:
        raise LinuxnetError('%s: parent %s does not exist in %s. Fix: check parent and parent_namespace (the parent is '
                            'looked up in %s), or create the parent link first'
                            % (want['where'], parent, where(pref), where(pref)))
    if pref.path == want['ref'].path and parent == want['name']:
        raise LinuxnetError('%s: %s cannot be its own parent. Fix: name the host link the macvlan hangs off'
                            % (want['where'], want['name']))
    if info['hwtype'] != ARPHRD_ETHER:
        kind = info['hwtype'] if info['hwtype'] == 'loopback' else 'link type %s' % info['hwtype']
        raise LinuxnetError('%s: parent %s in %s is not an Ethernet device (%s); a macvlan needs one. Fix: name an Ethernet '
                            'link like eth0' % (want['where'], parent, where(pref), kind))
    if info['kind'] == 'macvlan':
        if info['mode'] == 'passthru':
            raise LinuxnetError('%s: parent %s in %s is itself a macvlan in passthru mode, which carries no other '
                                'macvlan. Fix: use another parent, or recreate %s in another mode'
                                % (want['where'], parent, where(pref), parent))
        raise LinuxnetError('%s: parent %s in %s is itself a macvlan (mode %s); the kernel would hang the endpoint off '
                            '%s instead. Fix: name that device as parent'
                            % (want['where'], parent, where(pref), info['mode'], fact['parent_lower']))
    if want['mtu'] is not None and info['mtu'] is not None and want['mtu'] > info['mtu']:
        raise LinuxnetError('%s: mtu %d is larger than the MTU of parent %s (%d); a macvlan cannot exceed its parent. '
                            'Fix: lower mtu or raise the parent\'s MTU first' % (want['where'], want['mtu'], parent, info['mtu']))
    # One passthru macvlan per parent, and none beside other macvlans: check what the kernel shows and the request.
    siblings = []  # (label, mode, where it was seen)
    for label, spot, mode in fact['children']:
        if spot != (want['ref'].path, want['name']) and spot not in going:
            siblings.append((label, mode, 'kernel'))
    known = {s[0] for s in siblings}
    for other in listed:
        label = object_key(other['ref'], other['name'])
        if other is not want and label not in known:
            siblings.append((label, other['mode'], 'listed'))
    if want['mode'] == 'passthru' and siblings:
        raise LinuxnetError('%s: mode passthru gives the whole parent to one macvlan, but parent %s in %s also carries %s. '
                            'Fix: use mode bridge, or another parent' % (want['where'], parent, where(pref),
                                                                         ', '.join(sorted(s[0] for s in siblings))))
    for label, mode, seen in siblings:
        if mode != 'passthru':
            continue
        if seen == 'kernel':
            raise LinuxnetError('%s: parent %s in %s already carries macvlan %s in passthru mode, which allows no other '
                                'macvlan on that parent. Fix: use another parent, or remove %s first'
                                % (want['where'], parent, where(pref), label, label))
        raise LinuxnetError('%s: endpoint %s is listed on the same parent %s in %s in passthru mode, which allows no '
                            'other macvlan on that parent. Fix: use another parent for one of them, or mode bridge for both'
                            % (want['where'], label, parent, where(pref)))
    return info


def _plan_present(actions, key, want, have, fact, parent):
    label = _label(want['ref'], want['name'])
    if have is not ABSENT and have['kind'] != 'macvlan':
        info = fact['link']
        kind = have['kind'] or 'plain'
        if info['hwtype'] == 'loopback':
            raise LinuxnetError('%s: %s is the loopback device of %s. Fix: pick another name'
                                % (want['where'], want['name'], where(want['ref'])))
        if not have['owned']:
            raise LinuxnetError('%s: %s already exists in %s and is a %s link not made by linuxnet.container. Fix: pick '
                                'another name or remove that link' % (want['where'], want['name'], where(want['ref']), kind))
        if not want['recreate']:
            raise LinuxnetError('%s: %s already exists in %s and is a %s link, not a macvlan; a link cannot change its '
                                'kind. Fix: set recreate: true to replace it (for a veth, its peer goes too), or remove it'
                                % (want['where'], want['name'], where(want['ref']), kind))
        actions.append(action('link_del', key, 'delete %s link %s in %s to create a macvlan in its place'
                              % (kind, want['name'], where(want['ref'])), ref=want['ref'], name=info['name'], index=info['index']))
        have = ABSENT
    if have is not ABSENT:
        wrong = identity_diff(want, have)
        if wrong and not want['recreate']:
            raise LinuxnetError(
                '%s: %s exists with %s; the kernel cannot change %s in place. Fix: set recreate: true to delete and create '
                'it again (its traffic stops briefly), or keep the current values'
                % (want['where'], label, '; '.join('%s %s (wanted %s)' % (f, have[f], want[f]) for f in wrong),
                   'these' if len(wrong) > 1 else 'this'))
        if wrong:
            info = fact['link']
            actions.append(action('link_del', key, 'delete %s to recreate it (%s changed)' % (label, ', '.join(wrong)),
                                  ref=want['ref'], name=info['name'], index=info['index']))
            have = ABSENT
    if have is ABSENT:
        return _plan_create(actions, key, want, fact, parent, label)
    return _plan_update(actions, key, want, have, fact, label)


def _plan_create(actions, key, want, fact, parent, label):
    ref, pref, name = want['ref'], want['parent_ref'], want['name']
    up = want['link_state'] == 'up'
    settings = {'kind': 'macvlan', 'link': parent['index'], 'macvlan_mode': want['mode']}
    if want['mac']:
        settings['address'] = want['mac']
    if want['mtu']:
        settings['mtu'] = want['mtu']
    details = ['mode %s' % want['mode']]
    if want['mac']:
        details.append('mac %s' % want['mac'])
    if want['mtu']:
        details.append('mtu %d' % want['mtu'])
    if not up:
        details.append('down')
    what = ('create macvlan in %s on parent %s' % (where(ref), want['parent']) if fact['elsewhere']
            else 'create macvlan on parent %s' % want['parent'])
    actions.append(action('macvlan_create', key, 'create %s on parent %s in %s, %s' % (label, want['parent'], where(pref), ', '.join(details)),
                          ref=ref, parent_ref=pref, name=name, parent=want['parent'], what=what, attrs=settings,
                          elsewhere=fact['elsewhere'], clash=fact['clash'], then_what='tag' + (' and bring up' if up else ''),
                          then=dict({'ifalias': TAG}, **({'state': 'up'} if up else {}))))
    for address in want['addresses'] or []:
        actions.append(action('addr', key, 'add address %s to %s' % (address, label), ref=ref, name=name, index=None,
                              command='add', address=address))
    for route in want['routes'] or []:
        actions.append(action('route_replace', key, 'add route %s to %s' % (format_route(route), label), ref=ref, name=name,
                              index=None, route=route))
    return {
        'name': name, 'namespace': _ns_label(ref), 'state': 'present', 'kind': 'macvlan', 'owned': True,
        'parent': want['parent'], 'parent_namespace': want['parent_namespace'], 'mode': want['mode'], 'up': up,
        'mtu': want['mtu'] or parent['mtu'], 'mac': parent['mac'] if want['mode'] == 'passthru' else want['mac'],
        'addresses': list(want['addresses'] or []), 'routes': list(want['routes'] or []),
    }


def _plan_update(actions, key, want, have, fact, label):
    ref, name = want['ref'], want['name']
    index = fact['link']['index']
    after = copy.deepcopy(have)
    if want['mode'] != have['mode']:
        mode = after['mode'] = want['mode']
        actions.append(action('link_set', key, 'set mode %s of %s' % (mode, label), ref=ref, name=name, index=index,
                              what='set mode %s' % mode, attrs={'kind': 'macvlan', 'macvlan_mode': mode}))
    up = want['link_state'] == 'up'
    actions.extend(link_attr_actions(key, label, (ref, name, index), after, mtu=want['mtu'], mac=want['mac'], up=up))
    actions.extend(address_actions(key, label, (ref, name, index), after, want['addresses'], want['purge_addresses'],
                                   want['routes']))
    if not up and have['up']:
        # Last: a link going down loses its IPv6 addresses and its routes.
        after['up'] = False
        after['routes'] = []
        after['addresses'] = [a for a in after['addresses'] if ':' not in a]
        actions.append(action('link_set', key, 'bring down %s' % label, ref=ref, name=name, index=index, what='bring down',
                              attrs={'state': 'down'}))
    return after


def parse_endpoint(raw, position, defaults, expect=None):
    """Validate and normalise one item of ``endpoints``; raise LinuxnetError naming it and the fix.

    ``expect`` (check mode): namespaces an earlier task of the run creates count as existing.
    """
    expect = expect if expect is not None else Expect.inert()
    obj = 'endpoints[%d]' % position
    name = raw.get('name')
    problem = validate_ifname(name)
    if problem:
        raise LinuxnetError('%s: %s' % (obj, problem))
    state = raw.get('state') or defaults['state']
    ref = parse_ns(raw.get('namespace'), obj)
    obj = '%s (macvlan %s)' % (obj, object_key(ref, name))
    parent_ref = parse_ns(raw.get('parent_namespace'), obj + ': parent_namespace')
    want = {
        'name': name, 'ref': ref, 'parent_ref': parent_ref, 'parent_namespace': _ns_label(parent_ref), 'state': state,
        'where': obj, 'parent': raw.get('parent'), 'mode': raw.get('mode') or 'bridge', 'mtu': raw.get('mtu'),
        'link_state': raw.get('link_state') or 'up', 'purge_addresses': bool(raw.get('purge_addresses')),
        'recreate': raw['recreate'] if raw.get('recreate') is not None else defaults['recreate'],
    }
    if want['mode'] not in MODES:
        raise LinuxnetError('%s: mode %s is not a macvlan mode. Fix: use one of %s' % (obj, want['mode'], ', '.join(MODES)))
    want['addresses'] = parse_addresses(raw.get('addresses'), obj) if raw.get('addresses') is not None else None
    want['routes'] = parse_routes(raw.get('routes'), obj) if raw.get('routes') is not None else None
    if state == 'absent':
        want['mac'] = None
        return want
    if not want['parent']:
        raise LinuxnetError('%s: parent is required for an endpoint that should be present. Fix: set parent (the host link, '
                            'like eth0)' % obj)
    problem = validate_ifname(want['parent'])
    if problem:
        raise LinuxnetError('%s: parent %s' % (obj, problem))
    if want['mtu'] is not None and not 68 <= want['mtu'] <= 65535:
        raise LinuxnetError('%s: mtu %d is out of range. Fix: use 68 to 65535' % (obj, want['mtu']))
    mac = raw.get('mac')
    if mac is not None and raw.get('mac_from_ip'):
        raise LinuxnetError('%s: sets both mac and mac_from_ip. Fix: keep one' % obj)
    if want['mode'] == 'passthru' and (mac is not None or raw.get('mac_from_ip')):
        raise LinuxnetError('%s: mode passthru gives the endpoint the MAC address of its parent; mac and mac_from_ip do '
                            'not apply. Fix: drop them, or use mode bridge' % obj)
    if mac is not None:
        try:
            mac = normalize_mac(mac)
        except ValueError as err:
            raise LinuxnetError('%s: mac %s' % (obj, err))
    elif raw.get('mac_from_ip'):
        ipv4 = [x for x in want['addresses'] or [] if ':' not in x]
        if not ipv4:
            raise LinuxnetError('%s: mac_from_ip needs an IPv4 address (wrong address family?). Fix: add an IPv4 address '
                                'or set mac' % obj)
        mac = docker_mac(ipv4[0])
    want['mac'] = mac
    if want['routes'] and want['link_state'] == 'down':
        raise LinuxnetError('%s: routes need the link up (the kernel drops the routes of a link that is down). Fix: set '
                            'link_state: up or drop routes' % obj)
    for nsref, what in ((ref, 'network namespace %s of %s' % (ref.label, name)),
                        (parent_ref, 'parent_namespace %s' % parent_ref.label)):
        if not expect.exists(nsref):
            raise LinuxnetError('%s: %s does not exist. Fix: create it first (linuxnet.container.netns) or check the name, '
                                'path or PID%s' % (obj, what, expect.hint('namespaces')))
    return want


def desired_state(params, expect=None):
    desired = {}
    seen = {}
    defaults = {'state': params['state'], 'recreate': params['recreate']}
    for position, raw in enumerate(params['endpoints']):
        want = parse_endpoint(raw, position, defaults, expect)
        spot = (want['ref'].path, want['name'])
        if spot in seen:
            raise LinuxnetError('%s is listed twice (also as %s). Fix: list each endpoint once' % (want['where'], seen[spot]))
        seen[spot] = 'endpoints[%d]' % position
        key = object_key(want['ref'], want['name'])
        want['key'] = key
        desired[key] = want
    return desired


def module_spec():
    route_spec = dict(type='list', elements='dict', options=dict(dst=dict(type='str', required=True), gateway=dict(type='str')))
    endpoint_spec = dict(
        name=dict(type='str', required=True),
        namespace=dict(type='str'),
        parent=dict(type='str'),
        parent_namespace=dict(type='str'),
        mode=dict(type='str', choices=list(MODES), default='bridge'),
        mac=dict(type='str'),
        mac_from_ip=dict(type='bool', default=False),
        addresses=dict(type='list', elements='str'),
        routes=route_spec,
        mtu=dict(type='int'),
        link_state=dict(type='str', choices=['up', 'down'], default='up'),
        purge_addresses=dict(type='bool', default=False),
        state=dict(type='str', choices=['present', 'absent']),
        recreate=dict(type='bool'),
    )
    return dict(argument_spec=dict(
        endpoints=dict(type='list', elements='dict', required=True, options=endpoint_spec),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        recreate=dict(type='bool', default=False),
        prune=dict(type='bool', default=False),
        expect=expect_spec(),
    ))


def run(module, netlink):
    raise_fd_limit()
    expect = parse_expect(module.params['expect'], module.check_mode)
    desired = desired_state(module.params, expect)
    reconciler = MacvlanReconciler(module, netlink, prune=module.params['prune'], expect=expect)
    result = reconciler.run(desired)
    after = result.pop('after')
    result.pop('before')
    result['endpoints'] = [after.get(key) or {'name': want['name'], 'state': 'absent', 'namespace': _ns_label(want['ref'])}
                           for key, want in desired.items()]
    result['removed'] = [{'name': gone['name'], 'namespace': _ns_label(gone['ref'])}
                         for dummy, gone in sorted(reconciler.facts['pruned'].items())]
    result['netlink_writes'] = reconciler.writer.count
    return result
