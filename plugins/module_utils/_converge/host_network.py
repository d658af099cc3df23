# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One converge of a host's parts: what linuxnet.container.host_network runs, and what the host-local
``linuxnet-container apply`` runs from the recorded desired state (the same code, the same checks)."""

from __future__ import annotations

import traceback

from ansible_collections.linuxnet.container.plugins.module_utils._parts import (
    bridge,
    docker_isolation,
    macvlan,
    netns,
    port_map,
    veth,
    vtep_filter,
    vxlan,
)
from ansible_collections.linuxnet.container.plugins.module_utils._converge.part import PartModule, validate_part
from ansible_collections.linuxnet.container.plugins.module_utils._converge.expect import Expect
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError

# In the order they run: namespaces before the links in them, bridges before their ports (veth ends, VXLAN
# devices), links before the rules that name them.
PARTS = (
    ('netns', netns),
    ('bridge', bridge),
    ('veth', veth),
    ('vxlan', vxlan),
    ('macvlan', macvlan),
    ('docker_isolation', docker_isolation),
    ('port_map', port_map),
    ('vtep_filter', vtep_filter),
)
PART_NAMES = tuple(name for name, _impl in PARTS)
# The parts that hold nftables rules only: what a firewall reload can take away while every link stays.
FIREWALL_PARTS = ('docker_isolation', 'port_map', 'vtep_filter')


def add_created(created, name, params):
    """Add to ``created`` (the shape of the ``expect`` option) what part ``name`` creates with these arguments.

    Check mode only: what an earlier part of the call would create is the ``expect`` of the later parts, so that one
    call predicts on a fresh host what it then does (the netns part's namespaces, the bridge part's bridges with
    their addresses, whose connected routes port_map follows). The veth part's links are left out: no later part
    names them (VXLAN devices go on bridges, macvlan endpoints on host links, rules name bridges).
    """
    creates = getattr(dict(PARTS)[name], 'creates', None)
    for key, items in (creates(params) if creates is not None else {}).items():
        created[key].extend(items)


def with_created(expect, created):
    """A part's ``expect`` (given by the user, or None) with what the earlier parts of the call create."""
    expect = expect or {}
    out = {key: list(expect.get(key) or []) + created[key] for key in ('namespaces', 'links')}
    out[Expect.THREADED] = True  # its check-mode hints name the call's own parts, not the deprecated expect
    return out


def converge(parts, netlink, check_mode=False, diff=False, warn=None, return_objects=True, only=None, refuse=True):
    """Run the given parts ({part name: its module's arguments}) in PARTS order; ``only``: a subset of names.

    Every part's arguments are validated, and every part's preflight (what the host itself could refuse, such as
    a host process on a published port) runs, before any part runs; ``refuse=False`` turns the preflight's
    refusals into warnings (the host-local restore). In check mode, what the earlier parts create is added to the
    ``expect`` of the later ones (add_created). Returns {'changed', 'parts', 'diff' (with diff)}; a failing
    part raises LinuxnetError with ``failed_part`` and the results of the parts before it.
    """
    warn = warn or (lambda message: None)
    todo, errors = [], []
    for name, impl in PARTS:
        if parts.get(name) is None or (only is not None and name not in only):
            continue
        params, problems = validate_part(name, impl.module_spec(), parts[name])
        errors.extend(problems)
        todo.append((name, impl, params))
    if errors:
        raise LinuxnetError('invalid arguments, nothing was changed: %s' % '; '.join(errors))
    for name, impl, params in todo:
        if hasattr(impl, 'preflight'):
            try:
                impl.preflight(params, netlink, lambda message, part=name: warn('%s: %s' % (part, message)), refuse)
            except LinuxnetError as err:
                raise LinuxnetError('%s: %s' % (name, err.msg), failed_part=name, parts={}, changed=False, **err.details)
    results, diffs, changed = {}, [], False
    created = {'namespaces': [], 'links': []}
    for name, impl, params in todo:
        if check_mode and 'expect' in params:
            params['expect'] = with_created(params['expect'], created)
        part = PartModule(name, params, check_mode, warn, return_objects)
        part.preflighted = True
        try:
            result = impl.run(part, netlink)
        except LinuxnetError as err:
            raise LinuxnetError('%s: %s' % (name, err.msg), failed_part=name, parts=results, changed=changed, **err.details)
        except Exception as err:  # pylint: disable=broad-except
            raise LinuxnetError('%s: unexpected error: %s: %s' % (name, type(err).__name__, err), failed_part=name,
                                parts=results, changed=changed, exception=traceback.format_exc())
        part_diff = result.pop('diff', None)
        if result['changed'] and part_diff:
            diffs.append(dict(part_diff, before_header=name, after_header=name))
        changed = changed or result['changed']
        if check_mode:
            add_created(created, name, params)
        if not return_objects:
            result = {key: value for key, value in result.items() if key == 'actions' or not isinstance(value, (list, dict))}
        results[name] = result
    out = {'changed': changed, 'parts': results}
    # Only in diff mode: at 500 containers the before/after of every object is most of the result.
    if diff:
        out['diff'] = diffs
    return out
