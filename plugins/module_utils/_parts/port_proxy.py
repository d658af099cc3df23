# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Publications on the IPv6 loopback address ([::1]:8081:80), served by systemd-socket-proxyd: port_map's userland side.

The kernel cannot NAT them (IPv6 has no route_localnet: the container's replies addressed to ::1 are dropped on the
bridge), and Docker serves them with its userland proxy (docker-proxy). Here each one is a socket-activated unit pair of
systemd's own proxy, in UNIT_DIR:

* ``linuxnet-proxy-tcp-PORT.socket``: ``ListenStream=[::1]:PORT``, IPv6 only, ``WantedBy=sockets.target`` (enabled:
  it listens again after a reboot, before any container is up);
* ``linuxnet-proxy-tcp-PORT.service``: ``systemd-socket-proxyd [CONTAINER]:PORT``, started by the first connection.

Both files begin with MARKER and a JSON record of the publication: only files with it are ours (read, rewritten,
pruned), and it is what network_info and the preflight read back (the units are the only state of these publications
outside the kernel). The name depends only on the host port, so a publication keeps its units when its container or
address changes.

The flow is port_map's (reconcile.py): read the unit files, whether each socket is enabled and listening; plan purely
(plan_units: action records); apply (write or remove files, one ``systemctl daemon-reload`` when files changed, start
or restart the sockets); read again and verify.
"""

from __future__ import annotations

import json
import os
import subprocess

from ansible_collections.linuxnet.container.plugins.module_utils._common.ports import host_port
from ansible_collections.linuxnet.container.plugins.module_utils._converge import persist
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT, Plan, Reconciler
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError

UNIT_DIR = '/etc/systemd/system'
WANTS = 'sockets.target.wants'
PREFIX = 'linuxnet-proxy-'
MARKER = '# linuxnet.container port_map: '
# Where distributions install systemd's proxy (Debian and Ubuntu have both paths, with merged /usr).
PROXYD = ('/usr/lib/systemd/systemd-socket-proxyd', '/lib/systemd/systemd-socket-proxyd')
SYSTEMD_RUNNING = '/run/systemd/system'  # sd_booted(): systemd is PID 1
NO_SYSTEMD_FIX = ('Fix: publish it on 127.0.0.1 for the host alone (127.0.0.1:HOSTPORT:CONTAINERPORT), or converge a host '
                  'that runs systemd')
NO_PROXYD_FIX = 'Fix: install systemd (Debian and Ubuntu: apt-get install systemd), or publish it on 127.0.0.1 for the host alone'


def unit_name(key):
    """linuxnet-proxy-tcp-8081 for key ('::1', 'tcp', 8081): stable, one per host port."""
    _host_ip, protocol, port = key
    return '%s%s-%d' % (PREFIX, protocol, port)


def unit_texts(key, target, label, proxyd):
    """The (.socket, .service) files of a publication: key (host_ip, protocol, port), target (address, port)."""
    name = unit_name(key)
    record = MARKER + json.dumps({'key': list(key), 'target': list(target), 'label': label}, sort_keys=True)
    what = '%s/%s to %s (%s)' % (host_port(key[0], key[2]), key[1], host_port(*target), label)
    socket_text = '\n'.join([
        record,
        '# Managed by linuxnet.container (port_map): rewritten or removed by its next run; do not edit.',
        '[Unit]',
        'Description=linuxnet.container published port %s' % what,
        '',
        '[Socket]',
        'ListenStream=%s' % host_port(*key[::2]),
        'BindIPv6Only=ipv6-only',
        '',
        '[Install]',
        'WantedBy=sockets.target',
        ''])
    service_text = '\n'.join([
        record,
        '# Managed by linuxnet.container (port_map): rewritten or removed by its next run; do not edit.',
        '[Unit]',
        'Description=linuxnet.container userland proxy of %s' % what,
        'Requires=%s.socket' % name,
        'After=%s.socket' % name,
        '',
        '[Service]',
        # ADDRESS:PORT unbracketed: systemd-socket-proxyd splits at the last colon and resolves the rest, which a
        # bracketed IPv6 address fails ("Failed to resolve host").
        'ExecStart=%s %s:%d' % (proxyd, target[0], target[1]),
        'DynamicUser=yes',
        'PrivateTmp=yes',
        'NoNewPrivileges=yes',
        ''])
    return socket_text, service_text


def parse_record(text):
    """(key, target, label) of a unit file of ours, or None (not ours, or a record this code cannot read)."""
    first = (text or '').split('\n', 1)[0]
    if not first.startswith(MARKER):
        return None
    try:
        record = json.loads(first[len(MARKER):])
        host_ip, protocol, port = record['key']
        address, cport = record['target']
        return (str(host_ip), str(protocol), int(port)), (str(address), int(cport)), str(record.get('label', ''))
    except (ValueError, TypeError, KeyError):
        return None


def _read(path):
    try:
        with open(path, encoding='utf-8') as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def read_files(unit_dir=None):
    """({name: {'socket': text, 'service': text, 'enabled': bool}} of our unit pairs, [names of files with our prefix
    that are not ours]). A pair is ours when either file carries MARKER; a missing file reads as None."""
    unit_dir = unit_dir or UNIT_DIR
    try:
        entries = os.listdir(unit_dir)
    except FileNotFoundError:
        return {}, []
    ours, foreign = {}, []
    names = sorted({entry.rsplit('.', 1)[0] for entry in entries
                    if entry.startswith(PREFIX) and entry.endswith(('.socket', '.service'))})
    for name in names:
        socket_text = _read(os.path.join(unit_dir, name + '.socket'))
        service_text = _read(os.path.join(unit_dir, name + '.service'))
        if parse_record(socket_text) is None and parse_record(service_text) is None:
            foreign.append(name)
            continue
        ours[name] = {'socket': socket_text, 'service': service_text,
                      'enabled': os.path.islink(os.path.join(unit_dir, WANTS, name + '.socket'))}
    return ours, foreign


def read_maps(unit_dir=None):
    """The publications our units serve, as port_map's maps: {key: ((address, port), label)} (network_info, preflight)."""
    return maps_of(read_files(unit_dir)[0])


def maps_of(units):
    """The publications unit pairs ({name: {'socket': text, 'service': text, ...}}) serve: {key: ((address, port), label)}."""
    maps = {}
    for state in units.values():
        parsed = parse_record(state['socket']) or parse_record(state['service'])
        if parsed is not None:
            key, target, label = parsed
            maps[key] = (target, label)
    return maps


def systemd_problem(proxyd_paths=PROXYD, running=SYSTEMD_RUNNING):
    """None when this host can serve [::1] publications, else (what is missing, its fix)."""
    if not os.path.isdir(running):
        return 'this host does not run systemd (no %s)' % running, NO_SYSTEMD_FIX
    if find_proxyd(proxyd_paths) is None:
        return 'systemd-socket-proxyd is not installed (none of %s)' % ', '.join(proxyd_paths), NO_PROXYD_FIX
    return None


def find_proxyd(paths=PROXYD):
    return next((path for path in paths if os.access(path, os.X_OK)), None)


def check_host(maps, labels=None):
    """Raise LinuxnetError when ``maps`` hold [::1] publications this host cannot serve (no systemd, no proxy)."""
    if not maps:
        return
    problem = systemd_problem()
    if problem is not None:
        what, fix = problem
        names = sorted({label for _target, label in maps.values()}) if labels is None else labels
        raise LinuxnetError('%s: a publication on the IPv6 loopback address [::1] is served by systemd-socket-proxyd '
                            '(as Docker serves it with its userland proxy), but %s. %s' % (', '.join(names), what, fix))


# -- the plan: pure --------------------------------------------------------------------------------------------------
#
# An action: key (a unit name, or 'systemd'), description, phase, op: 'write' (socket, service texts; restart: the
# socket's text changed), 'remove', 'reload' (daemon-reload), 'start' (names: enable and start their sockets).

def wanted_units(maps, proxyd):
    """{name: (socket text, service text)} of the publications ``maps`` ({key: (target, label)})."""
    return {unit_name(key): unit_texts(key, target, label, proxyd) for key, (target, label) in sorted(maps.items())}


def plan_units(desired, current, foreign=()):
    """(actions, predicted) taking our unit pairs from ``current`` (read's state: {name: {'socket', 'service',
    'enabled', 'active'}}) to ``desired``: ABSENT (every unit of ours goes), or {'units': wanted_units(...), 'exclusive':
    bool, 'remove': [names]} (with exclusive, ours that are not wanted go; without, only those in ``remove``).

    A changed or new pair is written, then one daemon-reload, then its socket is enabled and started (restarted when
    its own text changed); the running proxy of a changed service is stopped, so the next connection starts the new
    one. A socket of ours that is disabled or not listening is enabled and started again. Raises LinuxnetError for a
    wanted name that a unit not made by the collection holds."""
    actions, predicted = [], dict(current)
    wanted = {} if desired is ABSENT else desired['units']
    for name in sorted(wanted):
        if name in foreign:
            raise LinuxnetError('systemd unit %s.socket or %s.service exists in %s but was not made by linuxnet.container '
                                '(no "%s" line in it). Fix: rename or remove that unit; this module only manages its own'
                                % (name, name, UNIT_DIR, MARKER.strip()))
    if desired is ABSENT:
        gone = sorted(current)
    elif desired['exclusive']:
        gone = sorted(name for name in current if name not in wanted)
    else:
        gone = sorted(name for name in desired.get('remove', ()) if name in current and name not in wanted)
    for name in gone:
        predicted[name] = ABSENT
        actions.append({'key': name, 'op': 'remove', 'phase': 0,
                        'description': 'stop, disable and remove systemd units %s.socket and %s.service' % (name, name)})
    written, started = False, {}  # started: {name: whether its socket's own text changed (a restart)}
    for name, (socket_text, service_text) in sorted(wanted.items()):
        have = current.get(name, ABSENT)
        want = {'socket': socket_text, 'service': service_text, 'enabled': True, 'active': True}
        predicted[name] = want
        if have == want:
            continue
        if have is ABSENT or have['socket'] != socket_text or have['service'] != service_text:
            written = True
            new = have is ABSENT
            started[name] = not new and have['socket'] != socket_text
            actions.append({'key': name, 'op': 'write', 'socket': socket_text, 'service': service_text, 'phase': 0,
                            'restart': started[name],
                            'stop_service': not new and have['service'] != service_text,
                            'description': '%s systemd units %s.socket and %s.service (%s)' % (
                                'write' if new else 'rewrite', name, name, _listens(socket_text))})
        else:
            started[name] = False  # only disabled or not listening: started again
    if written or gone:
        actions.append({'key': 'systemd', 'op': 'reload', 'phase': 1, 'description': 'systemctl daemon-reload'})
    for name, restart in sorted(started.items()):
        actions.append({'key': name, 'op': 'start', 'phase': 2, 'restart': restart,
                        'description': 'enable and %s %s.socket' % ('restart' if restart else 'start', name)})
    return actions, predicted


def _listens(socket_text):
    return next((line.split('=', 1)[1] for line in socket_text.splitlines() if line.startswith('ListenStream=')), '?')


class ProxyReconciler(Reconciler):
    """port_map's [::1] publications as systemd unit pairs (see the module docstring)."""

    kind = 'systemd unit pair'

    def __init__(self, module, run_command=None, unit_dir=None):
        super().__init__(module)
        self.run_command = run_command or run_command_plain  # (argv) -> (rc, stdout, stderr)
        self.unit_dir = unit_dir or UNIT_DIR
        self.foreign = []

    def _systemctl(self, *args):
        rc, out, err = self.run_command(['systemctl'] + list(args))
        if rc != 0:
            units = ' '.join(arg for arg in args if arg.startswith(PREFIX)) or 'UNIT'
            raise LinuxnetError('systemctl %s failed (exit status %d): %s. Fix: see what systemctl status %s and journalctl -u '
                                '%s say (a host process on that port?), then run again'
                                % (' '.join(args), rc, (err or out).strip().rstrip('.'), units, units.split()[0]))
        return out

    def read(self, desired):
        files, self.foreign = read_files(self.unit_dir)
        if not files:
            return {}
        names = sorted(files)
        out = self._systemctl('show', '--property=Id,ActiveState', '--', *[name + '.socket' for name in names])
        active = {}
        for block in out.strip().split('\n\n'):
            fields = dict(line.split('=', 1) for line in block.splitlines() if '=' in line)
            active[fields.get('Id', '')] = fields.get('ActiveState') == 'active'
        return {name: dict(state, active=active.get(name + '.socket', False)) for name, state in files.items()}

    def plan(self, desired, current):
        actions, predicted = plan_units(desired, current, self.foreign)
        return Plan.of_actions(actions, self.apply_action), predicted

    def apply_action(self, action):
        name, path = action['key'], os.path.join(self.unit_dir, action['key'])
        if action['op'] == 'remove':
            self._systemctl('disable', '--now', name + '.socket')
            self._systemctl('stop', name + '.service')
            for suffix in ('.socket', '.service'):
                if os.path.lexists(path + suffix):
                    os.unlink(path + suffix)
        elif action['op'] == 'write':
            if action['stop_service']:
                self._systemctl('stop', name + '.service')  # the next connection starts the new proxy
            for suffix, text in (('.socket', action['socket']), ('.service', action['service'])):
                persist.write_atomic(path + suffix, text.encode('utf-8'), mode=0o644)  # as systemd's own units
        elif action['op'] == 'reload':
            self._systemctl('daemon-reload')
        elif action['op'] == 'start':
            if action['restart']:
                self._systemctl('stop', name + '.service', name + '.socket')
            self._systemctl('enable', '--now', name + '.socket')
        else:
            raise ValueError('unknown port_proxy action %r' % action['op'])

    def diff_view(self, before, after):
        """The unit texts as lines: readable in --diff."""
        return _view(before), _view(after)


def run_command_plain(argv):
    """(rc, stdout, stderr) of a command, in the C locale: what a module run and the host-local apply both have."""
    env = dict(os.environ, LC_ALL='C', SYSTEMD_PAGER='', SYSTEMD_COLORS='0')
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                          check=False, universal_newlines=True)
    return proc.returncode, proc.stdout, proc.stderr


def _view(state):
    if state is ABSENT:
        return state
    return {k: (v.splitlines() if isinstance(v, str) else v) for k, v in state.items()}
