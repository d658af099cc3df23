# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docs/troubleshooting.md names every message the controller-side validation and planning can print.

The templates are read from the code (ast): the messages given to problems.append, warnings.append and the
exceptions these modules raise, what their validate_* helpers return, the fix texts they share, and every other
string that holds "Fix:". Each template is reduced to its longest fixed piece (before "Fix:", and after it), which
the page must hold. A new message without an entry on the page fails here.
"""

from __future__ import annotations

import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, 'docs', 'troubleshooting.md')
# What runs on the controller before any host changes: validation (inventory_problems), then planning.
SOURCES = [os.path.join(ROOT, 'plugins', path) for path in (
    'plugin_utils/_plan/inventory.py', 'plugin_utils/_plan/topology.py', 'module_utils/_common/ports.py',
    'module_utils/_common/resolv.py', 'module_utils/_common/normalize.py', 'plugin_utils/_plan/fleet.py',
    'plugin_utils/_plan/overlay.py', 'plugin_utils/_plan/ipam.py', 'plugin_utils/_plan/ipam_etcd.py', 'plugin_utils/_plan/etcd.py')]
SOURCES.append(os.path.join(ROOT, 'plugins', 'filter', 'inventory.py'))
# validate_* helpers of _normalize the validation calls; its other helpers serve the modules.
VALIDATORS = ('validate_ifname', 'validate_hostname', 'validate_netns_name', 'validate_unicast_mac')
# Only what these validators return is printed from _normalize; its other errors are the modules'.
VALIDATORS_ONLY = ('normalize.py',)
# Caught and replaced by other messages: "must be true or false", "invalid MAC address".
NOT_PRINTED = ('%r is not a boolean',)
FORMAT = re.compile(r'%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdrifx]')
SHORTEST = 10


def _template(node):
    """The format strings of a message expression: 'text', 'text' % (...), or either branch of a conditional."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        node = node.left
    if isinstance(node, ast.IfExp):
        return _template(node.body) + _template(node.orelse)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    return []


def templates(path):
    """Every message template of one source file."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    found = set()
    validators_only = os.path.basename(path) in VALIDATORS_ONLY
    for node in ast.walk(tree):
        if validators_only and not (isinstance(node, ast.FunctionDef) and node.name in VALIDATORS):
            continue
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, 'id', '')
            receiver = getattr(func.value, 'id', '') if isinstance(func, ast.Attribute) else ''
            if (name == 'append' and receiver in ('problems', 'warnings')) or name.endswith('Error'):
                found.update(_template(node.args[0]))
        elif isinstance(node, ast.FunctionDef) and node.name in VALIDATORS:
            found.update(text for ret in ast.walk(node) if isinstance(ret, ast.Return) and ret.value is not None
                         for text in _template(ret.value))
        elif isinstance(node, ast.Assign) and any(getattr(t, 'id', '').endswith(('_FIX', 'FIXES')) for t in node.targets):
            values = node.value.values if isinstance(node.value, ast.Dict) else [node.value]
            found.update(text for value in values for text in _template(value))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and 'Fix:' in node.value:
            found.add(node.value)
    return {t for t in found if t and not any(skip in t for skip in NOT_PRINTED)}


def fragments(template):
    """The longest fixed piece of the problem part and of the fix part (pieces shorter than SHORTEST are not
    recognisable and are left out)."""
    out = []
    for part in template.split('Fix:', 1):
        pieces = [' '.join(piece.split()).strip(' .,:;') for piece in FORMAT.split(part)]
        best = max(pieces, key=len)
        if len(best) >= SHORTEST:
            out.append(best)
    return out


def all_templates():
    return sorted((os.path.relpath(path, ROOT), t) for path in SOURCES for t in templates(path))


def test_the_extraction_finds_the_messages_it_should():
    found = {t for _path, t in all_templates()}
    # A few known ones, of each kind: Docker's wording, a plan error, a validator's return, a shared fix text.
    assert any('user specified IP address is supported only when connecting to networks with user configured' in t for t in found)
    assert any('endpoint with name %s already exists in network %s' in t for t in found)
    assert any('could not find an available, non-overlapping %s address pool' in t for t in found)
    assert any('has an empty label (two dots in a row' in t for t in found)
    assert any(t.startswith('write IPv4 or IPv6 addresses or networks like') for t in found)
    assert len(found) > 100


@pytest.mark.parametrize('where,template', all_templates())
def test_troubleshooting_has_the_message(where, template):
    with open(DOC) as handle:
        doc = ' '.join(handle.read().replace('`', '').split())
    missing = [piece for piece in fragments(template) if piece not in doc]
    assert not missing, 'docs/troubleshooting.md lacks %r (from %s: %r)' % (missing, where, template)
