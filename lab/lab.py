#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The local lab: bare Debian hosts on this machine that boot systemd, reached over real SSH.

Every host is a stock Debian 12 (bookworm) booted with ``systemd-nspawn --boot``: its own root
filesystem (one image built once with mmdebstrap, shared read-only as the lower layer of an
overlayfs, one upper layer per host), its own systemd, sshd, network, mount, PID and UTS
namespaces. It has the system Python 3 and no pyroute2, no pip, no nftables, and it sees neither
the controller's Python nor this checkout: what the collection needs, its prerequisites role must
install. The hosts reach no package mirror; the lab serves its own package repository (the few
Debian packages the image leaves out, e.g. nftables) on the underlay, as an air-gapped fleet's
local mirror would.

An underlay "switch" (one long-lived ``unshare --net --mount --uts`` process) holds the bridge
``ulbr0`` with 192.0.2.1/24, plays the outside router and serves the package repository on
http://192.0.2.1:8000/. Every host has an ``eth0`` into it with 192.0.2.(10+N)/24 and a default
route through it (ifupdown, as Debian configures a server). The underlay is dual stack: ``ulbr0`` also holds
fd00:192:0:2::1/64 (a ULA prefix that exists only in the lab) and every host fd00:192:0:2::(10+N)/64 with an IPv6
default route through it, for the IPv6 tests. Traffic never leaves the machine.

Ansible reaches a host with ssh to its own sshd on port 22; the lab's ssh config carries the TCP
stream into the underlay with ``nsenter --net=<switch> socat``.

A host reboots for real (``lab.py reboot``): ``systemctl reboot`` inside, or a power cut
(SIGKILL of its PID 1) with ``--hard``. Its runtime network state is gone, its boot units run
again; a small supervisor per host starts it again and re-attaches it to the underlay.

    lab.py up     [--name lab] [--hosts 3] [--prefix docker-node] [--layer prerequisites]
    lab.py down   [--name lab]
    lab.py reboot [--name lab] [--hard] HOST...
    lab.py firewall [--name lab] [--how flush|restart|reload|firewalld] HOST...
    lab.py image                  # build (or find) the cached host image; prints its path
    lab.py layer                  # build (or find) the cached prerequisites layer; prints its path
    lab.py show   [--name lab]    # what the collection built, read from the kernel
    lab.py status [--name lab]    # JSON: hosts, PIDs, addresses

``--layer prerequisites`` boots the hosts from the image plus a second read-only layer: what
playbooks/prerequisites.yml installed on a bare host of this image (nftables, the venv with pyroute2,
the units), captured once and cached by the hash of the role's files. Tests of anything but the role
itself start there instead of paying its install on every lab; the role's own tests boot bare hosts.

State lives in /var/lib/linuxnet-lab/NAME; the image and the layer in /var/cache/linuxnet-lab.
"""

from __future__ import annotations

import argparse
import fcntl
import glob
import hashlib
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

STATE_ROOT = os.environ.get('LINUXNET_LAB_ROOT', '/var/lib/linuxnet-lab')
IMAGE_ROOT = os.environ.get('LINUXNET_LAB_IMAGES', '/var/cache/linuxnet-lab')
UNDERLAY = ipaddress.ip_network('192.0.2.0/24')
ROUTER_ADDRESS = '192.0.2.1'
# The underlay's IPv6 side: a ULA /64 that exists only inside the lab (hosts ::(10+N), as in IPv4).
UNDERLAY6 = ipaddress.ip_network('fd00:192:0:2::/64')
ROUTER_ADDRESS6 = 'fd00:192:0:2::1'
IFA_F_NODAD = 0x02
REPO_PORT = 8000
HOST_OFFSET = 10
MAX_HOSTS = 200
MARKER = 'linuxnet-lab'
CGROUP_TREES = ('/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified')
BOOT_TIMEOUT = 90
NSPAWN_REBOOT = 133  # systemd-nspawn's exit status when the container asked for a reboot

# The image: what a stock Debian server has (the "important" variant plus ssh and ifupdown), and
# the applications the tests run on a host (curl, nginx, iperf3). No nftables, no pip, no venv,
# no pyroute2: the collection's prerequisites role must bring those.
SUITE = 'bookworm'
IMAGE_PACKAGES = ['systemd-sysv', 'dbus', 'openssh-server', 'python3', 'iproute2', 'ifupdown', 'netbase',
                  'procps', 'iputils-ping', 'ca-certificates', 'curl', 'nginx-light', 'iperf3']
# Served by the lab's package repository, not installed: the hosts get the first three from the role; the
# tests install a container runtime (podman with runc, a busybox for its root), host firewalls (ufw, firewalld),
# etcd and FRR (the EVPN control plane) from it.
REPO_PACKAGES = ['nftables', 'python3-venv', 'python3-apt', 'podman', 'runc', 'busybox-static', 'ufw', 'firewalld', 'etcd-server', 'frr']
IMAGE_REMOVED = ['nftables', 'libnftables1']
IMAGE_VERSION = 1  # bump when the hooks below change
_IMAGE_HOOKS = [
    # nftables is priority "important" in Debian: take it out, so the role has to install it.
    'chroot "$1" apt-get purge -y -qq ' + ' '.join(IMAGE_REMOVED) + ' >/dev/null',
    'rm -f "$1"/var/cache/apt/archives/*.deb',
    'chroot "$1" apt-get install -y -qq --download-only --no-install-recommends ' + ' '.join(REPO_PACKAGES),
    'mkdir -p "$1"/../repo && cp "$1"/var/cache/apt/archives/*.deb "$1"/../repo/',
    'rm -f "$1"/var/cache/apt/archives/*.deb',
    # Nothing on a lab host reaches a mirror: its apt knows only the lab's repository.
    'rm -f "$1"/etc/apt/sources.list.d/* && rm -rf "$1"/var/lib/apt/lists/* && mkdir -p "$1"/var/lib/apt/lists/partial',
    'printf "deb [trusted=yes] http://%s:%d/ ./\\n" > "$1"/etc/apt/sources.list' % (ROUTER_ADDRESS, REPO_PORT),
    # Applications stay installed but stopped, timers that would reach for a mirror masked; every
    # host makes its own ssh host keys and machine id.
    'systemctl --root="$1" disable nginx.service >/dev/null 2>&1 || true',
    'systemctl --root="$1" mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer >/dev/null 2>&1',
    'rm -f "$1"/etc/ssh/ssh_host_* && : > "$1"/etc/machine-id',
]


# ---- state --------------------------------------------------------------------------------------

def run(*args, **kwargs):
    """subprocess.run with stdin from /dev/null: ssh sets O_NONBLOCK on a stdin it inherits and, when its
    connection drops (a reboot), leaves it so for every later process of the session, which Ansible refuses."""
    kwargs.setdefault('stdin', subprocess.DEVNULL)
    return subprocess.run(*args, **kwargs)  # pylint: disable=subprocess-run-check


def state_dir(name):
    return os.path.join(STATE_ROOT, name)


def host_dir(name, host):
    return os.path.join(state_dir(name), 'hosts', host)


def read_file(path, default=None):
    try:
        with open(path) as handle:
            return handle.read().strip()
    except (FileNotFoundError, NotADirectoryError):
        return default


def write_file(path, text, mode=0o644):
    tmp = '%s.tmp%d' % (path, os.getpid())
    with open(tmp, 'w') as handle:
        handle.write(text)
    os.chmod(tmp, mode)
    os.rename(tmp, path)


def load_state(name):
    """The lab's state, each host's ``pid`` the PID 1 of its current boot (None while it is down)."""
    text = read_file(os.path.join(state_dir(name), 'state.json'))
    if text is None:
        return None
    state = json.loads(text)
    for host in state['hosts']:
        leader = read_file(os.path.join(host_dir(name, host['name']), 'leader'))
        host['pid'] = int(leader) if leader else None
    return state


def save_state(state):
    stored = dict(state, hosts=[{k: v for k, v in h.items() if k != 'pid'} for h in state['hosts']])
    write_file(os.path.join(state_dir(state['name']), 'state.json'), json.dumps(stored, indent=2))


def marker(lab, host):
    return '%s:%s:%s' % (MARKER, lab, host)


def cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            return handle.read().split(b'\0')
    except (FileNotFoundError, ProcessLookupError):
        return []


def is_host_leader(lab, host, pid):
    """True when PID is the PID 1 of this lab host's current boot: systemd, in the host's own cgroup. Every lab host's
    PID 1 is a systemd; a PID read from a leader file a moment before the host went down may already be another lab's
    host (two CPUs wrap the PID space within minutes), and must not be killed or entered for this one."""
    return bool(pid) and read_file('/proc/%d/comm' % pid) == 'systemd' and \
        '/%s/%s/%s/' % (MARKER, lab, host) in (read_file('/proc/%d/cgroup' % pid, '') or '')


def is_ours(pid, expected):
    """True when PID is alive and is a lab process we started (its argv[0] or an argument is the marker)."""
    return bool(pid) and expected.encode() in cmdline(pid)


# ---- the image ----------------------------------------------------------------------------------

def image_path():
    key = hashlib.sha256(json.dumps([SUITE, IMAGE_PACKAGES, REPO_PACKAGES, IMAGE_REMOVED, _IMAGE_HOOKS, IMAGE_VERSION])
                         .encode()).hexdigest()[:12]
    return os.path.join(IMAGE_ROOT, 'image-%s-%s' % (SUITE, key))


def cached(path, kind, build, max_age=0):
    """The cached directory ``path`` (IMAGE_ROOT/KIND-KEY), made by ``build(directory)`` when it is not ready yet.

    Concurrent builders wait for one another. Other versions of the same kind go once built, when older than
    ``max_age`` seconds (another checkout may still use one), unless a running lab's hosts mount them."""
    if os.path.exists(os.path.join(path, 'ready')):
        return path
    os.makedirs(IMAGE_ROOT, exist_ok=True)
    with open(os.path.join(IMAGE_ROOT, '.lock-' + kind), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(path, 'ready')):
            return path
        started = time.time()
        directory = path + '.build'
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory)
        build(directory)
        write_file(os.path.join(directory, 'ready'), '%s\n' % time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()))
        shutil.rmtree(path, ignore_errors=True)
        os.rename(directory, path)
        with open('/proc/self/mountinfo') as handle:
            mounts = handle.read()
        for old in os.listdir(IMAGE_ROOT):
            old_path = os.path.join(IMAGE_ROOT, old)
            if (old.startswith(kind + '-') and old_path != path and not old.endswith('.build') and old_path not in mounts
                    and time.time() - os.stat(old_path).st_mtime >= max_age):
                shutil.rmtree(old_path, ignore_errors=True)
        print('lab: built the %s %s in %.1f s' % (kind, path, time.time() - started), file=sys.stderr)
    return path


def _build_image(directory):
    cmd = ['mmdebstrap', '--variant=important', '--quiet', '--include=' + ','.join(IMAGE_PACKAGES)]
    cmd += ['--customize-hook=' + hook for hook in _IMAGE_HOOKS]
    cmd += [SUITE, os.path.join(directory, 'rootfs')]
    proc = run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit('lab: building the host image failed (%s): %s' % (' '.join(cmd), proc.stderr[-2000:]))
    repo = os.path.join(directory, 'repo')
    packages = run(['dpkg-scanpackages', '--multiversion', '.', '/dev/null'], cwd=repo,
                   capture_output=True, text=True, check=True).stdout
    write_file(os.path.join(repo, 'Packages'), packages)


def ensure_image():
    """The cached image: ``rootfs`` (read-only lower layer) and ``repo`` (the lab's package repository).

    Built once from the package mirror apt is configured with (mmdebstrap, about 30 s), then reused by
    every lab; an older image goes, unless a running lab's hosts still have it as their lower layer.
    """
    return cached(image_path(), 'image', _build_image)


# ---- the underlay switch ------------------------------------------------------------------------

# Runs inside the new namespaces, then becomes the long-lived process (same PID).
_SWITCH_SCRIPT = r'''
set -eu
mount -t tmpfs -o mode=0755,size=16m linuxnet-lab-run /run
hostname "$LAB_HOSTNAME"
exec -a "$LAB_MARKER" sleep infinity
'''


def start_switch(lab):
    env = dict(os.environ, LAB_HOSTNAME='router', LAB_MARKER=marker(lab, 'router'))
    proc = subprocess.Popen(
        ['unshare', '--net', '--mount', '--uts', '--propagation', 'private', '--', 'bash', '-c', _SWITCH_SCRIPT],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        if is_ours(proc.pid, marker(lab, 'router')):
            proc.stderr.close()
            return proc.pid
        if proc.poll() is not None:
            raise SystemExit('lab: the switch failed to start: %s' % proc.stderr.read().decode().strip())
        time.sleep(0.01)
    raise SystemExit('lab: the switch did not start within 10 s')


def ns_path(pid):
    return '/proc/%d/ns/net' % pid


def ipr_in(pid):
    """An IPRoute inside the network namespace of PID."""
    from pyroute2 import IPRoute
    from pyroute2 import netns as pnetns

    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    fd = os.open(ns_path(pid), os.O_RDONLY)
    try:
        pnetns.setns(fd, flags=0)
        return IPRoute()
    finally:
        pnetns.setns(home, flags=0)
        os.close(fd)
        os.close(home)


def wire_switch(state):
    with ipr_in(state['switch_pid']) as router:
        router.link('set', index=router.link('get', ifname='lo')[0]['index'], state='up')
        router.link('add', ifname='ulbr0', kind='bridge')
        bridge = router.link('get', ifname='ulbr0')[0]['index']
        router.addr('add', index=bridge, address=ROUTER_ADDRESS, prefixlen=UNDERLAY.prefixlen)
        router.addr('add', index=bridge, address=ROUTER_ADDRESS6, prefixlen=UNDERLAY6.prefixlen, flags=IFA_F_NODAD)
        router.link('set', index=bridge, state='up')


def start_repo(state, image):
    """The lab's package repository on http://192.0.2.1:8000/, inside the switch."""
    mark = marker(state['name'], 'repo')
    proc = subprocess.Popen(
        ['nsenter', '--net=' + ns_path(state['switch_pid']), '--', sys.executable, '-c',
         'import sys, functools, http.server as h; sys.argv[0] = sys.argv[1]; '
         'handler = functools.partial(h.SimpleHTTPRequestHandler, directory=sys.argv[2]); '
         'handler.log_message = lambda *a: None; '
         'h.ThreadingHTTPServer((sys.argv[3], int(sys.argv[4])), handler).serve_forever()',
         mark, os.path.join(image, 'repo'), ROUTER_ADDRESS, str(REPO_PORT)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    return proc.pid


# ---- hosts --------------------------------------------------------------------------------------

def ssh_keys(directory):
    path = os.path.join(directory, 'id_ed25519')
    if not os.path.exists(path):
        run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'linuxnet-lab', '-f', path], check=True)


def prepare_host(state, host, image):
    """Mount the host's root (image, the layer if any, its own upper layer) and give it what a provisioned server has."""
    directory = host_dir(state['name'], host['name'])
    for sub in ('upper', 'work', 'root'):
        os.makedirs(os.path.join(directory, sub), exist_ok=True)
    root = os.path.join(directory, 'root')
    lower = [os.path.join(state['layer'], 'rootfs')] if state.get('layer') else []
    lower.append(os.path.join(image, 'rootfs'))
    run(['mount', '-t', 'overlay', 'linuxnet-lab-%s' % host['name'], '-o',
         'lowerdir=%s,upperdir=%s/upper,workdir=%s/work' % (':'.join(lower), directory, directory),
         root], check=True)
    etc = os.path.join(root, 'etc')
    write_file(os.path.join(etc, 'hostname'), host['name'] + '\n')
    write_file(os.path.join(etc, 'machine-id'), uuid.uuid4().hex + '\n', 0o444)
    write_file(os.path.join(etc, 'hosts'), read_file(os.path.join(state_dir(state['name']), 'etc_hosts')) + '\n')
    # A resolver that is not on loopback and answers at once (port unreachable): no lookup leaves.
    write_file(os.path.join(etc, 'resolv.conf'), 'nameserver %s\noptions timeout:1 attempts:1\n' % ROUTER_ADDRESS)
    write_file(os.path.join(etc, 'network', 'interfaces'), '\n'.join([
        'source /etc/network/interfaces.d/*', '', 'auto lo', 'iface lo inet loopback', '',
        'auto eth0', 'iface eth0 inet static',
        '    address %s/%d' % (host['address'], UNDERLAY.prefixlen),
        '    gateway %s' % ROUTER_ADDRESS, '',
        # dad-attempts 0: the address is usable at boot (ifupdown adds it nodad), as the IPv4 one is.
        'iface eth0 inet6 static', '    address %s/%d' % (address6(host), UNDERLAY6.prefixlen),
        '    gateway %s' % ROUTER_ADDRESS6, '    dad-attempts 0', '']))
    ssh_dir = os.path.join(root, 'root', '.ssh')
    os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
    with open(os.path.join(state_dir(state['name']), 'id_ed25519.pub')) as handle:
        write_file(os.path.join(ssh_dir, 'authorized_keys'), handle.read(), 0o600)
    run(['ssh-keygen', '-q', '-A', '-f', root], check=True)


def address6(host):
    """A host's IPv6 underlay address: fd00:192:0:2::(10+N) written in decimal digits as the IPv4 one (host 1:
    192.0.2.11 and fd00:192:0:2::11), from its number."""
    return str(ipaddress.ip_address('%s%d' % (UNDERLAY6.network_address, HOST_OFFSET + host['number'])))


def machine_name(lab, host):
    """systemd-nspawn's machine name for a host: unique across labs, only letters, digits and dashes."""
    return re.sub('[^A-Za-z0-9-]', '-', '%s-%s' % (lab, host))[:64]


def cgroups(lab, host):
    return [os.path.join(tree, MARKER, lab, host) for tree in CGROUP_TREES if os.path.isdir(tree)]


def remove_cgroup(path):
    """rmdir a cgroup and every cgroup below it, deepest first."""
    for dirpath, _dirs, _files in sorted(os.walk(path), key=lambda entry: -entry[0].count('/')):
        try:
            os.rmdir(dirpath)
        except OSError:
            pass


def supervise(args):
    """``lab.py _host``: boot one host with systemd-nspawn, again after each reboot, until it is stopped."""
    state = load_state(args.name)
    host = next(h for h in state['hosts'] if h['name'] == args.host)
    directory = host_dir(args.name, args.host)
    groups = cgroups(args.name, args.host)
    for group in groups:
        os.makedirs(group, exist_ok=True)

    def join_cgroups():
        # Every host its own cgroup in both trees, or units of different hosts collide.
        for group in groups:
            with open(os.path.join(group, 'cgroup.procs'), 'w') as handle:
                handle.write('%d\n' % os.getpid())

    port = 'ul%d' % host['number']
    argv = ['nsenter', '--net=' + ns_path(state['switch_pid']), '--',
            'systemd-nspawn', '--boot', '--register=no', '--keep-unit', '--quiet',
            '-D', os.path.join(directory, 'root'), '-M', machine_name(args.name, args.host),
            '--hostname=' + args.host, '--network-veth-extra=%s:eth0' % port,
            '--resolv-conf=off', '--timezone=off', '--link-journal=no', '--console=read-only',
            # A real server's root: every capability, keyrings, and a cgroup v2 tree of its own that it may
            # write (container runtimes inside a host need all three).
            '--capability=all', '--system-call-filter=@keyring bpf']
    while not os.path.exists(os.path.join(directory, 'stop')):
        with open(os.path.join(directory, 'console.log'), 'a') as console:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=console, stderr=subprocess.STDOUT,
                                    preexec_fn=join_cgroups, env=dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY='1'))
        leader = wait_leader(proc)
        if leader:
            attach_port(state['switch_pid'], port)
            write_file(os.path.join(directory, 'leader'), '%d\n' % leader)
        status = proc.wait()
        print('%s systemd-nspawn exited with status %d' % (time.strftime('%H:%M:%S'), status), flush=True)
        try:
            os.unlink(os.path.join(directory, 'leader'))
        except FileNotFoundError:
            pass
        power_cycle = os.path.join(directory, 'power-cycle')
        if os.path.exists(power_cycle):
            os.unlink(power_cycle)
            continue
        if status != NSPAWN_REBOOT:
            break
    for group in groups:
        remove_cgroup(group)


def wait_leader(proc, timeout=20):
    """The PID 1 of the container nspawn started (its child that runs systemd), or None."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        for task in os.listdir('/proc/%d/task' % proc.pid) if os.path.isdir('/proc/%d/task' % proc.pid) else []:
            children = read_file('/proc/%d/task/%s/children' % (proc.pid, task), '')
            for child in children.split():
                if read_file('/proc/%s/comm' % child) == 'systemd':
                    return int(child)
        time.sleep(0.02)
    return None


def attach_port(switch_pid, port, timeout=20):
    with ipr_in(switch_pid) as router:
        bridge = router.link('get', ifname='ulbr0')[0]['index']
        deadline = time.time() + timeout
        while True:
            try:
                index = router.link('get', ifname=port)[0]['index']
                router.link('set', index=index, master=bridge, state='up')
                return
            except Exception:  # pylint: disable=broad-except  # the port is not there yet
                if time.time() > deadline:
                    raise
                time.sleep(0.02)


def start_supervisor(lab, host):
    mark = marker(lab, host)
    log = open(os.path.join(host_dir(lab, host), 'supervisor.log'), 'a')
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), '_host', '--name', lab, '--host', host,
                             '--marker', mark],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    return proc.pid


def last_words(lab, host, command):
    """Run a command that takes the host down (reboot, poweroff) on a connection of its own, which gives up 6 s
    after the host went silent; a host too slow to answer at all is found out by wait_ready."""
    try:
        run(['ssh', '-F', os.path.join(state_dir(lab), 'ssh_config'), '-o', 'ControlMaster=no', '-o', 'ControlPath=none',
             '-o', 'ServerAliveInterval=2', '-o', 'ServerAliveCountMax=3', '-o', 'BatchMode=yes', host, command],
            capture_output=True, check=False, timeout=30)
    except subprocess.TimeoutExpired:
        pass


def end_master(lab, host):
    """End the host's ssh control master (a host that rebooted or lost power will never answer it again): the next
    connection opens a new one instead of waiting for the old one's keepalive to give up."""
    run(['ssh', '-F', os.path.join(state_dir(lab), 'ssh_config'), '-O', 'exit', host], capture_output=True, check=False,
        timeout=15)


def ssh_ready(lab, host):
    proc = run(['ssh', '-F', os.path.join(state_dir(lab), 'ssh_config'), '-o', 'ControlMaster=no',
                '-o', 'ControlPath=none', '-o', 'ConnectTimeout=2', '-o', 'BatchMode=yes', host,
                'cat /proc/sys/kernel/random/boot_id'],
               capture_output=True, text=True, timeout=15, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def wait_ready(lab, hosts, not_boot_ids=None, timeout=BOOT_TIMEOUT):
    """Wait until every host answers over ssh (with a boot id other than the one it had, after a reboot)."""
    deadline = time.time() + timeout
    waiting = list(hosts)
    while waiting:
        boot_id = ssh_ready(lab, waiting[0])
        if boot_id and boot_id != (not_boot_ids or {}).get(waiting[0]):
            waiting.pop(0)
            continue
        supervisor = next((h.get('supervisor') for h in load_state(lab)['hosts'] if h['name'] == waiting[0]), None)
        if time.time() > deadline or (supervisor and not is_ours(supervisor, marker(lab, waiting[0]))):
            tail = read_file(os.path.join(host_dir(lab, waiting[0]), 'console.log'), '')[-1500:]
            # Why its supervisor ended, if it did (the lab's files go with it when the lab is stopped).
            log = read_file(os.path.join(host_dir(lab, waiting[0]), 'supervisor.log'), '')[-2000:]
            raise SystemExit('lab: host %s did not answer over ssh within %d s%s; its console:\n%s\nits supervisor\'s log:\n%s'
                             % (waiting[0], timeout, ' (its supervisor ended)' if time.time() <= deadline else '', tail, log))
        time.sleep(0.1)


def write_ssh_configs(state):
    directory = state_dir(state['name'])
    blocks = []
    for host in state['hosts']:
        blocks.append('\n'.join([
            'Host %s' % host['name'],
            '  HostName %s' % host['address'],
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
            # A loaded machine (the test suites run labs side by side on two CPUs) can leave a host's sshd silent for
            # seconds: the control master gives up after 30 s of silence, not 10. A reboot or power cut ends the
            # host's master at once (last_words), so that nothing waits for that on a host that is gone.
            '  ServerAliveInterval 5',
            '  ServerAliveCountMax 6',
            '  ConnectTimeout 30',
            # The TCP stream to the host's sshd, carried into the underlay.
            '  ProxyCommand nsenter --net=%s -- socat STDIO TCP:%%h:%%p' % ns_path(state['switch_pid']),
            '']))
    write_file(os.path.join(directory, 'ssh_config'), '\n'.join(blocks))
    # An inventory for any lab size (the shipped one in playbooks/inventories/lab covers 3 hosts).
    hosts = {h['name']: {'linuxnet_lab_underlay_address': h['address'], 'linuxnet_lab_underlay_address6': address6(h)}
             for h in state['hosts']}
    inventory = {'all': {'children': {'lab': {'hosts': hosts}},
                         'vars': {'ansible_user': 'root',
                                  'ansible_ssh_args': '-F %s/ssh_config' % directory,
                                  'ansible_ssh_use_tty': False,
                                  'ansible_python_interpreter': '/usr/bin/python3',
                                  'linuxnet_prerequisites_source': 'offline'}}}
    write_file(os.path.join(directory, 'inventory.json'), json.dumps(inventory, indent=2))


def cmd_image(_args):
    print(ensure_image())


# ---- the prerequisites layer ----------------------------------------------------------------------

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAYER_VERSION = 1  # bump when what is captured (LAYER_DROPPED) changes
LAYER_SOURCES = ('roles/prerequisites', 'playbooks/prerequisites.yml')
# A host's own identity and what it wrote while running: every host of the layer makes its own.
LAYER_DROPPED = ('etc/hostname', 'etc/machine-id', 'etc/hosts', 'etc/resolv.conf', 'etc/network/interfaces',
                 'etc/ssh/ssh_host_*', 'var/lib/dbus/machine-id', 'var/lib/systemd/random-seed',
                 'var/lib/systemd/timers', 'var/lib/dpkg/lock*', 'var/log', 'var/tmp', 'tmp', 'run',
                 'root/.ssh', 'root/.ansible')


def layer_path():
    digest = hashlib.sha256(json.dumps([image_path(), LAYER_VERSION, LAYER_DROPPED]).encode())
    for source in LAYER_SOURCES:
        base = os.path.join(ROOT, source)
        files = [base] if os.path.isfile(base) else sorted(
            os.path.join(d, f) for d, _dirs, names in os.walk(base) for f in names)
        for path in files:
            digest.update(os.path.relpath(path, ROOT).encode() + b'\0')
            with open(path, 'rb') as handle:
                digest.update(handle.read())
    return os.path.join(IMAGE_ROOT, 'prerequisites-%s' % digest.hexdigest()[:12])


def _build_layer(directory):
    name = 'layer-%d' % os.getpid()
    args = argparse.Namespace(name=name, hosts=1, prefix='docker-node', layer=False)
    cmd_up(args)
    try:
        state = load_state(name)
        host = state['hosts'][0]
        env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING='False',
                   ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.build', 'collections'))
        proc = run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i',
                    os.path.join(state_dir(name), 'inventory.json'), os.path.join(ROOT, 'playbooks', 'prerequisites.yml')],
                   capture_output=True, text=True, env=env, cwd=state_dir(name), check=False)
        if proc.returncode != 0:
            raise SystemExit('lab: the prerequisites layer: playbooks/prerequisites.yml failed:\n%s\n%s'
                             % (proc.stdout[-3000:], proc.stderr[-2000:]))
        # A clean power-off (nspawn exits 0 and the supervisor does not boot it again): all is on disk.
        last_words(name, host['name'], 'systemctl poweroff')
        end_master(name, host['name'])
        leader = os.path.join(host_dir(name, host['name']), 'leader')
        deadline = time.time() + 30
        while os.path.exists(leader) and time.time() < deadline:
            time.sleep(0.1)
        # cp -a keeps overlayfs's whiteouts (0/0 character devices) and opaque-directory xattrs.
        run(['cp', '-a', os.path.join(host_dir(name, host['name']), 'upper'), os.path.join(directory, 'rootfs')],
            check=True)
        for pattern in LAYER_DROPPED:
            for victim in glob.glob(os.path.join(directory, 'rootfs', pattern)):
                if os.path.isdir(victim) and not os.path.islink(victim):
                    shutil.rmtree(victim)
                else:
                    os.unlink(victim)
    finally:
        cmd_down(args)


def ensure_layer():
    """The cached prerequisites layer: the upper layer of a bare host after playbooks/prerequisites.yml ran on it
    (offline, as on every lab), the host's identity left out. Built once per version of the role (about 40 s);
    the layers of other versions go after a day."""
    return cached(layer_path(), 'prerequisites', _build_layer, max_age=86400)


def cmd_layer(_args):
    print(ensure_layer())


# Every booted host's systemd, journald, logind and path units hold inotify instances of root (about 11 a host,
# measured), and the kernel's default of 128 per user runs out at about a dozen hosts across the labs of a machine:
# then a host's path unit fails to start ("Job failed"). Raised as container hosts (systemd-nspawn, LXD) advise.
INOTIFY_INSTANCES = 1024


def raise_inotify_instances():
    path = '/proc/sys/fs/inotify/max_user_instances'
    with open(path) as handle:
        current = int(handle.read())
    if current < INOTIFY_INSTANCES:
        with open(path, 'w') as handle:
            handle.write('%d\n' % INOTIFY_INSTANCES)


# The kernel's neighbour tables (ARP, IPv6 ND) are one per machine, shared by every network namespace, with the
# default limit of 1,024 entries (gc_thresh3) for all of them. A lab host resolves every other VTEP on its underlay,
# so the hosts of one kernel hold about N*(N-1) entries: at 50 hosts, 2,450. Past the limit the kernel logs
# "neighbour: arp_cache: neighbor table overflow!" and a new resolution fails with ENOBUFS ("ping: sendmsg: No
# buffer space available"): a first packet lost that a real fleet (one kernel per host) never loses. Raised, never
# lowered, as hosts that run many namespaces (Kubernetes nodes) do.
NEIGHBOUR_THRESHOLDS = {'gc_thresh2': 16384, 'gc_thresh3': 32768}


def raise_neighbour_tables():
    for family in ('ipv4', 'ipv6'):
        for name, wanted in NEIGHBOUR_THRESHOLDS.items():
            path = '/proc/sys/net/%s/neigh/default/%s' % (family, name)
            with open(path) as handle:
                current = int(handle.read())
            if current < wanted:
                with open(path, 'w') as handle:
                    handle.write('%d\n' % wanted)


def cmd_up(args):
    layer = ensure_layer() if args.layer else None
    state = load_state(args.name)
    if state is not None:
        if (all_alive(state) and len(state['hosts']) == args.hosts and state['prefix'] == args.prefix
                and state.get('layer') == layer):
            print('lab %s is already up (%d hosts)' % (args.name, args.hosts))
            return
        cmd_down(args)
    if not 1 <= args.hosts <= MAX_HOSTS:
        raise SystemExit('lab: --hosts must be between 1 and %d' % MAX_HOSTS)
    started = time.time()
    raise_inotify_instances()
    raise_neighbour_tables()
    image = ensure_image()
    directory = state_dir(args.name)
    os.makedirs(os.path.join(directory, 'hosts'), mode=0o700, exist_ok=True)
    state = {'name': args.name, 'prefix': args.prefix, 'hosts': [], 'switch_pid': None, 'repo_pid': None,
             'router': ROUTER_ADDRESS, 'subnet': str(UNDERLAY), 'router6': ROUTER_ADDRESS6, 'subnet6': str(UNDERLAY6),
             'image': image, 'layer': layer,
             'repo': 'http://%s:%d/' % (ROUTER_ADDRESS, REPO_PORT)}
    save_state(state)
    hosts = [{'name': '%s%d' % (args.prefix, number), 'number': number,
              'address': str(UNDERLAY.network_address + HOST_OFFSET + number)} for number in range(1, args.hosts + 1)]
    for host in hosts:
        host['address6'] = address6(host)
    write_file(os.path.join(directory, 'etc_hosts'),
               '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\trouter\n' % ROUTER_ADDRESS
               + ''.join('%s\t%s\n' % (h['address'], h['name']) for h in hosts))
    try:
        ssh_keys(directory)
        state['switch_pid'] = start_switch(args.name)
        save_state(state)
        wire_switch(state)
        state['repo_pid'] = start_repo(state, image)
        save_state(state)
        for host in hosts:
            state['hosts'].append(dict(host, supervisor=None))
            save_state(state)
            prepare_host(state, host, image)
        write_ssh_configs(state)
        for host in state['hosts']:
            host['supervisor'] = start_supervisor(args.name, host['name'])
            save_state(state)
        wait_ready(args.name, [h['name'] for h in state['hosts']])
    except BaseException:
        cmd_down(args)
        raise
    print('lab %s up: %d hosts on %s (router %s) in %.1f s; ssh config %s/ssh_config'
          % (args.name, args.hosts, UNDERLAY, ROUTER_ADDRESS, time.time() - started, directory))


def cmd_reboot(args):
    """Reboot hosts for real: ``systemctl reboot`` inside, or (--hard) a power cut of their PID 1."""
    state = load_state(args.name)
    if state is None:
        raise SystemExit('lab %s is not up' % args.name)
    known = {h['name']: h for h in state['hosts']}
    unknown = [h for h in args.hosts if h not in known]
    if unknown:
        raise SystemExit('lab: no host %s in lab %s' % (', '.join(unknown), args.name))
    before = {}
    for name in args.hosts:
        before[name] = ssh_ready(args.name, name)
        leader = known[name]['pid']
        if args.hard:
            write_file(os.path.join(host_dir(args.name, name), 'power-cycle'), '')
            if is_host_leader(args.name, name, leader):
                os.kill(leader, signal.SIGKILL)
        else:
            last_words(args.name, name, 'systemctl reboot')
        end_master(args.name, name)
    started = time.time()
    wait_ready(args.name, args.hosts, not_boot_ids=before)
    print('lab %s: rebooted %s in %.1f s' % (args.name, ', '.join(args.hosts), time.time() - started))


# What ``lab.py firewall --how`` runs on a host: what a firewall reload does to the ruleset.
FIREWALL_ACTIONS = {
    'flush': 'nft flush ruleset',                      # what /etc/nftables.conf begins with
    'restart': 'systemctl restart nftables.service',   # stop (flush ruleset), then load nftables.conf again
    'reload': 'systemctl reload-or-restart nftables.service',
    'firewalld': 'firewall-cmd --reload',              # firewalld's Reloaded signal on D-Bus
}


def cmd_firewall(args):
    """Reload the firewall of hosts the way their operators would (see FIREWALL_ACTIONS)."""
    state = load_state(args.name)
    if state is None:
        raise SystemExit('lab %s is not up' % args.name)
    unknown = [h for h in args.hosts if h not in {host['name'] for host in state['hosts']}]
    if unknown:
        raise SystemExit('lab: no host %s in lab %s' % (', '.join(unknown), args.name))
    for name in args.hosts:
        proc = run(['ssh', '-F', os.path.join(state_dir(args.name), 'ssh_config'), name, FIREWALL_ACTIONS[args.how]],
                   capture_output=True, text=True, check=False, timeout=60)
        if proc.returncode != 0:
            raise SystemExit('lab %s: %s on %s failed: %s' % (args.name, FIREWALL_ACTIONS[args.how], name,
                                                              proc.stderr.strip()))
        print('lab %s: %s on %s' % (args.name, FIREWALL_ACTIONS[args.how], name))


def all_alive(state):
    pids = [(state['switch_pid'], marker(state['name'], 'router'))]
    pids += [(h.get('supervisor'), marker(state['name'], h['name'])) for h in state['hosts']]
    return all(pid and is_ours(pid, mark) for pid, mark in pids) and all(h['pid'] for h in state['hosts'])


def _ns_inodes(pid, kinds=('net', 'mnt')):
    """Namespaces that belong to a lab process: its own (net and mount, a host's PID namespace too) and
    every named netns in it."""
    found = set()
    for kind in kinds:
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
    """Processes in any of the namespaces; never the machine's own (that would be every process)."""
    for kind in ('net', 'mnt', 'pid'):
        st = os.stat('/proc/self/ns/%s' % kind)
        inodes = inodes - {(kind, st.st_dev, st.st_ino)}
    own = {os.getpid(), os.getppid()}
    pids = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit() or int(entry) in own:
            continue
        for kind in ('net', 'mnt', 'pid'):
            try:
                st = os.stat('/proc/%s/ns/%s' % (entry, kind))
            except OSError:
                continue
            if (kind, st.st_dev, st.st_ino) in inodes:
                pids.append(int(entry))
                break
    return pids


def _end(victims):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in victims:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + 5
        while time.time() < deadline and any(os.path.exists('/proc/%d' % p) and not _zombie(p) for p in victims):
            time.sleep(0.02)


def cmd_down(args):
    state = load_state(args.name)
    if state is None:
        print('lab %s is not up' % args.name)
        return
    inodes = set()
    ended = 0
    # Hosts first: a power cut of each PID 1 ends everything in its PID namespace; the supervisor
    # sees the stop mark and does not boot it again.
    for host in state['hosts']:
        directory = host_dir(args.name, host['name'])
        if os.path.isdir(directory):
            write_file(os.path.join(directory, 'stop'), '')
        leader = host['pid']
        if is_host_leader(args.name, host['name'], leader):
            inodes |= _ns_inodes(leader, ('net', 'mnt', 'pid'))
            os.kill(leader, signal.SIGKILL)
            ended += 1
    supervisors = [h['supervisor'] for h in state['hosts'] if is_ours(h.get('supervisor'), marker(args.name, h['name']))]
    deadline = time.time() + 20
    while time.time() < deadline and any(os.path.exists('/proc/%d' % p) and not _zombie(p) for p in supervisors):
        time.sleep(0.02)
    _end([p for p in supervisors if os.path.exists('/proc/%d' % p)])
    lab_pids = [(state.get('switch_pid'), marker(args.name, 'router')), (state.get('repo_pid'), marker(args.name, 'repo'))]
    ours = [pid for pid, mark in lab_pids if is_ours(pid, mark)]
    for pid in ours:
        inodes |= _ns_inodes(pid)
    # Anything still inside a lab host's namespaces (a process a test started there from outside
    # with nsenter) was started through the lab: end it, then the switch and the repository.
    victims = sorted(set(_processes_in(inodes)) | set(ours))
    _end(victims)
    ended += len(victims)
    for host in state['hosts']:
        root = os.path.join(host_dir(args.name, host['name']), 'root')
        if os.path.ismount(root):
            run(['umount', root], check=False)
            if os.path.ismount(root):
                run(['umount', '--lazy', root], check=False)
        for group in cgroups(args.name, host['name']):
            remove_cgroup(group)
        for run_dir in ('propagate', 'unix-export'):
            shutil.rmtree(os.path.join('/run/systemd/nspawn', run_dir, machine_name(args.name, host['name'])),
                          ignore_errors=True)
    for tree in CGROUP_TREES:
        for path in (os.path.join(tree, MARKER, args.name), os.path.join(tree, MARKER)):
            try:
                os.rmdir(path)
            except OSError:
                pass
    shutil.rmtree(state_dir(args.name), ignore_errors=True)
    try:
        os.rmdir(STATE_ROOT)
    except OSError:
        pass
    print('lab %s down: ended %d processes' % (args.name, ended))


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
    for command in ('up', 'down', 'status', 'show', 'reboot', 'firewall', 'image', 'layer', '_host'):
        p = sub.add_parser(command)
        p.add_argument('--name', default=os.environ.get('LINUXNET_LAB', 'lab'))
        if command == 'up':
            p.add_argument('--hosts', type=int, default=int(os.environ.get('LAB_HOSTS', '3')))
            p.add_argument('--prefix', default='docker-node')
            p.add_argument('--layer', choices=['prerequisites'],
                           help='boot from the image plus the cached prerequisites layer (built on first use)')
        if command == 'reboot':
            p.add_argument('--hard', action='store_true', help='a power cut (SIGKILL of PID 1), not systemctl reboot')
            p.add_argument('hosts', nargs='+')
        if command == 'firewall':
            p.add_argument('--how', choices=sorted(FIREWALL_ACTIONS), default='restart')
            p.add_argument('hosts', nargs='+')
        if command == '_host':
            p.add_argument('--host', required=True)
            p.add_argument('--marker', required=True)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit('lab: must run as root (it creates namespaces)')
    {'up': cmd_up, 'down': cmd_down, 'status': cmd_status, 'show': cmd_show, 'reboot': cmd_reboot,
     'firewall': cmd_firewall, 'image': cmd_image, 'layer': cmd_layer, '_host': supervise}[args.command](args)


if __name__ == '__main__':
    main()
