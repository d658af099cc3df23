# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""linuxnet.container.docker_isolation: the pure planner (plan_table), apply_action, a thin reconciler, module_spec() and
run() (see _converge/module.py run_impl)."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import re
import socket


from ansible_collections.linuxnet.container.plugins.module_utils._kernel import nft
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError, netlink_errors
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import normalize_network, validate_ifname
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT, Plan, TableReconciler

FAMILY = 'inet'
TABLE = 'linuxnet_isolation'
KEY = 'nftables'
SYSCTLS = {'net.ipv4.ip_forward': '/proc/sys/net/ipv4/ip_forward',
           'net.bridge.bridge-nf-call-iptables': '/proc/sys/net/bridge/bridge-nf-call-iptables',
           'net.ipv6.conf.all.forwarding': '/proc/sys/net/ipv6/conf/all/forwarding',
           'net.bridge.bridge-nf-call-ip6tables': '/proc/sys/net/bridge/bridge-nf-call-ip6tables'}
# With IPv6 forwarding on, the kernel ignores router advertisements on an interface whose accept_ra is 1, and drops
# the default routes they gave at once (docker/for-linux#844, moby#43466): an uplink configured by SLAAC loses its IPv6
# default route. Such an interface (one with a route the kernel learnt from an RA) gets accept_ra 2 first, recorded
# and restored like the other sysctls.
ACCEPT_RA = re.compile(r'^net\.ipv6\.conf\.([^/\s]{1,15})\.accept_ra$')
RTPROT_RA = 9
# What every run reads and reports; the IPv6 ones only where a network has IPv6 or a record names them.
BASE_SYSCTLS = ('net.ipv4.ip_forward', 'net.bridge.bridge-nf-call-iptables')
# Why a sysctl this module sets can be missing.
MISSING = {'net.ipv6.conf.all.forwarding': 'IPv6 is disabled in this kernel (ipv6.disable=1). Fix: boot with IPv6, or drop '
                                           'enable_ipv6 from the networks'}


def _meta(key):
    return {'meta': {'key': key}}


def _match(left, right, op='=='):
    return {'match': {'op': op, 'left': left, 'right': right}}


_PAIR = {'concat': [_meta('iifname'), _meta('oifname')]}
# The bit the forward chain sets on every packet it lets through from or to a managed bridge: a host firewall's own
# forward chain (another table, a later priority, often policy drop) accepts container traffic with one rule,
# `meta mark & 0x10000000 == 0x10000000 accept` (docs/host-firewalls.md). Other bits of the mark are kept.
FORWARD_MARK = 0x10000000
_SET_MARK = {'mangle': {'key': _meta('mark'), 'value': {'|': [_meta('mark'), FORWARD_MARK]}}}
_SADDR = {'payload': {'protocol': 'ip', 'field': 'saddr'}}
_SADDR6 = {'payload': {'protocol': 'ip6', 'field': 'saddr'}}

# Sets: name -> (nft type, map data type (None: a set), flags). Bridges, subnets and flags live here, so the rules below are
# the same whatever the number of networks.
SETS = {
    'bridges': ('ifname', None, []),
    'self_pairs': (['ifname', 'ifname'], None, []),
    'icc_off_pairs': (['ifname', 'ifname'], None, []),
    'internal': ('ifname', None, []),
    'masq_subnets': ('ipv4_addr', None, ['interval']),
    'masq_self': (['ipv4_addr', 'ifname'], None, ['interval']),
    # NAT66 (Docker 27's default for networks with IPv6, gateway_mode_ipv6=nat): the same for the IPv6 subnets.
    'masq_subnets6': ('ipv6_addr', None, ['interval']),
    'masq_self6': (['ipv6_addr', 'ifname'], None, ['interval']),
    # Direct routing from outside the host into a bridge (Docker 28's gateway modes), per family: (ipv4|ipv6 . bridge)
    # of the bridges whose family is filtered (nat and routed; nat-unprotected is not), the ICMP type of each routed
    # family (icmp|ipv6-icmp . bridge), and the container ports published on a routed family (proto . address . port).
    'protected': (['nf_proto', 'ifname'], None, []),
    'routed_icmp': (['inet_proto', 'ifname'], None, []),
    'routed_ports': (['inet_proto', 'ipv4_addr', 'inet_service'], None, []),
    'routed_ports6': (['inet_proto', 'ipv6_addr', 'inet_service'], None, []),
}
CHAINS = {
    'forward': {'type': 'filter', 'hook': 'forward', 'prio': -1, 'policy': 'accept'},
    'inbound': None,
    'postrouting': {'type': 'nat', 'hook': 'postrouting', 'prio': 100, 'policy': 'accept'},
    'user': None,
}
# The gateway modes (Docker's com.docker.network.bridge.gateway_mode_ipv4/_ipv6) of each family; IPv4 routed is not
# supported (the planner refuses it).
GATEWAY_MODES4 = ('nat', 'nat-unprotected')
GATEWAY_MODES6 = ('nat', 'nat-unprotected', 'routed')
NFPROTO = {4: 'ipv4', 6: 'ipv6'}
ICMP = {4: 'icmp', 6: 'ipv6-icmp'}
_L4 = _meta('l4proto')
_DPORT = {'payload': {'protocol': 'th', 'field': 'dport'}}
_DADDR = {'payload': {'protocol': 'ip', 'field': 'daddr'}}
_DADDR6 = {'payload': {'protocol': 'ip6', 'field': 'daddr'}}
# (chain, id, expression); the ids are stored as rule comments.
RULES = [
    # First, so that an accept in the user chain still leaves the mark; what the rules below drop never gets further.
    ('forward', 'mark-in', [_match(_meta('iifname'), '@bridges'), _SET_MARK]),
    ('forward', 'mark-out', [_match(_meta('oifname'), '@bridges'), _SET_MARK]),
    # Docker's DOCKER-USER: evaluated first; an accept there ends this chain before isolation.
    ('forward', 'user', [{'jump': {'target': 'user'}}]),
    # icc=false: bridged frames (br_netfilter) between ports of the same bridge.
    ('forward', 'icc', [_match(_PAIR, '@icc_off_pairs'), {'drop': None}]),
    # internal: nothing forwarded into or out of the bridge, except within it.
    ('forward', 'internal-out', [_match(_meta('iifname'), '@internal'), _match(_PAIR, '@self_pairs', '!='), {'drop': None}]),
    ('forward', 'internal-in', [_match(_meta('oifname'), '@internal'), _match(_PAIR, '@self_pairs', '!='), {'drop': None}]),
    # A published port answers every local network, as Docker's userland proxy does: a connection DNATed (by the
    # port map) from one managed bridge to another passes isolation; internal networks were dropped above.
    ('forward', 'published', [_match(_meta('iifname'), '@bridges'), _match(_meta('oifname'), '@bridges'),
                              _match({'ct': {'key': 'status'}}, 'dnat', 'in'), {'accept': None}]),
    # Docker's DOCKER-ISOLATION-STAGE-1/2 in one rule: from one managed bridge to another.
    ('forward', 'isolation', [_match(_meta('iifname'), '@bridges'), _match(_meta('oifname'), '@bridges'),
                              _match(_PAIR, '@self_pairs', '!='), {'drop': None}]),
    # Direct routing (Docker 28): from an interface that is not a managed bridge (eth0: another host routes a bridge's
    # subnet through this one) into a managed bridge. The host's own packets (output) and those between bridges
    # (above) never get here; what the user chain accepted neither.
    ('forward', 'inbound', [_match(_meta('iifname'), '@bridges', '!='), _match(_meta('oifname'), '@bridges'),
                            {'jump': {'target': 'inbound'}}]),
    # Replies, and connections a published port DNATed (to the container port, at the container's address).
    ('inbound', 'reply', [_match({'ct': {'key': 'state'}}, ['established', 'related'], 'in'), {'accept': None}]),
    ('inbound', 'published', [_match({'ct': {'key': 'status'}}, 'dnat', 'in'), {'accept': None}]),
    # routed: the container ports published on that family, at the container's own address, and ICMP.
    ('inbound', 'routed-ports', [_match({'concat': [_L4, _DADDR, _DPORT]}, '@routed_ports'), {'accept': None}]),
    ('inbound', 'routed-ports6', [_match({'concat': [_L4, _DADDR6, _DPORT]}, '@routed_ports6'), {'accept': None}]),
    ('inbound', 'routed-icmp', [_match({'concat': [_L4, _meta('oifname')]}, '@routed_icmp'), {'accept': None}]),
    # nat and routed: nothing else new from outside; nat-unprotected bridges are not in the set (Docker before 28).
    ('inbound', 'protect', [_match({'concat': [_meta('nfproto'), _meta('oifname')]}, '@protected'), {'drop': None}]),
    # -s SUBNET ! -o BRIDGE -j MASQUERADE for every network, in two rules.
    ('postrouting', 'masquerade-own-bridge', [_match({'concat': [_SADDR, _meta('oifname')]}, '@masq_self'), {'return': None}]),
    ('postrouting', 'masquerade', [_match(_SADDR, '@masq_subnets'), {'masquerade': None}]),
    # NAT66: ip6 saddr matches IPv6 packets only, in this inet table.
    ('postrouting', 'masquerade6-own-bridge', [_match({'concat': [_SADDR6, _meta('oifname')]}, '@masq_self6'), {'return': None}]),
    ('postrouting', 'masquerade6', [_match(_SADDR6, '@masq_subnets6'), {'masquerade': None}]),
]
NEVER_FLUSHED = {'user'}

# The earlier values of the sysctls this module changed, one JSON file per managed namespace on a tmpfs (a reboot
# clears it, as it resets the sysctls). SAVED is its key in the state: {sysctl: {'before': old, 'set': new}}.
RECORD_DIR = '/run/linuxnet-container'
RECORD_PREFIX = 'docker_isolation.'
SAVED = 'saved_sysctls'
NAME_MAX = 255


def record_key(ref, inode=None):
    """The identity a namespace's record is filed under: 'host', 'netns-NAME' or 'nsfs-INODE' (path or PID)."""
    if ref.is_host:
        return 'host'
    if ref.name is not None:
        return 'netns-' + ref.name
    if inode is None:
        raise ValueError('the nsfs inode of %s is needed for its record' % ref.label)
    return 'nsfs-%d' % inode


def record_path(key, directory=RECORD_DIR):
    """The record file of a key; a name too long for a file name (a long netns name) is hashed instead."""
    name = '%s%s.json' % (RECORD_PREFIX, key)
    if len(name.encode('utf-8')) > NAME_MAX:
        name = '%snetns-sha256-%s.json' % (RECORD_PREFIX, hashlib.sha256(key.encode('utf-8')).hexdigest())
    return os.path.join(directory, name)


def record_changes(saved, changes):
    """The record after the sysctl changes {sysctl: (current, new)}: only a first change is recorded.

    An earlier record of a sysctl always wins, so a second run (or a later one after drift) never replaces the
    value from before the module with the value the module set. A change to the value already there records nothing.
    """
    record = {key: dict(entry) for key, entry in (saved or {}).items()}
    for key, (before, value) in sorted(changes.items()):
        if before is not None and before != value and key not in record:
            record[key] = {'before': before, 'set': value}
    return record


def plan_restore(saved, current):
    """What removal does with a record: ({sysctl: value to write back}, [warnings]).

    A sysctl still holding the value the module set goes back to its earlier value; one already back at its earlier
    value needs nothing; one holding a third value was changed by something else since, and is left as it is.
    """
    restore, warnings = {}, []
    for key, entry in sorted((saved or {}).items()):
        have = current.get(key)
        if have is None:
            warnings.append('%s no longer exists in this namespace (br_netfilter unloaded?): its earlier value %s '
                            'was not restored' % (key, entry['before']))
        elif have == entry['set']:
            restore[key] = entry['before']
        elif have != entry['before']:
            warnings.append('%s is %s, not the %s docker_isolation set: left as it is, since something else changed it '
                            'after the module did (it was %s before the module)' % (key, have, entry['set'], entry['before']))
    return restore, warnings


def sysctl_path(key):
    """The /proc/sys file of one of SYSCTLS or of an interface's accept_ra (ACCEPT_RA); KeyError for any other key."""
    if key in SYSCTLS:
        return SYSCTLS[key]
    found = ACCEPT_RA.match(key)
    if found and found.group(1) not in ('.', '..', 'all', 'default'):
        return '/proc/sys/net/ipv6/conf/%s/accept_ra' % found.group(1)
    raise KeyError(key)


def accept_ra_key(ifname):
    return 'net.ipv6.conf.%s.accept_ra' % ifname


def ra_interfaces(routes, names):
    """The interfaces holding a route the kernel learnt from a router advertisement (``routes``: (oif, protocol) of the
    IPv6 main table; ``names``: {index: ifname}), sorted: those whose accept_ra 1 gets 2 before IPv6 forwarding goes on."""
    return sorted({names.get(oif) for oif, proto in routes if proto == RTPROT_RA} - {None})


def _known_sysctl(key):
    try:
        sysctl_path(key)
    except KeyError:
        return False
    return True


def parse_record(text, path):
    """The sysctls of a record file's text, checked; a LinuxnetError naming the file when it is not one of ours."""
    try:
        data = json.loads(text)
        saved = data['sysctls']
        valid = isinstance(saved, dict) and all(
            _known_sysctl(key) and isinstance(entry, dict) and set(entry) == {'before', 'set'}
            and all(isinstance(v, str) for v in entry.values()) for key, entry in saved.items())
    except (ValueError, KeyError, TypeError):
        valid = False
    if not valid:
        raise LinuxnetError('%s is not a record of docker_isolation (sysctls and their earlier values). '
                            'Fix: restore the sysctls it names by hand if needed, then delete the file' % path)
    return {key: dict(entry) for key, entry in saved.items()}


def render_record(saved, label):
    return json.dumps({'module': 'linuxnet.container.docker_isolation', 'namespace': label, 'sysctls': saved},
                      indent=2, sort_keys=True) + '\n'


def summary(want_sets):
    """The user-facing state: which bridges, which flags, which subnets are masqueraded."""
    view = {
        'bridges': list(want_sets['bridges']),
        'icc_off': [pair[0] for pair in want_sets['icc_off_pairs']],
        'internal': list(want_sets['internal']),
        'masquerade': [list(e) for e in want_sets['masq_self']],
    }
    if want_sets.get('masq_self6'):  # NAT66, only where there is some
        view['masquerade6'] = [list(e) for e in want_sets['masq_self6']]
    # Direct routing: the gateway mode of each family of each bridge, and the routed ports ('tcp/80 at ADDRESS').
    modes = gateway_modes(want_sets)
    if modes:
        view['gateway_modes'] = modes
    routed = ['%s/%d at %s' % (proto, port, address) for name in ('routed_ports', 'routed_ports6')
              for proto, address, port in want_sets.get(name) or []]
    if routed:
        view['routed_ports'] = routed
    return view


def gateway_modes(sets):
    """{bridge: [IPv4 mode, IPv6 mode]} of the bridges whose direct-routing filter is not nat in both families, from
    the table's sets (a table of an older version, without the sets, shows nat-unprotected: it filters nothing)."""
    protected = {tuple(e) for e in sets.get('protected') or []}
    icmp = {tuple(e) for e in sets.get('routed_icmp') or []}
    modes = {}
    for bridge in sets.get('bridges') or []:
        pair = ['routed' if (ICMP[v], bridge) in icmp else 'nat' if (NFPROTO[v], bridge) in protected
                else 'nat-unprotected' for v in (4, 6)]
        if pair != ['nat', 'nat']:
            modes[bridge] = pair
    return modes


# What a bridge without an entry in the table is: Docker's defaults (network_info reads the table back with these).
DEFAULT_FLAGS = {'internal': False, 'icc': True, 'masquerade': False, 'gateway_mode_ipv4': 'nat', 'gateway_mode_ipv6': 'nat'}


def bridge_flags(sets):
    """The table's sets (as nft.TableState reads them, or None) -> {bridge: {internal, icc, masquerade}}: the
    inverse of _desired, for the read-back; {} when the table is absent."""
    if not sets:
        return {}
    view = summary({name: sets.get(name, []) for name in SETS})
    flags = {}

    def entry(bridge):
        return flags.setdefault(bridge, dict(DEFAULT_FLAGS))

    for bridge in view['bridges']:
        entry(bridge)
    for bridge in view['icc_off']:
        entry(bridge)['icc'] = False
    for bridge in view['internal']:
        entry(bridge)['internal'] = True
    for pair in view['masquerade']:
        if len(pair) == 2:
            entry(pair[1])['masquerade'] = True
    for bridge, (mode4, mode6) in (view.get('gateway_modes') or {}).items():
        entry(bridge).update(gateway_mode_ipv4=mode4, gateway_mode_ipv6=mode6)
    return flags


class IsolationReconciler(TableReconciler):
    def __init__(self, module, netlink, ns):
        super().__init__(module, netlink, ns)
        self.restored = {}
        self.record = None
        self._table = None
        self._extra = set()  # the sysctls read beyond BASE_SYSCTLS, kept for the read after the changes
        self._uplinks = {}  # {accept_ra sysctl: '2'} of the interfaces that keep their router advertisements

    def read(self, desired):
        if self.record is None:
            inode = None if self.ns.is_host or self.ns.name is not None else os.stat(self.ns.path).st_ino
            self.record = record_path(record_key(self.ns, inode))
        saved = read_record(self.record)
        self._extra |= set(desired['sysctls'] if desired is not ABSENT else ()) | set(saved if saved is not ABSENT else ())
        with self.netlink.inside(self.ns):
            table = nft.TableState(nft.list_table(FAMILY, TABLE))
            forwarding6 = desired is not ABSENT and desired['sysctls'].get('net.ipv6.conf.all.forwarding') == '1'
            self._uplinks = dict.fromkeys(self._ra_uplinks(), '2') if forwarding6 else {}
            self._extra |= set(self._uplinks)
            extra = sorted(self._extra - set(BASE_SYSCTLS))
            sysctls = read_sysctls()
            if extra:
                sysctls.update(read_sysctls(extra))
        if table.exists and not table.owned:
            raise LinuxnetError('nftables table inet %s exists but was not made by linuxnet.container (no set %s in it). '
                                'Fix: rename or remove that table; this module only manages its own' % (TABLE, nft.OWNER_SET))
        self._table = table
        return state_of(table, sysctls, saved)

    def _ra_uplinks(self):
        """The accept_ra sysctls (1 now) of the interfaces of this namespace with a route learnt from a router advertisement."""
        channel = self.netlink.channel(self.ns)
        with netlink_errors('the IPv6 routing table of %s' % self.ns.label, 'read'):
            names = {link['index']: link.get('ifname') for link in channel.link('dump')}
            routes = [(route.get('RTA_OIF') or route.get('oif'), route['proto'])
                      for route in channel.route('dump', family=socket.AF_INET6, table=254)]
        keys = [accept_ra_key(name) for name in ra_interfaces(routes, names)]
        values = read_sysctls(keys)  # inside the namespace: read() calls this
        return [key for key in keys if values[key] == '1']

    def plan(self, desired, current):
        if desired is not ABSENT and self._uplinks:
            desired = dict(desired, sysctls=dict(desired['sysctls'], **self._uplinks))
        actions, predicted, warnings = plan_table(desired, current, self._table, self.record)
        self.commands = next((action['commands'] for action in actions if action['op'] == 'nft'), [])
        self.restored = {a['name']: a['value'] for a in actions if a['op'] == 'sysctl'} if desired is ABSENT else {}
        return Plan.of_actions(actions, lambda a: apply_action(self.netlink, self.ns, a), warnings), predicted


def read_sysctls(keys=BASE_SYSCTLS):
    """{sysctl: value, or None where this kernel has no such sysctl} of ``keys`` (of SYSCTLS) in the current namespace."""
    sysctls = {}
    for key in keys:
        try:
            with open(sysctl_path(key)) as handle:
                sysctls[key] = handle.read().strip()
        except FileNotFoundError:
            sysctls[key] = None
    return sysctls


def write_sysctl(key, value):
    """Set one of SYSCTLS (or an interface's accept_ra) in the current namespace."""
    with open(sysctl_path(key), 'w') as handle:
        handle.write(value)


def read_record(path):
    """The sysctls a record file holds, or ABSENT when there is none."""
    try:
        with open(path) as handle:
            text = handle.read()
    except FileNotFoundError:
        return ABSENT
    except OSError as err:
        raise LinuxnetError('cannot read the record of earlier sysctl values %s: %s. Fix: run the task as root '
                            '(become: true)' % (path, err.strerror))
    return parse_record(text, path)


def write_record(path, saved, label):
    """Write a record atomically: a reader sees the old record or the new one."""
    directory = os.path.dirname(path)
    temporary = os.path.join(directory, '.%s%d.tmp' % (RECORD_PREFIX, os.getpid()))
    try:
        os.makedirs(directory, mode=0o755, exist_ok=True)
        with open(temporary, 'w') as handle:
            handle.write(render_record(saved, label))
        os.replace(temporary, path)
    except OSError as err:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise LinuxnetError('cannot write the record of earlier sysctl values %s: %s. Fix: run the task as root '
                            '(become: true); the sysctls were left unchanged' % (path, err.strerror))


def forget_record(path):
    """Delete a record, and its directory with the last one, so that removal leaves /run as it was."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as err:
        raise LinuxnetError('cannot delete the record of earlier sysctl values %s: %s. Fix: run the task as root '
                            '(become: true)' % (path, err.strerror))
    try:
        os.rmdir(os.path.dirname(path))
    except OSError:
        pass  # other records (other namespaces, other tools' files) remain, or it is gone already


# -- the plan: pure, from plain data to plain data -------------------------------------------------------------
#
# An action is a dict: key (KEY, 'sysctls' or SAVED), description, op, and what the op needs: 'nft' (commands: one
# transaction), 'sysctl' (name, value), 'record' (path, sysctls: the whole record to write), 'forget' (path).

def state_of(table, sysctls, saved):
    """The state read() returns, from the table's nft.TableState, the sysctls' values and the record (ABSENT: none)."""
    state = {'sysctls': sysctls, KEY: ABSENT, SAVED: saved}
    if table.exists:
        state[KEY] = dict(summary({name: table.sets.get(name, []) for name in SETS}),
                          rules={name: ids for name, ids in sorted(table.chains.items()) if name not in NEVER_FLUSHED})
    return state


def plan_table(desired, current, table, record):
    """(actions, predicted, warnings) taking the namespace from ``current`` (read()'s state) and ``table`` (the
    nft.TableState read() gathered) to ``desired``; ``record`` is the path of the namespace's record file. Raises
    LinuxnetError for a sysctl this kernel lacks."""
    actions = []
    predicted = {'sysctls': dict(current['sysctls']), SAVED: current[SAVED]}
    if desired is ABSENT:
        return _plan_removal(actions, predicted, current, record)
    cmds = nft.table_commands(FAMILY, TABLE, SETS, CHAINS, RULES, table, desired['sets'], NEVER_FLUSHED)
    predicted[KEY] = dict(summary(desired['sets']), rules=nft.planned_rule_ids(CHAINS, RULES, NEVER_FLUSHED))
    if cmds:
        actions.append({'key': KEY, 'op': 'nft', 'commands': cmds,
                        'description': '%s nftables table inet %s in one transaction (%d commands)'
                        % ('create' if current[KEY] is ABSENT else 'update', TABLE, len(cmds))})
    changes = {}
    for key, value in sorted(desired['sysctls'].items()):
        have = current['sysctls'].get(key)
        if have is None:
            raise LinuxnetError('sysctl %s does not exist in this kernel: %s' % (key, MISSING.get(
                key, 'icc=false needs br_netfilter. Fix: load it (modprobe br_netfilter) or leave icc on')))
        if have != value:
            changes[key] = (have, value)
    saved = record_changes(current[SAVED], changes)
    if saved != (current[SAVED] or {}):
        # Written before the sysctls change: a failure in between leaves a record, never a lost earlier value.
        predicted[SAVED] = saved
        new = ['%s=%s' % (key, saved[key]['before']) for key in sorted(saved) if key not in (current[SAVED] or {})]
        actions.append({'key': SAVED, 'op': 'record', 'path': record, 'sysctls': saved,
                        'description': 'record %s in %s' % (', '.join(new), record)})
    # accept_ra 2 before forwarding goes on: turning forwarding on drops the RA default routes of accept_ra 1 interfaces.
    for key, (_have, value) in sorted(changes.items(), key=lambda item: (not ACCEPT_RA.match(item[0]), item[0])):
        predicted['sysctls'][key] = value
        why = ' (so that it keeps its router advertisements with IPv6 forwarding on)' if ACCEPT_RA.match(key) else ''
        actions.append(_sysctl_action(key, value, 'set %s=%s%s' % (key, value, why)))
    return actions, predicted, []


def _plan_removal(actions, predicted, current, record):
    predicted[KEY] = ABSENT
    warnings = []
    if current[KEY] is not ABSENT:
        actions.append({'key': KEY, 'op': 'nft', 'commands': [{'delete': {'table': {'family': FAMILY, 'name': TABLE}}}],
                        'description': 'delete nftables table inet %s (the user chain with it)' % TABLE})
    if current[SAVED] is not ABSENT:
        restore, warnings = plan_restore(current[SAVED], current['sysctls'])
        # Forwarding goes back first, accept_ra after it (the reverse of the order they were set in).
        for key, value in sorted(restore.items(), key=lambda item: (bool(ACCEPT_RA.match(item[0])), item[0])):
            predicted['sysctls'][key] = value
            actions.append(_sysctl_action(key, value, 'restore %s=%s, its value before docker_isolation set %s'
                                          % (key, value, current[SAVED][key]['set'])))
        predicted[SAVED] = ABSENT
        actions.append({'key': SAVED, 'op': 'forget', 'path': record,
                        'description': 'delete the record of earlier sysctl values %s' % record})
    return actions, predicted, warnings


def _sysctl_action(key, value, description):
    return {'key': 'sysctls', 'op': 'sysctl', 'name': key, 'value': value, 'description': description}


def apply_action(netlink, ns, action):
    """Perform one action of plan_table in namespace ``ns`` (the record file lives in the host's /run)."""
    op = action['op']
    if op == 'nft':
        with netlink.inside(ns):
            nft.apply(action['commands'], 'table inet %s' % TABLE)
    elif op == 'sysctl':
        with netlink.inside(ns):
            write_sysctl(action['name'], action['value'])
    elif op == 'record':
        write_record(action['path'], action['sysctls'], ns.label)
    elif op == 'forget':
        forget_record(action['path'])
    else:
        raise ValueError('unknown docker_isolation action %r' % op)


def _desired(params):
    if params['state'] == 'absent':
        return ABSENT
    bridges, icc_off, internal, masq, ipv6, masq6 = [], [], [], [], [], []
    protected, routed_icmp, routed_ports = [], [], {4: [], 6: []}
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
        if net.get('ipv6'):
            ipv6.append(net['bridge'])
        if not net['icc']:
            icc_off.append(net['bridge'])
        if net['internal']:
            internal.append(net['bridge'])
        _direct(net, where, protected, routed_icmp, routed_ports)
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
        if (net.get('ipv6_subnet') and net['masquerade'] and net.get('ipv6_masquerade', True) and not net['internal']
                and net.get('gateway_mode_ipv6') != 'routed'):
            try:
                subnet6 = normalize_network(net['ipv6_subnet'])
            except ValueError as err:
                raise LinuxnetError('%s: ipv6_subnet: %s' % (where, err))
            if ':' not in subnet6:
                raise LinuxnetError('%s: ipv6_subnet %s is not an IPv6 subnet. Fix: give the IPv6 subnet' % (where, subnet6))
            masq6.append((subnet6, net['bridge']))
    subnets = sorted({subnet for subnet, _bridge in masq})
    subnets6 = sorted({subnet for subnet, _bridge in masq6})
    for group in (subnets, subnets6):
        ordered = sorted(ipaddress.ip_network(n) for n in group)
        for a, b in zip(ordered, ordered[1:]):  # sorted: an overlap shows between neighbours
            if a.overlaps(b):
                raise LinuxnetError('networks: subnets %s and %s overlap. Fix: give every network its own subnet' % (a, b))
    sysctls = {}
    if params['forwarding']:
        sysctls['net.ipv4.ip_forward'] = '1'
        if icc_off:
            sysctls['net.bridge.bridge-nf-call-iptables'] = '1'
        # Docker with IPv6: forwarding on every interface, and bridged IPv6 frames through the forward hook (icc).
        if ipv6:
            sysctls['net.ipv6.conf.all.forwarding'] = '1'
        if ipv6 and set(icc_off) & set(ipv6):
            sysctls['net.bridge.bridge-nf-call-ip6tables'] = '1'
    return {
        'sysctls': sysctls,
        'sets': {
            'bridges': nft.sort_elements(bridges),
            'self_pairs': nft.sort_elements((b, b) for b in bridges),
            'icc_off_pairs': nft.sort_elements((b, b) for b in icc_off),
            'internal': nft.sort_elements(internal),
            'masq_subnets': nft.sort_elements(subnets),
            'masq_self': nft.sort_elements(masq),
            'masq_subnets6': nft.sort_elements(subnets6),
            'masq_self6': nft.sort_elements(masq6),
            'protected': nft.sort_elements(protected),
            'routed_icmp': nft.sort_elements(routed_icmp),
            'routed_ports': nft.sort_elements(set(routed_ports[4])),
            'routed_ports6': nft.sort_elements(set(routed_ports[6])),
        },
    }


def _direct(net, where, protected, routed_icmp, routed_ports):
    """The direct-routing filter of one network (Docker 28's gateway modes), added to the sets' elements: each family
    in nat or routed mode is protected, a routed one lets ICMP and its published container ports in."""
    modes = {4: net.get('gateway_mode_ipv4') or 'nat', 6: net.get('gateway_mode_ipv6') or 'nat'}
    for version, mode in sorted(modes.items()):
        if mode != 'nat-unprotected':
            protected.append((NFPROTO[version], net['bridge']))
        if mode == 'routed':
            routed_icmp.append((ICMP[version], net['bridge']))
    subnet6 = None
    if net.get('ipv6_subnet'):
        try:
            subnet6 = ipaddress.ip_network(net['ipv6_subnet'], strict=False)
        except ValueError:
            subnet6 = None  # reported where the subnet is read
    for index, port in enumerate(net.get('routed_ports') or []):
        at = '%s: routed_ports[%d]' % (where, index)
        try:
            address = ipaddress.ip_address(port['address'])
        except ValueError:
            raise LinuxnetError('%s: address %r is not an IP address' % (at, port['address']))
        if modes[address.version] != 'routed':
            raise LinuxnetError('%s: %s is an IPv%d address, but gateway_mode_ipv%d is %s: only a routed family opens '
                                'container ports directly. Fix: set gateway_mode_ipv%d: routed, or drop the entry'
                                % (at, address, address.version, address.version, modes[address.version], address.version))
        if address.version == 6 and subnet6 is not None and address not in subnet6:
            raise LinuxnetError('%s: %s is outside ipv6_subnet %s. Fix: give the address of a container on this network'
                                % (at, address, subnet6))
        if not 1 <= port['port'] <= 65535:
            raise LinuxnetError('%s: port %d is out of range (1-65535)' % (at, port['port']))
        routed_ports[address.version].append((port['protocol'], address.compressed, port['port']))


def module_spec():
    return dict(argument_spec=dict(
        networks=dict(type='list', elements='dict', default=[], options=dict(
            bridge=dict(type='str', required=True),
            subnet=dict(type='str'),
            icc=dict(type='bool', default=True),
            masquerade=dict(type='bool', default=True),
            internal=dict(type='bool', default=False),
            ipv6=dict(type='bool', default=False),
            ipv6_subnet=dict(type='str'),
            ipv6_masquerade=dict(type='bool', default=True),
            gateway_mode_ipv4=dict(type='str', choices=list(GATEWAY_MODES4), default='nat'),
            gateway_mode_ipv6=dict(type='str', choices=list(GATEWAY_MODES6), default='nat'),
            routed_ports=dict(type='list', elements='dict', default=[], options=dict(
                address=dict(type='str', required=True),
                protocol=dict(type='str', choices=['tcp', 'udp', 'sctp'], default='tcp'),
                port=dict(type='int', required=True),
            )),
        )),
        namespace=dict(type='str'),
        forwarding=dict(type='bool', default=True),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
    ))


def run(module, netlink):
    desired = _desired(module.params)
    reconciler = IsolationReconciler(module, netlink, NamespaceRef(module.params['namespace']))
    result, after = reconciler.converge(desired)
    result['tables'] = dict(after.get(KEY) or {}, sysctls=after['sysctls'])
    result['commands'] = reconciler.commands if result['changed'] else []
    result['saved_sysctls'] = after.get(SAVED) or {}
    result['restored_sysctls'] = reconciler.restored
    return result
