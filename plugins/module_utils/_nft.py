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

import json
import shutil
import subprocess

from ansible_collections.linuxnet.container.plugins.module_utils._netlink import LinuxnetError

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


def list_table(family, name):
    """The objects of one table as a list of {kind: body} dicts without handles, or None if absent."""
    rc, out, err = run_nft(['list', 'table', family, name])
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
    if isinstance(elem, dict):
        if 'concat' in elem:
            return tuple(normalize_element(part) for part in elem['concat'])
        if 'prefix' in elem:
            return '%s/%d' % (elem['prefix']['addr'], elem['prefix']['len'])
        if 'range' in elem:
            low, high = elem['range']
            return '%s-%s' % (normalize_element(low), normalize_element(high))
        if 'elem' in elem:
            return normalize_element(elem['elem']['val'])
    if isinstance(elem, list) and len(elem) == 2:  # map entry [key, value]
        return (normalize_element(elem[0]), normalize_element(elem[1]))
    return elem


def element_json(value):
    """The inverse of normalize_element for what the collection writes."""
    if isinstance(value, tuple):
        return {'concat': [element_json(v) for v in value]}
    if isinstance(value, str) and '/' in value and value.split('/', 1)[1].isdigit():
        addr, length = value.split('/', 1)
        return {'prefix': {'addr': addr, 'len': int(length)}}
    return value


class TableState:
    """What the kernel holds of one table: sets (name -> sorted elements), chains (name -> rule ids)."""

    def __init__(self, objects):
        self.exists = objects is not None
        self.owned = False
        self.sets = {}
        self.chains = {}
        self.foreign_rules = {}
        for obj in objects or []:
            kind, body = next(iter(obj.items()))
            if kind == 'set' and body['name'] == OWNER_SET:
                self.owned = True
            elif kind in ('set', 'map'):
                self.sets[body['name']] = sorted(
                    (normalize_element(e) for e in body.get('elem', [])), key=repr)
            elif kind == 'chain':
                self.chains.setdefault(body['name'], [])
            elif kind == 'rule':
                comment = body.get('comment') or ''
                chain = body['chain']
                if comment.startswith(RULE_PREFIX):
                    self.chains.setdefault(chain, []).append(comment[len(RULE_PREFIX):])
                else:
                    self.foreign_rules[chain] = self.foreign_rules.get(chain, 0) + 1


def _map_element(key, value):
    return [element_json(key), element_json(value)]


def table_commands(family, table, sets, chains, rules, have, want, never_flushed=()):
    """The commands taking one owned table from ``have`` (a TableState) to the plan, as one transaction.

    ``sets``: name -> (key type, data type or None for a plain set, flags); ``want``: name -> sorted
    elements (for a map, (key, data) pairs). ``chains``: name -> base chain spec or None; ``rules``:
    [(chain, id, expression)]. Sets and maps change by element, so adding one network or port does
    not rewrite the others; a chain is rewritten only when its rule ids differ from the plan or it
    holds rules that are not ours; chains in ``never_flushed`` are created once and left alone.
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
        elif name in never_flushed or (have.chains[name] == wanted_ids and not have.foreign_rules.get(name)):
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
