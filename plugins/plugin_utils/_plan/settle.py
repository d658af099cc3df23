# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One Python process per host when nothing changed: the bridge_network role's read through the host's own copy of
the code, and its converge skipped when the host already holds the plan (controller side, private).

A host that converged with persistence keeps the code that converged it (/var/lib/linuxnet-container/code.zip) and the
arguments it converged to, tagged with the controller's code id and a digest of the host's plan. On the next run the
role asks the host, over a raw connection, ``linuxnet-container read REQUEST``:

- when the recorded tag starts with this controller's code id, the host answers with what network_info would
  return and whether ``apply --check`` finds anything to change (one Python process, no module payload); otherwise it
  answers nothing and the role runs the network_info module as before;
- after planning, a host whose answer carries this plan's tag, found nothing to change, and holds nothing the plan
  removes is **settled**: the role skips its host_network call, which would have changed nothing.

``code_id`` covers what runs on the host (the module_utils and modules of the collection, the role's tasks that
template host_network's arguments, and ansible-core's version); ``tag`` adds a digest of the plan and of the
variables the role passes besides it. Either changes, and the host is converged again by the module.
"""

from __future__ import annotations

import hashlib
import json
import os

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.release import __version__ as ANSIBLE_VERSION

RECORD = 'bridge_network'
# This file is plugins/plugin_utils/_plan/settle.py; the collection's root is three levels up.
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_HOST_CODE = (('plugins', 'module_utils'), ('plugins', 'modules'), ('roles', 'bridge_network', 'tasks'))
# Variables the role passes to host_network besides the plan (linuxnet_state is planned: it is in the plan).
_ROLE_VARS = ('linuxnet_kill_holders', 'linuxnet_persist', 'linuxnet_state')
_CACHE = {}


def code_id(root=_ROOT):
    """A digest of the code a converge runs on the host, computed once per process."""
    if root not in _CACHE:
        digest = hashlib.sha256(ANSIBLE_VERSION.encode())
        for parts in _HOST_CODE:
            top = os.path.join(root, *parts)
            for directory, dirs, files in os.walk(top):
                dirs[:] = sorted(d for d in dirs if d != '__pycache__')
                for name in sorted(files):
                    if name.endswith(('.py', '.yml')):
                        path = os.path.join(directory, name)
                        with open(path, 'rb') as handle:
                            data = handle.read()
                        digest.update(b'%s\0%d\0' % (os.path.relpath(path, root).encode(), len(data)))
                        digest.update(data)
        _CACHE[root] = digest.hexdigest()[:32]
    return _CACHE[root]


def read_request(networks, containers, check_mode=True):
    """What the role hands ``linuxnet-container read``: this controller's code id, the record, network_info's options,
    and whether the run is in check mode (then the host keeps nothing, not even its bytecode cache)."""
    return {'code': code_id(), 'record': RECORD, 'check': bool(check_mode),
            'read': {'networks': networks, 'containers': containers, 'interfaces': True}}


def answer(result):
    """The host's answer to ``linuxnet-container read`` from a registered raw result: {tag, in_sync, read}, or None
    when it gave none (a skipped or failed task, no output, output of another shape). The answer is the last line that
    starts with ``{`` (the role's command prints a marker line before it where FRR has the collection's drop-in)."""
    if not isinstance(result, dict) or result.get('skipped'):
        return None
    lines = [line.strip() for line in (result.get('stdout') or '').splitlines() if line.strip().startswith('{')]
    if not lines:
        return None
    try:
        doc = json.loads(lines[-1])
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get('read'), dict) or not isinstance(doc.get('tag'), str):
        return None
    return doc


def facts_of(host_vars, names):
    """(network_info's result, the host's answer or None) from the first of ``names`` that holds one: a raw answer of
    ``linuxnet-container read``, or a network_info result that ran (not skipped)."""
    for name in [names] if isinstance(names, str) else names:
        result = host_vars.get(name)
        doc = answer(result)
        if doc is not None:
            return doc['read'], doc
        if isinstance(result, dict) and not result.get('skipped') and 'stdout' not in result:
            return result, None
    return {}, None


def vtep_filter(plan, facts):
    """host_network's vtep_filter argument: the members, the filter's removal from a host that has the table and no
    longer an overlay, or None (left out)."""
    if plan.get('vtep_members'):
        return {'members': plan['vtep_members'], 'state': 'present'}
    if 'inet linuxnet_vtep' in (facts.get('tables') or []):
        return {'members': [], 'state': 'absent'}
    return None


def tag(plan, host_vars, state='present'):
    """The code id and a digest of everything host_network's arguments are templated from: the plan, the state the
    play plans (``absent``: teardown), and the host's role variables. (Role variables a play sets, such as
    teardown.yml's, are not in hostvars: the role never skips a call that removes the record.)"""
    planned = {key: value for key, value in plan.items() if key not in ('warnings', 'tag', 'settled')}
    role_vars = {name: host_vars.get(name) for name in _ROLE_VARS}
    text = json.dumps([planned, role_vars, state], sort_keys=True, default=str, separators=(',', ':'))
    return '%s %s' % (code_id(), hashlib.sha256(text.encode()).hexdigest()[:32])


def removes(plan, facts):
    """Whether host_network would remove something the recorded arguments do not hold: the parts it calls with
    state absent (no isolation, no published ports) are not recorded, so ``apply --check`` cannot see their leftovers."""
    tables = facts.get('tables') or []
    if not plan.get('isolation') and 'inet linuxnet_isolation' in tables:
        return True
    published = any((facts.get('ports') or {}).values())  # {container: [lines]}: every scanned container has a key
    if not plan.get('ports') and (published or 'ip linuxnet_ports' in tables or 'ip6 linuxnet_ports' in tables):
        return True
    return plan.get('vtep_filter') is not None and not plan.get('vtep_members')


def skip_settled(host_vars):
    """linuxnet_skip_settled (default true): false converges the host with host_network even when it is settled."""
    return boolean(host_vars.get('linuxnet_skip_settled', True), strict=False)


def settled(plan, doc, facts):
    """Whether host_network would change nothing: the host answered with this plan's tag (on a record whose arguments
    are those it was tagged with), holds that record alone, ``apply --check`` of it found nothing to change, and the
    plan removes nothing the record does not hold."""
    return (doc is not None and doc.get('tag') == plan['tag'] and doc.get('records') == [RECORD]
            and doc.get('in_sync') is True and not removes(plan, facts))
