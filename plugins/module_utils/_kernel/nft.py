# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""nftables through its JSON interface: read a table the collection owns, apply one transaction.

Every change goes to the kernel as one ``nft -j -f -`` run, which nftables
applies atomically: all of it or nothing. The collection only ever names its own
tables (``linuxnet_*``, holding the empty marker set ``OWNER_SET``: nft 1.0's
JSON interface drops table comments); no other table, chain or iptables rule is
read for writing or touched.

Rules carry a comment ``linuxnet:<id>`` naming what they are. Comparing the
ordered list of those ids per chain, plus set contents, tells whether the
table is as planned without depending on how nft prints expressions back.
"""

from __future__ import annotations

import errno
import json
import shutil
import socket
import struct
import subprocess

from ansible_collections.linuxnet.container.plugins.module_utils._kernel import pyroute2_root  # noqa: F401  pylint: disable=unused-import

# The message classes are not re-exported from the pyroute2 package root (STYLE: not a stable
# path): when they move, HAS_ELEMENT_LOOKUP turns false and callers fall back to full reads.
try:
    from pyroute2.netlink import NLM_F_REQUEST
    from pyroute2.netlink.exceptions import NetlinkError
    from pyroute2.netlink.nfnetlink.nftsocket import (
        NFT_MSG_GETCHAIN,
        NFT_MSG_GETRULE,
        NFT_MSG_GETSET,
        NFT_MSG_GETSETELEM,
        NFT_MSG_GETTABLE,
        NFTSocket,
        nft_chain_msg,
        nft_rule_msg,
        nft_set_elem_list_msg,
        nft_set_msg,
        nft_table_msg,
    )
except ImportError:
    HAS_ELEMENT_LOOKUP = False
else:
    HAS_ELEMENT_LOOKUP = True

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError

RULE_PREFIX = 'linuxnet:'
OWNER_SET = 'owned_by_linuxnet_container'


def create_table_commands(family, name):
    """Commands creating a table the collection owns (with its marker set)."""
    return [{'add': {'table': {'family': family, 'name': name}}},
            {'add': {'set': {'family': family, 'table': name, 'name': OWNER_SET, 'type': 'ifname'}}}]


def nft_binary():
    path = shutil.which('nft') or next((p for p in ('/usr/sbin/nft', '/sbin/nft') if shutil.which(p)), None)
    if not path:
        raise LinuxnetError('the nft command (package nftables) is required on the managed host. '
                            'Fix: install it (apt-get install nftables / dnf install nftables)')
    return path


def run_nft(args, payload=None):
    """Run nft in the current namespace (the caller enters another one with Netlink.inside)."""
    cmd = [nft_binary(), '-j'] + list(args)
    proc = subprocess.run(cmd, input=json.dumps(payload) if payload is not None else None,
                          capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def list_table(family, name, terse=False):
    """The objects of one table as a list of {kind: body} dicts without handles, or None if absent.

    ``terse`` leaves out the contents of sets and maps (nft -t): constant size, whatever they hold.
    """
    rc, out, err = run_nft((['-t'] if terse else []) + ['list', 'table', family, name])
    if rc != 0:
        if 'No such file or directory' in err or 'does not exist' in err:
            return None
        raise LinuxnetError('nftables table %s %s: cannot list it: %s' % (family, name, err.strip()))
    objects = []
    for item in json.loads(out).get('nftables', []):
        kind, body = next(iter(item.items()))
        if kind == 'metainfo':
            continue
        body = dict(body)
        body.pop('handle', None)
        objects.append({kind: body})
    return objects


def list_elements(family, table, name, kind='set'):
    """The normalised elements of one set (kind 'set') or map (kind 'map')."""
    rc, out, err = run_nft(['list', kind, family, table, name])
    if rc != 0:
        raise LinuxnetError('nftables %s %s %s: cannot list it: %s' % (family, table, name, err.strip()))
    for item in json.loads(out).get('nftables', []):
        kind, body = next(iter(item.items()))
        if kind in ('set', 'map'):
            return sort_elements(normalize_element(e) for e in body.get('elem', []))
    return []


_PROTO_NUMBERS = {'tcp': 6, 'udp': 17, 'sctp': 132}


def _encode(kind, value):
    """One field of a set key or map data as the kernel stores it (concatenated fields pad to 4 bytes)."""
    if kind == 'ipv4_addr':
        return socket.inet_aton(value)
    if kind == 'inet_proto':
        return struct.pack('B3x', _PROTO_NUMBERS[value])
    if kind == 'inet_service':
        return struct.pack('!H2x', int(value))
    raise ValueError('cannot encode nftables type %s' % kind)


_PROTO_NAMES = {number: name for name, number in _PROTO_NUMBERS.items()}


def _decode(kind, data):
    if kind == 'inet_proto':
        return _PROTO_NAMES.get(data[0], data[0])
    if kind == 'ipv4_addr':
        return socket.inet_ntoa(data[:4])
    if kind == 'inet_service':
        return struct.unpack('!H', data[:2])[0]
    raise ValueError('cannot decode nftables type %s' % kind)


class ElementLookup:
    """Single elements of a set or map, by key, over netlink (NFT_MSG_GETSETELEM without a dump).

    A lookup costs the same whatever the set holds, so a call that touches a few keys of a map with
    10,000 entries does not read the other 9,998. (``nft get element`` prints text, not JSON, and
    fails as a whole when one key is missing.) The socket is opened inside the target namespace.
    """

    def __init__(self, netlink, ns, family, table):
        with netlink.inside(ns):
            self.sock = NFTSocket(nfgen_family=socket.AF_INET if family == 'ip' else socket.AF_UNSPEC)
        self.family = family
        self.table = table

    def _dump(self, msg_class, msg_type, table_attr):
        """The table's objects of one kind. The kernel may ignore the table filter of a dump (it does
        for chains), so every reply is checked against the table name as well."""
        msg = msg_class()
        msg['attrs'] = [[table_attr, self.table]]
        return [m for m in self.sock.request_get(msg, msg_type) if m.get_attr(table_attr) == self.table]

    def table_objects(self):
        """What ``list_table(terse=True)`` gives, at a cost that does not grow with set contents.

        ``nft -t`` (and even ``nft list tables``) still loads every element into nft's cache, so this
        reads the tables, and this table's sets, chains and rules, with netlink dumps instead.
        """
        names = [m.get_attr('NFTA_TABLE_NAME') for m in self.sock.request_get(nft_table_msg(), NFT_MSG_GETTABLE)]
        if self.table not in names:
            return None
        objects = [{'table': {'family': self.family, 'name': self.table}}]
        objects += [{'set': {'name': m.get_attr('NFTA_SET_NAME')}} for m in self._dump(nft_set_msg, NFT_MSG_GETSET, 'NFTA_SET_TABLE')]
        objects += [{'chain': {'name': m.get_attr('NFTA_CHAIN_NAME')}}
                    for m in self._dump(nft_chain_msg, NFT_MSG_GETCHAIN, 'NFTA_CHAIN_TABLE')]
        objects += [{'rule': {'chain': m.get_attr('NFTA_RULE_CHAIN'), 'comment': m.get_attr('NFTA_RULE_USERDATA')}}
                    for m in self._dump(nft_rule_msg, NFT_MSG_GETRULE, 'NFTA_RULE_TABLE')]
        return objects

    def get(self, name, key_types, key, data_type=None):
        """The element's data (decoded), True for a set element, or None when the key is absent."""
        fields = key if isinstance(key, tuple) else (key,)
        value = b''.join(_encode(kind, field) for kind, field in zip(key_types, fields))
        msg = nft_set_elem_list_msg()
        msg['attrs'] = [['NFTA_SET_ELEM_LIST_TABLE', self.table], ['NFTA_SET_ELEM_LIST_SET', name],
                        ['NFTA_SET_ELEM_LIST_ELEMENTS',
                         [{'attrs': [['NFTA_SET_ELEM_KEY', {'attrs': [['NFTA_DATA_VALUE', value]]}]]}]]]
        try:
            replies = self.sock.request_get(msg, NFT_MSG_GETSETELEM, msg_flags=NLM_F_REQUEST)
        except NetlinkError as err:
            if err.code == errno.ENOENT:
                return None
            raise LinuxnetError('nftables %s %s: cannot look up %r: %s' % (self.table, name, key, err))
        for reply in replies:
            for elem in reply.get_attr('NFTA_SET_ELEM_LIST_ELEMENTS') or []:
                if data_type is None:
                    return True
                data = elem.get_attr('NFTA_SET_ELEM_DATA')
                return _decode(data_type, data.get_attr('NFTA_DATA_VALUE')) if data else None
        return None

    def close(self):
        self.sock.close()


def apply(commands, what):
    """Apply commands (a list of nft JSON commands) as one atomic transaction."""
    if not commands:
        return
    rc, _out, err = run_nft(['-f', '-'], {'nftables': commands})
    if rc != 0:
        raise LinuxnetError('nftables: the transaction for %s was rejected, nothing was changed: %s'
                            % (what, err.strip() or 'nft exited with %d' % rc))


def normalize_element(elem):
    """Set elements as hashable, comparable values: strings, 'addr/len', tuples for concatenations."""
    if isinstance(elem, list) and len(elem) == 2:  # map entry [key, value]
        return (normalize_element(elem[0]), normalize_element(elem[1]))
    if isinstance(elem, dict):
        concat = elem.get('concat')
        if concat is not None:
            return tuple(part if not isinstance(part, dict) else normalize_element(part) for part in concat)
        if 'prefix' in elem:
            return '%s/%d' % (elem['prefix']['addr'], elem['prefix']['len'])
        if 'range' in elem:
            low, high = elem['range']
            return '%s-%s' % (normalize_element(low), normalize_element(high))
        if 'elem' in elem:
            return normalize_element(elem['elem']['val'])
    return elem


def sort_elements(elements):
    """A stable order for comparing: elements of one set share their shape, so they sort as they are."""
    elements = list(elements)
    try:
        return sorted(elements)
    except TypeError:
        return sorted(elements, key=repr)


def element_json(value):
    """The inverse of normalize_element for what the collection writes."""
    if isinstance(value, tuple):
        return {'concat': [element_json(v) for v in value]}
    if isinstance(value, str) and '/' in value and value.split('/', 1)[1].isdigit():
        addr, length = value.split('/', 1)
        return {'prefix': {'addr': addr, 'len': int(length)}}
    return value


class TableState:
    """What the kernel holds of one table: sets (name -> sorted elements), chains (name -> rule ids), and the
    expressions of the collection's rules ((chain, id) -> expr, as nft lists them) for parts that keep data in them."""

    def __init__(self, objects):
        self.exists = objects is not None
        self.owned = False
        self.sets = {}
        self.chains = {}
        self.exprs = {}
        self.foreign_rules = {}
        for obj in objects or []:
            kind, body = next(iter(obj.items()))
            if kind == 'set' and body['name'] == OWNER_SET:
                self.owned = True
            elif kind in ('set', 'map'):
                self.sets[body['name']] = sort_elements(normalize_element(e) for e in body.get('elem', []))
            elif kind == 'chain':
                self.chains.setdefault(body['name'], [])
            elif kind == 'rule':
                comment = body.get('comment') or ''
                chain = body['chain']
                if comment.startswith(RULE_PREFIX):
                    self.chains.setdefault(chain, []).append(comment[len(RULE_PREFIX):])
                    self.exprs[(chain, comment[len(RULE_PREFIX):])] = body.get('expr') or []
                else:
                    self.foreign_rules[chain] = self.foreign_rules.get(chain, 0) + 1


def _map_element(key, value):
    return [element_json(key), element_json(value)]


def table_commands(family, table, sets, chains, rules, have, want, never_flushed=(), stale_chains=()):
    """The commands taking one owned table from ``have`` (a TableState) to the plan, as one transaction.

    ``sets``: name -> (key type, data type or None for a plain set, flags); ``want``: name -> sorted
    elements (for a map, (key, data) pairs). ``chains``: name -> base chain spec or None; ``rules``:
    [(chain, id, expression)]. Sets and maps change by element, so adding one network or port does
    not rewrite the others; a chain is rewritten only when its rule ids differ from the plan or it
    holds rules that are not ours, or is named in ``stale_chains`` (a rule whose contents changed under the same id);
    chains in ``never_flushed`` are created once and left alone.
    """
    cmds = []
    base = {'family': family, 'table': table}
    if not have.exists:
        cmds.extend(create_table_commands(family, table))
    for name, (ktype, dtype, flags) in sets.items():
        current = have.sets.get(name)
        if current is None:
            body = dict(base, name=name, type=ktype)
            if dtype:
                body['map'] = dtype
            if flags:
                body['flags'] = flags
            cmds.append({'add': {'map' if dtype else 'set': body}})
            current = []
        if dtype:  # a changed mapping is a delete and an add of that key, in the same transaction
            have_map, want_map = dict(current), dict(want[name])
            stale = [k for k, v in have_map.items() if want_map.get(k, want_map) != v]
            fresh = [(k, v) for k, v in want_map.items() if have_map.get(k, have_map) != v]
            delete, add = [element_json(k) for k in stale], [_map_element(k, v) for k, v in fresh]
        else:
            have_set, want_set = set(current), set(want[name])
            delete = [element_json(e) for e in current if e not in want_set]
            add = [element_json(e) for e in want[name] if e not in have_set]
        if delete:
            cmds.append({'delete': {'element': dict(base, name=name, elem=delete)}})
        if add:
            cmds.append({'add': {'element': dict(base, name=name, elem=add)}})
    rewrite = []
    for name, spec in chains.items():  # every chain exists before any rule jumps to one
        wanted_ids = [rid for chain, rid, _expr in rules if chain == name]
        if name not in have.chains:
            cmds.append({'add': {'chain': dict(base, name=name, **(spec or {}))}})
        elif name in never_flushed or (have.chains[name] == wanted_ids and not have.foreign_rules.get(name)
                                       and name not in stale_chains):
            continue
        else:
            cmds.append({'flush': {'chain': dict(base, name=name)}})
        rewrite.append(name)
    for chain, rid, expr in rules:
        if chain in rewrite:
            cmds.append({'add': {'rule': dict(base, chain=chain, comment=RULE_PREFIX + rid, expr=expr)}})
    return cmds


def planned_rule_ids(chains, rules, never_flushed=()):
    """{chain: [rule ids]} as the plan has them (what TableState.chains reads back)."""
    return {name: [rid for chain, rid, _expr in rules if chain == name]
            for name in sorted(chains) if name not in never_flushed}
