#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: host_network
short_description: A host's container networking in one call - namespaces, bridges, endpoints, overlays, isolation, ports
version_added: 0.1.0
description:
  - Runs several of the collection's modules one after another in one process on the managed host, each with
    exactly the arguments that module takes, and returns each one's result. The parts run in this order, those
    left out are not run - O(netns) (M(linuxnet.container.netns)), O(bridge) (M(linuxnet.container.bridge)),
    O(veth) (M(linuxnet.container.veth)), O(vxlan) (M(linuxnet.container.vxlan)), O(macvlan)
    (M(linuxnet.container.macvlan)), O(docker_isolation) (M(linuxnet.container.docker_isolation)),
    O(port_map) (M(linuxnet.container.port_map)), O(vtep_filter) (M(linuxnet.container.vtep_filter)).
  - "Why one call: each module task costs Ansible about half a second whatever it does (a worker, the
    connection, a Python start-up, the imports, moving the arguments and the result). The role
    M(linuxnet.container.bridge_network) converges a host, its overlays and macvlan networks included, with one
    call of this module instead of eight, and the parts share one netlink socket per namespace."
  - Every part's arguments are checked like its module checks them (types, choices, defaults, required and
    mutually exclusive options) before any part runs; one bad part changes nothing anywhere.
  - The C(expect) key of a part (the standalone modules' option, for tasks that run after one another) is deprecated
    here - this module predicts across its parts itself. It is still accepted, adds to what the earlier parts
    predict, and warns; it will be removed from this module's parts in 2.0.0.
  - Each part behaves as its module does, check mode and diff included. The first part that fails stops the
    run; the parts before it stay applied, and the failure names the part (RV(failed_part)) and carries
    their results.
author:
  - linuxnet.container contributors (@linuxnet)
requirements:
  - pyroute2 >= 0.9 on the managed host
  - nftables (the C(nft) command) on the managed host, for O(docker_isolation), O(port_map) and O(vtep_filter)
attributes:
  check_mode:
    support: full
    description:
      - Every part runs in check mode. What an earlier part would create (the O(netns) part's namespaces, the O(bridge)
        part's bridges with their addresses) is what the later parts expect, so one call predicts on a fresh host
        what a real run of it does, with no C(expect) (the standalone modules' option) in any part.
  diff_mode:
    support: full
    description: One before/after per part that changed, headed with the part's name; returned in diff mode only.
extends_documentation_fragment:
  - linuxnet.container.attributes
options:
  netns:
    description: The arguments of M(linuxnet.container.netns), as a dictionary.
    type: dict
  bridge:
    description: The arguments of M(linuxnet.container.bridge), as a dictionary.
    type: dict
  veth:
    description: The arguments of M(linuxnet.container.veth), as a dictionary.
    type: dict
  vxlan:
    description: The arguments of M(linuxnet.container.vxlan), as a dictionary.
    type: dict
  macvlan:
    description: The arguments of M(linuxnet.container.macvlan), as a dictionary.
    type: dict
  docker_isolation:
    description: The arguments of M(linuxnet.container.docker_isolation), as a dictionary.
    type: dict
  port_map:
    description: The arguments of M(linuxnet.container.port_map), as a dictionary.
    type: dict
  vtep_filter:
    description: The arguments of M(linuxnet.container.vtep_filter), as a dictionary.
    type: dict
  return_objects:
    description:
      - Return every part's whole result, the state of each object it manages included (C(namespaces),
        C(bridges), C(pairs), ...).
      - With V(false), each part returns only C(changed), C(actions) and its counters. At 500 containers the
        objects are most of a result of about 0.7 MB, and taking it in costs Ansible about 0.7 s; the role
        M(linuxnet.container.bridge_network) does not read them (M(linuxnet.container.network_info) reports a
        host's state).
    type: bool
    default: true
  persist:
    description:
      - Record this call's arguments on the host as the desired state it converges to, so that the host converges
        again with no controller (C(linuxnet-container apply), run at boot and after a firewall reload by the units
        the M(linuxnet.container.prerequisites) role installs). Left out, nothing is recorded or removed.
      - The record holds the parts' arguments as received, less the removals (list items with C(state=absent)).
        Those were done by the run that recorded them; the next run, which no longer finds those objects, records
        the same, so a run with nothing to change writes nothing.
      - The record is O(persist.path)/desired.json (mode 0600, written atomically), beside the code that applies
        it (C(code.zip), this module's own payload, so the host runs the same code path as this call). Only after
        every part succeeded; in check mode it is predicted, not written.
      - Every run of this module, recorded or not, holds the host's converge lock (C(/run/lock/linuxnet-container.lock))
        so that it never runs at the same time as a host-local apply or the watcher's repairs.
    type: dict
    suboptions:
      name:
        description:
          - The record's name, one per call of a host's converge (the roles make one call, V(bridge_network); the
            V(overlay_network) record of their earlier second call goes with O(persist.keep=[])).
        type: str
        required: true
      keep:
        description:
          - The other records this converge writes (the later calls' names). Every record not named here is
            removed, so that what a run no longer makes does not come back at boot; V([]) keeps none.
          - Left out, every other record is kept.
        type: list
        elements: str
      state:
        description: With V(absent), this record goes (and those O(persist.keep) does not name), and the code with the last one.
        type: str
        choices: [present, absent]
        default: present
      path:
        description: The directory of the record.
        type: path
        default: /var/lib/linuxnet-container
      tag:
        description:
          - The caller's name for this desired state, kept with the record and reported by C(linuxnet-container read).
            The M(linuxnet.container.bridge_network) role passes the id of the collection's code and a digest of its
            plan, and skips this call when the host holds that tag and C(linuxnet-container apply --check) finds nothing
            to change.
          - A call whose record differs only by its tag writes the new tag and reports no change.
        type: str
        version_added: 1.1.0
notes:
  - "Arguments are checked per part, so an unknown key in a part is reported as that part's error
    (C(veth: Unsupported parameters ...))."
seealso:
  - module: linuxnet.container.netns
  - module: linuxnet.container.bridge
  - module: linuxnet.container.veth
  - module: linuxnet.container.vxlan
  - module: linuxnet.container.macvlan
  - module: linuxnet.container.docker_isolation
  - module: linuxnet.container.port_map
  - module: linuxnet.container.vtep_filter
'''

EXAMPLES = r'''
- name: A container namespace on a bridge network, isolated, with a published port - one call
  linuxnet.container.host_network:
    netns:
      namespaces:
        - name: web
    bridge:
      bridges:
        - name: br-front
          addresses: [172.18.0.1/16]
    veth:
      pairs:
        - name: vethweb0
          master: br-front
          hairpin: true
          peer:
            name: eth0
            namespace: web
            addresses: [172.18.0.2/16]
            mac_from_ip: true
            routes: [{dst: default, gateway: 172.18.0.1}]
    docker_isolation:
      networks:
        - bridge: br-front
          subnet: 172.18.0.0/16
    port_map:
      ports:
        - container_ip: 172.18.0.2
          publish: ["8080:80"]
      exclusive: true
      forwarding: false

- name: Converge and record the desired state, so that the host restores it at boot with no controller
  linuxnet.container.host_network:
    netns:
      namespaces: [{name: web}]
    persist:
      name: my_playbook
      keep: []

- name: Check mode on a fresh host - the veth part finds the namespace and the bridge the earlier parts would create
  linuxnet.container.host_network:
    netns:
      namespaces: [{name: web}]
    bridge:
      bridges: [{name: br-front, addresses: [172.18.0.1/16]}]
    veth:
      pairs: [{name: vethweb0, master: br-front, peer: {name: eth0, namespace: web}}]
  check_mode: true
'''

RETURN = r'''
parts:
  description:
    - Per part that ran, the result its own module returns (C(diff) left out, see the task's diff), keyed by the
      part's name. With O(return_objects=false), only each part's C(changed), C(actions) and counters.
  returned: always
  type: dict
  sample:
    netns: {changed: true, actions: [create network namespace web], namespaces: [{name: web, state: present}], removed: []}
    veth: {changed: true, actions: ["create veth pair vethweb0 (host), master br-front <-> eth0 (web)"], netlink_writes: 6}
persist:
  description: What O(persist) did, present when it was given.
  returned: when O(persist) is given
  type: dict
  contains:
    changed:
      description: Whether the record or the code changed (in check mode, would change).
      type: bool
    actions:
      description: What was written or removed.
      type: list
      elements: str
    path:
      description: The record's file.
      type: str
    records:
      description: The names of the records the file holds now, in the order C(linuxnet-container apply) runs them.
      type: list
      elements: str
  sample: {changed: true, actions: [record the desired state (bridge_network) in /var/lib/linuxnet-container/desired.json],
           path: /var/lib/linuxnet-container/desired.json, records: [bridge_network]}
failed_part:
  description: The part that failed; the parts before it in RV(parts) were applied.
  returned: failure
  type: str
  sample: veth
'''

import os

from ansible.module_utils.basic import AnsibleModule

# First of the collection's imports: the module_utils below are compiled once per host, not at every call.
from ansible_collections.linuxnet.container.plugins.module_utils._converge import bytecode  # noqa: F401  pylint: disable=unused-import
from ansible_collections.linuxnet.container.plugins.module_utils._converge import apply as _apply, persist
from ansible_collections.linuxnet.container.plugins.module_utils._converge.host_network import PART_NAMES, converge
from ansible_collections.linuxnet.container.plugins.module_utils._converge.module import run_module
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError

# The host-local command (linuxnet-container) runs this from the recorded payload: importing it here puts it there.
HOST_COMMAND = _apply.main


def record(module):
    """Record (or remove) this call's desired state and the code that converged it; returns the persist result."""
    spec = module.params['persist']
    directory = spec['path']
    state_path = os.path.join(directory, persist.STATE_FILE)
    code_path = os.path.join(directory, persist.CODE_FILE)
    current = persist.load(directory)
    code = None
    if spec['state'] == 'present':
        payload = persist.payload_path(persist.__file__)
        if payload is None:
            module.warn('persist: not running from an Ansible payload, so no code is recorded beside %s' % state_path)
        else:
            code = persist.code_archive(payload)
    doc = persist.plan(current, spec['name'], persist.record_args(module.params, PART_NAMES), spec['keep'],
                       spec['state'], persist.digest(code) if code is not None else None, spec['tag'])
    before, after = persist.read_bytes(state_path), persist.encode(doc) if doc is not None else None
    old_code = persist.read_bytes(code_path)
    actions = []
    if persist.untagged(current) != persist.untagged(doc):
        actions.append(('record the desired state (%s) in %s' % (spec['name'], state_path)) if after is not None
                       else 'remove the recorded desired state %s' % state_path)
    # A new tag alone is written and is no change: the same desired state under the caller's new name for it.
    retag = not actions and before != after and after is not None
    write_code = after is not None and code is not None and (old_code is None or persist.digest(old_code) != doc['code'])
    if write_code:
        actions.append('record the code that applies it in %s' % code_path)
    if after is None and old_code is not None:
        actions.append('remove %s' % code_path)
    if (actions or retag) and not module.check_mode:
        if write_code:
            persist.write_atomic(code_path, code)
        if after is not None:
            persist.write_atomic(state_path, after)
        else:
            for path in (state_path, code_path):
                if os.path.exists(path):
                    os.unlink(path)
    if after is None and not module.check_mode:
        persist.clear_restored()
    result = {'changed': bool(actions), 'actions': actions, 'path': state_path,
              'records': [r['name'] for r in doc['records']] if doc is not None else []}
    diff = {'before_header': 'persist', 'after_header': 'persist',
            'before': _summary(current), 'after': _summary(doc)}
    return result, diff


def _summary(doc):
    if doc is None:
        return 'nothing recorded\n'
    return ''.join('%s: %s\n' % (r['name'], persist.digest(persist.encode(r['args']))[:16]) for r in doc['records']) + \
        'code: %s\n' % (doc.get('code') or '-')[:16]


def deprecate_expect(module):
    """A part's ``expect`` key is accepted, and deprecated: the parts of one call predict for each other."""
    given = [name for name in PART_NAMES if isinstance(module.params[name], dict) and module.params[name].get('expect') is not None]
    if given:
        module.deprecate('%s: expect is not needed in host_network, which predicts in check mode what its earlier parts '
                         'create. Fix: leave it out' % ', '.join(given), version='2.0.0', collection_name='linuxnet.container')


def run(module, netlink):
    deprecate_expect(module)
    with persist.locked(touch=not module.check_mode):
        params = module.params
        out = converge({name: params[name] for name in PART_NAMES}, netlink, check_mode=module.check_mode,
                       diff=module._diff, warn=module.warn,  # pylint: disable=protected-access
                       return_objects=params['return_objects'])
        if not module.check_mode and params['persist'] is not None and params['persist']['state'] == 'present':
            persist.mark_restored()
        if params['persist'] is not None:
            try:
                out['persist'], diff = record(module)
            except OSError as err:
                raise LinuxnetError('persist: cannot write the desired state under %s: %s. Fix: check that the '
                                    'directory is writable by root, or leave persist out'
                                    % (params['persist']['path'], err), parts=out['parts'], changed=out['changed'])
            out['changed'] = out['changed'] or out['persist']['changed']
            if out['persist']['changed'] and 'diff' in out:
                out['diff'].append(diff)
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            {name: dict(type='dict') for name in PART_NAMES},
            return_objects=dict(type='bool', default=True),
            persist=dict(type='dict', options=dict(
                name=dict(type='str', required=True),
                keep=dict(type='list', elements='str'),
                state=dict(type='str', choices=['present', 'absent'], default='present'),
                path=dict(type='path', default=persist.STATE_DIR),
                tag=dict(type='str'),
            )),
        ),
        required_one_of=[PART_NAMES],
        supports_check_mode=True,
    )
    run_module(module, lambda netlink: run(module, netlink))


if __name__ == '__main__':
    main()
