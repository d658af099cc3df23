# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""linuxnet.container.vtep_filter: the pure planner (plan_table), apply_action, a thin reconciler, module_spec() and run()
(see _converge/module.py run_impl)."""

from __future__ import annotations

import ipaddress


from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import address_key
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
# The VNI of a VXLAN packet: 24 bits at bit 96 of the UDP header (8 bytes of UDP, then the VXLAN header's flags
# and 24 reserved bits, RFC 7348).
VNI_PAYLOAD = {'payload': {'base': 'th', 'offset': 96, 'len': 24}}
VNI_MAX = 16777215
FAMILIES = ((4, 'ipv4', 'ip', 'vteps4'), (6, 'ipv6', 'ip6', 'vteps6'))


def _drop_rule(nfproto, protocol, vteps, members=()):
    """Drop VXLAN whose source is not in the ``vteps`` set and, when ``members`` (address, vni) pairs are given,
    whose (source, VNI) is not one of them. nft 1.0's JSON cannot declare a named set keyed on a raw payload
    (``typeof`` is text-only there; ``integer`` has no size), so the pairs are an anonymous set of the rule:
    a change of membership writes the chain again, in the same one transaction."""
    expr = [
        {'match': {'op': '==', 'left': {'meta': {'key': 'nfproto'}}, 'right': nfproto}},
        {'match': {'op': '==', 'left': {'payload': {'protocol': 'udp', 'field': 'dport'}}, 'right': '@ports'}},
        {'match': {'op': '!=', 'left': {'payload': {'protocol': protocol, 'field': 'saddr'}}, 'right': '@' + vteps}},
    ]
    if members:
        expr.append({'match': {'op': '!=', 'left': {'concat': [{'payload': {'protocol': protocol, 'field': 'saddr'}}, VNI_PAYLOAD]},
                               'right': {'set': [nft.element_json(pair) for pair in members]}}})
    return expr + [{'counter': None}, {'drop': None}]


def rules(members=None):
    """(chain, id, expression) of the table; the ids are stored as rule comments. ``members``: {4: pairs, 6: pairs}."""
    members = members or {}
    return [('input', 'drop-' + nfproto, _drop_rule(nfproto, protocol, vteps, members.get(version, ())))
            for version, nfproto, protocol, vteps in FAMILIES]


RULES = rules()


def rule_members(table):
    """The (address, vni) pairs held in the drop rules of an nft.TableState: {4: [...], 6: [...]}."""
    found = {}
    for version, nfproto, _protocol, _vteps in FAMILIES:
        pairs = []
        for item in table.exprs.get(('input', 'drop-' + nfproto), []):
            match = item.get('match') if isinstance(item, dict) else None
            if not match or 'concat' not in (match.get('left') or {}):
                continue
            right = match.get('right')
            elements = right.get('set', []) if isinstance(right, dict) and 'set' in right else [right]
            pairs.extend(tuple(nft.normalize_element(e)) for e in elements if isinstance(e, dict))
        found[version] = nft.sort_elements(pairs)
    return found


def _members_summary(members):
    """[{vni, vteps}] by VNI, the addresses IPv4 then IPv6 in address order, from {4: pairs, 6: pairs}."""
    by_vni = {}
    for pairs in members.values():
        for address, vni in pairs:
            by_vni.setdefault(int(vni), []).append(address)
    return [{'vni': vni, 'vteps': sorted(by_vni[vni], key=address_key)} for vni in sorted(by_vni)]


def summary(sets, chains, members=None):
    """The user-facing state: VTEPs allowed for any VNI (IPv4 then IPv6, in address order), per-VNI members, ports,
    rule ids."""
    vteps = sorted(list(sets.get('vteps4', [])) + list(sets.get('vteps6', [])), key=address_key)
    return {
        'vteps': vteps,
        'members': _members_summary(members or {}),
        'ports': sorted(int(p) for p in sets.get('ports', [])),
        'rules': {name: list(ids) for name, ids in sorted(chains.items())},
    }


def _vtep_address(value, where):
    """One VTEP's underlay address, normalised; LinuxnetError naming ``where`` and the fix."""
    text = str(value).strip()
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
    return address


def _members(items):
    """{4: [(address, vni)], 6: [...]} from the members option; items of the same VNI are merged."""
    found = {4: set(), 6: set()}
    for index, item in enumerate(items or []):
        vni = item.get('vni')
        if vni is None or not 1 <= int(vni) <= VNI_MAX:
            raise LinuxnetError('members[%d]: vni %s is not a VXLAN network identifier. Fix: give the VNI of the overlay '
                                '(the vni of its vxlan device), a number from 1 to %d' % (index, vni, VNI_MAX))
        for position, value in enumerate(item.get('vteps') or []):
            address = _vtep_address(value, 'members[%d] (vni %d): vteps[%d] %r' % (index, int(vni), position, value))
            found[address.version].add((address.compressed, int(vni)))
    return {version: nft.sort_elements(pairs) for version, pairs in found.items()}


def desired_state(params):
    """The wanted set contents and per-VNI members from the module's parameters, or ABSENT; LinuxnetError on bad
    input."""
    if params['state'] == 'absent':
        return ABSENT
    found = {4: set(), 6: set()}
    for index, value in enumerate(params.get('vteps') or []):
        address = _vtep_address(value, 'vteps[%d] %r' % (index, value))
        found[address.version].add(address.compressed)
    members = _members(params.get('members'))
    if not any(found.values()) and not any(members.values()):
        raise LinuxnetError('vteps and members are both empty: the filter would drop every VXLAN packet this host receives. '
                            'Fix: list the underlay addresses of the overlay hosts (their linuxnet_vtep_address) in vteps, '
                            'or per VNI in members, or use state: absent to remove the filter')
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
                     'ports': nft.sort_elements(ports)},
            'members': members}


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
    return {KEY: summary(table.sets, table.chains, rule_members(table)) if table.exists else ABSENT}


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
    members = desired['members']
    planned = rules(members)
    # the members live in the rules: a change of them writes the chain again (its rule ids stay the same)
    stale = ['input'] if table.exists and rule_members(table) != members else []
    cmds = nft.table_commands(FAMILY, NAME, SETS, CHAINS, planned, table, desired['sets'], stale_chains=stale)
    predicted = {KEY: summary(desired['sets'], nft.planned_rule_ids(CHAINS, planned), members)}
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


def _member_pairs(state):
    return [(item['vni'], address) for item in state.get('members') or [] for address in item['vteps']]


def describe(before, after, foreign_rules=None):
    """What changes between two summaries, in words (for the action line).

    ``foreign_rules``: {chain: count} of rules without the collection's comment in its chains, which
    the run removes by rewriting the chain.
    """
    if before is ABSENT:
        sources = (['from %s' % ', '.join(after['vteps'])] if after['vteps'] else []) + [
            'for VNI %d from %s' % (item['vni'], ', '.join(item['vteps'])) for item in after.get('members') or []]
        return 'accept VXLAN on UDP %s only %s' % (', '.join(str(p) for p in after['ports']), '; '.join(sources))
    parts = []
    for field, label in (('vteps', 'VTEP'), ('ports', 'port')):
        old, new = set(before[field]), set(after[field])
        added = [str(v) for v in after[field] if v not in old]
        removed = [str(v) for v in before[field] if v not in new]
        if added:
            parts.append('allow %s %s' % (label, ', '.join(added)))
        if removed:
            parts.append('remove %s %s' % (label, ', '.join(removed)))
    old, new = _member_pairs(before), _member_pairs(after)
    for verb, pairs, other in (('allow', new, set(old)), ('remove', old, set(new))):
        by_vni = {}
        for vni, address in pairs:
            if (vni, address) not in other:
                by_vni.setdefault(vni, []).append(address)
        parts.extend('%s VTEP %s for VNI %d' % (verb, ', '.join(by_vni[vni]), vni) for vni in sorted(by_vni))
    drifted = sorted(name for name in after['rules']
                     if before['rules'].get(name) != after['rules'][name] or (foreign_rules or {}).get(name))
    if drifted:
        parts.append('restore the rules of chain %s' % ', '.join(drifted))
    return '; '.join(parts) or 'no change'


def module_spec():
    return dict(argument_spec=dict(
        vteps=dict(type='list', elements='str', default=[]),
        members=dict(type='list', elements='dict', default=[], options=dict(
            vni=dict(type='int', required=True),
            vteps=dict(type='list', elements='str', required=True),
        )),
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
