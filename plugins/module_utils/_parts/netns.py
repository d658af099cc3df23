# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""linuxnet.container.netns: its reconciler, module_spec() and run() (see _converge/module.run_impl)."""

from __future__ import annotations

import errno
import hashlib
import os


from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import explain, LinuxnetError, netlink_errors
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.fanout import fan_out
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import (
    bind_named_netns,
    list_named_netns,
    NamespaceRef,
    NETNS_ETC_DIR,
    netns_identity,
    netns_key,
    remove_named_netns,
)
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import validate_netns_name
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.holders import (
    describe,
    pids_by_netns,
    stop_processes,
)
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import (
    normalize_address,
    FILE_TAG,
    TAG,
    normalize_sysctl_key,
    normalize_sysctl_value,
    render_hosts,
)
from ansible_collections.linuxnet.container.plugins.module_utils._common import resolv
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT, Plan, Reconciler
from ansible_collections.linuxnet.container.plugins.module_utils._common.action import action


# The files of /etc/netns/NAME the module writes (ip netns exec shows them as /etc/FILE): file name, the key of
# their lines in a namespace's state, and the key of their wanted content in its desired item.
FILES = (('hosts', 'hosts_file', 'hosts_content'), ('resolv.conf', 'resolv_conf', 'resolv_content'))


def _file_path(name, filename):
    return os.path.join(NETNS_ETC_DIR, name, filename)


def _read_managed(name, filename):
    """Lines of one of the namespace's files when this collection wrote it, else None."""
    try:
        with open(_file_path(name, filename)) as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    lines = text.splitlines()
    if not lines or not lines[0].startswith(FILE_TAG):
        return None
    return lines


def _managed_files(name):
    return [filename for filename, _key, _want in FILES if _read_managed(name, filename) is not None]


def _header(name):
    return '%s (network namespace %s); edits are overwritten' % (FILE_TAG, name)


def _write_file(name, filename, content):
    directory = os.path.join(NETNS_ETC_DIR, name)
    path = os.path.join(directory, filename)
    with netlink_errors(path, 'write'):
        os.makedirs(directory, mode=0o755, exist_ok=True)
        tmp = path + '.linuxnet.tmp'
        with open(tmp, 'w') as handle:
            handle.write(content)
        os.chmod(tmp, 0o644)
        os.rename(tmp, path)


def _remove_files(name):
    directory = os.path.join(NETNS_ETC_DIR, name)
    for filename in _managed_files(name):
        os.unlink(os.path.join(directory, filename))
    try:
        os.rmdir(directory)
    except OSError:
        pass  # missing, or holds files the user put there: leave it


LOOPBACK_IFINDEX = 1


class NetnsReconciler(Reconciler):
    kind = 'network namespace'

    def __init__(self, module, netlink, prune, kill_holders=False, kill_timeout=10):
        super().__init__(module, netlink)
        self.prune = prune
        self.kill_holders = kill_holders
        self.kill_timeout = kill_timeout
        self.pruned = []
        self.facts = {}

    # -- reading -----------------------------------------------------------
    def _sysctl_path(self, key):
        dotted, parts = normalize_sysctl_key(key)
        if parts[0] != 'net':
            raise LinuxnetError('sysctl %s is not per network namespace: only net.* keys can be set in a '
                                'namespace. Fix: set it on the host (ansible.posix.sysctl) instead' % dotted)
        return dotted, os.path.join('/proc/sys', *parts)

    def _read_sysctls(self, keys):
        values = {}
        for dotted, path in keys:
            try:
                with open(path) as handle:
                    values[dotted] = normalize_sysctl_value(handle.read())
            except FileNotFoundError:
                raise LinuxnetError('sysctl %s does not exist in this kernel (no %s). Fix: check the name; '
                                    'per-interface keys need the interface to exist' % (dotted, path))
            except PermissionError:
                values[dotted] = None  # write-only keys (e.g. route flush): always written
        return values

    def _read_one(self, name, sysctl_keys, share=None, netlink=None):
        netlink = netlink or self.netlink
        ref = NamespaceRef(name)
        if not ref.exists():
            return ABSENT
        with netlink_errors('network namespace %s' % name, 'read'):
            links = netlink.channel(ref).link('dump')
        lo = next((link for link in links if link.get('ifname') == 'lo'), None)
        state = {
            'name': name,
            'state': 'present',
            'owned': bool(lo is not None and lo.get('ifalias') == TAG),
            'lo_up': bool(lo is not None and lo['flags'] & 1),
            'links': sorted(link.get('ifname') for link in links if link.get('ifname') != 'lo'),
        }
        if sysctl_keys:
            with netlink.inside(ref):
                state['sysctls'] = self._read_sysctls(sysctl_keys)
        if share:
            same = netns_identity(share)
            state['share'] = share if same is not None and same == netns_identity(name) else None
        for filename, key, _want in FILES:
            lines = _read_managed(name, filename)
            if lines is not None:
                state[key] = lines
        return state

    def _read_many(self, jobs):
        """{name: state} of (name, sysctl keys, share) jobs, hundreds of namespaces shared between the CPUs."""
        states = fan_out(self.netlink, lambda netlink, job: self._read_one(*job, netlink=netlink), jobs)
        return {job[0]: state for job, state in zip(jobs, states)}

    def read(self, desired):
        """The namespaces, and (in ``self.facts``, for the planner) per namespace to remove: the processes that
        hold it and its identity (see holders.pids_by_netns), or the files of one already gone."""
        jobs = [(name, item['sysctl_keys'], item['share']) for name, item in desired.items()]
        if self.prune:
            jobs.extend((name, [], None) for name in list_named_netns() if name not in desired and not validate_netns_name(name))
        current = {}
        for name, state in self._read_many(jobs).items():
            if name in desired or (state is not ABSENT and state['owned']):
                current[name] = state
        self.facts = _removal_facts(desired, current)
        for name, item in desired.items():
            if item['state'] == 'present' and current.get(name, ABSENT) is ABSENT:
                # Files this collection wrote for an earlier namespace of the same name: the new one must not inherit them.
                self.facts[name] = {'leftovers': _managed_files(name)}
        return current

    def read_after(self, desired, keys):
        return self._read_many([(name, desired[name]['sysctl_keys'], desired[name]['share']) if name in desired else (name, [], None)
                                for name in keys])

    def comparable(self, state):
        return {k: v for k, v in state.items() if k != 'links'}

    # -- planning and applying -----------------------------------------------
    def plan(self, desired, current):
        actions, predicted, warnings = plan_namespaces(desired, current, self.facts, self.kill_holders, self.kill_timeout)
        entries = {}
        for act in actions:
            if act['kind'] == 'netns_remove':
                entry = entries[act['name']] = {'name': act['name'], 'links': act['links']}
                if act['holders']:
                    entry['holders'] = act['holders']
                self.pruned.append(entry)
        return Plan.of_actions(actions, lambda act: self._apply(act, entries), warnings), predicted

    def _apply(self, act, entries):
        outcome = apply_action(act, self.netlink)
        if act['kind'] == 'stop_holders':
            entries[act['name']]['stopped'] = outcome['terminated'] + outcome['killed']
            if outcome['surviving']:
                self.module.warn('network namespace %s: processes %s survived SIGKILL (stuck in the kernel?): the namespace '
                                 'lives until they exit' % (act['name'], describe(outcome['surviving'])))


def _removing(desired, current):
    return [name for name in current if desired.get(name) is None or desired[name]['state'] == 'absent']


def _removal_facts(desired, current):
    """What the planner needs to remove namespaces: {name: {'leftovers': files}} for one already gone, {name:
    {'netns_key': identity, 'holders': pids, 'described': 'PID (command), ...'}} for one that exists (read only
    when one is removed)."""
    facts = {}
    removing = _removing(desired, current)
    inode_pids = None
    for name in removing:
        if current[name] is ABSENT:
            facts[name] = {'leftovers': _managed_files(name)}
            continue
        if inode_pids is None:
            inode_pids = pids_by_netns()
            # A namespace that keeps another name (container:NAME shares it) lives on by design: removing
            # one of its names leaves its links and its processes alone.
            for other in list_named_netns():
                if other not in removing:
                    inode_pids.pop(netns_identity(other), None)
        key = netns_key(NamespaceRef(name).path)
        pids = inode_pids.get(key, []) if key is not None else []
        facts[name] = {'netns_key': key, 'holders': pids, 'described': describe(pids) if pids else ''}
    return facts


def plan_namespaces(desired, current, facts, kill_holders=False, kill_timeout=10):
    """The pure planner: (actions, predicted, warnings) from the desired namespaces, their current states as read()
    returns them (with the collection's namespaces to prune), and the facts read() gathered (_removal_facts)."""
    actions, predicted, warnings = [], {}, []
    held = set()  # namespaces whose holders were handled: a second name is the same one
    # Second names (share) are bound after the namespaces they name exist.
    order = sorted(current, key=lambda n: bool(desired.get(n) and desired[n]['share']))
    for name in order:
        have = current[name]
        want = desired.get(name)
        if want is None or want['state'] == 'absent':
            predicted[name] = ABSENT
            if have is ABSENT:
                leftovers = facts[name]['leftovers']
                if leftovers:
                    actions.append(action('remove_files', name, 'remove leftover %s' % ', '.join(_file_path(name, f) for f in leftovers),
                                          name=name))
                continue
            _plan_remove(actions, warnings, held, name, have, facts[name], want is None, kill_holders, kill_timeout)
            continue
        leftovers = facts.get(name, {}).get('leftovers', []) if have is ABSENT else []
        predicted[name] = _plan_present(actions, name, want, have, leftovers)
    return actions, predicted, warnings


def _plan_remove(actions, warnings, held, name, have, fact, pruned, kill_holders, kill_timeout):
    links = have['links']
    what = 'remove network namespace %s' % name
    if links:
        what += ' with its links %s' % ', '.join(links)
    if pruned:
        what += ' (pruned: made by linuxnet.container, not listed)'
    key, pids, described = fact['netns_key'], fact['holders'], fact['described']
    if pids:
        # Processes keep the namespace, and so its links (the veth peers on the host's bridges), alive after
        # its name goes: delete the links first, so what this collection made goes with the name.
        first = key not in held
        held.add(key)
        if kill_holders and first:
            actions.append(action('stop_holders', name, 'stop processes %s in network namespace %s (SIGTERM, SIGKILL after %d s)'
                                  % (described, name, kill_timeout), name=name, pids=pids, netns_key=key, timeout=kill_timeout))
        elif first:
            warnings.append(
                'network namespace %s is still used by processes %s: its links and its name are removed, the '
                'processes keep running in an empty namespace. Fix: stop them, or set kill_holders: true '
                '(playbooks/teardown.yml: -e linuxnet_teardown_kill_holders=true)' % (name, described))
        if links:
            actions.append(action('empty_links', name, 'delete links %s in network namespace %s first (processes %s hold it)'
                                  % (', '.join(links), name, ', '.join(map(str, pids))), name=name))
    actions.append(action('netns_remove', name, what, name=name, links=links, holders=pids))


def _plan_present(actions, name, want, have, leftovers=()):
    sysctls = want['sysctls']
    after = {
        'name': name,
        'state': 'present',
        'owned': True if have is ABSENT else have['owned'],
        'lo_up': True,
        'links': [] if have is ABSENT else have['links'],
    }
    if sysctls:
        after['sysctls'] = dict(sysctls)
    for _filename, key, wanted in FILES:
        if want[wanted] is not None:
            after[key] = want[wanted].splitlines()
        elif have is not ABSENT and key in have:
            after[key] = have[key]

    if want['share']:
        target = want['share']
        after['share'] = target
        if have is ABSENT:
            actions.append(action('netns_bind', name, 'give network namespace %s the second name %s' % (target, name),
                                  name=name, target=target))
        elif have.get('share') != target:
            actions.append(action('netns_rebind', name, 'make %s a second name of network namespace %s (it named another '
                                  'namespace)' % (name, target), name=name, target=target))
        _plan_files(actions, name, want, have, after, leftovers)
        return after

    if have is ABSENT:
        actions.append(action('netns_create', name, 'create network namespace %s' % name, name=name))
        to_set = dict(sysctls)
    else:
        if not have['lo_up']:
            actions.append(action('lo_up', name, 'bring lo up in network namespace %s' % name, name=name))
        to_set = {k: v for k, v in sysctls.items()
                  if v != have.get('sysctls', {}).get(k)}
    if to_set:
        actions.append(action('set_sysctls', name, 'set %s in network namespace %s' % (', '.join('%s=%s' % kv for kv in sorted(to_set.items())), name),
                              name=name, values=to_set, paths=want['sysctl_paths']))
    _plan_files(actions, name, want, have, after, leftovers)
    return after


def _plan_files(actions, name, want, have, after, leftovers=()):
    """Write the wanted files that differ; remove the files of ``leftovers`` (written for an earlier namespace of this
    name, which is being created again) that are not wanted."""
    for filename, key, wanted in FILES:
        content = want[wanted]
        if content is None and filename in leftovers:
            actions.append(action('remove_file', name, 'remove leftover %s' % _file_path(name, filename), name=name,
                                  filename=filename))
        if content is not None and (have is ABSENT or have.get(key) != after[key]):
            actions.append(action('write_file', name, 'write %s' % _file_path(name, filename), name=name, filename=filename,
                                  content=content))


# -- applying ----------------------------------------------------------------
def apply_action(act, netlink):
    """Perform one action of plan_namespaces with the netlink handle (stop_holders returns what stop_processes did)."""
    kind, name = act['kind'], act['name']
    if kind == 'netns_create':
        _create(netlink, name)
    elif kind == 'lo_up':
        _lo_up(netlink, name, False)
    elif kind == 'set_sysctls':
        _set_sysctls(netlink, name, act['values'], act['paths'])
    elif kind == 'write_file':
        _write_file(name, act['filename'], act['content'])
    elif kind == 'netns_bind':
        bind_named_netns(name, act['target'])
    elif kind == 'netns_rebind':
        netlink.forget(name)
        remove_named_netns(name)
        bind_named_netns(name, act['target'])
    elif kind == 'stop_holders':
        return stop_processes(act['pids'], act['netns_key'], act['timeout'])
    elif kind == 'empty_links':
        _empty(netlink, name)
    elif kind == 'netns_remove':
        netlink.forget(name)
        remove_named_netns(name)
        _remove_files(name)
    elif kind == 'remove_files':
        _remove_files(name)
    elif kind == 'remove_file':
        with netlink_errors(_file_path(name, act['filename']), 'remove'):
            os.unlink(_file_path(name, act['filename']))
    else:
        raise ValueError('no network namespace action %r' % kind)
    return None


def _empty(netlink, name):
    """Delete every link of a namespace but lo (a veth takes its peer with it); a physical link, which cannot
    be deleted, goes back to the host namespace, as when the kernel destroys a namespace."""
    channel = netlink.channel(name)
    with netlink_errors('network namespace %s' % name, 'list links'):
        links = channel.link('dump')
    home = None
    try:
        for link in links:
            ifname = link.get('ifname')
            if ifname == 'lo':
                continue
            if link.get_nested('IFLA_LINKINFO', 'IFLA_INFO_KIND') is None:
                if home is None:
                    home = os.open('/proc/self/ns/net', os.O_RDONLY)
                settings, what = {'index': link['index'], 'net_ns_fd': home}, 'move back to the host namespace'
                channel.write('link', 'set', settings, '%s in network namespace %s' % (ifname, name), what)
            else:
                channel.write('link', 'del', {'index': link['index']}, '%s in network namespace %s' % (ifname, name),
                              'delete')
            try:
                channel.flush()
            except LinuxnetError as err:
                if err.details.get('errno') not in (errno.ENODEV, errno.ENOENT):  # gone with its peer
                    raise
    finally:
        if home is not None:
            os.close(home)
    netlink.invalidate()


def _create(netlink, name):
    if os.path.exists(NamespaceRef(name).path):
        raise LinuxnetError('network namespace %s appeared while the run was planning; run the task again' % name)
    netlink.create_netns(name)
    _lo_up(netlink, name, True)


def _lo_up(netlink, name, tag):
    # The loopback device is the first one a namespace registers: its index is always 1 (LOOPBACK_IFINDEX).
    settings = {'index': LOOPBACK_IFINDEX, 'state': 'up'}
    if tag:
        settings['ifalias'] = TAG
    netlink.channel(name).write('link', 'set', settings, 'lo in network namespace %s' % name, 'bring up')


def _set_sysctls(netlink, name, values, paths):
    with netlink.inside(name):
        for key, value in sorted(values.items()):
            try:
                with open(paths[key], 'w') as handle:
                    handle.write(value)
            except OSError as err:
                if err.errno == errno.EINVAL:
                    raise LinuxnetError('sysctl %s in network namespace %s: the kernel rejected the value %r. '
                                        'Fix: use a value the key accepts' % (key, name, value))
                raise LinuxnetError(explain(err, 'sysctl %s in network namespace %s' % (key, name), 'set'))


def _hosts_entries(raw, where):
    entries = []
    for entry in raw:
        if not isinstance(entry, dict) or 'address' not in entry or not entry.get('names'):
            raise LinuxnetError('%s: each hosts entry needs address and names, got %r' % (where, entry))
        names = entry['names'] if isinstance(entry['names'], list) else [entry['names']]
        entries.append({'address': entry['address'], 'names': [str(n) for n in names]})
    return entries


def _hosts_sets(raw):
    """hosts_sets -> {key: rendered lines}: each set is rendered once, whatever the number of namespaces using it."""
    sets = {}
    for key, entries in (raw or {}).items():
        where = 'hosts_sets[%s]' % key
        if not isinstance(entries, list):
            raise LinuxnetError('%s must be a list of entries with address and names' % where)
        try:
            sets[key] = ''.join('%s\t%s\n' % (normalize_address(e['address']), ' '.join(e['names']))
                                for e in _hosts_entries(entries, where))
        except ValueError as err:
            raise LinuxnetError('%s: %s' % (where, err))
    return sets


def _result_item(state, desired):
    """What the result shows of a namespace: a hosts file built from a shared set is summarised, not repeated."""
    if state is None:
        return {'name': desired, 'state': 'absent'}
    lines = state.get('hosts_file')
    if lines is not None and len(lines) > 64:
        state = dict(state, hosts_file={'lines': len(lines), 'sha256': hashlib.sha256('\n'.join(lines).encode()).hexdigest()})
    return state


class _HostResolvers:
    """What containers take from the host's resolv.conf (read once per call, only when a namespace needs it)."""

    def __init__(self):
        self._host = None

    @staticmethod
    def _read(path):
        try:
            with open(path) as handle:
                return resolv.parse(handle.read())
        except FileNotFoundError:
            return resolv.parse('')
        except OSError as err:
            raise LinuxnetError(explain(err, path, 'read') + ' (the resolvers containers take from the host)')

    def defaults(self, ipv6=False):
        """The host's resolvers as a container takes them; ``ipv6``: the container has a network with IPv6."""
        if self._host is None:
            host = self._read(resolv.HOST_RESOLV_CONF)
            if resolv.use_systemd_resolved(host) and os.path.exists(resolv.SYSTEMD_RESOLV_CONF):
                host = self._read(resolv.SYSTEMD_RESOLV_CONF)
            self._host = host
        return resolv.host_defaults(self._host, ipv6)


def _resolv_wanted(raw, where):
    """The resolv_conf option of one namespace, checked: {field: values or None (the host's)}."""
    wanted = {}
    for field in resolv.FIELDS:
        values = raw.get(field)
        try:
            wanted[field] = resolv.check_list(field, values) if values is not None else None
        except ValueError as err:
            raise LinuxnetError('%s: resolv_conf.%s: %s. Fix: %s' % (where, field, err, resolv.FIXES[field]))
    return wanted


def _desired(module, reconciler):
    params = module.params
    items = params['namespaces']
    if items is None:
        items = [{'name': params['name'], 'state': None, 'sysctls': params['sysctls'], 'hosts': params['hosts'],
                  'share': params['share'], 'hosts_set': None}]
    sets = _hosts_sets(params.get('hosts_sets'))
    host_resolv = _HostResolvers()
    desired = {}
    for index, item in enumerate(items):
        name = item.get('name')
        where = 'namespaces[%d]' % index if params['namespaces'] is not None else 'name'
        problem = validate_netns_name(name)
        if problem:
            raise LinuxnetError('%s: %s. Fix: use a plain name like test1' % (where, problem))
        if name in desired:
            raise LinuxnetError('%s: namespace %s is listed twice. Fix: list each namespace once' % (where, name))
        state = item.get('state') or params['state']
        share = item.get('share')
        if share is not None:
            problem = validate_netns_name(share)
            if problem or share == name:
                raise LinuxnetError('%s: share %r: %s. Fix: name the network namespace %s shares, like web1'
                                    % (where, share, problem or 'a namespace cannot share itself', name))
            if item.get('sysctls'):
                raise LinuxnetError('%s: namespace %s shares %s, so its sysctls are those of %s. Fix: set sysctls on %s'
                                    % (where, name, share, share, share))
        sysctls, paths, keys = {}, {}, []
        for key, value in list(_ipv6_sysctls(item.get('ipv6'), name, where, share).items()) + list((item.get('sysctls') or {}).items()):
            dotted, path = reconciler._sysctl_path(key)
            if dotted in sysctls:
                keys.remove((dotted, path))  # a sysctl given by hand wins over ipv6's
            sysctls[dotted] = normalize_sysctl_value(value)
            paths[dotted] = path
            keys.append((dotted, path))
        hosts_content = None
        if item.get('hosts') is not None or item.get('hosts_set') is not None:
            try:
                hosts_content = render_hosts(_hosts_entries(item.get('hosts') or [], where), _header(name))
            except ValueError as err:
                raise LinuxnetError('%s: hosts: %s' % (where, err))
            if item.get('hosts_set') is not None:
                if item['hosts_set'] not in sets:
                    raise LinuxnetError('%s: hosts_set %r is not a key of hosts_sets. Fix: add it to hosts_sets or fix the key'
                                        % (where, item['hosts_set']))
                hosts_content += sets[item['hosts_set']]
        resolv_content = None
        if item.get('resolv_conf') is not None:
            conf = resolv.merge(_resolv_wanted(item['resolv_conf'], where), host_resolv.defaults(bool(item['resolv_conf'].get('ipv6'))))
            resolv_content = resolv.render(_header(name), conf)
        desired[name] = {'state': state, 'sysctls': sysctls, 'sysctl_paths': paths, 'share': share,
                         'sysctl_keys': keys if state == 'present' else [], 'hosts_content': hosts_content,
                         'resolv_content': resolv_content}
    for index, (name, item) in enumerate(desired.items()):
        share = item['share']
        if share and item['state'] == 'present':
            target = desired.get(share)
            if target is not None and (target['state'] == 'absent' or target['share']):
                raise LinuxnetError('namespace %s shares %s, which is %s in this call. Fix: share a namespace that is present '
                                    'and has a name of its own' % (name, share, 'absent' if target['state'] == 'absent' else 'itself a share'))
            if target is None and not NamespaceRef(share).exists():
                raise LinuxnetError('namespace %s shares %s, which does not exist. Fix: list %s in the same call or create it first'
                                    % (name, share, share))
    # Unknown sysctls fail before anything changes: check every key now, in the host namespace for
    # namespaces that do not exist yet (same kernel, same keys).
    for name, item in desired.items():
        if item['state'] == 'present' and item['sysctl_keys'] and not NamespaceRef(name).exists():
            reconciler._read_sysctls(item['sysctl_keys'])
    return desired


# Docker turns IPv6 off in a container that has no endpoint with IPv6: no ::1 on lo, no fe80:: on its interfaces
# (both keys: all for the links that exist, default for those created later).
IPV6_KEYS = ('net.ipv6.conf.all.disable_ipv6', 'net.ipv6.conf.default.disable_ipv6')


def _ipv6_sysctls(ipv6, name, where, share):
    """The sysctls of a namespace item's ``ipv6``: none when unset, or on a kernel without IPv6 (booted with
    ipv6.disable=1: no /proc/sys/net/ipv6) when IPv6 is to be off, which it is there already."""
    if ipv6 is None:
        return {}
    if share is not None:
        raise LinuxnetError('%s: namespace %s shares %s, so IPv6 is on or off as in %s. Fix: set ipv6 on %s'
                            % (where, name, share, share, share))
    if not os.path.isdir('/proc/sys/net/ipv6'):
        if ipv6:
            raise LinuxnetError('%s: namespace %s: ipv6 is true, but this kernel has IPv6 disabled (no /proc/sys/net/ipv6: '
                                'booted with ipv6.disable=1). Fix: boot the host without ipv6.disable=1, or give its '
                                'containers no network with enable_ipv6' % (where, name))
        return {}
    value = '0' if ipv6 else '1'
    return {key: value for key in IPV6_KEYS}


def creates(params):
    """The namespaces these (validated) arguments create: host_network's check mode expects them in later parts."""
    items = params['namespaces'] if params['namespaces'] is not None else [dict(params, state=None)]
    return {'namespaces': [item['name'] for item in items if (item.get('state') or params['state']) == 'present']}


def module_spec():
    hosts_spec = dict(type='list', elements='dict', options=dict(
        address=dict(type='str', required=True),
        names=dict(type='list', elements='str', required=True)))
    resolv_spec = dict(type='dict', options=dict(
        nameservers=dict(type='list', elements='str'),
        search=dict(type='list', elements='str'),
        options=dict(type='list', elements='str'),
        ipv6=dict(type='bool', default=False)))
    return dict(
        argument_spec=dict(
            name=dict(type='str'),
            state=dict(type='str', choices=['present', 'absent'], default='present'),
            sysctls=dict(type='dict'),
            hosts=hosts_spec,
            share=dict(type='str'),
            hosts_sets=dict(type='dict'),
            namespaces=dict(type='list', elements='dict', options=dict(
                name=dict(type='str', required=True),
                state=dict(type='str', choices=['present', 'absent']),
                sysctls=dict(type='dict'),
                ipv6=dict(type='bool'),
                share=dict(type='str'),
                hosts_set=dict(type='str'),
                hosts=dict(type='list', elements='dict', options=hosts_spec['options']),
                resolv_conf=resolv_spec)),
            prune=dict(type='bool', default=False),
            kill_holders=dict(type='bool', default=False),
            kill_timeout=dict(type='int', default=10),
        ),
        mutually_exclusive=[('name', 'namespaces'), ('namespaces', 'sysctls'), ('namespaces', 'hosts'), ('namespaces', 'share'),
                            ('share', 'sysctls')],
        required_one_of=[('name', 'namespaces')],
    )


def run(module, netlink):
    params = module.params
    if params['kill_timeout'] < 0:
        raise LinuxnetError('kill_timeout %d is negative. Fix: give the seconds to wait after SIGTERM, like 10'
                            % params['kill_timeout'])
    reconciler = NetnsReconciler(module, netlink, params['prune'], params['kill_holders'], params['kill_timeout'])
    desired = _desired(module, reconciler)
    result = reconciler.run(desired)
    after = result.pop('after')
    result.pop('before')
    result['namespaces'] = [_result_item(after.get(name), name) for name in desired]
    result['removed'] = reconciler.pruned
    return result
