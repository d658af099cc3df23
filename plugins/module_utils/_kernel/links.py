# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Links, addresses and routes of one namespace, read with one dump each, and the writes that change them.

Private to the collection. A :class:`NsView` reads a namespace lazily: the first
lookup of a link dumps every link of the namespace once, the first address or
route question dumps addresses or routes once. Lookups afterwards are dict
accesses, so reconciling hundreds of objects costs a handful of dumps per
namespace, never one per object. A :class:`Writer` performs every change and
counts them, so a run can prove it wrote nothing.
"""

from __future__ import annotations

import ipaddress
import os
import resource
import socket
import struct

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError, netlink_errors
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.fanout import fan_out
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._common.action import action
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import (
    TAG,
    normalize_address,
    normalize_interface_address,
    normalize_network,
)

IFF_UP = 0x1
IFA_F_NODAD = 0x02
HOME_NS = '/proc/self/ns/net'
NSID_NOT_ASSIGNED = (None, -1, 4294967295)  # RTM_GETNSID's answers for a namespace given no id yet
MAIN_TABLE = 254
# Route protocols the kernel or autoconfiguration add by themselves: never reported, never touched.
_AUTO_PROTOCOLS = (2, 9, 11)  # kernel, ra, zebra-less redirect
_LINK_LOCAL_V6 = ipaddress.ip_network('fe80::/10')
_MULTICAST_V6 = ipaddress.ip_network('ff00::/8')


def ns_label(ref):
    """How messages and keys name a namespace: 'host', a name, a path or pid:N."""
    return ref.label


def object_key(ref, name):
    """Key of a link-like object: its name in the host namespace, NAMESPACE/NAME elsewhere."""
    return name if ref.is_host else '%s/%s' % (ref.label, name)


def where(ref):
    return 'the host namespace' if ref.is_host else 'network namespace %s' % ref.label


def raise_fd_limit():
    """Many namespaces mean many sockets (about four descriptors each): lift the soft limit to the hard one."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard == resource.RLIM_INFINITY or hard > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 1 << 20, hard))
    except (ValueError, OSError):
        pass


def nla_slots(msg):
    """{NLA name: pyroute2 nla_slot} of a decoded message, first of each name. One pass over the attributes, each
    value decoded when asked for: msg.get() scans every attribute of a link (about 45) per name it looks up."""
    slots = {}
    for slot in msg['attrs']:
        slots.setdefault(slot.name, slot)
    return slots


def _value(slots, name):
    slot = slots.get(name)
    return None if slot is None else slot.value


def _link_info(msg):
    attrs = nla_slots(msg)
    linkinfo = _value(attrs, 'IFLA_LINKINFO')
    info_attrs = nla_slots(linkinfo) if linkinfo is not None else {}
    kind = _value(info_attrs, 'IFLA_INFO_KIND')
    info = {
        'index': msg['index'],
        'name': _value(attrs, 'IFLA_IFNAME'),
        'kind': kind,
        'mac': (_value(attrs, 'IFLA_ADDRESS') or '').lower() or None,
        'mtu': _value(attrs, 'IFLA_MTU'),
        'up': bool(msg['flags'] & IFF_UP),
        'alias': _value(attrs, 'IFLA_IFALIAS'),
        'master_index': _value(attrs, 'IFLA_MASTER') or None,
        'link': _value(attrs, 'IFLA_LINK'),
        'link_netnsid': _value(attrs, 'IFLA_LINK_NETNSID'),
    }
    # Hairpin mode of a bridge port (IFLA_BRPORT_MODE in the bridge_slave data the dump carries); None when the
    # link is not a bridge port.
    if _value(info_attrs, 'IFLA_INFO_SLAVE_KIND') == 'bridge':
        slave = _value(info_attrs, 'IFLA_INFO_SLAVE_DATA')
        info['hairpin'] = bool(slave is not None and slave.get_attr('IFLA_BRPORT_MODE'))
    else:
        info['hairpin'] = None
    if kind == 'bridge':
        data = _value(info_attrs, 'IFLA_INFO_DATA')
        info['stp'] = bool(data is not None and data.get_attr('IFLA_BR_STP_STATE'))
        info['vlan_filtering'] = bool(data is not None and data.get_attr('IFLA_BR_VLAN_FILTERING'))
    return info


def _route_info(msg):
    family = msg['family']
    dst = msg.get('dst')
    if dst is None:
        dst = '0.0.0.0/0' if family == socket.AF_INET else '::/0'
    else:
        dst = normalize_network('%s/%d' % (dst, msg['dst_len']), strict=False)
    gateway = msg.get('gateway')
    return {'dst': dst, 'gateway': normalize_address(gateway) if gateway else None}


def route_sort_key(route):
    return (route['dst'], route['gateway'] or '')


class NsView:
    """What one namespace holds, each kind read with a single dump on first use.

    With ``expect`` (check mode, see _expect.Expect) a namespace an earlier task creates is read as empty without
    being opened, and bridges an earlier task creates appear as placeholder records.
    """

    def __init__(self, netlink, ref, expect=None):
        self.netlink = netlink
        self.ref = ref
        self.expect = expect
        self._links = None
        self._by_index = None
        self._addrs = None
        self._routes = None

    @property
    def virtual(self):
        """True for a namespace that does not exist yet but an earlier task of this run creates (check mode)."""
        return self.expect is not None and self.expect.virtual(self.ref)

    def _link_record(self, msg):
        return _link_info(msg)

    def _load_links(self):
        infos = []
        if not self.virtual:
            with netlink_errors(where(self.ref), 'list links'):
                infos = [self._link_record(msg) for msg in self.netlink.channel(self.ref).link('dump')]
        self._fill_links(infos)

    def _fill_links(self, infos):
        self._links, self._by_index = {}, {}
        for info in infos:
            self._links[info['name']] = info
            self._by_index[info['index']] = info
        for info in self.expect.placeholders(self.ref, self._links) if self.expect is not None else ():
            self._links[info['name']] = info
            self._by_index[info['index']] = info

    def snapshot(self, names):
        """What this view reads, as plain data for Views.prefetch: the links, and the addresses and routes too when
        one of ``names`` is among them (else None: read on first use, which a fresh namespace never sees)."""
        if self._links is None:
            self._load_links()
        if any(name in self._links for name in names):
            self.addresses(None)
            self.routes(None)
        return list(self._links.values()), self._addrs, self._routes

    def link(self, name):
        if self._links is None:
            self._load_links()
        return self._links.get(name)

    def by_index(self, index):
        if self._by_index is None:
            self._load_links()
        return self._by_index.get(index)

    def name_of(self, index):
        info = self.by_index(index) if index else None
        return info['name'] if info else None

    def ports_of(self, index):
        if self._links is None:
            self._load_links()
        return sorted(info['name'] for info in self._links.values() if info['master_index'] == index)

    def addresses(self, index):
        """Addresses of a link, normalised and sorted; IPv6 link-local ones (the kernel's own) left out."""
        if self._addrs is None:
            self._addrs = {}
            msgs = []
            if not self.virtual:
                with netlink_errors(where(self.ref), 'list addresses'):
                    msgs = self.netlink.channel(self.ref).addr('dump')
            for msg in msgs:
                text = '%s/%d' % (msg.get('address'), msg['prefixlen'])
                iface = ipaddress.ip_interface(text)
                if iface.version == 6 and iface.ip in _LINK_LOCAL_V6:
                    continue
                self._addrs.setdefault(msg['index'], []).append(normalize_interface_address(text))
        return sorted(self._addrs.get(index, []))

    def routes(self, index):
        """Routes of the main table that leave through a link, except those the kernel made itself."""
        if self._routes is None:
            self._routes = {}
            msgs = []
            if not self.virtual:
                with netlink_errors(where(self.ref), 'list routes'):
                    msgs = self.netlink.channel(self.ref).route('dump', family=socket.AF_UNSPEC, table=MAIN_TABLE)
            for msg in msgs:
                if msg.get('table') != MAIN_TABLE or msg['proto'] in _AUTO_PROTOCOLS or msg.get('oif') is None:
                    continue
                route = _route_info(msg)
                net = ipaddress.ip_network(route['dst'])
                if net.version == 6 and net.subnet_of(_MULTICAST_V6):
                    continue
                self._routes.setdefault(msg.get('oif'), []).append(route)
        return sorted(self._routes.get(index, []), key=route_sort_key)


class Views:
    """One NsView per namespace for one read of the kernel (``expect``: what earlier tasks create, check mode)."""

    view_class = NsView

    def __init__(self, netlink, expect=None):
        self.netlink = netlink
        self.expect = expect
        self._views = {}

    def get(self, ref):
        view = self._views.get(ref.path)
        if view is None:
            view = self._views[ref.path] = self.view_class(self.netlink, ref, self.expect)
        return view

    def prefetch(self, ends):
        """Read the namespaces of these (namespace, link name) ends now, shared between the CPUs
        (_kernel/fanout.py): a module that looks at hundreds of namespaces spends its time decoding their dumps."""
        names = {}
        for ref, name in ends:
            names.setdefault(ref.path, (ref, []))[1].append(name)
        todo = []
        for ref, wanted in names.values():
            view = self.get(ref)
            if view._links is None and not view.virtual and ref.exists():
                todo.append((view, wanted))
        view_class = self.view_class
        # The host's namespace holds a link per container: reading it costs about as much as a third as many
        # container namespaces (measured at 500: read in 0.47 s with that weight, 0.62 s weighing each link as one).
        snapshots = fan_out(self.netlink, lambda netlink, job: view_class(netlink, job[0].ref).snapshot(job[1]), todo,
                            cost=lambda job: max(1.0, len(job[1]) / 3.0))
        for (view, _wanted), (infos, addrs, routes) in zip(todo, snapshots):
            view._fill_links(infos)
            view._addrs, view._routes = addrs, routes


class Writer:
    """Every change to links goes through here: one place that names the object on error and counts writes.

    Link, address and route writes are pipelined on the namespace's Channel (see _kernel/netlink.Channel): a call returns
    once the kernel executed the request, and its error, if any, is raised by :meth:`flush` (the Reconciler
    flushes after applying a plan) or by the next request that waits for an answer.
    """

    def __init__(self, netlink):
        self.netlink = netlink
        self.count = 0
        self._tables = {}  # namespace path -> {link name: (index, IFLA_LINK)}, one dump, until a link is made or removed

    def _call(self, ref, obj, action, method, command, wait=False, **kwargs):
        self.count += 1
        label = '%s in %s' % (obj, where(ref))
        if method in ('link', 'addr', 'route'):
            self.netlink.channel(ref).write(method, command, kwargs, label, action)
            if wait:
                self.netlink.flush()
            return None
        with netlink_errors(label, action):
            return getattr(self.netlink.ipr(ref), method)(command, **kwargs)

    def flush(self):
        self.netlink.flush()

    def index(self, ref, name):
        """Index of a link just created (a read: not counted)."""
        with netlink_errors('%s in %s' % (name, where(ref)), 'look up'):
            return self.netlink.channel(ref).get('link', {'ifname': name})[0]['index']

    def link_add(self, ref, name, action, wait=False, **kwargs):
        """Create a link; with ``wait``, its error (if any) is raised here rather than by the next flush."""
        self._tables.clear()
        return self._call(ref, name, action, 'link', 'add', wait=wait, ifname=name, **kwargs)

    def indexes(self, ref, name):
        """(index, IFLA_LINK) of a link this run created: for a veth, IFLA_LINK is its peer's index in the peer's
        namespace. One link dump per namespace serves every lookup until the next create or delete, so a plan that
        creates hundreds of pairs first and sets them up afterwards (phase 1) reads the indexes once."""
        table = self._tables.get(ref.path)
        if table is None:
            with netlink_errors(where(ref), 'list links'):
                msgs = self.netlink.channel(ref).link('dump')
            table = self._tables[ref.path] = {}
            for msg in msgs:
                attrs = nla_slots(msg)
                table[_value(attrs, 'IFLA_IFNAME')] = (msg['index'], _value(attrs, 'IFLA_LINK'))
        found = table.get(name)
        if found is None:
            raise LinuxnetError('%s in %s: not found right after it was created: something removed it. Fix: run the task '
                                'again' % (name, where(ref)))
        return found

    def link_set(self, ref, name, index, action, wait=False, **kwargs):
        """Change a link; with ``wait``, its error (if any) is raised here rather than by the next flush."""
        return self._call(ref, name, action, 'link', 'set', wait=wait, index=index, **kwargs)

    def brport_set(self, ref, name, index, action, **kwargs):
        """Bridge port settings (IFLA_INFO_SLAVE_DATA of kind bridge_slave), like mode=1 for hairpin on."""
        return self._call(ref, name, action, 'link', 'set', index=index, kind='bridge_slave', **kwargs)

    def link_del(self, ref, name, index):
        self._tables.clear()
        return self._call(ref, name, 'delete', 'link', 'del', index=index)

    def addr(self, ref, name, index, command, address):
        iface = ipaddress.ip_interface(address)
        kwargs = {'index': index, 'address': str(iface.ip), 'prefixlen': iface.network.prefixlen}
        if iface.version == 4 and iface.network.prefixlen < 31:
            kwargs['broadcast'] = str(iface.network.broadcast_address)
        elif iface.version == 6 and command != 'del':
            kwargs['flags'] = IFA_F_NODAD  # usable at once, as Docker adds its endpoints' addresses
        action = '%s address %s' % ({'add': 'add', 'replace': 're-add'}.get(command, 'remove'), address)
        return self._call(ref, name, action, 'addr', command, **kwargs)

    def route_replace(self, ref, name, index, route):
        kwargs = {'dst': route['dst'], 'oif': index, 'table': MAIN_TABLE}
        if route['gateway']:
            kwargs['gateway'] = route['gateway']
        else:
            kwargs['scope'] = 253  # link
        return self._call(ref, name, 'add route %s' % format_route(route), 'route', 'replace', **kwargs)


ETH_P_ARP = 0x0806


def arp_announcement(mac, address):
    """An unsolicited ARP request (sender and target the same IPv4 address) from ``mac``, as an Ethernet frame."""
    hw = bytes.fromhex(mac.replace(':', ''))
    ip = ipaddress.IPv4Address(address).packed
    return (b'\xff' * 6 + hw + struct.pack('!H', ETH_P_ARP)
            + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + hw + ip + b'\x00' * 6 + ip)


def announce(netlink, ref, name, mac, addresses):
    """Tell the link's neighbours its MAC for its IPv4 addresses (what Docker 28 sends for a new endpoint), so
    that their ARP caches follow a changed MAC or a moved address at once instead of after their timeouts.
    Best effort: a link that cannot send (down, no carrier) is left to the neighbours' own probes."""
    frames = [arp_announcement(mac, address.split('/')[0]) for address in addresses if ':' not in address]
    if not frames or not mac:
        return
    try:
        with netlink.inside(ref):
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
        try:
            sock.bind((name, ETH_P_ARP))
            for frame in frames:
                sock.send(frame)
        finally:
            sock.close()
    except OSError:
        pass


def link_attr_actions(key, label, target, now, mtu=None, mac=None, master=None, master_index=None, stp=None,
                      vlan_filtering=None, up=False):
    """The one link-attribute planner of bridge, veth and macvlan (pure): compare the wanted attributes with ``now``
    (a link's state, updated in place to the prediction) and return the :func:`action` that sets what differs, as
    one ``link_set`` (or none). None wants nothing; ``master`` is a bridge name and ``master_index`` its index (None:
    a bridge this run creates, resolved when applied); ``up`` brings a link that is down up in the same request
    (bringing one down is planned last, by the caller: the link loses its IPv6 addresses and routes)."""
    words, setting = [], {}
    if mtu is not None and mtu != now['mtu']:
        words.append('mtu %d' % mtu)
        setting['mtu'] = now['mtu'] = mtu
    if mac is not None and mac != now['mac']:
        words.append('mac %s' % mac)
        setting['address'] = now['mac'] = mac
    if master is not None and master != now['master']:
        words.append('master %s' % master)
        setting['master'] = master_index
        now['master'] = master
    for field, attr, value in (('stp', 'br_stp_state', stp), ('vlan_filtering', 'br_vlan_filtering', vlan_filtering)):
        if value is not None and value != now[field]:
            words.append('%s %s' % (field, 'on' if value else 'off'))
            setting['kind'] = 'bridge'
            setting[attr] = int(value)
            now[field] = value
    if up and not now['up']:
        words.append('up')
        setting['state'] = 'up'
        now['up'] = True
    if not setting:
        return []
    ref, name, index = target
    return [action('link_set', key, 'set %s of %s' % (', '.join(words), label), ref=ref, name=name, index=index,
                   what='set ' + ', '.join(words), attrs=setting)]


def address_actions(key, label, target, now, wanted, purge, routes=None, phase=0):
    """The actions for the addresses (and, with ``routes``, the routes) of a link that exists, predicting them in
    ``now`` (pure).

    ``target`` is (namespace ref, link name, index). Removals go first: an address added while one of its subnet is
    still there becomes that one's secondary, and the kernel deletes secondaries with their primary
    (promote_secondaries is off by default), so changing a container's address would lose both. An address kept
    in the subnet of one removed may be such a secondary: it is put back (a replace, which changes nothing where
    it survived). When a link loses its last IPv4 address the kernel flushes its IPv4 routes: the wanted ones are
    added again.
    """
    ref, name, index = target
    out = []

    def addr(command, address, description):
        out.append(action('addr', key, description, phase, ref=ref, name=name, index=index, command=command, address=address))
    wanted = wanted or []
    extra = [x for x in now['addresses'] if x not in wanted] if purge else []
    for address in extra:
        addr('del', address, 'remove address %s from %s (not listed)' % (address, label))
    kept = [x for x in now['addresses'] if x not in extra]
    gone = [ipaddress.ip_interface(x).network for x in extra]
    for address in kept:
        if any(ipaddress.ip_interface(address) in net for net in gone):
            addr('replace', address, 're-add address %s to %s (it may have been the secondary of one removed)' % (address, label))
    for address in wanted:
        if address not in now['addresses']:
            addr('add', address, 'add address %s to %s' % (address, label))
    now['addresses'] = sorted(set(kept) | set(wanted))
    if routes is None and 'routes' not in now:
        return out
    flushed = any(':' not in x for x in extra) and not any(':' not in x for x in kept)
    current = [r for r in now['routes'] if ipaddress.ip_network(r['dst']).version == 6] if flushed else list(now['routes'])
    for route in routes or []:
        if route not in current:
            out.append(action('route_replace', key, 'add route %s to %s' % (format_route(route), label), phase,
                              ref=ref, name=name, index=index, route=route))
            current = [x for x in current if x['dst'] != route['dst']] + [route]
    now['routes'] = sorted(current, key=lambda r: (r['dst'], r['gateway'] or ''))
    return out


def apply_link_action(act, writer, created=None, netlink=None):
    """Perform one link action of a pure plan with the handles it needs: ``writer`` for the writes, ``created``
    ({(namespace path, link name): index}) for the links this run creates, whose index an action planned before
    they existed leaves None (and a master given by name in ``master_created``), ``netlink`` for announcements."""
    kind, ref, name = act['kind'], act['ref'], act['name']
    if kind == 'announce':
        announce(netlink, ref, name, act['mac'], act['addresses'])
        return
    if kind == 'link_create':
        writer.link_add(ref, name, act['what'], **act['attrs'])
        index = created[(ref.path, name)] = writer.index(ref, name)
        writer.link_set(ref, name, index, act['then_what'], **act['then'])
        return
    index = act['index'] if act['index'] is not None else created[(ref.path, name)]
    if kind == 'link_del':
        writer.link_del(ref, name, index)
    elif kind == 'link_set':
        attrs = act['attrs']
        if act.get('master_created'):
            attrs = dict(attrs, master=created[(ref.path, act['master_created'])])
        writer.link_set(ref, name, index, act['what'], **attrs)
    elif kind == 'brport_set':
        writer.brport_set(ref, name, index, act['what'], **act['attrs'])
    elif kind == 'addr':
        writer.addr(ref, name, index, act['command'], act['address'])
    elif kind == 'route_replace':
        writer.route_replace(ref, name, index, act['route'])
    else:
        raise ValueError('no link action %r' % kind)


def open_ns_fd(ref):
    """A file descriptor of a namespace (the host's too), for creating a link directly inside it."""
    try:
        return os.open(ref.path or HOME_NS, os.O_RDONLY)
    except FileNotFoundError:
        raise LinuxnetError('network namespace %s does not exist (no %s). Fix: create it first '
                            '(linuxnet.container.netns) or check the name/path' % (ref.label, ref.path))


def namespace_id(netlink, ref, other):
    """The id namespace ``ref`` gives namespace ``other`` (the IFLA_LINK_NETNSID of its links whose other end is
    there), or None when it has given it none."""
    fd = open_ns_fd(other)
    try:
        with netlink_errors(where(ref), 'look up the id of %s' % where(other)):
            reply = netlink.channel(ref).get_netnsid(fd=fd)
    finally:
        os.close(fd)
    nsid = reply.get('nsid') if reply else None
    return None if nsid in NSID_NOT_ASSIGNED else nsid


def format_route(route):
    dst = route['dst']
    if dst in ('0.0.0.0/0', '::/0'):
        dst = 'default'
    return dst + (' via %s' % route['gateway'] if route['gateway'] else '')


def parse_addresses(values, obj):
    """Validate and normalise a list of addresses with prefix; duplicates are an error."""
    out = []
    for value in values or []:
        try:
            norm = normalize_interface_address(value)
        except ValueError as err:
            raise LinuxnetError('%s: %s. Fix: write addresses as ADDRESS/PREFIX' % (obj, err))
        if norm in out:
            raise LinuxnetError('%s: address %s is listed twice' % (obj, norm))
        out.append(norm)
    return sorted(out)


def parse_routes(values, obj):
    """[{dst: default|CIDR, gateway: IP}] -> normalised dicts; the families must agree."""
    out = []
    for value in values or []:
        if not isinstance(value, dict) or not value.get('dst'):
            raise LinuxnetError('%s: a route needs dst (default or a CIDR), got %r' % (obj, value))
        gateway = value.get('gateway')
        try:
            gateway = normalize_address(gateway) if gateway else None
        except ValueError as err:
            raise LinuxnetError('%s: route %s: gateway %s' % (obj, value.get('dst'), err))
        dst = str(value['dst']).strip()
        if dst == 'default':
            dst = '::/0' if gateway and ':' in gateway else '0.0.0.0/0'
        else:
            try:
                dst = normalize_network(dst)
            except ValueError as err:
                raise LinuxnetError('%s: route: %s' % (obj, err))
        if gateway and ipaddress.ip_network(dst).version != ipaddress.ip_address(gateway).version:
            raise LinuxnetError('%s: route %s via %s mixes IPv4 and IPv6 (wrong address family). Fix: use a gateway '
                                'of the same family as the destination' % (obj, dst, gateway))
        route = {'dst': dst, 'gateway': gateway}
        if any(r['dst'] == dst for r in out):
            raise LinuxnetError('%s: route to %s is listed twice' % (obj, dst))
        out.append(route)
    return sorted(out, key=route_sort_key)


def parse_ns(spec, obj):
    try:
        return NamespaceRef(spec)
    except LinuxnetError as err:
        raise LinuxnetError('%s: %s' % (obj, err.msg))


def owned(info):
    return info is not None and info.get('alias') == TAG
