#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local lab: simulated hosts on this machine, reached over real SSH.

Each host is one long-lived process made with
``unshare --net --mount --uts --propagation private`` that mounts private
tmpfs on /run and /etc/netns (everything the collection writes per host),
remounts /sys, sets its hostname and sleeps. An underlay "switch" (one more
such process) holds the bridge ``ulbr0`` with 192.0.2.1/24 and plays the
outside router; every host has an ``eth0`` into it with 192.0.2.(10+N)/24 and a
default route through it. Traffic never leaves the machine.

Ansible reaches a host through ssh with
``ProxyCommand nsenter --target PID --net --mount --uts -- sshd -i``: a real
sshd per connection, inside the host, with keys generated for this lab.

    lab.py up   [--name lab] [--hosts 3] [--prefix docker-node]
    lab.py down [--name lab]
    lab.py show [--name lab]      # what the collection built, read from the kernel
    lab.py status [--name lab]    # JSON: hosts, PIDs, addresses

State lives in /var/lib/linuxnet-lab/NAME; a stale one (after a reboot) is cleaned by the next up.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time

STATE_ROOT = os.environ.get('LINUXNET_LAB_ROOT', '/var/lib/linuxnet-lab')
UNDERLAY = ipaddress.ip_network('192.0.2.0/24')
ROUTER_ADDRESS = '192.0.2.1'
HOST_OFFSET = 10
MAX_HOSTS = 200
MARKER = 'linuxnet-lab'

# Runs inside the new namespaces, then becomes the long-lived process (same PID).
_HOST_SCRIPT = r'''
set -eu
mount -t tmpfs -o mode=0755,size=64m linuxnet-lab-run /run
mkdir -p /run/netns /run/sshd
mount -t tmpfs -o mode=0755,size=16m linuxnet-lab-netns /etc/netns
mount -t sysfs linuxnet-lab-sys /sys
# sshd logs logins to utmp/wtmp and resolves the peer's name: keep both inside the host. Names
# resolve from the lab's hosts file only (a resolver on loopback answers at once with a refusal),
# so no lookup ever leaves for the machine's real resolver.
mount -t tmpfs -o mode=0755,size=16m linuxnet-lab-log /var/log
: > /run/utmp
: > /var/log/wtmp
: > /var/log/lastlog
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > /run/resolv.conf
mount --bind /run/resolv.conf /etc/resolv.conf
mount --bind "$LAB_HOSTS_FILE" /etc/hosts
hostname "$LAB_HOSTNAME"
exec -a "$LAB_MARKER" sleep infinity
'''


def state_dir(name):
    return os.path.join(STATE_ROOT, name)


def load_state(name):
    try:
        with open(os.path.join(state_dir(name), 'state.json')) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def save_state(state):
    path = os.path.join(state_dir(state['name']), 'state.json')
    with open(path + '.tmp', 'w') as handle:
        json.dump(state, handle, indent=2)
    os.rename(path + '.tmp', path)


def marker(lab, host):
    return '%s:%s:%s' % (MARKER, lab, host)


def is_ours(pid, expected):
    """True when PID is alive and is the lab process we started (its argv[0] is the marker)."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            argv0 = handle.read().split(b'\0', 1)[0].decode()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return argv0 == expected


def start_ns_process(lab, host):
    env = dict(os.environ, LAB_HOSTNAME=host, LAB_MARKER=marker(lab, host),
               LAB_HOSTS_FILE=os.path.join(state_dir(lab), 'hosts'))
    proc = subprocess.Popen(
        ['unshare', '--net', '--mount', '--uts', '--propagation', 'private', '--', 'bash', '-c', _HOST_SCRIPT],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        if is_ours(proc.pid, marker(lab, host)):
            proc.stderr.close()
            return proc.pid
        if proc.poll() is not None:
            raise SystemExit('lab: host %s failed to start: %s' % (host, proc.stderr.read().decode().strip()))
        time.sleep(0.01)
    raise SystemExit('lab: host %s did not start within 10 s' % host)


def ns_path(pid):
    return '/proc/%d/ns/net' % pid


def ssh_keys(directory):
    for key in ('ssh_host_ed25519_key', 'id_ed25519'):
        path = os.path.join(directory, key)
        if not os.path.exists(path):
            subprocess.run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'linuxnet-lab', '-f', path],
                           check=True)
    shutil.copyfile(os.path.join(directory, 'id_ed25519.pub'), os.path.join(directory, 'authorized_keys'))


def write_ssh_configs(state):
    directory = state_dir(state['name'])
    with open(os.path.join(directory, 'sshd_config'), 'w') as handle:
        handle.write('\n'.join([
            'HostKey %s/ssh_host_ed25519_key' % directory,
            'AuthorizedKeysFile %s/authorized_keys' % directory,
            'PermitRootLogin prohibit-password',
            'PasswordAuthentication no',
            'KbdInteractiveAuthentication no',
            'UsePAM no',
            'StrictModes no',
            'PidFile none',
            'LogLevel ERROR',
            'PrintMotd no',
            'Subsystem sftp internal-sftp',
            '']))
    sshd = shutil.which('sshd') or '/usr/sbin/sshd'
    blocks = []
    for host in state['hosts']:
        blocks.append('\n'.join([
            'Host %s' % host['name'],
            '  User root',
            '  IdentityFile %s/id_ed25519' % directory,
            '  IdentitiesOnly yes',
            '  StrictHostKeyChecking no',
            '  UserKnownHostsFile /dev/null',
            '  GlobalKnownHostsFile /dev/null',
            '  LogLevel ERROR',
            # One multiplexed connection per host, its socket in this lab's directory (host names
            # repeat across labs, so Ansible's default ~/.ansible/cp path could mix them up).
            '  ControlMaster auto',
            '  ControlPersist 120s',
            '  ControlPath %s/cm-%%h' % directory,
            '  ProxyCommand nsenter --target %d --net --mount --uts -- %s -i -f %s/sshd_config'
            % (host['pid'], sshd, directory),
            '']))
    with open(os.path.join(directory, 'ssh_config'), 'w') as handle:
        handle.write('\n'.join(blocks))
    # An inventory for any lab size (the shipped one in playbooks/inventories/lab covers 3 hosts).
    hosts = {h['name']: {'linuxnet_lab_underlay_address': h['address']} for h in state['hosts']}
    inventory = {'all': {'children': {'lab': {'hosts': hosts}},
                         'vars': {'ansible_user': 'root',
                                  'ansible_ssh_args': '-F %s/ssh_config' % directory,
                                  'ansible_ssh_use_tty': False,
                                  'ansible_python_interpreter': sys.executable}}}
    with open(os.path.join(directory, 'inventory.json'), 'w') as handle:
        json.dump(inventory, handle, indent=2)


def wire_underlay(state):
    from pyroute2 import IPRoute
    from pyroute2 import netns as pnetns

    home = os.open('/proc/self/ns/net', os.O_RDONLY)

    def open_in(pid):
        fd = os.open(ns_path(pid), os.O_RDONLY)
        try:
            pnetns.setns(fd, flags=0)
            return IPRoute()
        finally:
            pnetns.setns(home, flags=0)
            os.close(fd)

    router = open_in(state['switch_pid'])
    router.link('set', index=router.link('get', ifname='lo')[0]['index'], state='up')
    router.link('add', ifname='ulbr0', kind='bridge')
    bridge = router.link('get', ifname='ulbr0')[0]['index']
    router.addr('add', index=bridge, address=ROUTER_ADDRESS, prefixlen=UNDERLAY.prefixlen)
    router.link('set', index=bridge, state='up')
    for number, host in enumerate(state['hosts'], start=1):
        ipr = open_in(host['pid'])
        ipr.link('set', index=ipr.link('get', ifname='lo')[0]['index'], state='up')
        peer = 'ul%d' % number
        ipr.link('add', ifname='eth0', kind='veth', peer={'ifname': peer, 'net_ns_pid': state['switch_pid']})
        eth0 = ipr.link('get', ifname='eth0')[0]['index']
        ipr.addr('add', index=eth0, address=host['address'], prefixlen=UNDERLAY.prefixlen)
        ipr.link('set', index=eth0, state='up')
        ipr.route('add', dst='0.0.0.0/0', gateway=ROUTER_ADDRESS)
        port = router.link('get', ifname=peer)[0]['index']
        router.link('set', index=port, master=bridge, state='up')
        ipr.close()
    router.close()
    os.close(home)


def cmd_up(args):
    state = load_state(args.name)
    if state is not None:
        if all_alive(state) and len(state['hosts']) == args.hosts and state['prefix'] == args.prefix:
            print('lab %s is already up (%d hosts)' % (args.name, args.hosts))
            return
        cmd_down(args)
    if not 1 <= args.hosts <= MAX_HOSTS:
        raise SystemExit('lab: --hosts must be between 1 and %d' % MAX_HOSTS)
    started = time.time()
    directory = state_dir(args.name)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    state = {'name': args.name, 'prefix': args.prefix, 'hosts': [], 'switch_pid': None,
             'created_etc_netns': False, 'router': ROUTER_ADDRESS, 'subnet': str(UNDERLAY)}
    if not os.path.isdir('/etc/netns'):
        os.makedirs('/etc/netns', mode=0o755)
        state['created_etc_netns'] = True
    save_state(state)
    hosts = [('%s%d' % (args.prefix, number), str(UNDERLAY.network_address + HOST_OFFSET + number))
             for number in range(1, args.hosts + 1)]
    with open(os.path.join(directory, 'hosts'), 'w') as handle:
        handle.write('127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\trouter\n'
                     % ROUTER_ADDRESS)
        handle.writelines('%s\t%s\n' % (address, host) for host, address in hosts)
    try:
        ssh_keys(directory)
        state['switch_pid'] = start_ns_process(args.name, 'router')
        save_state(state)
        for host, address in hosts:
            pid = start_ns_process(args.name, host)
            state['hosts'].append({'name': host, 'pid': pid, 'address': address})
            save_state(state)
        wire_underlay(state)
        write_ssh_configs(state)
    except BaseException:
        cmd_down(args)
        raise
    print('lab %s up: %d hosts on %s (router %s) in %.1f s; ssh config %s/ssh_config'
          % (args.name, args.hosts, UNDERLAY, ROUTER_ADDRESS, time.time() - started, directory))


def all_alive(state):
    pids = [(state['switch_pid'], marker(state['name'], 'router'))]
    pids += [(h['pid'], marker(state['name'], h['name'])) for h in state['hosts']]
    return all(pid and is_ours(pid, mark) for pid, mark in pids)


def _ns_inodes(pid):
    """Namespaces that belong to a lab process: its own net and mount ns, and every named netns in it."""
    found = set()
    for kind in ('net', 'mnt'):
        try:
            st = os.stat('/proc/%d/ns/%s' % (pid, kind))
            found.add((kind, st.st_dev, st.st_ino))
        except OSError:
            pass
    netns_dir = '/proc/%d/root/run/netns' % pid
    try:
        names = os.listdir(netns_dir)
    except OSError:
        names = []
    for entry in names:
        try:
            st = os.stat(os.path.join(netns_dir, entry))
            found.add(('net', st.st_dev, st.st_ino))
        except OSError:
            pass
    return found


def _processes_in(inodes):
    own = {os.getpid(), os.getppid()}
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) in own:
            continue
        for kind in ('net', 'mnt'):
            try:
                st = os.stat('/proc/%s/ns/%s' % (entry, kind))
            except OSError:
                continue
            if (kind, st.st_dev, st.st_ino) in inodes:
                pids.append(int(entry))
                break
    return pids


def cmd_down(args):
    state = load_state(args.name)
    if state is None:
        print('lab %s is not up' % args.name)
        return
    lab_pids = [(h['pid'], marker(args.name, h['name'])) for h in state['hosts']]
    if state.get('switch_pid'):
        lab_pids.append((state['switch_pid'], marker(args.name, 'router')))
    inodes = set()
    ours = []
    for pid, mark in lab_pids:
        if is_ours(pid, mark):
            ours.append(pid)
            inodes |= _ns_inodes(pid)
    # Everything running inside a lab host (sshd sessions, servers a test started in a container
    # namespace) was started there through the lab: end it, then the hosts themselves.
    victims = sorted(set(_processes_in(inodes)) | set(ours))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in victims:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + 5
        while time.time() < deadline and any(os.path.exists('/proc/%d' % p) and not _zombie(p) for p in victims):
            time.sleep(0.02)
    if state.get('created_etc_netns'):
        try:
            os.rmdir('/etc/netns')
        except OSError:
            pass
    shutil.rmtree(state_dir(args.name), ignore_errors=True)
    try:
        os.rmdir(STATE_ROOT)
    except OSError:
        pass
    print('lab %s down: ended %d processes' % (args.name, len(victims)))


def _zombie(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


def cmd_status(args):
    state = load_state(args.name)
    if state is None:
        raise SystemExit('lab %s is not up' % args.name)
    state['alive'] = all_alive(state)
    print(json.dumps(state, indent=2))


def cmd_show(args):
    """Print what each host holds, read from the kernel through pyroute2 (never from ip's text)."""
    from pyroute2 import IPRoute
    from pyroute2 import netns as pnetns

    state = load_state(args.name)
    if state is None:
        raise SystemExit('lab %s is not up' % args.name)
    home = os.open('/proc/self/ns/net', os.O_RDONLY)

    def links_in(path):
        fd = os.open(path, os.O_RDONLY)
        try:
            pnetns.setns(fd, flags=0)
            ipr = IPRoute()
        finally:
            pnetns.setns(home, flags=0)
            os.close(fd)
        with ipr:
            addrs = {}
            for msg in ipr.addr('dump'):
                addrs.setdefault(msg['index'], []).append('%s/%d' % (msg.get('address'), msg['prefixlen']))
            out = []
            for link in ipr.link('dump'):
                name = link.get('ifname')
                up = 'UP' if link['flags'] & 1 else 'DOWN'
                extra = ''
                kind = (link.get(('linkinfo', 'kind')) or '') if hasattr(link, 'get') else ''
                if kind:
                    extra = ' [%s]' % kind
                out.append('%s %s%s %s' % (name, up, extra, ' '.join(addrs.get(link['index'], []))))
            return out

    for host in state['hosts']:
        print('== %s (underlay %s, pid %d)' % (host['name'], host['address'], host['pid']))
        for line in links_in(ns_path(host['pid'])):
            print('   host: %s' % line)
        netns_dir = '/proc/%d/root/run/netns' % host['pid']
        for name in sorted(os.listdir(netns_dir)):
            print('   netns %s:' % name)
            for line in links_in(os.path.join(netns_dir, name)):
                print('     %s' % line)
            hosts = '/proc/%d/root/etc/netns/%s/hosts' % (host['pid'], name)
            if os.path.exists(hosts):
                with open(hosts) as handle:
                    entries = [line for line in handle.read().splitlines()
                               if line and not line.startswith('#') and 'localhost' not in line and not line.startswith(('fe00', 'ff0'))]
                print('     /etc/hosts: %s' % ('; '.join(entries) or '(defaults only)'))
    os.close(home)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n', 1)[0])
    sub = parser.add_subparsers(dest='command', required=True)
    for command in ('up', 'down', 'status', 'show'):
        p = sub.add_parser(command)
        p.add_argument('--name', default=os.environ.get('LINUXNET_LAB', 'lab'))
        if command == 'up':
            p.add_argument('--hosts', type=int, default=int(os.environ.get('LAB_HOSTS', '3')))
            p.add_argument('--prefix', default='docker-node')
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit('lab: must run as root (it creates namespaces)')
    {'up': cmd_up, 'down': cmd_down, 'status': cmd_status, 'show': cmd_show}[args.command](args)


if __name__ == '__main__':
    main()
