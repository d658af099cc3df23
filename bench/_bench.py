# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every bench shares: the lab, a bare host prepared by the collection's own prerequisites role, modules run
on a host as Ansible runs them (their AnsiballZ payload), the result table and the ``--smoke`` invariants.

A bench imports nothing of the collection: on the lab hosts the modules come in their AnsiballZ payloads, built by
ansible's own builder from the collection on ANSIBLE_COLLECTIONS_PATH (.build/collections), and run by the host's
own Python (the modules re-run themselves under /opt/linuxnet-container/venv, which the prerequisites role made).

Common options: ``--lab NAME`` (the lab to use: started when it is not up, reused when it is up with enough hosts;
its runtime network state is wiped first), ``--keep`` (leave it up), ``--smoke`` (tiny sizes; checks the bench's
own invariants, never timings, and prints ``invariants: ok`` or ``invariants: FAILED ...``).
"""

from __future__ import annotations

import argparse
import base64
import io
import ipaddress
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, '.venv', 'bin')
PY = os.path.join(BIN, 'python')
LAB = os.path.join(ROOT, 'lab', 'lab.py')
COLLECTIONS = os.path.join(ROOT, '.build', 'collections')
STATE_ROOT = '/var/lib/linuxnet-lab'
# The collection's own virtualenv on a prepared host (roles/prerequisites), and the host's system Python.
HOST_PYTHON = '/opt/linuxnet-container/venv/bin/python'
SYSTEM_PYTHON = '/usr/bin/python3'


def run(cmd, **kwargs):
    """subprocess.run with stdin from /dev/null (ssh leaves an inherited stdin non-blocking), output captured."""
    if 'input' not in kwargs:
        kwargs.setdefault('stdin', subprocess.DEVNULL)
    kwargs.setdefault('capture_output', True)
    kwargs.setdefault('text', True)
    return subprocess.run(cmd, check=False, **kwargs)  # pylint: disable=subprocess-run-check


def ansible_env(**extra):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_NOCOLOR='1',
               ANSIBLE_FORCE_COLOR='0', NO_COLOR='1', PATH=BIN + os.pathsep + os.environ.get('PATH', ''))
    env.update(extra)
    return env


def timed(func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - started, result


# ---- options --------------------------------------------------------------------------------------

def parser(doc, lab):
    """An ArgumentParser with the options every bench has: --lab (default ``lab``), --keep, --smoke."""
    out = argparse.ArgumentParser(description=doc.split('\n', 1)[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    out.add_argument('--lab', default=lab, help='lab name (reused when it is up with enough hosts; default %(default)s)')
    out.add_argument('--keep', action='store_true', help='leave the lab up afterwards')
    out.add_argument('--smoke', action='store_true', help="tiny sizes; check the bench's invariants, never timings")
    return out


def options(doc, lab, count, smoke_count=5):
    """The options of a bench that builds ``--count`` things (``smoke_count`` with --smoke): (options, count,
    Invariants())."""
    out = parser(doc, lab)
    out.add_argument('--count', type=int, default=count)
    opts = out.parse_args()
    return opts, smoke_count if opts.smoke else opts.count, Invariants()


# ---- the lab --------------------------------------------------------------------------------------

# Run on a host by its system Python before a bench that reuses a lab: every namespace, link (but lo and eth0) and
# nftables table goes, and the collection's recorded state and watcher with them (they would rebuild what a bench
# removes). pyroute2 from the collection's virtualenv; nothing parses ip's text.
RESET = r'''
import os, subprocess
from pyroute2 import IPRoute
from pyroute2 import netns as pnetns


def flush_links():
    # Links are deleted synchronously here: a namespace's own are otherwise destroyed later by the kernel, and a
    # macvlan child that still exists then keeps its MAC on eth0 for the next bench.
    with IPRoute() as ipr:
        for link in ipr.get_links():
            if link.get('ifname') not in ('lo', 'eth0'):
                try:
                    ipr.link('del', index=link['index'])
                except Exception:
                    pass


subprocess.run(['systemctl', 'stop', 'linuxnet-container-watch.path', 'linuxnet-container-watch.service'],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.run(['rm', '-f', '/var/lib/linuxnet-container/desired.json'])
subprocess.run(['rm', '-rf', '/etc/netns'])  # the namespaces' hosts and resolv.conf files
home = os.open('/proc/self/ns/net', os.O_RDONLY)
for name in sorted(os.listdir('/run/netns')) if os.path.isdir('/run/netns') else []:
    fd = os.open('/run/netns/' + name, os.O_RDONLY)
    pnetns.setns(fd, flags=0)
    os.close(fd)
    try:
        flush_links()
    finally:
        pnetns.setns(home, flags=0)
    subprocess.run(['ip', 'netns', 'delete', name], stderr=subprocess.DEVNULL)
flush_links()
if os.path.exists('/usr/sbin/nft'):
    subprocess.run(['nft', 'flush', 'ruleset'])
with open('/proc/sys/net/ipv4/ip_forward', 'w') as handle:
    handle.write('0\n')
if os.path.exists('/proc/sys/net/ipv6/conf/all/forwarding'):
    with open('/proc/sys/net/ipv6/conf/all/forwarding', 'w') as handle:
        handle.write('0\n')
'''


class Host:
    """One lab host: commands inside it (nsenter: its network, mount and UTS namespaces), files through /proc/PID/root."""

    def __init__(self, lab, name, pid, address):
        self.lab, self.name, self.pid, self.address = lab, name, pid, address

    def argv(self, *cmd, pid=True):
        """A command inside the host. With ``pid`` also in its PID namespace (so that /proc is its own: the modules read
        /proc/self), where nsenter forks and stays the parent: a process to be stopped by its handle needs pid=False."""
        return ['nsenter', '--target', str(self.pid), '--net', '--mount', '--uts'] + (['--pid'] if pid else []) + ['--'] + list(cmd)

    def run(self, *cmd, check=True, **kwargs):
        proc = run(self.argv(*cmd), **kwargs)
        if check and proc.returncode != 0:
            detail = (proc.stderr or proc.stdout or '')[-2000:]
            raise SystemExit('%s: %s failed (rc %d): %s' % (self.name, ' '.join(cmd)[:200], proc.returncode, detail))
        return proc

    def ssh(self, command, check=True, **kwargs):
        for attempt in range(3):
            proc = run(['ssh', '-F', os.path.join(STATE_ROOT, self.lab.name, 'ssh_config'), self.name, command], **kwargs)
            # ssh's own failure (exit 255: a broken control master, a late banner on a loaded machine) is retried.
            if proc.returncode != 255:
                break
            time.sleep(2 * (attempt + 1))
        if check and proc.returncode != 0:
            raise SystemExit('%s: ssh %s failed (rc %d): %s' % (self.name, command[:200], proc.returncode, proc.stderr[-2000:]))
        return proc

    def path(self, path):
        """A path of the host (its own root) as this machine sees it."""
        return '/proc/%d/root%s' % (self.pid, path)

    def put(self, path, data):
        """Write a file on the host (str or bytes); returns the path the host knows."""
        full = self.path(path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, 'wb' if isinstance(data, bytes) else 'w') as handle:
            handle.write(data)
        return path

    def python(self, script, *args, interpreter=HOST_PYTHON, **kwargs):
        """Run a Python script on the host (default: the collection's virtualenv, which has pyroute2)."""
        path = self.put('/tmp/linuxnet-bench/script-%d.py' % abs(hash(script)), script)
        return self.run(interpreter, path, *args, **kwargs)

    def module(self, name, args, label=None):
        """Run a module of the collection on the host as Ansible runs it (its AnsiballZ payload, the arguments in it,
        the host's Python), without the ssh transport. Returns (seconds, result dict)."""
        payload = ansiballz(name, args)
        path = self.put('/tmp/linuxnet-bench/%s-%s.py' % (name.rsplit('.', 1)[-1], label or 'run'), payload)
        elapsed, proc = timed(self.run, SYSTEM_PYTHON, path, check=False)
        try:
            result = json.loads(proc.stdout[proc.stdout.index('{'):])
        except ValueError:
            result = {'failed': True, 'msg': 'no result (rc %d): %s %s' % (proc.returncode, proc.stdout[-500:], proc.stderr[-1500:])}
        if result.get('failed'):
            raise SystemExit('%s on %s failed: %s' % (name, self.name, result.get('msg')))
        return elapsed, result

    def ping(self, ns, address):
        """True when one ping from namespace ``ns`` of the host reaches ``address``."""
        return self.run('ip', 'netns', 'exec', ns, 'ping', '-c', '1', '-W', '2', address, check=False).returncode == 0

    def monitored(self, monitor, func, *args):
        """``func(*args)`` while ``monitor`` (e.g. ip monitor ...) runs on the host; returns (func's result, the monitor's
        lines). Its output goes to a file (a pipe nobody reads would fill); it is our own child, ended by its handle."""
        path = self.path('/tmp/linuxnet-bench/monitor.txt')
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as out:
            proc = subprocess.Popen(self.argv(*monitor, pid=False), stdout=out, stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.3)
            result = func(*args)
            time.sleep(0.3)
        finally:
            proc.terminate()
            proc.wait()
        with open(path) as handle:
            return result, [line for line in handle.read().splitlines() if line.strip()]

    def explode(self, name):
        """The module's AnsiballZ payload unpacked on the host (ansible's module_utils and the collection's files, as
        the payload carries them); returns the directory to put on PYTHONPATH."""
        target = '/tmp/linuxnet-bench/exploded-%s' % name.rsplit('.', 1)[-1]
        with zipfile.ZipFile(io.BytesIO(payload_zip(ansiballz(name, {})))) as archive:
            for member in archive.namelist():
                self.put(target + '/' + member, archive.read(member))
        return target


class Lab:
    """A lab of at least ``hosts`` hosts named ``name``: reused when it is up (its runtime network state wiped),
    started otherwise; with ``prepare`` every host has what playbooks/prerequisites.yml installs (the collection's
    prerequisites role, offline): a new lab boots from lab.py's prerequisites layer, a reused one gets the role.
    Stopped at the end unless ``keep``."""

    def __init__(self, name, hosts=1, keep=False, prepare=True):
        self.name, self.keep = name, keep
        self.workdir = tempfile.mkdtemp(prefix='linuxnet-bench-')  # on this machine, removed by close()
        self.state_dir = os.path.join(STATE_ROOT, name)
        self.inventory = os.path.join(self.state_dir, 'inventory.json')
        self.ssh_config = os.path.join(self.state_dir, 'ssh_config')
        status = self.status()
        self.reused = bool(status and status.get('alive') and len(status['hosts']) >= hosts)
        if not self.reused:
            self.cli('up', '--name', name, '--hosts', str(hosts), *(['--layer=prerequisites'] if prepare else []))
            if prepare:
                self.mark_prepared()
        self.refresh()
        self.hosts = self.all_hosts[:hosts]
        try:
            if prepare:
                self.prepare()
            if self.reused:
                self.reset()
        except BaseException:
            self.close()
            raise

    def status(self):
        proc = run([PY, LAB, 'status', '--name', self.name])
        return json.loads(proc.stdout) if proc.returncode == 0 else None

    def refresh(self):
        """Re-read the hosts' PIDs (they change when a host reboots)."""
        status = self.status()
        self.all_hosts = [Host(self, h['name'], h['pid'], h['address']) for h in status['hosts']]
        self.hosts = self.all_hosts[:len(getattr(self, 'hosts', None) or self.all_hosts)]

    @staticmethod
    def cli(*args):
        proc = run([PY, LAB] + list(args))
        if proc.returncode != 0:
            raise SystemExit('lab.py %s failed: %s' % (' '.join(args), proc.stderr[-2000:]))
        return proc.stdout

    def prepare(self):
        """The collection's prerequisites role on every host, once in the lab's life (its state directory goes with it;
        a host's disk lasts across reboots)."""
        marker = os.path.join(self.state_dir, 'bench-prepared')
        if os.path.exists(marker) and all(os.path.exists(h.path(HOST_PYTHON)) for h in self.all_hosts):
            return
        proc = self.playbook(os.path.join(ROOT, 'playbooks', 'prerequisites.yml'))
        if proc.returncode != 0:
            raise SystemExit('prerequisites.yml failed on lab %s:\n%s' % (self.name, proc.stdout[-3000:]))
        self.mark_prepared()

    def mark_prepared(self):
        with open(os.path.join(self.state_dir, 'bench-prepared'), 'w') as handle:
            handle.write('prepared by bench/_bench.py\n')

    def reset(self):
        """Wipe what earlier benches left on the hosts (on a host that has the collection's virtualenv)."""
        for host in self.all_hosts:
            if os.path.exists(host.path(HOST_PYTHON)):
                host.python(RESET)

    def playbook(self, book, inventory=None, *extra, env=None):
        return run([os.path.join(BIN, 'ansible-playbook'), '-i', inventory or self.inventory, book] + list(extra),
                   env=ansible_env(**(env or {})), cwd=self.state_dir)

    def inventory_data(self):
        with open(self.inventory) as handle:
            return json.load(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        shutil.rmtree(self.workdir, ignore_errors=True)
        if not self.keep:
            run([PY, LAB, 'down', '--name', self.name])


# ---- modules as Ansible ships them ------------------------------------------------------------------

_LOADER = []


def _init_loader(collections=COLLECTIONS):
    if not _LOADER:
        from ansible.plugins.loader import init_plugin_loader
        init_plugin_loader([collections])
        _LOADER.append(collections)


def module_path(name, collections=COLLECTIONS):
    short = name.rsplit('.', 1)[-1]
    return os.path.join(collections, 'ansible_collections', 'linuxnet', 'container', 'plugins', 'modules', short + '.py')


def ansiballz(name, args, path=None, compression='ZIP_DEFLATED', collections=COLLECTIONS):
    """The AnsiballZ payload ansible builds for module ``name`` (linuxnet.container.X or X) with ``args`` in it."""
    from ansible.executor import module_common
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    _init_loader(collections)
    fqcn = name if '.' in name else 'linuxnet.container.' + name
    built = module_common.modify_module(module_name=fqcn, module_path=path or module_path(fqcn), module_args=args,
                                        templar=Templar(loader=DataLoader()),
                                        task_vars={'ansible_python_interpreter': SYSTEM_PYTHON}, module_compression=compression)
    # ansible-core 2.19 returns a _BuiltModule; 2.17 and 2.18 a tuple (b_module_data, module_style, shebang).
    return built.b_module_data if hasattr(built, 'b_module_data') else built[0]


def payload_zip(data):
    """The zip inside an AnsiballZ payload: its one long base64 blob."""
    blob = max(re.findall(rb'[A-Za-z0-9+/=]{1000,}', data), key=len)
    return base64.b64decode(blob)


# ---- addresses -------------------------------------------------------------------------------------

def docker_mac(address):
    """Docker's MAC of an IPv4 address: 02:42 and the address."""
    return '02:42:' + ':'.join('%02x' % o for o in ipaddress.IPv4Address(address).packed)


def subnet_hosts(count, subnet):
    """The gateway (the first address) and ``count`` addresses after it."""
    hosts = ipaddress.ip_network(subnet).hosts()
    gateway = str(next(hosts))
    return gateway, [str(next(hosts)) for dummy in range(count)]


# ---- output -----------------------------------------------------------------------------------------

def table(title, rows, floor=None, unit='s'):
    """Print ``rows`` [(label, seconds)] with each one's ratio to the floor measured in the same run (the row whose
    label is ``floor``, else the first row)."""
    base = next((v for k, v in rows if k == floor), rows[0][1] if rows else None)
    width = max([len(k) for k, dummy in rows] + [40])
    print(title)
    print('  %-*s %10s %9s' % (width, 'step', unit, 'vs floor'))
    for label, value in rows:
        ratio = '%9.2f' % (value / base) if base and value is not None else '%9s' % '-'
        print('  %-*s %10s %s' % (width, label, '%.3f' % value if value is not None else '-', ratio))
    print('  (machine: %d CPUs, load average %s; ratios are from this run, absolutes drift with load)'
          % (os.cpu_count(), ' '.join('%.2f' % v for v in os.getloadavg())))


class Invariants:
    """What a bench checks about its own result (never a timing). ``report()`` prints one line each and the verdict
    line ``invariants: ok (N checked)`` or ``invariants: FAILED: ...``, and returns the exit status."""

    def __init__(self):
        self.checks = []

    def check(self, label, ok, detail=''):
        self.checks.append((label, bool(ok), detail))
        return bool(ok)

    def equal(self, label, got, want):
        return self.check(label, got == want, 'got %r, expected %r' % (got, want))

    def report(self):
        for label, ok, detail in self.checks:
            print('  invariant %s: %s%s' % (label, 'ok' if ok else 'FAILED', '' if ok else ' (%s)' % detail))
        failed = [label for label, ok, dummy in self.checks if not ok]
        if failed:
            print('invariants: FAILED: %s' % ', '.join(failed))
            return 1
        print('invariants: ok (%d checked)' % len(self.checks))
        return 0


def two_sides(host, count, subnets, workdir, extra=''):
    """Namespaces bm0.. (the module's side) and bp0.. (iproute2's), ``count`` each, made by one ip -batch on the host
    (not timed) with ``extra`` lines (% the two gateways); returns (gateway, addresses) of each side's subnet."""
    sides = [subnet_hosts(count, subnet) for subnet in subnets]
    setup = ''.join('netns add bm%d\nnetns add bp%d\n' % (i, i) for i in range(count)) + (extra % (sides[0][0], sides[1][0]) if extra else '')
    host.run('ip', '-batch', host.put(workdir + '/setup.batch', setup))
    return sides


def endpoint_report(name, what, inv, times, first, again, events):
    """The end of an endpoint bench (veth, macvlan): the no-op invariants (changed=0, no netlink write counted by the
    module or seen by ip monitor), the summary line and the table against ``ip -batch``; returns the exit status."""
    inv.check('no-op re-run changed=0', not again['changed'], again.get('actions'))
    inv.equal('no-op re-run netlink writes (module, ip monitor)', (again['netlink_writes'], len(events)), (0, 0))
    t_ip, t_mod, t_baseline, t_noop = times
    print('%s; module: %d netlink writes, %d actions' % (what, first['netlink_writes'], len(first['actions'])))
    table(name, [('ip -batch (+ netns exec per ns)', t_ip), ('module, one call', t_mod),
                 ('module start-up alone (no endpoints)', t_baseline), ('module minus start-up', t_mod - t_baseline),
                 ('module no-op re-run', t_noop)])
    return inv.report()


def recap(stdout):
    """{host: {ok, changed, unreachable, failed, ...}} from ansible-playbook's recap."""
    return {m.group(1): dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', m.group(2)))
            for m in re.finditer(r'^(\S+)\s+:\s+(ok=.*)$', stdout, re.M)}


def nft_json(host, *what):
    """``nft -j list ...`` on the host, decoded."""
    return json.loads(host.run('nft', '-j', 'list', *what).stdout)


def netns_count(host):
    path = host.path('/run/netns')
    return len(os.listdir(path)) if os.path.isdir(path) else 0
