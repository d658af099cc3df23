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
    M(linuxnet.container.bridge_network) converges a host with one call of this module instead of five (and
    M(linuxnet.container.overlay_network) with one instead of three), and the parts share one netlink socket per
    namespace."
  - Every part's arguments are checked like its module checks them (types, choices, defaults, required and
    mutually exclusive options) before any part runs; one bad part changes nothing anywhere.
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
    description: Every part runs in check mode; give the parts C(expect) where a later part needs what an earlier one would create.
  diff_mode:
    support: full
    description: One before/after per part that changed, headed with the part's name; returned in diff mode only.
  idempotent:
    support: full
    description: A second run with the same arguments reports no change and writes nothing.
  platform:
    support: full
    platforms: posix
    description: Linux only.
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

- name: Check mode on a fresh host - the later parts are told what the earlier ones create
  linuxnet.container.host_network:
    bridge:
      bridges: [{name: br-front, addresses: [172.18.0.1/16]}]
    veth:
      pairs: [{name: vethweb0, master: br-front, peer: {name: eth0, namespace: web}}]
      expect:
        namespaces: [web]
        links: [{name: br-front}]
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
failed_part:
  description: The part that failed; the parts before it in RV(parts) were applied.
  returned: failure
  type: str
  sample: veth
'''

import traceback

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.container.plugins.module_utils import (
    _bridge_impl,
    _docker_isolation_impl,
    _netns_impl,
    _macvlan_impl,
    _port_map_impl,
    _veth_impl,
    _vtep_filter_impl,
    _vxlan_impl,
)
from ansible_collections.linuxnet.container.plugins.module_utils._module import PartModule, run_module, validate_part
from ansible_collections.linuxnet.container.plugins.module_utils._netlink import LinuxnetError

# In the order they run: namespaces before the links in them, bridges before their ports (veth ends, VXLAN
# devices), links before the rules that name them.
PARTS = (
    ('netns', _netns_impl),
    ('bridge', _bridge_impl),
    ('veth', _veth_impl),
    ('vxlan', _vxlan_impl),
    ('macvlan', _macvlan_impl),
    ('docker_isolation', _docker_isolation_impl),
    ('port_map', _port_map_impl),
    ('vtep_filter', _vtep_filter_impl),
)


def converge(module, netlink):
    todo, errors = [], []
    for name, impl in PARTS:
        if module.params[name] is None:
            continue
        params, problems = validate_part(name, impl.module_spec(), module.params[name])
        errors.extend(problems)
        todo.append((name, impl, params))
    if errors:
        raise LinuxnetError('invalid arguments, nothing was changed: %s' % '; '.join(errors))
    results, diffs, changed = {}, [], False
    for name, impl, params in todo:
        part = PartModule(name, params, module.check_mode, module.warn)
        try:
            result = impl.run(part, netlink)
        except LinuxnetError as err:
            raise LinuxnetError('%s: %s' % (name, err.msg), failed_part=name, parts=results, changed=changed, **err.details)
        except Exception as err:  # pylint: disable=broad-except
            raise LinuxnetError('%s: unexpected error: %s: %s' % (name, type(err).__name__, err), failed_part=name,
                                parts=results, changed=changed, exception=traceback.format_exc())
        diff = result.pop('diff', None)
        if result['changed'] and diff:
            diffs.append(dict(diff, before_header=name, after_header=name))
        changed = changed or result['changed']
        if not module.params['return_objects']:
            result = {key: value for key, value in result.items() if key == 'actions' or not isinstance(value, (list, dict))}
        results[name] = result
    out = {'changed': changed, 'parts': results}
    # Only in diff mode: at 500 containers the before/after of every object is most of the result.
    if module._diff:  # pylint: disable=protected-access
        out['diff'] = diffs
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict({name: dict(type='dict') for name, _impl in PARTS}, return_objects=dict(type='bool', default=True)),
        required_one_of=[tuple(name for name, _impl in PARTS)],
        supports_check_mode=True,
    )
    run_module(module, lambda netlink: converge(module, netlink))


if __name__ == '__main__':
    main()
