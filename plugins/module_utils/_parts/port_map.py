# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""linuxnet.container.port_map: its reconciler, module_spec() and run() (see _converge/module.run_impl)."""

from __future__ import annotations

import ipaddress
import os
import socket


from ansible_collections.linuxnet.container.plugins.module_utils._kernel import holders, nft
from ansible_collections.linuxnet.container.plugins.module_utils._converge.expect import argument_spec as expect_spec, parse_expect
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError, netlink_errors
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._common.ports import (
    ANY,
    ANY6,
    LOOPBACK6,
    PortError,
    allow_from_elements,
    allow_lines,
    build_maps,
    docker_port_lines,
    expand,
    family,
    host_port,
    listener_conflicts,
    parse_allow,
    parse_publish,
    proxied,
    sources_for,
)
from ansible_collections.linuxnet.container.plugins.module_utils._parts import port_proxy
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT, Plan, TableReconciler

FAMILY = 'ip'
TABLE = 'linuxnet_ports'
KEY = 'nftables'
# Publications over IPv6: a table of the same name and layout in the ip6 family, made only while there are some.
FAMILY6 = 'ip6'
KEY6 = 'nftables6'
LOOPBACK = ipaddress.ip_network('127.0.0.0/8')


def _meta(key):
    return {'meta': {'key': key}}


_L4 = [_meta('l4proto'), {'payload': {'protocol': 'th', 'field': 'dport'}}]
_ANY_KEY = {'concat': _L4}
_LOCAL = {'match': {'op': '==', 'left': {'fib': {'result': 'type', 'flags': ['daddr']}}, 'right': 'local'}}
_DNATTED = {'match': {'op': 'in', 'left': {'ct': {'key': 'status'}}, 'right': 'dnat'}}


def _payload(proto, field):
    return {'payload': {'protocol': proto, 'field': field}}


def _dnat(key, prefix, proto='ip'):
    # nft 1.0's JSON parser takes no concatenated map data, so address and port come from two maps.
    return {'dnat': {'family': proto, 'addr': {'map': {'key': key, 'data': '@%s_addr' % prefix}},
                     'port': {'map': {'key': key, 'data': '@%s_port' % prefix}}}}


def _maps_of(addr):
    """name -> (key type, data type (None: a set), flags) of the table whose addresses are of type ``addr``."""
    return {
        'any_addr': (['inet_proto', 'inet_service'], addr, []),
        'any_port': (['inet_proto', 'inet_service'], 'inet_service', []),
        'addr_addr': ([addr, 'inet_proto', 'inet_service'], addr, []),
        'addr_port': ([addr, 'inet_proto', 'inet_service'], 'inet_service', []),
        'hairpin': ([addr, addr], None, []),
        # Source allow-lists: the keys that have one, and one element per (source network, key).
        'restricted_any': (['inet_proto', 'inet_service'], None, []),
        'restricted_addr': ([addr, 'inet_proto', 'inet_service'], None, []),
        'allow_any': ([addr, 'inet_proto', 'inet_service'], None, ['interval']),
        'allow_addr': ([addr, addr, 'inet_proto', 'inet_service'], None, ['interval']),
    }


MAPS = _maps_of('ipv4_addr')
MAPS6 = _maps_of('ipv6_addr')
CHAINS = {
    'prerouting': {'type': 'nat', 'hook': 'prerouting', 'prio': -100, 'policy': 'accept'},
    'output': {'type': 'nat', 'hook': 'output', 'prio': -100, 'policy': 'accept'},
    'postrouting': {'type': 'nat', 'hook': 'postrouting', 'prio': 100, 'policy': 'accept'},
}


def _not_allowed(key, restricted, allowed, saddr):
    """A publication with an allow-list (its key in ``restricted``) and a source not in it: no DNAT here."""
    return [{'match': {'op': '==', 'left': key, 'right': '@' + restricted}},
            {'match': {'op': '!=', 'left': {'concat': [saddr] + key['concat']}, 'right': '@' + allowed}},
            {'return': None}]


def _rules_of(proto):
    """The rules of the table of family ``proto`` (ip, ip6); IPv4's adds those of its 127.0.0.0/8 publications."""
    saddr, daddr = _payload(proto, 'saddr'), _payload(proto, 'daddr')
    addr_key = {'concat': [daddr] + _L4}
    loopback = {'prefix': {'addr': '127.0.0.0', 'len': 8}}
    rules = [
        # Packets from the network for 127.0.0.0/8 are never DNATed: a loopback publication stays local (moby#45610).
        ('prerouting', 'no-remote-loopback', [{'match': {'op': '==', 'left': daddr, 'right': loopback}}, {'return': None}]),
        # Allow-lists: a source not listed for a restricted port is not DNATed, and goes on to the host's own input
        # chain as if the port were not published. Only in prerouting: the host itself (output) is always let in.
        ('prerouting', 'allow-addr', _not_allowed(addr_key, 'restricted_addr', 'allow_addr', saddr)),
        ('prerouting', 'allow-any', _not_allowed(_ANY_KEY, 'restricted_any', 'allow_any', saddr)),
        ('prerouting', 'dnat-addr', [_LOCAL, _dnat(addr_key, 'addr', proto)]),
        ('prerouting', 'dnat-any', [_LOCAL, _dnat(_ANY_KEY, 'any', proto)]),
        ('output', 'dnat-addr', [_LOCAL, _dnat(addr_key, 'addr', proto)]),
        ('output', 'dnat-any', [_LOCAL, _dnat(_ANY_KEY, 'any', proto)]),
        # From the host's own 127.0.0.1 to a container: the container must see a routable source.
        ('postrouting', 'localhost-masquerade', [_DNATTED, {'match': {'op': '==', 'left': saddr, 'right': loopback}},
                                                 {'masquerade': None}]),
        # A container reaching its own published port through the host's address (Docker's hairpin MASQUERADE).
        ('postrouting', 'hairpin', [_DNATTED, {'match': {'op': '==', 'left': {'concat': [saddr, daddr]}, 'right': '@hairpin'}},
                                    {'masquerade': None}]),
    ]
    if proto == 'ip6':  # [::1] is not NATed (IPv6 has no route_localnet): port_proxy serves it
        rules = [rule for rule in rules if rule[1] not in ('no-remote-loopback', 'localhost-masquerade')]
    return rules


RULES = _rules_of('ip')
RULES6 = _rules_of('ip6')


def _label(key):
    host_ip, protocol, port = key
    return '%s/%s' % (host_port(host_ip, port), protocol)


def elements_for(maps, allow=None):
    """{key: (target, label)} and {key: allow tuple} -> the wanted elements of every map and set (normalised, sorted).

    The keys of one family; an allow tuple may be empty (restricted to the host itself)."""
    out = {name: [] for name in MAPS}
    for key, cidrs in (allow or {}).items():
        if key not in maps:
            continue
        host_ip, protocol, port = key
        prefix, short = ('any', (protocol, port)) if host_ip in (ANY, ANY6) else ('addr', key)
        out['restricted_' + prefix].append(short)
        out['allow_' + prefix].extend((cidr,) + short for cidr in cidrs)
    targets = set()
    for (host_ip, protocol, port), ((cip, cport), _label_) in maps.items():
        if host_ip in (ANY, ANY6):
            out['any_addr'].append(((protocol, port), cip))
            out['any_port'].append(((protocol, port), cport))
        else:
            out['addr_addr'].append(((host_ip, protocol, port), cip))
            out['addr_port'].append(((host_ip, protocol, port), cport))
        targets.add(cip)
    out['hairpin'] = [(ip, ip) for ip in targets]
    return {name: nft.sort_elements(elems) for name, elems in out.items()}


def maps_from_elements(sets, any_ip=ANY):
    """The inverse of elements_for, from what the kernel lists: {key: (target, label)}. ``any_ip``: ANY6 for the
    IPv6 table."""
    maps = {}
    for prefix, with_ip in (('any', False), ('addr', True)):
        ports = dict(sets.get('%s_port' % prefix, []))
        for key, cip in sets.get('%s_addr' % prefix, []):
            key = tuple(key) if with_ip else (any_ip,) + tuple(key)
            lookup = key[1:] if not with_ip else key
            cport = ports.get(lookup if with_ip else tuple(lookup))
            if cport is not None:
                maps[key] = ((cip, int(cport)), 'published %s' % _label(key))
    return maps


def _summary(maps, allow, chains):
    return {
        'ports': {_label(k): host_port(*v[0]) for k, v in sorted(maps.items())},
        'allow': {_label(k): list(v) for k, v in sorted(allow.items()) if k in maps},
        'rules': {name: list(ids) for name, ids in sorted(chains.items())},
    }


def state_of(table, sysctls, table6=None):
    """The state read() returns, from the tables' nft.TableState (IPv4, IPv6) and the sysctls' values."""
    state = {'sysctls': sysctls, KEY: _summary(maps_from_elements(table.sets), allow_from_elements(table.sets), table.chains)
             if table.exists else ABSENT}
    if table6 is not None and table6.exists:  # no IPv6 table: no key (ABSENT)
        state[KEY6] = _summary(maps_from_elements(table6.sets, ANY6), allow_from_elements(table6.sets, ANY6), table6.chains)
    return state


class PortMapReconciler(TableReconciler):
    def __init__(self, module, netlink, ns):
        super().__init__(module, netlink, ns)
        self.final_maps = {}
        self.final_allow = {}
        self._lookup = None

    def read(self, desired):
        # Publishing a few ports without exclusive needs only those keys: read the table's rules
        # without the map contents and look the keys up one by one, so the cost does not grow
        # with the number of ports published already.
        targeted = (desired is not ABSENT and desired['state'] == 'present' and not desired['exclusive']
                    and nft.HAS_ELEMENT_LOOKUP)
        sysctls = {}
        if targeted and self._lookup is None:
            self._lookup = nft.ElementLookup(self.netlink, self.ns, FAMILY, TABLE)
        with self.netlink.inside(self.ns):
            table = nft.TableState(self._lookup.table_objects() if targeted else nft.list_table(FAMILY, TABLE))
            # IPv6 publications are few (the networks with IPv6 only): their table is read whole.
            table6 = nft.TableState(nft.list_table(FAMILY6, TABLE))
            for key in desired['sysctls'] if desired is not ABSENT else []:
                try:
                    with open(sysctl_path(key)) as handle:
                        sysctls[key] = handle.read().strip()
                except FileNotFoundError:
                    sysctls[key] = None
                    if key in desired['expected']:  # a bridge an earlier task creates starts with conf.default's value
                        with open(sysctl_path(DEFAULT_ROUTE_LOCALNET)) as handle:
                            sysctls[key] = handle.read().strip()
            if targeted and table.owned:
                self._look_up(table, _of_family(desired['maps'], 4))
        for fam, have in ((FAMILY, table), (FAMILY6, table6)):
            if have.exists and not have.owned:
                raise LinuxnetError('nftables table %s %s exists but was not made by linuxnet.container (no set %s in it). '
                                    'Fix: rename or remove that table; this module only manages its own' % (fam, TABLE, nft.OWNER_SET))
        self.table, self.table6 = table, table6
        return state_of(table, sysctls, table6)

    def _look_up(self, table, maps):
        """Fill ``table.sets`` with what the kernel holds for these keys only (and what could conflict).

        The allow-list sets are interval sets, which a single-key lookup does not answer: they hold only the
        restricted publications, so they are read whole and cut down to these keys.
        """
        found = {name: [] for name in MAPS if name in table.sets}  # a table of an older layout lacks some
        targets = set()
        any_port_keys = set()
        for (host_ip, protocol, port), ((cip, _cport), _label_) in maps.items():
            any_port_keys.add((protocol, port))  # an all-addresses publication conflicts with any address
            targets.add(cip)
        if any(key[0] == ANY for key in maps):
            # an all-addresses key conflicts with every single-address key of that port: those maps
            # hold only single-address publications, usually few; read them whole
            for name in ('addr_addr', 'addr_port'):
                found[name] = nft.list_elements(FAMILY, TABLE, name, kind='map')
        else:
            for key in maps:
                for name, dtype in (('addr_addr', 'ipv4_addr'), ('addr_port', 'inet_service')):
                    value = self._lookup.get(name, MAPS[name][0], key, dtype)
                    if value is not None:
                        found[name].append((key, value))
        shorts = {'any': set(), 'addr': set()}
        for host_ip, protocol, port in maps:
            shorts['any' if host_ip == ANY else 'addr'].add((protocol, port) if host_ip == ANY else (host_ip, protocol, port))
        for prefix, keys in shorts.items():
            restricted, allowed = 'restricted_' + prefix, 'allow_' + prefix
            if restricted in found:
                found[restricted] = [k for k in keys if self._lookup.get(restricted, MAPS[restricted][0], k)]
            if allowed in found and keys:
                found[allowed] = [e for e in nft.list_elements(FAMILY, TABLE, allowed) if tuple(e[1:]) in keys]
        for key in any_port_keys:
            for name, dtype in (('any_addr', 'ipv4_addr'), ('any_port', 'inet_service')):
                value = self._lookup.get(name, MAPS[name][0], key, dtype)
                if value is not None:
                    found[name].append((key, value))
        # the containers of every publication read (also the single-address ones read whole above) keep their element
        targets.update(cip for name in ('addr_addr', 'any_addr') for _key, cip in found[name])
        for cip in targets:
            if self._lookup.get('hairpin', MAPS['hairpin'][0], (cip, cip)):
                found['hairpin'].append((cip, cip))
        for name, elements in found.items():
            table.sets[name] = nft.sort_elements(elements)

    def plan(self, desired, current):
        actions, predicted, self.final_maps, self.final_allow = plan_table(desired, current, self.table, self.table6)
        self.commands = next((action['commands'] for action in actions if action['op'] == 'nft'), [])
        return Plan.of_actions(actions, lambda a: apply_action(self.netlink, self.ns, a)), predicted

    def diff_view(self, before, after):
        """Only the ports that change: 10,000 unchanged ports do not belong in a diff."""
        if before is ABSENT or after is ABSENT or 'ports' not in before or 'ports' not in after:
            return before, after
        views = (dict(before), dict(after))
        for field in ('ports', 'allow'):
            old, new = before.get(field, {}), after.get(field, {})
            changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
            for view, values in zip(views, (old, new)):
                view[field] = {k: v for k, v in values.items() if k in changed}
        return views


# -- the plan: pure, from plain data to plain data -------------------------------------------------------------
#
# An action is a dict: key (KEY or 'sysctls'), description, op, and what the op needs: 'nft' (commands: one
# transaction), 'sysctl' (name, value).

def _of_family(mapping, version):
    """The entries of {key: ...} whose key is of one family (4, 6) and NATed ([::1] is port_proxy's)."""
    return {key: value for key, value in mapping.items() if family(key[0]) == version and not proxied(key)}


# Per family: (version, nft family, state key, any address, maps, rules)
_FAMILIES = ((4, FAMILY, KEY, ANY, MAPS, RULES), (6, FAMILY6, KEY6, ANY6, MAPS6, RULES6))


def plan_table(desired, current, table, table6=None):
    """(actions, predicted, final maps, final allow-lists) taking the namespace from ``current`` (read()'s state) and
    ``table``, ``table6`` (the nft.TableState of the IPv4 and IPv6 tables read() gathered) to ``desired``. Both tables
    change in one transaction (the first nft action carries every command; the other is a step of it). The IPv6 table
    exists only while it has publications, or with exclusive off once made. Raises LinuxnetError for a publication
    that conflicts with one this run does not list, or a sysctl that does not exist."""
    table6 = table6 or nft.TableState(None)
    actions = []
    predicted = {'sysctls': dict(current['sysctls'])}
    finals, final_allows = {}, {}
    for version, fam, key, any_ip, maps, rules in _FAMILIES:
        have_table = table if version == 4 else table6
        have_maps = maps_from_elements(have_table.sets, any_ip) if have_table.exists else {}
        what = 'nftables table %s %s' % (fam, TABLE)
        wanted = desired
        if desired is not ABSENT:
            wanted = dict(desired, maps=_of_family(desired['maps'], version), allow=_of_family(desired['allow'], version))
        final = {} if wanted is ABSENT else _final_maps(wanted, have_maps, any_ip)
        if wanted is ABSENT or (version == 6 and not final):  # no IPv6 publication: no IPv6 table
            if version == 4:
                predicted[key] = ABSENT
            if current.get(key, ABSENT) is not ABSENT:
                actions.append({'key': key, 'op': 'nft', 'commands': [{'delete': {'table': {'family': fam, 'name': TABLE}}}],
                                'description': 'delete %s (%d published ports)' % (what, len(have_maps))})
            continue
        have_allow = allow_from_elements(have_table.sets, any_ip) if have_table.exists else {}
        final_allow = _final_allow(wanted, have_allow, final)
        finals.update(final)
        final_allows.update(final_allow)
        cmds = nft.table_commands(fam, TABLE, maps, CHAINS, rules, have_table, elements_for(final, final_allow))
        predicted[key] = _summary(final, final_allow, nft.planned_rule_ids(CHAINS, rules))
        if cmds:
            added = len([k for k in final if k not in have_maps or have_maps[k][0] != final[k][0]
                         or have_allow.get(k) != final_allow.get(k)])
            removed = len([k for k in have_maps if k not in final])
            actions.append({'key': key, 'op': 'nft', 'commands': cmds,
                            'description': '%s %s in one transaction: %d ports published or changed, %d unpublished'
                            % ('create' if current.get(key, ABSENT) is ABSENT else 'update', what, added, removed)})
    nft_actions = [act for act in actions if act['op'] == 'nft']
    if len(nft_actions) > 1:  # one transaction for both tables
        nft_actions[0]['commands'] = [cmd for act in nft_actions for cmd in act['commands']]
        for act in nft_actions[1:]:
            act['commands'] = []
            act['op'] = 'none'
    for act in nft_actions[1:]:
        nft_actions[0]['description'] += '; and in the same transaction: ' + act['description'].replace(' in one transaction', '')
        act['description'] = None  # a step of the first
    if desired is ABSENT:
        return actions, predicted, {}, {}
    for key, value in sorted(desired['sysctls'].items()):
        have = current['sysctls'].get(key)
        if have is None:
            raise LinuxnetError('sysctl %s does not exist. Fix: check that the interface exists' % key)
        if have != value:
            predicted['sysctls'][key] = value
            actions.append({'key': 'sysctls', 'op': 'sysctl', 'name': key, 'value': value,
                            'description': 'set %s=%s' % (key, value)})
    return actions, predicted, finals, final_allows


def _final_maps(desired, have_maps, any_ip=ANY):
    """The publications of one family after the run (``any_ip``: that family's all-addresses key)."""
    if desired['state'] == 'absent':
        return {k: v for k, v in have_maps.items() if k not in desired['maps']}
    if desired['exclusive']:
        return dict(desired['maps'])
    final = dict(have_maps)
    for key, (target, label) in desired['maps'].items():
        host_ip, protocol, port = key
        for other in ((any_ip, protocol, port),) if host_ip != any_ip else [k for k in have_maps if k[1:] == key[1:]]:
            if other in have_maps and other not in desired['maps'] and other != key:
                raise LinuxnetError('%s conflicts with %s, published already to %s and not listed here. '
                                    'Fix: unpublish it first, or use exclusive: true'
                                    % (label, _label(other), host_port(*have_maps[other][0])))
        final[key] = (target, label)
    return final


def _final_allow(desired, have_allow, final):
    """The allow-lists after the run, of the publications in ``final``: the listed ones as given, the others kept.
    Only restricted publications have one; an empty one lets in the host itself only."""
    if desired['state'] == 'present' and desired['exclusive']:
        kept = {}
    else:
        kept = {k: v for k, v in have_allow.items() if k not in desired['maps']}
    if desired['state'] == 'present':
        kept.update(desired['allow'])
    return {k: v for k, v in kept.items() if k in final}


def apply_action(netlink, ns, action):
    """Perform one action of plan_table in namespace ``ns``."""
    with netlink.inside(ns):
        if action['op'] == 'nft':
            nft.apply(action['commands'], 'table %s %s' % (FAMILY, TABLE))
        elif action['op'] == 'none':
            pass  # a step of the transaction of the action before it
        elif action['op'] == 'sysctl':
            with open(sysctl_path(action['name']), 'w') as handle:
                handle.write(action['value'])
        else:
            raise ValueError('unknown port_map action %r' % action['op'])


DEFAULT_ROUTE_LOCALNET = 'net.ipv4.conf.default.route_localnet'


def sysctl_path(key):
    """/proc/sys path of a key this module writes; in net.ipv4.conf.IFNAME.KEY the interface name may hold dots."""
    parts = key.split('.')
    if parts[:3] == ['net', 'ipv4', 'conf'] and len(parts) > 5:
        parts = parts[:3] + ['.'.join(parts[3:-1]), parts[-1]]
    return '/proc/sys/' + '/'.join(parts)


def _bridges_towards(channel, addresses, expect, ns):
    """(name, expected) of the bridges the main routing table sends these addresses out of: a route and a link dump.

    Only bridges lead to containers; an uplink is never returned (route_localnet on it would open
    127.0.0.0/8 to the network, moby#45610). In check mode, bridges an earlier task creates (expect) count with
    the connected routes of their addresses.
    """
    if not addresses:
        return []
    with netlink_errors('routing table', 'read'):
        links = {link['index']: link for link in channel.link('dump')}
        routes = []
        for route in channel.route('dump', family=2, table=254):
            oif = route.get('RTA_OIF') or route.get('oif')
            if oif:
                dst = route.get('RTA_DST') or route.get('dst') or '0.0.0.0'
                routes.append((ipaddress.ip_network('%s/%d' % (dst, route['dst_len']), strict=False), oif))
    bridges = {index: link.get('ifname') for index, link in links.items() if link.get(('linkinfo', 'kind')) == 'bridge'}
    for position, (net, name) in enumerate(expect.connected(ns, {link.get('ifname') for link in links.values()})):
        if net.version == 4:
            bridges[-1 - position] = name
            routes.append((net, -1 - position))
    routes.sort(key=lambda item: -item[0].prefixlen)  # longest prefix first
    found = set()
    for address in addresses:
        ip = ipaddress.ip_address(address)
        oif = next((oif for net, oif in routes if ip in net), None)
        if oif in bridges:
            found.add((bridges[oif], oif < 0))
    return sorted(found)


def _maps(params):
    """The publications of the parameters: (build_maps' maps, {key: allowed sources})."""
    entries, allow = [], {}
    for index, item in enumerate(params['ports']):
        label = item.get('name') or 'ports[%d]' % index
        try:
            cip = ipaddress.IPv4Address(item['container_ip']).compressed
        except ValueError:
            raise LinuxnetError('%s: container_ip %r is not an IPv4 address' % (label, item['container_ip']))
        cip6 = None
        if item.get('container_ip6'):
            try:
                cip6 = ipaddress.IPv6Address(item['container_ip6']).compressed
            except ValueError:
                raise LinuxnetError('%s: container_ip6 %r is not an IPv6 address' % (label, item['container_ip6']))
        try:
            sources = parse_allow(item['allow'])
        except PortError as err:
            raise LinuxnetError('%s: allow: %s' % (label, err))
        for spec in item['publish']:
            try:
                publication = parse_publish(spec)
            except PortError as err:
                raise LinuxnetError('%s: %s' % (label, err))
            entries.append(('%s %s' % (label, spec), cip, publication, cip6))
            try:
                keys = [key for key, _target in expand(cip, publication, cip6)]
            except PortError as err:
                raise LinuxnetError('%s %s: %s' % (label, spec, err))
            for key in keys:
                restricted = sources_for(sources, family(key[0]))
                if restricted is not None and not proxied(key):  # [::1]: the host alone reaches it anyway
                    allow[key] = restricted
    try:
        return build_maps(entries), allow
    except PortError as err:
        raise LinuxnetError(str(err))


def _desired(params, netlink, ns, expect):
    if params['state'] == 'absent' and not params['ports']:
        return ABSENT
    maps, allow = _maps(params)
    sysctls, expected = {}, set()
    if params['state'] == 'present':
        if params['forwarding']:
            sysctls['net.ipv4.ip_forward'] = '1'
        local_targets = sorted({target[0] for key, (target, _label_) in _of_family(maps, 4).items()
                                if key[0] == ANY or ipaddress.IPv4Address(key[0]) in LOOPBACK})
        for ifname, virtual in _bridges_towards(netlink.channel(ns), local_targets, expect, ns):
            sysctls['net.ipv4.conf.%s.route_localnet' % ifname] = '1'
            if virtual:
                expected.add('net.ipv4.conf.%s.route_localnet' % ifname)
    # expected: keys of bridges an earlier task creates (check mode)
    return {'state': params['state'], 'exclusive': params['exclusive'], 'maps': maps, 'allow': allow, 'sysctls': sysctls,
            'expected': expected}


def module_spec():
    return dict(argument_spec=dict(
        ports=dict(type='list', elements='dict', default=[], options=dict(
            container_ip=dict(type='str', required=True),
            container_ip6=dict(type='str'),
            publish=dict(type='list', elements='str', required=True),
            allow=dict(type='list', elements='str', default=[]),
            name=dict(type='str'),
        )),
        exclusive=dict(type='bool', default=False),
        forwarding=dict(type='bool', default=True),
        namespace=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        expect=expect_spec(),
    ))


# Docker's words when its proxy cannot bind a published port (moby: "Error starting userland proxy").
_IN_USE = 'listen %s%d %s: bind: address already in use'


def read_listeners(netlink, ns, protocols):
    """[(protocol, address, port, inode)] of the namespace's listening TCP and bound, unconnected UDP sockets."""
    from pyroute2.netlink.diag import SS_CLOSE, SS_LISTEN, DiagSocket  # pylint: disable=import-outside-toplevel
    found = []
    with netlink.inside(ns):
        with DiagSocket() as diag:
            diag.bind()
            for protocol in sorted(protocols):
                number, state = (socket.IPPROTO_TCP, SS_LISTEN) if protocol == 'tcp' else (socket.IPPROTO_UDP, SS_CLOSE)
                for family in (socket.AF_INET, socket.AF_INET6):
                    for msg in diag.get_sock_stats(family=family, states=1 << state, protocol=number):
                        if protocol == 'udp' and msg.get('idiag_dport'):
                            continue  # a connected UDP socket receives nothing addressed to the port
                        found.append((protocol, msg['idiag_src'], msg['idiag_sport'], msg['idiag_inode']))
    return found


def socket_owners(inodes, proc='/proc'):
    """{inode: [pid, ...]} of the processes holding these sockets (their fds), for messages."""
    wanted = {'socket:[%d]' % inode: inode for inode in inodes}
    owners = {}
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        fd_dir = os.path.join(proc, entry, 'fd')
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target in wanted:
                owners.setdefault(wanted[target], []).append(int(entry))
                break
    return owners


def _our_socket(listener, ours, maps, exclusive):
    """Whether a listening socket (protocol, address, port, inode) is one of our [::1] units'."""
    key = (LOOPBACK6, listener[0], listener[2])
    return ipaddress.ip_address(listener[1]) == ipaddress.ip_address(LOOPBACK6) and key in ours and (key in maps or exclusive)


def _proxy_namespace(ns):
    """[::1] publications are the host's systemd units: in the host namespace only."""
    if not ns.is_host:
        raise LinuxnetError('a publication on the IPv6 loopback address [::1] is served by systemd-socket-proxyd in the '
                            'host namespace, not in %s. Fix: publish it on 127.0.0.1, or without namespace' % ns.label)


def preflight(params, netlink, warn, refuse=True):
    """Before any part of a converge changes the host: a new publication that a host socket would shadow is refused,
    as Docker refuses it; one published already only warns (the port was ours first). ``refuse=False`` (the
    host-local restore, after a reboot every publication is new) warns for every one."""
    if params['state'] == 'absent' or not params['ports']:
        return
    ns = NamespaceRef(params['namespace'])
    maps, _allow = _maps(params)
    proxy = {key: value for key, value in maps.items() if proxied(key)}
    if proxy:
        _proxy_namespace(ns)
        port_proxy.check_host(proxy)
    listeners = read_listeners(netlink, ns, {key[1] for key in maps})
    # The sockets of our own [::1] units are no host process in the way: those this run keeps, and with exclusive every
    # one of ours (the run removes the others).
    ours = port_proxy.read_maps() if ns.is_host else {}
    listeners = [listener for listener in listeners if not _our_socket(listener, ours, maps, params['exclusive'])]
    conflicts = listener_conflicts(maps, listeners)
    if not conflicts:
        return
    published = {}
    with netlink.inside(ns):
        for fam, any_ip in ((FAMILY, ANY), (FAMILY6, ANY6)):
            table = nft.TableState(nft.list_table(fam, TABLE))
            published.update(maps_from_elements(table.sets, any_ip) if table.exists and table.owned else {})
    owners = socket_owners({listener[3] for _key, _label, listener in conflicts})
    errors = []
    for key, label, (protocol, address, port, inode) in conflicts:
        holder = holders.describe(owners.get(inode, [])) or 'a process this host does not name'
        what = '%s publishes %s, but a host socket listens on %s/%s (%s): %s' % (
            label, _label(key), host_port(address, port), protocol, holder, _IN_USE % (protocol, family(key[0]), host_port(key[0], port)))
        if key in published or not refuse:
            warn('%s. Clients of %s reach the container, not that process' % (what, host_port(key[0], port)))
        else:
            errors.append(what)
    if errors:
        raise LinuxnetError('%s. Fix: stop that process or move it to another port, or publish another host port; '
                            'nothing was changed' % '; '.join(errors))


def _proxy_desired(desired):
    """port_proxy's desired state of the [::1] publications of port_map's ``desired``."""
    if desired is ABSENT:
        return ABSENT
    proxy = {key: value for key, value in desired['maps'].items() if proxied(key)}
    if desired['state'] == 'absent':
        return {'units': {}, 'exclusive': False, 'remove': [port_proxy.unit_name(key) for key in proxy]}
    if proxy:
        port_proxy.check_host(proxy)
    return {'units': port_proxy.wanted_units(proxy, port_proxy.find_proxyd()), 'exclusive': desired['exclusive'], 'remove': []}


def _converge_proxies(module, desired, result):
    """Converge the [::1] publications' units after the tables; merge their actions and diff into ``result``.
    Returns the publications they serve after the run (predicted in check mode), as maps."""
    proxy = port_proxy.ProxyReconciler(module)
    units = proxy.run(_proxy_desired(desired))
    if units['changed']:
        result['changed'] = True
        result['actions'] = result['actions'] + units['actions']
        for side in ('before', 'after'):
            if units['diff'][side]:
                result['diff'].setdefault(side, {})['proxy_units'] = units['diff'][side]
    result['proxy_units'] = sorted(units['after'])
    return port_proxy.maps_of({name: state for name, state in units['after'].items() if state is not ABSENT})


def run(module, netlink):
    if not getattr(module, 'preflighted', False):  # host_network runs it for every part first
        preflight(module.params, netlink, module.warn)
    ns = NamespaceRef(module.params['namespace'])
    expect = parse_expect(module.params['expect'], module.check_mode)
    desired = _desired(module.params, netlink, ns, expect)
    reconciler = PortMapReconciler(module, netlink, ns)
    result, after = reconciler.converge(desired)
    final = dict(reconciler.final_maps) if after.get(KEY) is not ABSENT else {}
    if ns.is_host:
        units = _converge_proxies(module, desired, result)
        final.update(units)
    result['published'] = docker_port_lines(final)
    result['allow'] = allow_lines(final, reconciler.final_allow)
    result['count'] = len(final)
    result['commands'] = reconciler.commands if result['changed'] else []
    return result
