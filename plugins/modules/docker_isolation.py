#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r'''
---
module: docker_isolation
short_description: Docker's isolation between bridge networks, icc, internal networks and masquerade, on nftables
version_added: 0.1.0
description:
  - Gives a set of Linux bridges Docker's network semantics (seed S5), in nftables tables that belong to
    this collection alone (C(inet linuxnet_isolation)); no other table, chain or iptables rule is touched.
  - Traffic between two different listed bridges is dropped in both directions; within one bridge it passes.
  - O(networks[].icc=false) drops traffic between the ports of that bridge, as Docker does, through
    br_netfilter (C(net.bridge.bridge-nf-call-iptables=1) in the namespace, set when any network has
    O(networks[].icc=false)), so bridged IPv4 frames cross the forward hook with the bridge as both
    input and output interface. A C(bridge) family table would avoid br_netfilter, but it needs
    C(meta ibrname) (the nft_meta_bridge module, missing from many kernels) or rules keyed on port names
    that change whenever an endpoint joins.
  - O(networks[].internal=true) drops every forwarded packet into or out of that bridge.
  - Outbound masquerade of a network's subnet for traffic that does not leave through its own bridge.
  - A chain C(user) in C(inet linuxnet_isolation) is evaluated before the isolation rules, like Docker's
    DOCKER-USER; users add their own rules there (for example an accept that lets two networks talk) and
    later runs leave them alone.
  - The rule count does not grow with the number of bridges; bridges, subnets and flags live in sets.
  - Every change is one atomic nftables transaction; nothing is written when the tables are already as
    planned.
author:
  - linuxnet.container contributors (@linuxnet)
requirements:
  - nftables (the C(nft) command) on the managed host, kernel 5.2 or later (nat in the inet family)
  - pyroute2 >= 0.9 on the managed host
attributes:
  check_mode:
    support: full
    description: Reads the tables and reports the transaction it would apply; applies nothing.
  diff_mode:
    support: full
    description: Before and after of the managed sets, rules and sysctls.
  idempotent:
    support: full
    description: A second run with the same arguments reports no change and writes nothing.
  platform:
    support: full
    platforms: posix
    description: Linux only.
options:
  networks:
    description:
      - The complete list of bridge networks. Bridges not listed lose their isolation and masquerade.
    type: list
    elements: dict
    default: []
    suboptions:
      bridge:
        description: The Linux bridge of the network (it need not exist yet).
        type: str
        required: true
      subnet:
        description: The network's IPv4 subnet, needed for O(networks[].masquerade).
        type: str
      icc:
        description: Traffic between the network's own endpoints.
        type: bool
        default: true
      masquerade:
        description: SNAT of the subnet for traffic that leaves through another interface.
        type: bool
        default: true
      internal:
        description: No forwarded traffic into or out of the network at all (implies no masquerade).
        type: bool
        default: false
  namespace:
    description:
      - Network namespace to work in (name, path or C(pid:N)); default the one the module runs in.
    type: str
  forwarding:
    description:
      - Set C(net.ipv4.ip_forward=1) in the namespace, which routing between networks needs, and
        C(net.bridge.bridge-nf-call-iptables=1) when a network has O(networks[].icc=false).
    type: bool
    default: true
  state:
    description: V(absent) removes the table, the C(user) chain included.
    type: str
    choices: [present, absent]
    default: present
notes:
  - The sysctls are left as they are when the table is removed; other software may rely on them.
seealso:
  - module: linuxnet.container.bridge
'''

EXAMPLES = r'''
- name: Two isolated networks and an internal one, seed S5
  linuxnet.container.docker_isolation:
    networks:
      - bridge: docker0
        subnet: 172.17.0.0/16
      - bridge: br-test_net2
        subnet: 173.20.0.0/16
        icc: false
      - bridge: br-backend
        subnet: 10.10.0.0/24
        internal: true

- name: Remove the isolation tables
  linuxnet.container.docker_isolation:
    state: absent
'''

RETURN = r'''
tables:
  description: The managed state after the run (predicted in check mode).
  returned: always
  type: dict
  sample:
    bridges: [br-test_net2, docker0]
    icc_off: [br-test_net2]
    internal: []
    masquerade: [["172.17.0.0/16", "docker0"], ["173.20.0.0/16", "br-test_net2"]]
    sysctls: {net.ipv4.ip_forward: "1", net.bridge.bridge-nf-call-iptables: "1"}
commands:
  description: The nftables JSON commands of the transaction (empty when nothing changed).
  returned: always
  type: list
  elements: dict
actions:
  description: What the run did, or would do in check mode.
  returned: always
  type: list
  elements: str
'''

import ipaddress

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.linuxnet.container.plugins.module_utils import _nft as nft
from ansible_collections.linuxnet.container.plugins.module_utils._module import run_module
from ansible_collections.linuxnet.container.plugins.module_utils._netlink import LinuxnetError, NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._normalize import normalize_network, validate_ifname
from ansible_collections.linuxnet.container.plugins.module_utils._reconcile import ABSENT, Plan, Reconciler

TABLE = 'linuxnet_isolation'
KEY = 'nftables'
SYSCTLS = {'net.ipv4.ip_forward': '/proc/sys/net/ipv4/ip_forward',
           'net.bridge.bridge-nf-call-iptables': '/proc/sys/net/bridge/bridge-nf-call-iptables'}


def _meta(key):
    return {'meta': {'key': key}}


def _match(left, right, op='=='):
    return {'match': {'op': op, 'left': left, 'right': right}}


_PAIR = {'concat': [_meta('iifname'), _meta('oifname')]}
_SADDR = {'payload': {'protocol': 'ip', 'field': 'saddr'}}

# Sets: name -> (nft type, map data type (None: a set), flags). Bridges, subnets and flags live here, so the rules below are
# the same whatever the number of networks.
SETS = {
    'bridges': ('ifname', None, []),
    'self_pairs': (['ifname', 'ifname'], None, []),
    'icc_off_pairs': (['ifname', 'ifname'], None, []),
    'internal': ('ifname', None, []),
    'masq_subnets': ('ipv4_addr', None, ['interval']),
    'masq_self': (['ipv4_addr', 'ifname'], None, ['interval']),
}
CHAINS = {
    'forward': {'type': 'filter', 'hook': 'forward', 'prio': -1, 'policy': 'accept'},
    'postrouting': {'type': 'nat', 'hook': 'postrouting', 'prio': 100, 'policy': 'accept'},
    'user': None,
}
# (chain, id, expression); the ids are stored as rule comments.
RULES = [
    # Docker's DOCKER-USER: evaluated first; an accept there ends this chain before isolation.
    ('forward', 'user', [{'jump': {'target': 'user'}}]),
    # icc=false: bridged frames (br_netfilter) between ports of the same bridge.
    ('forward', 'icc', [_match(_PAIR, '@icc_off_pairs'), {'drop': None}]),
    # internal: nothing forwarded into or out of the bridge, except within it.
    ('forward', 'internal-out', [_match(_meta('iifname'), '@internal'), _match(_PAIR, '@self_pairs', '!='), {'drop': None}]),
    ('forward', 'internal-in', [_match(_meta('oifname'), '@internal'), _match(_PAIR, '@self_pairs', '!='), {'drop': None}]),
    # Docker's DOCKER-ISOLATION-STAGE-1/2 in one rule: from one managed bridge to another.
    ('forward', 'isolation', [_match(_meta('iifname'), '@bridges'), _match(_meta('oifname'), '@bridges'),
                              _match(_PAIR, '@self_pairs', '!='), {'drop': None}]),
    # -s SUBNET ! -o BRIDGE -j MASQUERADE for every network, in two rules.
    ('postrouting', 'masquerade-own-bridge', [_match({'concat': [_SADDR, _meta('oifname')]}, '@masq_self'), {'return': None}]),
    ('postrouting', 'masquerade', [_match(_SADDR, '@masq_subnets'), {'masquerade': None}]),
]
NEVER_FLUSHED = {'user'}


def summary(want_sets):
    """The user-facing state: which bridges, which flags, which subnets are masqueraded."""
    return {
        'bridges': list(want_sets['bridges']),
        'icc_off': [pair[0] for pair in want_sets['icc_off_pairs']],
        'internal': list(want_sets['internal']),
        'masquerade': [list(e) for e in want_sets['masq_self']],
    }


class IsolationReconciler(Reconciler):
    kind = 'nftables table'

    def __init__(self, module, netlink, ns):
        super().__init__(module, netlink)
        self.ns = ns
        self.commands = []
        self._table = None

    def read(self, desired):
        sysctls = {}
        with self.netlink.inside(self.ns):
            table = nft.TableState(nft.list_table('inet', TABLE))
            for key, path in SYSCTLS.items():
                try:
                    with open(path) as handle:
                        sysctls[key] = handle.read().strip()
                except FileNotFoundError:
                    sysctls[key] = None
        if table.exists and not table.owned:
            raise LinuxnetError('nftables table inet %s exists but was not made by linuxnet.container (no set %s in it). '
                                'Fix: rename or remove that table; this module only manages its own' % (TABLE, nft.OWNER_SET))
        self._table = table
        state = {'sysctls': sysctls, KEY: ABSENT}
        if table.exists:
            state[KEY] = dict(summary({name: table.sets.get(name, []) for name in SETS}),
                              rules={name: ids for name, ids in sorted(table.chains.items()) if name not in NEVER_FLUSHED})
        return state

    def plan(self, desired, current):
        plan = Plan()
        predicted = {'sysctls': dict(current['sysctls'])}
        if desired is ABSENT:
            predicted[KEY] = ABSENT
            if current[KEY] is not ABSENT:
                cmds = [{'delete': {'table': {'family': 'inet', 'name': TABLE}}}]
                self.commands = cmds
                plan.add(KEY, 'delete nftables table inet %s (the user chain with it)' % TABLE, lambda: self._apply(cmds))
            return plan, predicted
        cmds = nft.table_commands('inet', TABLE, SETS, CHAINS, RULES, self._table, desired['sets'], NEVER_FLUSHED)
        self.commands = cmds
        predicted[KEY] = dict(summary(desired['sets']), rules=nft.planned_rule_ids(CHAINS, RULES, NEVER_FLUSHED))
        if cmds:
            plan.add(KEY, '%s nftables table inet %s in one transaction (%d commands)'
                     % ('create' if current[KEY] is ABSENT else 'update', TABLE, len(cmds)), lambda: self._apply(cmds))
        for key, value in sorted(desired['sysctls'].items()):
            have = current['sysctls'].get(key)
            if have is None:
                raise LinuxnetError('sysctl %s does not exist in this kernel: icc=false needs br_netfilter. '
                                    'Fix: load it (modprobe br_netfilter) or leave icc on' % key)
            if have != value:
                predicted['sysctls'][key] = value
                plan.add('sysctls', 'set %s=%s' % (key, value), lambda k=key, v=value: self._sysctl(k, v))
        return plan, predicted

    def _apply(self, cmds):
        with self.netlink.inside(self.ns):
            nft.apply(cmds, 'table inet %s' % TABLE)

    def _sysctl(self, key, value):
        with self.netlink.inside(self.ns):
            with open(SYSCTLS[key], 'w') as handle:
                handle.write(value)


def _desired(params):
    if params['state'] == 'absent':
        return ABSENT
    bridges, icc_off, internal, masq = [], [], [], []
    seen = {}
    for index, net in enumerate(params['networks']):
        where = 'networks[%d] (%s)' % (index, net['bridge'])
        problem = validate_ifname(net['bridge'])
        if problem:
            raise LinuxnetError('%s: %s' % (where, problem))
        if net['bridge'] in seen:
            raise LinuxnetError('%s: bridge %s is listed twice (also networks[%d]). Fix: list each bridge once'
                                % (where, net['bridge'], seen[net['bridge']]))
        seen[net['bridge']] = index
        bridges.append(net['bridge'])
        if not net['icc']:
            icc_off.append(net['bridge'])
        if net['internal']:
            internal.append(net['bridge'])
        if net['masquerade'] and not net['internal']:
            if not net.get('subnet'):
                raise LinuxnetError('%s: masquerade needs the subnet. Fix: set subnet, or masquerade: false' % where)
            try:
                subnet = normalize_network(net['subnet'])
            except ValueError as err:
                raise LinuxnetError('%s: subnet: %s' % (where, err))
            if ':' in subnet:
                raise LinuxnetError('%s: subnet %s: only IPv4 subnets are masqueraded. Fix: give the IPv4 subnet' % (where, subnet))
            masq.append((subnet, net['bridge']))
    subnets = sorted({subnet for subnet, _bridge in masq})
    ordered = sorted(ipaddress.ip_network(n) for n in subnets)
    for a, b in zip(ordered, ordered[1:]):  # sorted: an overlap shows between neighbours
        if a.overlaps(b):
            raise LinuxnetError('networks: subnets %s and %s overlap. Fix: give every network its own subnet' % (a, b))
    sysctls = {}
    if params['forwarding']:
        sysctls['net.ipv4.ip_forward'] = '1'
        if icc_off:
            sysctls['net.bridge.bridge-nf-call-iptables'] = '1'
    return {
        'sysctls': sysctls,
        'sets': {
            'bridges': nft.sort_elements(bridges),
            'self_pairs': nft.sort_elements((b, b) for b in bridges),
            'icc_off_pairs': nft.sort_elements((b, b) for b in icc_off),
            'internal': nft.sort_elements(internal),
            'masq_subnets': nft.sort_elements(subnets),
            'masq_self': nft.sort_elements(masq),
        },
    }


def main():
    module = AnsibleModule(
        argument_spec=dict(
            networks=dict(type='list', elements='dict', default=[], options=dict(
                bridge=dict(type='str', required=True),
                subnet=dict(type='str'),
                icc=dict(type='bool', default=True),
                masquerade=dict(type='bool', default=True),
                internal=dict(type='bool', default=False),
            )),
            namespace=dict(type='str'),
            forwarding=dict(type='bool', default=True),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
        ),
        supports_check_mode=True,
    )

    def body(netlink):
        desired = _desired(module.params)
        reconciler = IsolationReconciler(module, netlink, NamespaceRef(module.params['namespace']))
        result = reconciler.run(desired)
        after = result.pop('after')
        result.pop('before')
        result['tables'] = dict(after.get(KEY) or {}, sysctls=after['sysctls'])
        result['commands'] = reconciler.commands if result['changed'] else []
        return result

    run_module(module, body)


if __name__ == '__main__':
    main()
