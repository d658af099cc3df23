# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""``linuxnet-container``: converge this host from its recorded desired state, with no controller.

The prerequisites role installs the command (/usr/local/sbin/linuxnet-container, which runs
/var/lib/linuxnet-container/code.zip under the collection's virtualenv) and its systemd units. Subcommands:

- ``apply [--check] [--diff] [--firewall]``: run every record through the code host_network runs (same
  validation, plan, apply and verify). Exit 0: nothing changed; 1: changed (in check mode: would change);
  2: failed. ``--firewall``: only the nftables parts (what a firewall reload takes away).
- ``status``: what is recorded, as JSON.
- ``read REQUEST``: for the bridge_network role, over a raw connection: REQUEST is JSON, ``{"code": ID, "record":
  NAME, "check": BOOL, "read": {network_info's options}}``. When record NAME's tag starts with ID (this code is the
  controller's), prints one JSON line: ``{"tag", "records", "in_sync", "read"}``: the tag, the names of the records,
  whether ``apply --check`` finds nothing to change and gives no warning, and what linuxnet.container.network_info
  would return. Otherwise (nothing recorded, other code, any error) prints nothing, and the role runs the module.
- ``watch``: wait for the kernel to report a change of links, addresses (rtnetlink) or nftables tables
  (nfnetlink), or firewalld's Reloaded signal, and apply again; one log line per repair, rate-limited.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import time

from ansible_collections.linuxnet.container.plugins.module_utils._converge import persist
from ansible_collections.linuxnet.container.plugins.module_utils._converge.host_network import FIREWALL_PARTS, converge
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.netlink import Netlink

UNCHANGED, CHANGED, FAILED = 0, 1, 2
# Netlink groups the watcher listens to (linux/rtnetlink.h, linux/netfilter/nfnetlink.h).
NETLINK_NETFILTER = 12
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV6_IFADDR = 0x100
RTM_DELADDR = 21
NFNLGRP_NFTABLES = 7
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
FIREWALLD_MATCH = "type='signal',interface='org.fedoraproject.FirewallD1',member='Reloaded'"


def log(message, stream=None):
    stream = stream or sys.stdout
    stream.write('linuxnet-container: %s\n' % message)
    stream.flush()


def apply_records(directory, check_mode=False, diff=False, only=None, quiet=False, lock_timeout=300.0, since=None,
                  report=True, warnings=None):
    """Converge every record; returns (exit status, actions). Errors are printed and give FAILED.

    ``since``: skip when a module's converge ended after that time (the watcher: what it saw was that converge).
    ``report``: print what changed (the watcher prints one line per repair instead). ``warnings``: a list that also
    gets every warning the parts give."""
    gc.freeze()
    gc.set_threshold(50000, 50, 1000)
    actions, changed = [], False
    try:
        with persist.locked(lock_timeout):
            if since is not None and persist.last_converge() >= since:
                return UNCHANGED, actions
            doc = persist.load(directory)
            if doc is None:
                if not quiet:
                    log('nothing recorded in %s: nothing to do' % os.path.join(directory, persist.STATE_FILE))
                return UNCHANGED, actions
            for record in doc['records']:
                with Netlink() as netlink:
                    result = converge(record['args'], netlink, check_mode=check_mode, diff=diff, return_objects=False,
                                      refuse=False, only=only,
                                      warn=lambda msg, name=record['name']: _warn(name, msg, warnings))
                changed = changed or result['changed']
                if not check_mode:
                    persist.mark_restored()
                for part, part_result in result['parts'].items():
                    actions.extend('%s: %s: %s' % (record['name'], part, action)
                                   for action in part_result.get('actions', []))
                for entry in result.get('diff', []):
                    before, after = (json.dumps(entry.get(side), indent=1, sort_keys=True) for side in ('before', 'after'))
                    sys.stdout.write('--- %s\n+++ %s\n%s\n%s\n' % (entry['before_header'], entry['after_header'], before, after))
    except LinuxnetError as err:
        for action in actions:
            log(('would ' if check_mode else '') + action)
        log('failed: %s' % err.msg, sys.stderr)
        return FAILED, actions
    if report and (not quiet or changed):
        for action in actions:
            log(('would: ' if check_mode else 'changed: ') + action)
        if not actions and not quiet:
            log('unchanged: %d record(s) in %s hold' % (len(doc['records']), directory))
    return (CHANGED if changed else UNCHANGED), actions


def _warn(name, message, warnings=None):
    log('warning: %s: %s' % (name, message), sys.stderr)
    if warnings is not None:
        warnings.append(message)


def read(directory, request):
    """The ``read`` subcommand (see the module's docstring); UNCHANGED when it printed the read, FAILED otherwise."""
    # Imported here: only this subcommand reads (and the module's payload, which this code is, holds it this way).
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # pylint: disable=import-outside-toplevel
    from ansible_collections.linuxnet.container.plugins.module_utils._converge.read import READ_SPEC, gather  # pylint: disable=import-outside-toplevel
    try:
        request = json.loads(request)
        doc = persist.load(directory)
        tag = persist.tag_of(doc, request['record'])
        if not isinstance(tag, str) or tag.split(' ')[0] != request['code']:
            return FAILED
        validated = ArgumentSpecValidator(READ_SPEC).validate(request['read'])
        if validated.error_messages:
            log('read: %s' % validated.error_messages[0], sys.stderr)
            return FAILED
        with Netlink() as netlink:
            facts = gather(netlink, validated.validated_parameters)
        # apply --check prints only on failures and differences; none of it belongs in the JSON line.
        # A warning (a host socket on a published port) is the module's to give: such a host is not in sync.
        warnings = []
        with contextlib.redirect_stdout(sys.stderr):
            in_sync = apply_records(directory, check_mode=True, quiet=True, report=False, warnings=warnings)[0] == UNCHANGED
        in_sync = in_sync and not warnings
    except (LinuxnetError, ValueError, KeyError, TypeError) as err:
        log('read: %s' % getattr(err, 'msg', err), sys.stderr)
        return FAILED
    sys.stdout.write(json.dumps({'tag': tag, 'records': [r['name'] for r in doc['records']], 'in_sync': in_sync,
                                 'read': facts}, sort_keys=True) + '\n')
    return UNCHANGED


def status(directory):
    doc = persist.load(directory)
    summary = {'state_dir': directory, 'recorded': doc is not None}
    if doc is not None:
        summary['records'] = [{'name': r['name'], 'parts': sorted(r['args'])} for r in doc['records']]
        summary['code'] = doc.get('code')
        summary['written'] = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(
            os.stat(os.path.join(directory, persist.STATE_FILE)).st_mtime))
    sys.stdout.write(json.dumps(summary, indent=1, sort_keys=True) + '\n')
    return UNCHANGED


def _netlink_socket(protocol, groups=0, membership=None):
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC, protocol)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind((0, groups))
    if membership is not None:
        sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, membership)
    return sock


def _drain(sock, relevant=None):
    """Read everything pending; True if anything was (an overflow counts: something happened), or with ``relevant``
    (a test of one buffer read) if any buffer passed it."""
    seen = False
    while True:
        try:
            data = sock.recv(65536)
            if not data:
                return seen
            seen = seen or relevant is None or relevant(data)
        except BlockingIOError:
            return seen
        except OSError:  # ENOBUFS: more events than the buffer held
            seen = True


class RateLimit:
    """At most ``burst`` repairs in any ``window`` seconds."""

    def __init__(self, burst, window):
        self.burst, self.window, self.times = burst, window, []

    def wait_time(self, now):
        self.times = [t for t in self.times if now - t < self.window]
        return 0.0 if len(self.times) < self.burst else self.window - (now - self.times[0])

    def record(self, now):
        self.times.append(now)


def watch(directory, links=True, nftables=True, firewalld=False, debounce=0.1, burst=10, window=60.0):
    """Wait for changes and apply again; runs until killed."""
    sources = {}
    if links:
        sources[_netlink_socket(socket.NETLINK_ROUTE, RTMGRP_LINK | RTMGRP_IPV4_IFADDR)] = 'links'
        # IPv6 addresses: only removals (a bridge's IPv6 gateway deleted). Additions and lifetime updates come with every
        # router advertisement on an uplink, and are never ours to repair.
        sources[_netlink_socket(socket.NETLINK_ROUTE, RTMGRP_IPV6_IFADDR)] = 'addresses6'
    if nftables:
        sources[_netlink_socket(NETLINK_NETFILTER, membership=NFNLGRP_NFTABLES)] = 'nftables'
    monitor = None
    if firewalld:
        busctl = shutil.which('busctl')
        if busctl is None:
            log('busctl not found: cannot listen for firewalld reloads', sys.stderr)
            return FAILED
        # busctl prints each signal as one JSON line: no D-Bus client library needed.
        monitor = subprocess.Popen([busctl, '--system', '--json=short', 'monitor', '--match', FIREWALLD_MATCH],
                                   stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        sources[monitor.stdout] = 'firewalld'
    code = persist.payload_path(__file__)
    code_inode = os.stat(code).st_ino if code else None
    log('watching %s' % ', '.join(sorted(set(sources.values()))))
    limit = RateLimit(burst, window)
    # What went missing while nothing watched (a flush before the watcher started) is repaired first. A
    # listener for firewall reloads only repairs the firewall, and only once this boot's networks are set up.
    if (links or persist.restored()) and apply_records(directory, quiet=True, report=False,
                                                       only=None if links else FIREWALL_PARTS)[0] == CHANGED:
        log('repaired at start')
    pending = set()
    try:
        while True:
            if pending:
                causes, pending = pending, set()
            else:
                ready, _w, _x = select.select(list(sources), [], [])
                causes = _collect(sources, ready)
            seen = time.time()
            # Let a burst settle (a flush, a restart that loads a ruleset): one apply for all of it.
            first = time.monotonic()
            while time.monotonic() - first < 5 * debounce:
                ready, _w, _x = select.select(list(sources), [], [], debounce)
                if not ready:
                    break
                causes |= _collect(sources, ready)
            if not causes:
                continue
            now = time.monotonic()
            pause = limit.wait_time(now)
            if pause > 0:
                log('rate limit: %d repairs in %d s, waiting %.1f s' % (burst, window, pause), sys.stderr)
                time.sleep(pause)
            limit.record(time.monotonic())
            if code and _replaced(code, code_inode):
                # A converge recorded a new version of the code: run it (the old one stays open until exec).
                log('the recorded code changed: restarting the watcher with it')
                if monitor is not None:
                    monitor.terminate()
                    monitor.wait()
                os.execv(sys.executable, [sys.executable] + sys.argv)
            started = time.monotonic()
            status_code, actions = apply_records(directory, only=None if 'links' in causes else FIREWALL_PARTS,
                                                 quiet=True, since=None if 'firewalld' in causes else seen, report=False)
            if status_code == CHANGED:
                log('repaired after a change of %s in %.2f s: %s'
                    % (', '.join(sorted(causes)), time.monotonic() - started, '; '.join(actions)))
            elif status_code == FAILED:
                log('repair after a change of %s failed' % ', '.join(sorted(causes)), sys.stderr)
            # The events that came during the apply are its own writes, and maybe a loss that came meanwhile (a link or an
            # address deleted while it ran): one more apply sees to that. It finds its own writes in place and writes
            # nothing, so it wakes nothing.
            pending = _collect(sources, [s for s in sources if sources[s] != 'firewalld'])
    finally:
        if monitor is not None:
            monitor.terminate()
            monitor.wait()


def _replaced(path, inode):
    try:
        return os.stat(path).st_ino != inode
    except FileNotFoundError:
        return False


def _collect(sources, ready):
    causes = set()
    for source in ready:
        kind = sources[source]
        if kind == 'firewalld':
            line = source.readline()
            if not line:
                raise LinuxnetError('busctl monitor ended')
            try:
                if json.loads(line).get('member') == 'Reloaded':
                    causes.add('firewalld')
            except ValueError:
                continue
        elif kind == 'addresses6':
            if _drain(source, removals):
                causes.add('links')
        elif _drain(source):
            causes.add(kind)
    return causes


def removals(data):
    """Whether a buffer read from rtnetlink holds an RTM_DELADDR message."""
    offset = 0
    while offset + 16 <= len(data):
        length, kind = struct.unpack_from('=IH', data, offset)
        if kind == RTM_DELADDR:
            return True
        if length < 16:
            return False
        offset += (length + 3) & ~3
    return False


def main(argv=None):
    parser = argparse.ArgumentParser(prog='linuxnet-container',
                                     description='Converge this host from the desired state its last converge recorded.')
    parser.add_argument('--state-dir', default=persist.STATE_DIR, help='where the record is (default: %(default)s)')
    commands = parser.add_subparsers(dest='command', required=True)
    apply_cmd = commands.add_parser('apply', help='converge from the record; exit 0 unchanged, 1 changed, 2 failed')
    apply_cmd.add_argument('--check', action='store_true', help='report what would change, change nothing')
    apply_cmd.add_argument('--diff', action='store_true', help='print each changed part\'s before and after')
    apply_cmd.add_argument('--firewall', action='store_true', help='only the nftables parts (after a firewall reload)')
    apply_cmd.add_argument('--quiet', action='store_true', help='print only what changed')
    apply_cmd.add_argument('--if-restored', action='store_true',
                           help='do nothing unless this boot\'s networks were set up already (for nftables.service)')
    commands.add_parser('status', help='what is recorded, as JSON')
    read_cmd = commands.add_parser('read', help='for the bridge_network role: the host\'s networks, when its record matches')
    read_cmd.add_argument('request', help='JSON: {"code": ID, "record": NAME, "read": {network_info\'s options}}')
    watch_cmd = commands.add_parser('watch', help='apply again whenever links, addresses or nftables tables change')
    watch_cmd.add_argument('--no-links', action='store_true', help='do not listen to rtnetlink (links, addresses)')
    watch_cmd.add_argument('--no-nftables', action='store_true', help='do not listen to nftables changes')
    watch_cmd.add_argument('--firewalld', action='store_true', help="listen to firewalld's Reloaded signal (D-Bus)")
    watch_cmd.add_argument('--debounce', type=float, default=0.1, help='seconds of quiet before a repair')
    watch_cmd.add_argument('--burst', type=int, default=10, help='at most this many repairs per --window')
    watch_cmd.add_argument('--window', type=float, default=60.0, help='seconds')
    args = parser.parse_args(argv)
    if args.command == 'status':
        return status(args.state_dir)
    if args.command == 'read':
        return read(args.state_dir, args.request)
    if args.command == 'watch':
        try:
            return watch(args.state_dir, links=not args.no_links, nftables=not args.no_nftables, firewalld=args.firewalld,
                         debounce=args.debounce, burst=args.burst, window=args.window)
        except KeyboardInterrupt:
            return UNCHANGED
    if args.if_restored and not persist.restored():
        return UNCHANGED
    return apply_records(args.state_dir, check_mode=args.check, diff=args.diff,
                         only=FIREWALL_PARTS if args.firewall else None, quiet=args.quiet)[0]
