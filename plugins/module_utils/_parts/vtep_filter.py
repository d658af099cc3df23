# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""linuxnet.container.vtep_filter: the pure planner (plan_table), apply_action, a thin reconciler, module_spec() and run()
(see _converge/module.py run_impl)."""

from __future__ import annotations

import ipaddress


from ansible_collections.linuxnet.container.plugins.module_utils._kernel import nft
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import where
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT, Plan, TableReconciler

FAMILY = 'inet'
NAME = 'linuxnet_vtep'
TABLE = '%s %s' % (FAMILY, NAME)
KEY = 'nftables'

# name -> (nft type, map data type (None: a set), flags). The rules below are the same whatever these hold.
SETS = {
    'vteps4': ('ipv4_addr', None, []),
    'vteps6': ('ipv6_addr', None, []),
    'ports': ('inet_service', None, []),
}
CHAINS = {
    'input': {'type': 'filter', 'hook': 'input', 'prio': 0, 'policy': 'accept'},
}


def _drop_rule(nfproto, protocol, vteps):
    return [
        {'match': {'op': '==', 'left': {'meta': {'key': 'nfproto'}}, 'right': nfproto}},
        {'match': {'op': '==', 'left': {'payload': {'protocol': 'udp', 'field': 'dport'}}, 'right': '@ports'}},
        {'match': {'op': '!=', 'left': {'payload': {'protocol': protocol, 'field': 'saddr'}}, 'right': '@' + vteps}},
        {'counter': None},
        {'drop': None},
    ]


# (chain, id, expression); the ids are stored as rule comments.
RULES = [
    ('input', 'drop-ipv4', _drop_rule('ipv4', 'ip', 'vteps4')),
    ('input', 'drop-ipv6', _drop_rule('ipv6', 'ip6', 'vteps6')),
]


def _address_key(text):
    address = ipaddress.ip_address(text)
    return (address.version, int(address))


def summary(sets, chains):
    """The user-facing state: allowed VTEPs (IPv4 then IPv6, in address order), ports, rule ids."""
    vteps = sorted(list(sets.get('vteps4', [])) + list(sets.get('vteps6', [])), key=_address_key)
    return {
        'vteps': vteps,
        'ports': sorted(int(p) for p in sets.get('ports', [])),
        'rules': {name: list(ids) for name, ids in sorted(chains.items())},
    }


def desired_state(params):
    """The wanted set contents from the module's parameters, or ABSENT; LinuxnetError on bad input."""
    if params['state'] == 'absent':
        return ABSENT
    vteps = params.get('vteps') or []
    if not vteps:
        raise LinuxnetError('vteps is empty: the filter would drop every VXLAN packet this host receives. '
                            'Fix: list the underlay addresses of the overlay hosts (their linuxnet_vtep_address), '
                            'or use state: absent to remove the filter')
    found = {4: set(), 6: set()}
    for index, value in enumerate(vteps):
        text = str(value).strip()
        where = 'vteps[%d] %r' % (index, value)
        if '/' in text:
            raise LinuxnetError('%s is a network, not an address. Fix: list the underlay address of each VTEP' % where)
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise LinuxnetError('%s is not an IP address. Fix: give the VTEP\'s underlay address, like 192.0.2.11' % where)
        if address.is_multicast or address.is_unspecified or (address.version == 4 and address == ipaddress.IPv4Address('255.255.255.255')):
            raise LinuxnetError('%s is not a unicast address; VXLAN packets come from the unicast underlay address of '
                                'each VTEP (a multicast group is a destination). Fix: list the hosts\' underlay addresses' % where)
        if address.version == 6 and address.ipv4_mapped:
            raise LinuxnetError('%s is an IPv4-mapped IPv6 address. Fix: write it as the IPv4 address %s'
                                % (where, address.ipv4_mapped))
        found[address.version].add(address.compressed)
    ports = set()
    for index, port in enumerate(params.get('ports') or []):
        if not 1 <= int(port) <= 65535:
            raise LinuxnetError('ports[%d] %s is not a UDP port. Fix: give a number from 1 to 65535 (VXLAN uses 4789)'
                                % (index, port))
        ports.add(int(port))
    if not ports:
        raise LinuxnetError('ports is empty: the filter would match nothing. Fix: list the VXLAN ports (default [4789]), '
                            'or use state: absent to remove the filter')
    return {'sets': {'vteps4': nft.sort_elements(found[4]), 'vteps6': nft.sort_elements(found[6]),
                     'ports': nft.sort_elements(ports)}}


class VtepFilterReconciler(TableReconciler):
    def __init__(self, module, netlink, ns):
        super().__init__(module, netlink, ns)

    def read(self, desired):
        with self.netlink.inside(self.ns):
            table = nft.TableState(nft.list_table(FAMILY, NAME))
        if table.exists and not table.owned:
            raise LinuxnetError('nftables table %s in network namespace %s exists but was not made by linuxnet.container '
                                '(no set %s in it). Fix: rename or remove that table; this module only manages its own'
                                % (TABLE, self.ns.label, nft.OWNER_SET))
        self.table = table
        return state_of(table)

    def plan(self, desired, current):
        actions, predicted = plan_table(desired, current, self.table, 'in %s' % where(self.ns))
        self.commands = next((action['commands'] for action in actions), [])
        return Plan.of_actions(actions, lambda a: apply_action(self.netlink, self.ns, a)), predicted


# -- the plan: pure, from plain data to plain data -------------------------------------------------------------
#
# An action is a dict: key (KEY), description, op 'nft' and commands (one transaction). There is one at the most.

def state_of(table):
    """The state read() returns, from the table's nft.TableState."""
    return {KEY: summary(table.sets, table.chains) if table.exists else ABSENT}


def plan_table(desired, current, table, place):
    """(actions, predicted) taking the table from ``current`` (read()'s state) and ``table`` (the nft.TableState read()
    gathered) to ``desired``; ``place`` says where, for the description ('in the host namespace')."""
    if desired is ABSENT:
        actions = []
        if current[KEY] is not ABSENT:
            actions.append({'key': KEY, 'op': 'nft', 'commands': [{'delete': {'table': {'family': FAMILY, 'name': NAME}}}],
                            'description': 'delete nftables table %s %s (VXLAN from any source is accepted again)'
                            % (TABLE, place)})
        return actions, {KEY: ABSENT}
    cmds = nft.table_commands(FAMILY, NAME, SETS, CHAINS, RULES, table, desired['sets'])
    predicted = {KEY: summary(desired['sets'], nft.planned_rule_ids(CHAINS, RULES))}
    if not cmds:
        return [], predicted
    return [{'key': KEY, 'op': 'nft', 'commands': cmds,
             'description': '%s nftables table %s %s in one transaction: %s'
             % ('create' if current[KEY] is ABSENT else 'update', TABLE, place,
                describe(current[KEY], predicted[KEY], table.foreign_rules))}], predicted


def apply_action(netlink, ns, action):
    """Perform one action of plan_table in namespace ``ns``."""
    if action['op'] != 'nft':
        raise ValueError('unknown vtep_filter action %r' % action['op'])
    with netlink.inside(ns):
        nft.apply(action['commands'], 'table %s' % TABLE)


def describe(before, after, foreign_rules=None):
    """What changes between two summaries, in words (for the action line).

    ``foreign_rules``: {chain: count} of rules without the collection's comment in its chains, which
    the run removes by rewriting the chain.
    """
    if before is ABSENT:
        return 'accept VXLAN on UDP %s only from %s' % (', '.join(str(p) for p in after['ports']), ', '.join(after['vteps']))
    parts = []
    for field, label in (('vteps', 'VTEP'), ('ports', 'port')):
        old, new = set(before[field]), set(after[field])
        added = [str(v) for v in after[field] if v not in old]
        removed = [str(v) for v in before[field] if v not in new]
        if added:
            parts.append('allow %s %s' % (label, ', '.join(added)))
        if removed:
            parts.append('remove %s %s' % (label, ', '.join(removed)))
    drifted = sorted(name for name in after['rules']
                     if before['rules'].get(name) != after['rules'][name] or (foreign_rules or {}).get(name))
    if drifted:
        parts.append('restore the rules of chain %s' % ', '.join(drifted))
    return '; '.join(parts) or 'no change'


def module_spec():
    return dict(argument_spec=dict(
        vteps=dict(type='list', elements='str', default=[]),
        ports=dict(type='list', elements='int', default=[4789]),
        namespace=dict(type='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    ))


def run(module, netlink):
    desired = desired_state(module.params)
    reconciler = VtepFilterReconciler(module, netlink, NamespaceRef(module.params['namespace']))
    result, after = reconciler.converge(desired)
    result['filter'] = after.get(KEY) or {}
    result['commands'] = reconciler.commands if result['changed'] else []
    return result
