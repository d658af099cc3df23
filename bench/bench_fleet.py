#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: fleet rollout of playbooks/site.yml on 5, 20 and 50 lab hosts, against ``ansible all -m ping``.

For each size N a lab of its own (lab/lab.py, name LAB-N, LAB from --lab) is started and stopped here. Its hosts
boot from the lab's prerequisites layer (what the prerequisites role installs on a bare host, once per host in
its life), so the first converge is the network's first converge, as on a provisioned fleet; site.yml still runs
the role, which finds its pins. The inventory is the lab's own inventory.json (any size), plus group_vars and
host_vars generated in a temporary directory that is removed afterwards:

  * networks: overlay ``demo`` (no subnet: 10.0.0.0/24, VNI 256), overlay ``ov_net2`` (10.0.1.0/24)
    and the user bridge network ``app``;
  * every host: two containers on demo, one on ov_net2, one on app publishing 8080:80; so the fleet
    plan has 3N overlay endpoints and every host is a VTEP of both overlays.

Measured, end to end, with ANSIBLE_FORKS = max(N, 5), each as one process:
  * the floor: ``ansible all -i INV -m ansible.builtin.ping`` (one module call per host);
  * ``ansible-playbook -i INV playbooks/site.yml``: the first converge, then the same again (no-op re-run,
    whose recap must say changed=0 on every host).
Each is reported as wall seconds, its ratio to the floor of the same size in the same run, and the controller's
CPU per host (user + system seconds of the process and everything it waited for: Ansible's workers and their
ssh clients, divided by N), and the lab hosts' CPU per host (their cgroup's cpu.stat: sshd, the modules, the kernel's
work in their processes). Between the runs the end state is checked: a demo container of the first host pings
a demo container of the last host by name, inside the lab host (nsenter ... ip netns exec). A callback written
to the temporary directory records the wall time, the controller's CPU and the lab hosts' CPU of every task, so the
costly ones are named.

Also measured in-process: the controller's planning cost, plan_fleet with synthetic first-converge facts for 20
and 200 hosts: the fleet is planned once per play. What still grows faster than the fleet is the output: every
host's vxlan0 lists every remote container.

Prints tables and the load average (the machine may be shared with other benches); asserts nothing
about time. Exit status 1 when a run failed, the no-op changed something, or the ping failed (the invariants).
--smoke: the lab named by --lab itself with 2 hosts (reused when it is up), planning for 2 and 4 hosts.

    sudo .venv/bin/python bench/bench_fleet.py [--sizes 5,20,50] [--plan-sizes 20,200] [--lab bench-fleet] [--keep] [--smoke]
"""

from __future__ import annotations

import json
import os
import re
import sys
import time

import _bench

ROOT = _bench.ROOT
BIN = _bench.BIN
COLLECTIONS = _bench.COLLECTIONS
SITE = os.path.join(ROOT, 'playbooks', 'site.yml')

NETWORKS = [
    {'name': 'demo', 'driver': 'overlay'},
    {'name': 'ov_net2', 'driver': 'overlay', 'subnet': '10.0.1.0/24'},
    {'name': 'app'},
]

# Records the wall time and the controller CPU of every task (the linear strategy finishes a task on all hosts before
# the next): CPU is this process's and its reaped children's (Ansible's workers, one per host and task, and their ssh
# clients), user + system.
TIMER = r'''
import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_fleet_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.tasks = []
        self.current = None
        self.started = time.monotonic()

    @staticmethod
    def _cpu():
        t = os.times()
        return t.user + t.system + t.children_user + t.children_system

    @staticmethod
    def _hosts_cpu():
        try:
            with open(os.environ['BENCH_FLEET_CGROUP']) as handle:
                return int(dict(line.split() for line in handle)['usage_usec']) / 1e6
        except (KeyError, OSError, ValueError):
            return 0.0

    def _close(self):
        if self.current is not None:
            name, start, cpu, hosts = self.current
            self.tasks.append([name, time.monotonic() - start, self._cpu() - cpu, self._hosts_cpu() - hosts])
            self.current = None

    def _open(self, task):
        self._close()
        self.current = (task.get_name(), time.monotonic(), self._cpu(), self._hosts_cpu())

    def v2_playbook_on_start(self, playbook):
        self.tasks.append(['(start-up to playbook start)', time.monotonic() - self.started, self._cpu(), 0.0])

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._open(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._open(task)

    def v2_playbook_on_stats(self, stats):
        self._close()
        with open(os.environ['BENCH_FLEET_TIMES'], 'w') as handle:
            json.dump(self.tasks, handle)
'''


def containers_of(index):
    return [
        {'name': 'demo-a-%d' % index, 'networks': ['demo']},
        {'name': 'demo-b-%d' % index, 'networks': ['demo']},
        {'name': 'ov2-%d' % index, 'networks': ['ov_net2']},
        {'name': 'app-%d' % index, 'networks': ['app'], 'ports': ['8080:80']},
    ]


def write_inventory(lab_inventory, workdir):
    """An inventory directory: the lab's inventory.json (linked) with generated group_vars and host_vars."""
    with open(lab_inventory) as handle:
        hosts = list(json.load(handle)['all']['children']['lab']['hosts'])
    inventory = os.path.join(workdir, 'inventory')
    os.makedirs(os.path.join(inventory, 'group_vars'))
    os.makedirs(os.path.join(inventory, 'host_vars'))
    os.symlink(lab_inventory, os.path.join(inventory, 'lab.json'))
    with open(os.path.join(inventory, 'group_vars', 'all.json'), 'w') as handle:
        json.dump({'linuxnet_networks': NETWORKS}, handle, indent=2)
    for index, host in enumerate(hosts, start=1):
        with open(os.path.join(inventory, 'host_vars', host + '.json'), 'w') as handle:
            json.dump({'linuxnet_containers': containers_of(index)}, handle, indent=2)
    return inventory, hosts


RECAP = re.compile(r'^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', re.M)


# The lab hosts' CPU: every lab's hosts run in a cgroup of its own (lab/lab.py), whose cpu.stat counts them all.
LAB_CGROUP = '/sys/fs/cgroup/unified/linuxnet-lab/%s/cpu.stat'
_LAB = {'name': None}


def lab_cpu():
    """CPU seconds the current lab's hosts (and their kernels' work for them) used so far; None where not counted."""
    try:
        with open(LAB_CGROUP % _LAB['name']) as handle:
            return int(dict(line.split() for line in handle)['usage_usec']) / 1e6
    except (OSError, KeyError, ValueError, TypeError):
        return None


def timed(argv, env):
    """Run one Ansible process; return (wall seconds, controller CPU seconds, the finished process, the lab hosts' CPU
    seconds or None)."""
    before, hosts_before = os.times(), lab_cpu()
    started = time.perf_counter()
    proc = _bench.run(argv, cwd=ROOT, env=env)
    elapsed = time.perf_counter() - started
    after, hosts_after = os.times(), lab_cpu()
    hosts = hosts_after - hosts_before if hosts_before is not None and hosts_after is not None else None
    return elapsed, (after.children_user - before.children_user) + (after.children_system - before.children_system), proc, hosts


def ansible_ping(inventory, forks):
    """The floor: one ping module call per host, as one ``ansible`` process with the same forks."""
    load = os.getloadavg()[0]
    elapsed, cpu, proc, host_cpu = timed([os.path.join(BIN, 'ansible'), 'all', '-i', inventory, '-m', 'ansible.builtin.ping'],
                                         _bench.ansible_env(ANSIBLE_FORKS=str(forks)))
    return {'seconds': elapsed, 'cpu': cpu, 'host_cpu': host_cpu, 'rc': proc.returncode, 'load': (load + os.getloadavg()[0]) / 2,
            'stdout': proc.stdout, 'stderr': proc.stderr}


def playbook(inventory, workdir, forks, label):
    times = os.path.join(workdir, 'times-%s.json' % label)
    env = _bench.ansible_env(ANSIBLE_FORKS=str(forks), ANSIBLE_CALLBACK_PLUGINS=os.path.join(workdir, 'callbacks'),
                             ANSIBLE_CALLBACKS_ENABLED='bench_fleet_timer', BENCH_FLEET_TIMES=times,
                             BENCH_FLEET_CGROUP=LAB_CGROUP % _LAB['name'])
    load = os.getloadavg()[0]
    elapsed, cpu, proc, host_cpu = timed([os.path.join(BIN, 'ansible-playbook'), '-i', inventory, SITE], env)
    recap = {m.group(1): tuple(int(x) for x in m.groups()[1:]) for m in RECAP.finditer(proc.stdout)}
    try:
        with open(times) as handle:
            tasks = json.load(handle)
    except (OSError, ValueError):
        tasks = []
    return {'seconds': elapsed, 'cpu': cpu, 'host_cpu': host_cpu, 'rc': proc.returncode, 'recap': recap, 'tasks': tasks, 'stdout': proc.stdout,
            'stderr': proc.stderr, 'load': (load + os.getloadavg()[0]) / 2}


def ping_by_name(host, first, last):
    """demo-a-1 on the first host pings demo-a-N (on the last host) by name, inside the lab host."""
    for dummy in range(3):
        proc = host.run('ip', 'netns', 'exec', 'demo-a-%d' % first, 'ping', '-c', '1', '-W', '2', 'demo-a-%d' % last, check=False)
        if proc.returncode == 0:
            match = re.search(r'PING (\S+) \(([\d.]+)\)', proc.stdout)
            return True, '%s (%s)' % (match.group(1), match.group(2)) if match else 'ok'
        time.sleep(1)
    return False, (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ['ping failed']


def plan_task(run):
    return sum(task[1] for task in run['tasks'] if 'Plan networks' in task[0])


def _short(name):
    return re.sub(r'^linuxnet\.container\.', '', re.sub(r'\s+', ' ', name))[:44]


def slowest(tasks, count=4):
    return ', '.join('%s %.1fs' % (_short(task[0]), task[1]) for task in sorted(tasks, key=lambda t: -t[1])[:count])


def task_table(tasks, size):
    """Every task: wall seconds, and the controller's and the lab hosts' CPU per host (ms), in play order."""
    return ['    %-46s %6.2f s  ctl %4.0f  hosts %4.0f ms/host' % (_short(task[0]), task[1], task[2] / size * 1000, task[3] / size * 1000)
            for task in tasks if len(task) > 3]


def one_size(size, name, keep):
    result = {'size': size, 'problems': []}
    started = time.perf_counter()
    with _bench.Lab(name, size, keep=keep) as lab:
        _LAB['name'] = name
        result['lab_up'] = time.perf_counter() - started
        workdir = lab.workdir
        os.makedirs(os.path.join(workdir, 'callbacks'))
        with open(os.path.join(workdir, 'callbacks', 'bench_fleet_timer.py'), 'w') as handle:
            handle.write(TIMER)
        inventory, hosts = write_inventory(lab.inventory, workdir)
        forks = max(size, 5)
        ansible_ping(inventory, forks)  # ssh's control masters up, as they are for every later run
        floor = result['floor'] = ansible_ping(inventory, forks)
        if floor['rc'] != 0:
            result['problems'].append('ansible all -m ping rc=%d: %s' % (floor['rc'], floor['stdout'][-2000:]))
            return result
        first = playbook(inventory, workdir, forks, 'first')
        result['first'] = first
        if first['rc'] != 0:
            lines = (first['stdout'] + first['stderr']).strip().splitlines()
            failed = [line for line in lines if line.startswith(('fatal:', '[ERROR]', 'ERROR!')) or re.search(r'(failed|unreachable)=[1-9]', line)]
            result['problems'].append('first converge rc=%d: %s' % (first['rc'], ' | '.join((failed or lines[-12:])[:12])))
            return result
        ok, detail = ping_by_name(lab.hosts[0], 1, size)
        result['ping'] = (ok, detail)
        if not ok:
            result['problems'].append('ping demo-a-1 (%s) -> demo-a-%d (%s) by name failed: %s'
                                      % (hosts[0], size, hosts[-1], detail))
        again = playbook(inventory, workdir, forks, 'noop')
        result['noop'] = again
        changed = {h: r[1] for h, r in again['recap'].items() if r[1] or r[2] or r[3]}
        missing = sorted(set(hosts) - set(again['recap']))
        if again['rc'] != 0 or changed or missing:
            lines = [line for line in again['stdout'].splitlines() if line.startswith('changed:')][:6]
            result['problems'].append('no-op re-run: rc=%d, hosts with changed/unreachable/failed: %s, missing from recap: %s; %s'
                                      % (again['rc'], changed or 'none', missing or 'none', ' | '.join(lines)))
        return result


def synthetic_fleet(count, demo_subnet=None):
    """[(host, host vars, first-converge facts)] as network_info returns them before anything exists."""
    nets = [dict(n) for n in NETWORKS]
    if demo_subnet:
        nets[0]['subnet'] = demo_subnet
    members = []
    for index in range(1, count + 1):
        address = '192.0.%d.%d' % (2 + (10 + index) // 250, (10 + index) % 250 + 1)
        facts = {'routes': [{'dst': 'default', 'dev': 'eth0'}],
                 'links': [{'name': 'eth0', 'kind': 'veth', 'mtu': 1500, 'addresses': [address + '/24']}],
                 'interfaces': [], 'endpoints': []}
        hv = {'linuxnet_networks': nets, 'linuxnet_containers': containers_of(index)}
        members.append(('docker-node%d' % index, hv, facts))
    return members


def planning(sizes):
    """In-process cost of plan_fleet: the whole fleet planned once (what the role's run_once set_fact does)."""
    sys.path.insert(0, COLLECTIONS)
    from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.fleet import PlanError, plan_fleet
    from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.inventory import inventory_problems
    rows = []
    for count in sizes:
        note = ''
        members = synthetic_fleet(count)
        try:
            plan_fleet(members)
        except PlanError as err:
            note = 'the lab inventory fails to plan (demo 10.0.0.0/24 holds 253, needs %d): %s; timed with demo 10.128.0.0/16' % (
                2 * count, str(err).splitlines()[0].split(': no available')[0])
            members = synthetic_fleet(count, '10.128.0.0/16')
        hostvars = {h: hv for h, hv, _f in members}
        started = time.perf_counter()
        problems = inventory_problems(hostvars, list(hostvars))
        validate = time.perf_counter() - started
        started = time.perf_counter()
        plans = plan_fleet(members)
        total = time.perf_counter() - started
        vxlan_entries = sum(len(d['fdb']) for plan in plans.values() for d in plan['vxlan'])
        rows.append({'hosts': count, 'validate': validate, 'problems': len(problems), 'total': total,
                     'mean': total / count, 'fdb': vxlan_entries, 'note': note})
    return rows


def main():
    parser = _bench.parser(__doc__, 'bench-fleet')
    parser.add_argument('--sizes', default='5,20,50')
    parser.add_argument('--plan-sizes', default='20,200')
    opts = parser.parse_args()
    if opts.smoke:
        opts.sizes, opts.plan_sizes = '2', '2,4'
    sizes = [int(s) for s in opts.sizes.split(',')]
    print('machine: %d cores, load average at start %s' % (os.cpu_count(), ' '.join('%.2f' % x for x in os.getloadavg())))

    plans = planning([int(s) for s in opts.plan_sizes.split(',')])
    print('\ncontroller planning, in-process plan_fleet with synthetic first-converge facts (once per play):')
    print('%6s %12s %12s %12s %10s' % ('hosts', 'validate s', 'plan/host ms', 'total s', 'fdb rows'))
    for row in plans:
        print('%6d %12.3f %12.1f %12.2f %10d%s' % (row['hosts'], row['validate'], row['mean'] * 1000,
                                                   row['total'], row['fdb'], '  problems=%d' % row['problems'] if row['problems'] else ''))
        if row['note']:
            print('       note: %s' % row['note'])
    if len(plans) > 1:
        a, b = plans[0], plans[-1]
        scale = b['hosts'] / a['hosts']
        print('       total %d->%d hosts: x%.1f (hosts x%.0f; O(hosts x fleet) predicts x%.0f)'
              % (a['hosts'], b['hosts'], b['total'] / a['total'], scale, scale * scale))

    results = []
    for size in sizes:
        print('\n[%s] N=%d ...' % (time.strftime('%H:%M:%S'), size), flush=True)
        results.append(one_size(size, opts.lab if opts.smoke else '%s-%d' % (opts.lab, size), opts.keep))
        res = results[-1]
        for run in ('first', 'noop'):
            if run in res:
                print('  %-5s %.1fs load %.2f; slowest: %s' % (run, res[run]['seconds'], res[run]['load'], slowest(res[run]['tasks'])))
                print('\n'.join(task_table(res[run]['tasks'], size)))
        if 'ping' in res:
            print('  ping demo-a-1 -> %s: %s' % (res['ping'][1] if res['ping'][0] else 'demo-a-%d' % size,
                                                 'ok' if res['ping'][0] else 'FAILED'))
        for problem in res['problems']:
            print('  PROBLEM: %s' % problem)

    print('\nfleet rollout: ansible all -m ping (the floor), then playbooks/site.yml first converge and no-op, '
          'end to end, forks = max(N, 5); x = wall / the floor of the same N; cpu = controller CPU per host')
    print('%4s %8s %8s %9s %10s %6s %9s %8s %6s %9s %8s %8s %6s %s' % (
        'N', 'lab up s', 'ping s', 'cpu ms/h', 'converge s', 'x', 'cpu ms/h', 'no-op s', 'x', 'cpu ms/h', 'changed',
        'plan s', 'load', 'ping'))
    for res in results:
        floor, first, noop = res.get('floor'), res.get('first'), res.get('noop')
        if floor is None or first is None:
            print('%4d  lab or run failed' % res['size'])
            continue
        size = res['size']
        changed = sum(r[1] for r in noop['recap'].values()) if noop else None
        print('%4d %8.1f %8.2f %9.0f %10.2f %6.2f %9.0f %8s %6s %9s %8s %8.1f %6.2f %s' % (
            size, res['lab_up'], floor['seconds'], floor['cpu'] / size * 1000,
            first['seconds'], first['seconds'] / floor['seconds'], first['cpu'] / size * 1000,
            '%.2f' % noop['seconds'] if noop else '-', '%.2f' % (noop['seconds'] / floor['seconds']) if noop else '-',
            '%.0f' % (noop['cpu'] / size * 1000) if noop else '-', changed if changed is not None else '-',
            plan_task(first), (first['load'] + (noop['load'] if noop else first['load'])) / 2,
            'ok' if res.get('ping', (False,))[0] else 'FAILED'))
    print('\nCPU per host (ms), controller + the lab hosts (their cgroup; on this machine both share its CPUs, so the wall ratio '
          'follows the ratio of the sums):')
    print('%4s %22s %22s %22s' % ('N', 'ping ctl+hosts', 'converge ctl+hosts', 'no-op ctl+hosts'))
    for res in results:
        cells = []
        for run in ('floor', 'first', 'noop'):
            r = res.get(run)
            if r is None or r.get('host_cpu') is None:
                cells.append('-')
            else:
                cells.append('%.0f + %.0f = %.0f' % (r['cpu'] / res['size'] * 1000, r['host_cpu'] / res['size'] * 1000,
                                                     (r['cpu'] + r['host_cpu']) / res['size'] * 1000))
        print('%4d %22s %22s %22s' % (res['size'], cells[0], cells[1], cells[2]))
    print('load average at end %s' % ' '.join('%.2f' % x for x in os.getloadavg()))
    inv = _bench.Invariants()
    for res in results:
        inv.check('N=%d: first converge, ping by name across hosts, no-op re-run changed=0' % res['size'], not res['problems'],
                  '; '.join(res['problems']))
    for row in plans:
        inv.equal('planning %d hosts: inventory problems' % row['hosts'], row['problems'], 0)
    return inv.report()


if __name__ == '__main__':
    sys.exit(main())
