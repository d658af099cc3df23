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
