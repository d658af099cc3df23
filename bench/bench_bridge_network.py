#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: one host with 500 containers on 5 user-defined bridge networks, four ways, same run, same end state.

Every variant starts from a fresh state of one bare lab host (lab/lab.py; --lab, prepared once by the
prerequisites role; between variants every namespace, link, nft table and the collection's recorded state is
wiped, bench/_bench.py) and must leave the same state behind: per container a named netns with lo up and eth0
(its address in the network's subnet, Docker's MAC 02:42:<ip>, default route via the gateway), the
host end of the veth pair a port of the network's bridge (hairpin on, up), each bridge holding its
gateway address, forwarding on, the 5 networks isolated from each other and each subnet masqueraded
when it leaves through another interface. Subnets are given explicitly (10.(100+i).0.0/16, gateway
.1), not taken from the pools; addresses are allocated from .2 in container order.

--dual-stack: every network also has IPv6 (the role's ``enable_ipv6`` with ``ipv6_subnet`` fd00:db8:(100+i)::/64,
gateway ::1), and every variant builds the same dual-stack end state on top: per container an IPv6 address from ::2
in container order (the role's allocator), added without duplicate address detection (nodad, as the role adds it; CNI's
bridge plugin turns DAD off on the container side instead), and an IPv6 default route via the gateway; the IPv6
gateway on each bridge, net.ipv6.conf.all.forwarding on, each IPv6 subnet masqueraded (NAT66) when it leaves through
another interface, the isolation for both families (the floor's and CNI's isolation table is an inet one; the
floor's masquerade gets an ``ip6 saddr`` rule per network; CNI: host-local with an IPv4 and an IPv6 range, ipMasq
masquerades both families; the naive loop adds the IPv6 steps). The default run is IPv4 only.

  (a) floor: one hand-written shell script run inside the lab host: one ``ip -batch`` (netns add,
      bridges, veth pairs created with the peer directly in its netns with the Docker MAC, master,
      hairpin, up), one ``ip -n NS -batch`` per namespace (lo up, address, eth0 up, default route),
      ``sysctl`` for forwarding and one ``nft -f`` with Docker's rules in spirit (isolation stage
      1/2 per bridge, ``-s SUBNET ! -o BRIDGE -j MASQUERADE`` per network);
  (b) CNI: the bridge plugin with host-local IPAM, isGateway, ipMasq and hairpinMode
      (containernetworking-plugins, this machine's /usr/lib/cni copied onto the host), one network config per
      network, invoked directly
      (CNI_COMMAND=ADD, CNI_NETNS, CNI_IFNAME=eth0, CNI_CONTAINERID, CNI_PATH, CNI_ARGS MAC=) per
      namespace after ``ip -batch`` netns add and the loopback plugin; CNI has no isolation between
      networks, so the floor's isolation chains (without its masquerade) are added with one
      ``nft -f``. Everything counts in its time. host-local keeps its data under the lab host's
      private /run;
  (c) naive Ansible: ansible.builtin.command tasks, one ``ip ...`` per step per container (loops),
      on a few containers (20 by default), extrapolated linearly to all of them: the per-container
      tasks' time times total/few, plus the measured fixed part (playbook start, bridges, nft);
  (d) the role: ``ansible-playbook playbooks/site.yml`` against a generated one-host inventory, end to
      end; then the same again (the no-op re-run) with ``ip monitor all all-nsid`` (the lab host's
      namespace and every container namespace) and ``nft monitor`` inside the lab host, each proven
      live by a canary write after the run; then, on the host wiped again, every module of the
      role run directly on the host with the arguments Ansible passed it (its own time, without
      Ansible, ssh and argument transfer: the module's unpacked AnsiballZ payload in the host's
      collection virtualenv), to show where the role's time goes.

The state each variant built is read back from the kernels (pyroute2, in the lab host) and compared
with the expected one, and probed with traffic inside the lab (within a network: ok; across
networks: dropped; to the lab's router, which has no route back: ok only through masquerade; dual stack: the same
with ``ping -6``, NAT66 to the router's IPv6 address), before its time is printed. Prints seconds and ratios; asserts no timing. The invariants: every variant's
state as expected, the no-op re-run changed=0 with no kernel write seen by live monitors, every module
replayed without failing. --smoke: 2 networks of 2 containers, the naive loop on 2, no -vvv run. The output names
the mode (IPv4 or dual stack); run the bench once in each mode to set the two ratios side by side.

    .venv/bin/python bench/bench_bridge_network.py [--networks 5] [--per-network 100] [--naive 20] [--dual-stack]
        [--lab bench-bn] [--keep] [--smoke]
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import subprocess
import sys
import time

import _bench

ROOT = _bench.ROOT
BIN = _bench.BIN
COLLECTIONS = _bench.COLLECTIONS
CNI_PLUGINS = '/usr/lib/cni'  # on this machine
HOSTDIR = '/tmp/linuxnet-bench/bn'  # on the lab host: the scripts it runs
CNI_PATH = HOSTDIR + '/cni'  # on the lab host: the plugins it runs, copied from CNI_PLUGINS
CNI_DATA = '/run/bench-bn-cni'  # inside the lab host: its /run is a private tmpfs, gone with the host
ROUTER = '192.0.2.1'  # the lab's "outside": it has no route to the container subnets
ROUTER6 = 'fd00:192:0:2::1'  # its IPv6 address (lab.py's dual-stack underlay), with no route to them either
SETTLE = 20.0  # seconds after the last bridge port came up: its forward-delay timer (15 s) notifies once

# A per-task timer for ansible-playbook, written into the bench's temporary directory.
TIMER = r'''
from __future__ import annotations
import json
import os
import time
from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_timer
type: aggregate
short_description: per-task wall time, module calls and module arguments for bench_bridge_network.py
description: [per-task wall time, module calls and module arguments for bench_bridge_network.py]
"""
CONTROLLER_ONLY = ('set_fact', 'assert', 'debug', 'meta', 'include_role', 'import_role', 'include_tasks', 'validate_argument_spec')


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timer'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.started = time.time()
        self.tasks = []
        self.task = None

    def _close(self):
        if self.task is not None:
            self.task['end'] = time.time()
            self.tasks.append(self.task)
            self.task = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        action = task.action.rsplit('.', 1)[-1]
        self.task = {'name': task.get_name(), 'action': task.action, 'module': action not in CONTROLLER_ONLY,
                     'role': task._role.get_name() if task._role else '',
                     'start': time.time(), 'calls': 0, 'skipped': 0, 'changed': 0, 'args': None, 'actions': []}

    def _count(self, result, skipped=False):
        if self.task is None:
            return
        res = result._result
        if skipped:
            self.task['skipped'] += 1
            return
        self.task['changed'] += int(bool(res.get('changed')))
        if res.get('changed') and isinstance(res.get('actions'), list):
            self.task['actions'] += [str(a)[:200] for a in res['actions'][:5]]
        if 'results' in res and isinstance(res['results'], list):
            return  # a loop: its items were counted one by one
        self.task['calls'] += 1
        if self.task['module'] and isinstance(res.get('invocation'), dict):
            self.task['args'] = res['invocation'].get('module_args')

    def v2_runner_on_ok(self, result):
        self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._count(result)

    def v2_runner_on_skipped(self, result):
        self._count(result, skipped=True)

    def v2_runner_item_on_ok(self, result):
        self._count(result)

    def v2_runner_item_on_failed(self, result):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        self._close()
        with open(os.environ['BENCH_TIMER_OUT'], 'w') as handle:
            json.dump({'started': self.started, 'ended': time.time(), 'tasks': self.tasks}, handle)
'''

# Read back inside the lab host: links, addresses and default routes of the host and of every netns (IPv6: the global
# addresses, marked when the kernel still holds them tentative or failed duplicate address detection).
READBACK = r'''
import json, os
from pyroute2 import IPRoute
from pyroute2 import netns as pnetns


def snap():
    with IPRoute() as ipr:
        links = list(ipr.link('dump'))
        addrs = list(ipr.addr('dump'))
        routes = list(ipr.route('dump'))
    names = {l['index']: l.get('ifname') for l in links}
    out = {}
    for l in links:
        out[l.get('ifname')] = {'up': bool(l['flags'] & 1), 'mac': l.get('address'), 'master': names.get(l.get('master')),
                                'kind': l.get(('linkinfo', 'kind')), 'addresses': [], 'addresses6': []}
    for a in addrs:
        if a['family'] == 2:
            out[names[a['index']]]['addresses'].append('%s/%d' % (a.get('address'), a['prefixlen']))
        elif a['family'] == 10 and a['scope'] == 0:
            flags = a.get_attr('IFA_FLAGS')
            flags = a['flags'] if flags is None else flags
            mark = ' tentative' if flags & 0x40 else (' dadfailed' if flags & 0x08 else '')
            out[names[a['index']]]['addresses6'].append('%s/%d%s' % (a.get('address'), a['prefixlen'], mark))
    default = sorted('%s dev %s' % (r.get('gateway'), names.get(r.get('oif'))) for r in routes
                     if r['family'] == 2 and r['dst_len'] == 0 and r.get('table') == 254)
    default6 = sorted('%s dev %s' % (r.get('gateway'), names.get(r.get('oif'))) for r in routes
                      if r['family'] == 10 and r['dst_len'] == 0 and r.get('table') == 254 and r['type'] == 1)
    return {'links': out, 'default': default, 'default6': default6}


home = os.open('/proc/self/ns/net', os.O_RDONLY)
state = {'host': snap(), 'netns': {}}
for name in sorted(os.listdir('/run/netns')):
    fd = os.open('/run/netns/' + name, os.O_RDONLY)
    pnetns.setns(fd, flags=0)
    os.close(fd)
    try:
        state['netns'][name] = snap()
    finally:
        pnetns.setns(home, flags=0)
with open('/proc/sys/net/ipv4/ip_forward') as handle:
    state['ip_forward'] = handle.read().strip()
with open('/proc/sys/net/ipv6/conf/all/forwarding') as handle:
    state['ip6_forward'] = handle.read().strip()
print(json.dumps(state))
'''


# A module run directly on the lab host, with its phases timed: imports, AnsibleModule (argument validation),
# the reconciler's read (before and after), plan, apply (run minus the rest), verify, result, exit_json.
PHASES = r'''
import atexit, importlib, json, os, sys, time
T0 = time.perf_counter()
spent = {}


def timed(label, func):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - started
    return wrapper


def report():
    with open(os.environ['BENCH_PHASES_OUT'], 'w') as handle:
        json.dump(dict(spent, total=time.perf_counter() - T0), handle)


atexit.register(report)
from ansible.module_utils import basic
try:
    from ansible_collections.linuxnet.container.plugins.module_utils._converge import reconcile as _reconcile
except ImportError:  # a read-only module (network_info) packs no reconciler
    _reconcile = None
basic.AnsibleModule.__init__ = timed('arguments', basic.AnsibleModule.__init__)
basic.AnsibleModule.exit_json = timed('exit', basic.AnsibleModule.exit_json)


def run(self, desired):
    for name in ('read', 'plan', '_verify', '_result'):
        setattr(self, name, timed(name.strip('_'), getattr(self, name)))
    return timed('run', RUN)(self, desired)


if _reconcile is not None:
    RUN = _reconcile.Reconciler.run
    _reconcile.Reconciler.run = run
module = importlib.import_module('ansible_collections.linuxnet.container.plugins.modules.' + sys.argv.pop(1))
spent['imports'] = time.perf_counter() - T0
module.main()
'''


class Topology:
    """Networks bn0..bnN-1 (10.(100+i).0.0/16, bridge br-bnI) and their containers bnIcJJJ (.2 upwards); dual stack:
    each network also fd00:db8:(100+i)::/64 (gateway ::1), each container its IPv6 address from ::2 upwards."""

    def __init__(self, networks, per_network, dual_stack=False):
        self.networks = []
        self.dual_stack = dual_stack
        for i in range(networks):
            subnet = ipaddress.ip_network('10.%d.0.0/16' % (100 + i))
            net = {'name': 'bn%d' % i, 'bridge': 'br-bn%d' % i, 'subnet': str(subnet),
                   'gateway': str(subnet.network_address + 1), 'prefix': subnet.prefixlen}
            if dual_stack:
                subnet6 = ipaddress.ip_network('fd00:db8:%d::/64' % (100 + i))
                net.update(subnet6=str(subnet6), gateway6=str(subnet6.network_address + 1), prefix6=subnet6.prefixlen)
            self.networks.append(net)
        self.per_network = per_network

    def containers(self, per_network=None):
        per = self.per_network if per_network is None else per_network
        out = []
        for i, net in enumerate(self.networks):
            base = ipaddress.ip_network(net['subnet']).network_address
            for j in range(per):
                address = str(base + 2 + j)
                out.append({'name': 'bn%dc%03d' % (i, j), 'network': net['name'], 'bridge': net['bridge'],
                            'veth': 've%dc%03d' % (i, j), 'address': address, 'cidr': '%s/%d' % (address, net['prefix']),
                            'gateway': net['gateway'], 'mac': _bench.docker_mac(address)})
                if self.dual_stack:
                    # The role's allocator: the same order as IPv4, from the subnet's ::2 (the gateway is ::1).
                    address6 = str(ipaddress.ip_network(net['subnet6']).network_address + 2 + j)
                    out[-1].update(address6=address6, cidr6='%s/%d' % (address6, net['prefix6']), gateway6=net['gateway6'])
        return out


class Lab:
    """The bench's one lab host (bench/_bench.py: prepared once by the prerequisites role), wiped before each variant;
    commands inside it through nsenter, files for it under HOSTDIR."""

    def __init__(self, name, keep):
        self.lab = _bench.Lab(name, 1, keep=keep)
        self.node = self.lab.hosts[0]
        self.host, self.state_dir, self.workdir = self.node.name, self.lab.state_dir, self.lab.workdir
        self.used = False

    def up(self):
        """A fresh start for the next variant."""
        if self.used:
            self.lab.reset()
        self.used = True

    def down(self):
        self.lab.close()

    def argv(self, *cmd, pid=True):
        return self.node.argv(*cmd, pid=pid)

    def run(self, *cmd, **kwargs):
        return self.node.run(*cmd, **kwargs)

    def put(self, name, data):
        """A file for the host (HOSTDIR/name); returns its path there."""
        return self.node.put(HOSTDIR + '/' + name, data)


def timed(func, *args, **kwargs):
    started = time.perf_counter()
    result = func(*args, **kwargs)
    return time.perf_counter() - started, result


def nft_rules(topo, table, masquerade=True):
    """Docker's rules in spirit: DOCKER-ISOLATION-STAGE-1/2 per bridge, MASQUERADE per subnet. An inet table: the
    isolation (by interface) holds for both families; dual stack adds the NAT66 masquerade of each IPv6 subnet."""
    lines = ['table inet %s {' % table, '  chain forward {', '    type filter hook forward priority -1; policy accept;']
    lines += ['    iifname "%s" oifname != "%s" jump isolation_stage_2' % (n['bridge'], n['bridge']) for n in topo.networks]
    lines += ['  }', '  chain isolation_stage_2 {',
              '    oifname { %s } drop' % ', '.join('"%s"' % n['bridge'] for n in topo.networks), '  }']
    if masquerade:
        lines += ['  chain postrouting {', '    type nat hook postrouting priority 100; policy accept;']
        lines += ['    ip saddr %s oifname != "%s" masquerade' % (n['subnet'], n['bridge']) for n in topo.networks]
        if topo.dual_stack:
            lines += ['    ip6 saddr %s oifname != "%s" masquerade' % (n['subnet6'], n['bridge']) for n in topo.networks]
        lines += ['  }']
    return '\n'.join(lines + ['}', ''])


def floor_script(topo, containers):
    out = ['set -eu', 'ip -batch - <<"EOF"']
    out += ['netns add %s' % c['name'] for c in containers]
    for net in topo.networks:
        out += ['link add %s type bridge' % net['bridge'], 'address add %s/%d dev %s' % (net['gateway'], net['prefix'], net['bridge'])]
        if topo.dual_stack:
            out.append('address add %s/%d dev %s nodad' % (net['gateway6'], net['prefix6'], net['bridge']))
        out.append('link set %s up' % net['bridge'])
    for c in containers:
        out += ['link add %s type veth peer name eth0 netns %s address %s' % (c['veth'], c['name'], c['mac']),
                'link set %s master %s up' % (c['veth'], c['bridge']),
                'link set %s type bridge_slave hairpin on' % c['veth']]
    out.append('EOF')
    for c in containers:
        out += ['ip -n %s -batch - <<"EOF"' % c['name'], 'link set lo up', 'address add %s dev eth0' % c['cidr']]
        if topo.dual_stack:
            out.append('address add %s dev eth0 nodad' % c['cidr6'])  # usable at once, as the role adds it
        out += ['link set eth0 up', 'route add default via %s' % c['gateway']]
        if topo.dual_stack:
            out.append('route add default via %s' % c['gateway6'])
        out.append('EOF')
    out.append('sysctl -qw net.ipv4.ip_forward=1')
    if topo.dual_stack:
        out.append('sysctl -qw net.ipv6.conf.all.forwarding=1')
    out += ['nft -f - <<"EOF"', nft_rules(topo, 'bench_floor').rstrip('\n'), 'EOF', '']
    return '\n'.join(out)


def cni_script(topo, containers, lab):
    """Namespaces by ip -batch, then per container loopback + bridge (host-local, ipMasq), then isolation by nft -f.
    Dual stack: host-local with two ranges (and a default route each); ipMasq masquerades both families; the bridge
    plugin leaves duplicate address detection off on the container side (enabledad false)."""
    for plugin in ('bridge', 'loopback', 'host-local'):
        with open(os.path.join(CNI_PLUGINS, plugin), 'rb') as handle:
            os.chmod(lab.node.path(lab.put('cni/' + plugin, handle.read())), 0o755)
    lo_conf = lab.put('cni-lo.json', json.dumps({'cniVersion': '1.0.0', 'name': 'lo', 'type': 'loopback'}))
    confs = {}
    for net in topo.networks:
        routes, ranges = [{'dst': '0.0.0.0/0'}], [[{'subnet': net['subnet'], 'gateway': net['gateway']}]]
        if topo.dual_stack:
            routes.append({'dst': '::/0'})
            ranges.append([{'subnet': net['subnet6'], 'gateway': net['gateway6']}])
        confs[net['name']] = lab.put('cni-%s.json' % net['name'], json.dumps({
            'cniVersion': '1.0.0', 'name': net['name'], 'type': 'bridge', 'bridge': net['bridge'],
            'isGateway': True, 'ipMasq': True, 'hairpinMode': True,
            'ipam': {'type': 'host-local', 'dataDir': CNI_DATA, 'routes': routes, 'ranges': ranges}}))
    out = ['set -eu', 'rm -rf %s' % CNI_DATA, 'export CNI_PATH=%s CNI_COMMAND=ADD' % CNI_PATH, 'ip -batch - <<"EOF"']
    out += ['netns add %s' % c['name'] for c in containers]
    out.append('EOF')
    for c in containers:
        env = 'CNI_CONTAINERID=%s CNI_NETNS=/run/netns/%s' % (c['name'], c['name'])
        out.append('%s CNI_IFNAME=lo %s/loopback < %s > /dev/null' % (env, CNI_PATH, lo_conf))
        out.append("%s CNI_IFNAME=eth0 CNI_ARGS='IgnoreUnknown=1;MAC=%s' %s/bridge < %s > /dev/null"
                   % (env, c['mac'], CNI_PATH, confs[c['network']]))
    out += ['nft -f - <<"EOF"', nft_rules(topo, 'bench_cni_isolation', masquerade=False).rstrip('\n'), 'EOF', '']
    return '\n'.join(out)


def naive_playbook(topo, containers, rules_file):
    """ansible.builtin.command, one ip command per step per container; JSON is YAML."""
    fixed = [
        {'name': 'fixed: forwarding', 'ansible.builtin.command': 'sysctl -w net.ipv4.ip_forward=1'},
        {'name': 'fixed: bridge add', 'ansible.builtin.command': 'ip link add {{ item.bridge }} type bridge', 'loop': '{{ nets }}'},
        {'name': 'fixed: bridge address', 'ansible.builtin.command': 'ip address add {{ item.gateway }}/{{ item.prefix }} dev {{ item.bridge }}',
         'loop': '{{ nets }}'},
        {'name': 'fixed: bridge up', 'ansible.builtin.command': 'ip link set {{ item.bridge }} up', 'loop': '{{ nets }}'},
        {'name': 'fixed: isolation and masquerade', 'ansible.builtin.command': 'nft -f %s' % rules_file},
    ]
    if topo.dual_stack:
        fixed[1:1] = [{'name': 'fixed: IPv6 forwarding', 'ansible.builtin.command': 'sysctl -w net.ipv6.conf.all.forwarding=1'}]
        fixed[4:4] = [{'name': 'fixed: bridge IPv6 address',
                       'ansible.builtin.command': 'ip address add {{ item.gateway6 }}/{{ item.prefix6 }} dev {{ item.bridge }} nodad',
                       'loop': '{{ nets }}'}]
    steps = [
        ('netns add', 'ip netns add {{ item.name }}'),
        ('veth pair, peer in the netns', 'ip link add {{ item.veth }} type veth peer name eth0 netns {{ item.name }} address {{ item.mac }}'),
        ('bridge port', 'ip link set {{ item.veth }} master {{ item.bridge }} up'),
        ('hairpin', 'ip link set {{ item.veth }} type bridge_slave hairpin on'),
        ('lo up', 'ip -n {{ item.name }} link set lo up'),
        ('address', 'ip -n {{ item.name }} address add {{ item.cidr }} dev eth0'),
        ('eth0 up', 'ip -n {{ item.name }} link set eth0 up'),
        ('default route', 'ip -n {{ item.name }} route add default via {{ item.gateway }}'),
    ]
    if topo.dual_stack:
        steps += [('IPv6 address', 'ip -n {{ item.name }} address add {{ item.cidr6 }} dev eth0 nodad'),
                  ('IPv6 default route', 'ip -n {{ item.name }} -6 route add default via {{ item.gateway6 }}')]
    per = [{'name': 'per container: %s' % label, 'ansible.builtin.command': cmd, 'loop': '{{ containers }}',
            'loop_control': {'label': '{{ item.name }}'}} for label, cmd in steps]
    return [{'name': 'Naive: one command task per step per container', 'hosts': 'all', 'gather_facts': False,
             'vars': {'nets': topo.networks, 'containers': containers}, 'tasks': fixed + per}]


def write_inventory(lab, path, topo, containers):
    networks = [{'name': n['name'], 'subnet': n['subnet'], 'gateway': n['gateway'], 'bridge_name': n['bridge']}
                for n in topo.networks]
    if topo.dual_stack:
        for net, n in zip(networks, topo.networks):
            net.update(enable_ipv6=True, ipv6_subnet=n['subnet6'], ipv6_gateway=n['gateway6'])
    host = {'linuxnet_networks': networks, 'linuxnet_containers': [{'name': c['name'], 'networks': [c['network']]} for c in containers]}
    inventory = {'all': {'hosts': {lab.host: host},
                         'vars': {'ansible_user': 'root', 'ansible_ssh_args': '-F %s/ssh_config' % lab.state_dir,
                                  'ansible_ssh_use_tty': False, 'ansible_python_interpreter': _bench.SYSTEM_PYTHON,
                                  'linuxnet_prerequisites_source': 'offline'}}}
    with open(path, 'w') as handle:
        json.dump(inventory, handle)


def playbook(workdir, inventory, book, label, verbose=False):
    """ansible-playbook end to end; returns seconds, stdout and the timer's per-task record.

    verbose: -vvv, its lines stamped as they arrive; stdout is then the list of (seconds, marker) of the lines that
    mark a task's phases: TASK, SSH: EXEC (the module starts on the host), the raw result back, the result shown."""
    out = os.path.join(workdir, 'timer-%s.json' % label)
    env = _bench.ansible_env(ANSIBLE_CALLBACK_PLUGINS=os.path.join(workdir, 'callbacks'), ANSIBLE_CALLBACKS_ENABLED='bench_timer',
                             BENCH_TIMER_OUT=out)
    argv = [os.path.join(BIN, 'ansible-playbook'), '-i', inventory, book] + (['-vvv'] if verbose else [])
    started = time.time()
    if verbose:
        stdout = []
        tail = []
        with subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
            for line in proc.stdout:
                now = time.time() - started
                tail = (tail + [line[:300]])[-20:]
                if line.startswith('TASK ['):
                    stdout.append((now, 'task'))
                elif '> SSH: EXEC ' in line:
                    stdout.append((now, 'exec'))
                elif re.match(r'<[^>]+> \(\d+, b', line):
                    stdout.append((now, 'returned'))
                elif re.match(r'(ok|changed|skipping|failed|fatal): \[', line):
                    stdout.append((now, 'shown'))
                elif line.startswith('PLAY RECAP'):
                    stdout.append((now, 'recap'))
        returncode, errors = proc.returncode, ''.join(tail)
    else:
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        stdout, returncode, errors = proc.stdout, proc.returncode, proc.stdout[-4000:] + proc.stderr[-2000:]
    elapsed = time.time() - started
    if returncode != 0:
        raise SystemExit('%s: ansible-playbook failed (rc %d):\n%s' % (label, returncode, errors))
    with open(out) as handle:
        timer = json.load(handle)
    timer['process_start'] = started
    return elapsed, stdout, timer


def vvv_phases(marks):
    """Per task from -vvv marks: controller before the module starts (templating, AnsiballZ), on the host (ssh, module,
    arguments and result moved), controller after (result parsed, registered) until shown, and showing it (-vvv prints it)."""
    tasks = []
    for at, kind in marks:
        if kind in ('task', 'recap'):
            if tasks:
                tasks[-1]['next'] = at
            if kind == 'task':
                tasks.append({'start': at})
        elif tasks:
            tasks[-1].setdefault(kind, at)
    out = []
    for task in tasks:
        end = task.get('next', task['start'])
        shown = task.get('shown', end)
        if 'exec' in task and 'returned' in task:
            out.append({'before': task['exec'] - task['start'], 'host': task['returned'] - task['exec'],
                        'after': shown - task['returned'], 'show': end - shown, 'total': end - task['start']})
        else:
            out.append({'before': shown - task['start'], 'show': end - shown, 'total': end - task['start']})
    return out


def recap(stdout, host):
    match = re.search(r'^%s\s*:\s*(.*)$' % re.escape(host), stdout, re.M)
    return dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', match.group(1))) if match else {}


def verify(lab, topo, containers, label):
    """Kernel state against the expected one, then traffic probes. Returns a list of problems."""
    state = json.loads(lab.node.python(READBACK).stdout)
    problems = []
    want = {c['name']: c for c in containers}
    if sorted(state['netns']) != sorted(want):
        problems.append('namespaces: %d, expected %d' % (len(state['netns']), len(want)))
    for name, c in want.items():
        ns = state['netns'].get(name)
        if ns is None:
            continue
        eth0 = ns['links'].get('eth0') or {}
        lo = ns['links'].get('lo') or {}
        got = (eth0.get('addresses'), (eth0.get('mac') or '').lower(), eth0.get('up'), lo.get('up'), ns['default'])
        expected = ([c['cidr']], c['mac'], True, True, ['%s dev eth0' % c['gateway']])
        if topo.dual_stack:  # the IPv6 address usable at once (not tentative), the IPv6 default route
            got += (eth0.get('addresses6'), ns['default6'])
            expected += ([c['cidr6']], ['%s dev eth0' % c['gateway6']])
        if got != expected:
            problems.append('%s: %s, expected %s' % (name, got, expected))
    host = state['host']['links']
    for net in topo.networks:
        bridge = host.get(net['bridge']) or {}
        if not bridge.get('up') or '%s/%d' % (net['gateway'], net['prefix']) not in bridge.get('addresses', []):
            problems.append('bridge %s: %s' % (net['bridge'], bridge))
        # The IPv6 gateway, tentative or not (CNI's goes through duplicate address detection; waited for below).
        elif topo.dual_stack and '%s/%d' % (net['gateway6'], net['prefix6']) not in [a.split()[0] for a in bridge.get('addresses6', [])]:
            problems.append('bridge %s: no IPv6 gateway: %s' % (net['bridge'], bridge))
        ports = [link for link in host.values() if link['master'] == net['bridge']]
        expected_ports = sum(1 for c in containers if c['bridge'] == net['bridge'])
        if len(ports) != expected_ports or not all(p['up'] and p['kind'] == 'veth' for p in ports):
            problems.append('bridge %s: %d veth ports up, expected %d' % (net['bridge'], sum(1 for p in ports if p['up']), expected_ports))
    if state['ip_forward'] != '1':
        problems.append('ip_forward is %s' % state['ip_forward'])
    if topo.dual_stack:
        if state['ip6_forward'] != '1':
            problems.append('net.ipv6.conf.all.forwarding is %s' % state['ip6_forward'])
        # A gateway address still in duplicate address detection answers no neighbour solicitation: the probes wait
        # (10 s at most, untimed) until the host holds no tentative address.
        deadline = time.time() + 10
        while json.loads(lab.run('ip', '-6', '-j', 'address', 'show', 'tentative').stdout or '[]') and time.time() < deadline:
            time.sleep(0.2)
    # Traffic, all inside the lab: same network ok, other network dropped, the router only through masquerade.
    firsts = [next(c for c in containers if c['network'] == n['name']) for n in topo.networks]
    lasts = [[c for c in containers if c['network'] == n['name']][-1] for n in topo.networks]
    probes = []
    for i, first in enumerate(firsts):
        probes.append((first['name'], lasts[i]['address'], True, 'within %s' % first['network']))
        probes.append((first['name'], ROUTER, True, 'masquerade of %s to the router' % first['network']))
        other = firsts[(i + 1) % len(firsts)]
        probes.append((first['name'], other['address'], False, 'isolation %s -> %s' % (first['network'], other['network'])))
        if topo.dual_stack:
            probes.append((first['name'], lasts[i]['address6'], True, 'IPv6 within %s' % first['network']))
            probes.append((first['name'], ROUTER6, True, 'NAT66 of %s to the router' % first['network']))
            probes.append((first['name'], other['address6'], False, 'IPv6 isolation %s -> %s' % (first['network'], other['network'])))
    procs = [(p, subprocess.Popen(lab.argv('ip', 'netns', 'exec', p[0], 'ping', *(['-6'] if ':' in p[1] else []),
                                           '-n', '-q', '-c', '1', '-W', '2', p[1]),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)) for p in probes]
    for (src, dst, ok, what), proc in procs:
        if (proc.wait() == 0) != ok:
            problems.append('traffic %s: %s -> %s %s' % (what, src, dst, 'failed' if ok else 'passed'))
    return {'namespaces': len(state['netns']), 'ports': sum(1 for link in host.values() if link['master'] in
                                                            {n['bridge'] for n in topo.networks}),
            'addresses': sum(len(ns['links'].get('eth0', {}).get('addresses', [])) + (len(ns['links'].get('eth0', {}).get('addresses6', []))
                                                                                      if topo.dual_stack else 0)
                             for ns in state['netns'].values()),
            'probes': len(probes), 'problems': problems, 'label': label}


def watch(lab, workdir):
    """ip monitor (host netns and every netns with an id in it, timestamped) and nft monitor, inside the lab host.

    Their output goes to files: a pipe nobody reads would fill and stop them."""
    monitors = []
    for key, cmd in (('ip', ['ip', '-ts', 'monitor', 'all', 'all-nsid']), ('nft', ['nft', 'monitor'])):
        path = os.path.join(workdir, 'monitor-%s.txt' % key)
        with open(path, 'w') as handle:
            monitors.append((key, path, subprocess.Popen(lab.argv(*cmd, pid=False), stdout=handle, stderr=subprocess.STDOUT)))
    return monitors


def stamp(line):
    match = re.match(r'\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\]', line)
    return datetime.datetime.strptime(match.group(1), '%Y-%m-%dT%H:%M:%S.%f').timestamp() if match else None


def unwatch(lab, monitors, canary_ns, run_start):
    """Canary writes prove both monitors were live; the events between run_start and them are the run's.

    ip events are split into NEIGH ones that are not PERMANENT (the kernel's neighbour state machine and garbage
    collection: none of the role's modules writes a neighbour entry) and all others."""
    lab.run('ip', '-n', canary_ns, 'address', 'add', '192.0.2.250/32', 'dev', 'lo')
    lab.run('ip', '-n', canary_ns, 'address', 'del', '192.0.2.250/32', 'dev', 'lo')
    lab.run('ip', 'link', 'add', 'bncanary0', 'type', 'bridge')
    lab.run('ip', 'link', 'del', 'bncanary0')
    lab.run('nft', 'add table inet bench_bn_canary')
    lab.run('nft', 'delete table inet bench_bn_canary')
    time.sleep(1.0)
    out = {}
    for key, path, proc in monitors:
        proc.terminate()  # the monitors are our own children, ended through their Popen handles
        proc.wait()
        with open(path) as handle:
            lines = [line for line in handle.read().splitlines() if line.strip()]
        marker = '192.0.2.250' if key == 'ip' else 'bench_bn_canary'
        cut = next((i for i, line in enumerate(lines) if marker in line), None)
        if key == 'ip':
            records = [line for line in lines[:cut] if stamp(line) is not None]
            before = [line for line in records if stamp(line) < run_start]
            during = [line for line in records if stamp(line) >= run_start]
            out[key] = {'live': cut is not None and any('bncanary0' in line for line in lines), 'settling': len(before),
                        'events': [line for line in during if not kernel_neigh(line)],
                        'neigh': [line for line in during if kernel_neigh(line)]}
        else:
            out[key] = {'live': cut is not None, 'events': [line for line in lines[:cut] if not line.startswith('#')]}
    return out


def kernel_neigh(line):
    return '[NEIGH]' in line and 'PERMANENT' not in line


def strip_none(value):
    """Ansible's invocation lists every option, None for unset ones; a direct call must leave those out."""
    if isinstance(value, dict):
        return dict((k, strip_none(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [strip_none(v) for v in value]
    return value


def module_replay(lab, tasks):
    """Run each module of the role's first run directly in the lab host, with the arguments Ansible gave it, phases timed:
    the harness in the host's collection virtualenv, the module's code from its unpacked AnsiballZ payload."""
    harness = lab.put('phases.py', PHASES)
    exploded = {}
    rows = []
    for n, task in enumerate(tasks):
        if not task['module'] or task['args'] is None or task['calls'] == 0 or not task['action'].startswith('linuxnet.container.'):
            continue  # the collection's modules only (not the prerequisites role's builtins)
        module = task['action'].rsplit('.', 1)[-1]
        if module not in exploded:
            exploded[module] = lab.node.explode(module)
        path = lab.put('replay-%d-%s.json' % (n, module), json.dumps({'ANSIBLE_MODULE_ARGS': strip_none(task['args'])}))
        phases = HOSTDIR + '/phases-%d.json' % n
        env = dict(os.environ, PYTHONPATH=exploded[module], BENCH_PHASES_OUT=phases)
        elapsed, proc = timed(lab.run, _bench.HOST_PYTHON, harness, module, path, env=env, check=False)
        result = json.loads(proc.stdout) if proc.stdout.strip().startswith('{') else {'failed': True, 'msg': proc.stderr[-300:]}
        try:
            with open(lab.node.path(phases)) as handle:
                spent = json.load(handle)
        except (OSError, ValueError):
            spent = {}
        rows.append({'task': n, 'module': module, 'direct': elapsed, 'ansible': task['end'] - task['start'], 'phases': spent,
                     'args_bytes': os.path.getsize(lab.node.path(path)), 'result_bytes': len(proc.stdout),
                     'changed': result.get('changed'), 'failed': result.get('failed'), 'msg': result.get('msg')})
    return rows


def report_time(res, role_timer, noop_timer):
    """Where the role's time goes: Ansible's part (from the -vvv run) and each module's own phases (run alone)."""
    tasks = role_timer['tasks']
    print('where the role\'s time goes (first run, %.2f s end to end; -vvv run on another fresh host, %.2f s):' % (res['role'], res['vvv']))
    print('  %6.2f s  ansible-playbook start-up to the first task' % (tasks[0]['start'] - role_timer['process_start']))
    print('  %6.2f s  end of the last task to process exit' % (res['role'] - (tasks[-1]['end'] - role_timer['process_start'])))
    print('  columns: run = the task in the first run; -vvv: controller before the module starts (templating the arguments, AnsiballZ) /')
    print('  on the host (ssh, module, arguments and result moved) / controller after (result parsed, registered) / -vvv printing it;')
    print('  alone = the module with the same arguments run directly on a fresh lab host: imports, AnsibleModule (argument checks),')
    print('  reconciler read (before and after), plan, apply, verify, result, exit_json, other; arguments / result size')
    replay = dict((r['task'], r) for r in res['replay'])
    vvv = res['vvv_phases'] if len(res['vvv_phases']) == len(tasks) else [{}] * len(tasks)
    for n, task in enumerate(tasks):
        module = task['action'].rsplit('.', 1)[-1]
        label = '%s (%s)' % (module.replace('validate_argument_spec', 'arg spec'), (task['role'] or 'site').rsplit('.', 1)[-1].replace('_network', ''))
        ph_v = vvv[n]
        split = ' '.join('%5.2f' % ph_v[k] if k in ph_v else '    -' for k in ('before', 'host', 'after', 'show'))
        row = replay.get(n)
        if row is None:
            note = 'controller: %s' % task['name'].split(' : ')[-1][:70] if not task['module'] else ('skipped' if task['skipped'] else '')
            print('  %-26s run %6.2f | -vvv %s | %s' % (label, task['end'] - task['start'], split, note))
            continue
        ph = row['phases']
        apply_ = ph.get('run', 0) - sum(ph.get(k, 0) for k in ('read', 'plan', 'verify', 'result'))
        parts = [ph.get('imports', 0), ph.get('arguments', 0), ph.get('read', 0), ph.get('plan', 0), apply_ if 'run' in ph else 0,
                 ph.get('verify', 0), ph.get('result', 0), ph.get('exit', 0)]
        parts.append(ph.get('total', 0) - sum(parts))
        print('  %-26s run %6.2f | -vvv %s | alone %5.2f = %s | %.0f/%.0f kB%s'
              % (label, task['end'] - task['start'], split, row['direct'], ' '.join('%.2f' % v for v in parts),
                 row['args_bytes'] / 1024.0, row['result_bytes'] / 1024.0, ' FAILED: %s' % row['msg'] if row['failed'] else ''))
    noop = ['%s %.2f' % (t['action'].rsplit('.', 1)[-1], t['end'] - t['start']) for t in noop_timer['tasks']]
    print('  no-op re-run per task: %s' % ', '.join(noop))


def main():
    parser = _bench.parser(__doc__, 'bench-bn')
    parser.add_argument('--networks', type=int, default=5)
    parser.add_argument('--per-network', type=int, default=100)
    parser.add_argument('--naive', type=int, default=20, help='containers the naive loop really builds (spread over the networks)')
    parser.add_argument('--dual-stack', action='store_true', help='every network and container IPv4 and IPv6 (NAT66, IPv6 isolation)')
    opts = parser.parse_args()
    if opts.smoke:
        opts.networks, opts.per_network, opts.naive = 2, 2, 2
    if not os.path.exists(os.path.join(CNI_PLUGINS, 'bridge')):
        raise SystemExit('%s/bridge missing: run scripts/bootstrap.sh (apt package containernetworking-plugins)' % CNI_PLUGINS)
    topo = Topology(opts.networks, opts.per_network, opts.dual_stack)
    containers = topo.containers()
    total = len(containers)
    naive_containers = topo.containers(max(1, opts.naive // opts.networks))
    lab = Lab(opts.lab, opts.keep)
    workdir = lab.workdir
    os.makedirs(os.path.join(workdir, 'callbacks'))
    with open(os.path.join(workdir, 'callbacks', 'bench_timer.py'), 'w') as handle:
        handle.write(TIMER)
    res = {'load': [os.getloadavg()[0]]}
    checks = []
    try:
        # (a) the floor
        lab.up()
        path = lab.put('floor.sh', floor_script(topo, containers))
        res['floor'], dummy = timed(lab.run, 'bash', path)
        checks.append(verify(lab, topo, containers, '(a) floor'))

        # (b) CNI
        lab.up()
        path = lab.put('cni.sh', cni_script(topo, containers, lab))
        # The bridge plugin's ipMasq runs iptables, which a stock server may lack: from the lab's repository, not timed.
        lab.node.ssh('command -v iptables >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive '
                     'apt-get install -y -qq --no-install-recommends iptables >/dev/null; }')
        res['cni'], dummy = timed(lab.run, 'bash', path)
        checks.append(verify(lab, topo, containers, '(b) CNI'))

        # (c) naive command loop on a few containers
        lab.up()
        rules = lab.put('naive.nft', nft_rules(topo, 'bench_naive'))
        inventory = os.path.join(workdir, 'naive-inventory.json')
        write_inventory(lab, inventory, topo, [])
        book = os.path.join(workdir, 'naive.yml')
        with open(book, 'w') as handle:
            json.dump(naive_playbook(topo, naive_containers, rules), handle, indent=1)
        res['naive_measured'], dummy, timer = playbook(workdir, inventory, book, 'naive')
        per_container = sum(t['end'] - t['start'] for t in timer['tasks'] if t['name'].startswith('per container'))
        res['naive_calls'] = sum(t['calls'] for t in timer['tasks'] if t['module'])
        res['naive'] = res['naive_measured'] - per_container + per_container * total / len(naive_containers)
        res['naive_parts'] = (res['naive_measured'] - per_container, per_container)
        checks.append(verify(lab, topo, naive_containers, '(c) naive'))

        # (d) the role, end to end, then the no-op re-run under the monitors
        lab.up()
        inventory = os.path.join(workdir, 'role-inventory.json')
        write_inventory(lab, inventory, topo, containers)
        site = os.path.join(ROOT, 'playbooks', 'site.yml')
        res['role'], out, role_timer = playbook(workdir, inventory, site, 'role')
        res['role_recap'] = recap(out, lab.host)
        # The kernel's own notifications after new bridge ports (forward-delay timer, 15 s; IPv6 DAD) are
        # not writes: start the no-op run once they are over.
        monitors = watch(lab, workdir)
        veth_end = max(t['end'] for t in role_timer['tasks'] if t['action'].endswith(('veth', 'host_network')))
        time.sleep(max(2.0, veth_end + SETTLE - time.time()))
        run_start = time.time()
        res['noop'], out, noop_timer = playbook(workdir, inventory, site, 'noop')
        res['noop_recap'] = recap(out, lab.host)
        res['monitors'] = unwatch(lab, monitors, containers[0]['name'], run_start)
        checks.append(verify(lab, topo, containers, '(d) role'))

        # The same first run with -vvv on the host wiped again: Ansible's share of each task, phase by phase.
        res['vvv'], res['vvv_phases'] = 0.0, []
        if not opts.smoke:
            lab.up()
            res['vvv'], marks, dummy = playbook(workdir, inventory, site, 'vvv', verbose=True)
            res['vvv_phases'] = vvv_phases(marks)
            checks.append(verify(lab, topo, containers, '(d) role, -vvv'))

        # Where the role's time goes: its modules run directly on the host wiped again.
        lab.up()
        res['replay'] = module_replay(lab, role_timer['tasks'])
        checks.append(dict(verify(lab, topo, containers, '(d) modules direct'), replay=True))
    finally:
        lab.down()
    res['load'].append(os.getloadavg()[0])

    print('%d containers on %d user-defined bridge networks (%d each); subnets given explicitly: %s .. %s (gateway .1), '
          'not from the pools' % (total, len(topo.networks), topo.per_network, topo.networks[0]['subnet'], topo.networks[-1]['subnet']))
    if topo.dual_stack:
        print('mode: dual stack (IPv4 and IPv6): IPv6 subnets %s .. %s (gateway ::1), addresses from ::2 without duplicate address '
              'detection, IPv6 default routes, NAT66, isolation for both families' % (topo.networks[0]['subnet6'], topo.networks[-1]['subnet6']))
    else:
        print('mode: IPv4 (--dual-stack for IPv4 and IPv6)')
    print('machine: %d CPUs, load average %.1f at the start, %.1f at the end (ratios come from one run; absolutes drift with load)'
          % (os.cpu_count(), res['load'][0], res['load'][1]))
    print('each variant on a freshly wiped lab host (lab %s); end state read back from the kernels and probed with traffic:' % opts.lab)
    for check in checks:
        print('  %-20s namespaces %4d  veth ports on the bridges %4d  eth0 addresses %4d  traffic probes %d  %s'
              % (check['label'], check['namespaces'], check['ports'], check['addresses'], check['probes'],
                 'OK' if not check['problems'] else 'PROBLEMS: ' + '; '.join(check['problems'][:5])))
    floor = res['floor']
    print()
    print('%-64s %9s %9s' % ('variant', 'seconds', 'vs floor'))
    rows = [('(a) floor: ip -batch, ip -n NS -batch per netns, nft -f', floor),
            ('(b) CNI bridge + host-local + ipMasq (+ loopback, + nft isolation)', res['cni']),
            ('(c) naive command: loop, EXTRAPOLATED from %d to %d containers' % (len(naive_containers), total), res['naive']),
            ('    (c) as measured on %d containers (%d module calls)' % (len(naive_containers), res['naive_calls']), res['naive_measured']),
            ('(d) role: ansible-playbook playbooks/site.yml, end to end', res['role']),
            ('(d) role: no-op re-run', res['noop']),
            ('    (d) its module calls alone (same arguments, run on the host)', sum(r['direct'] for r in res['replay']))]
    for label, seconds in rows:
        print('%-64s %9.2f %9.2f' % (label, seconds, seconds / floor))
    print('(c) extrapolation: fixed part (playbook start, forwarding, bridges, nft) %.2f s as measured + per-container tasks %.2f s '
          'x %d/%d' % (res['naive_parts'][0], res['naive_parts'][1], total, len(naive_containers)))
    print('CNI / role: %.2f (target >= 6)    role / floor: %.2f (target <= 1)    naive / role: %.1f'
          % (res['cni'] / res['role'], res['role'] / floor, res['naive'] / res['role']))
    mon = res['monitors']
    print('no-op re-run: recap %s' % ' '.join('%s=%s' % kv for kv in sorted(res['noop_recap'].items())))
    gc = sum(1 for line in mon['ip']['neigh'] if 'Deleted' in line and 'NOARP' in line)
    print('  kernel writes during it: ip monitor all (lab host + its %d netns): %d link/address/route/... events, %d NEIGH '
          '(kernel neighbour timers/GC, not writes; %d of them "Deleted ... NOARP") [%s]; nft monitor: %d events [%s]; '
          'before it, while settling: %d ip events'
          % (total, len(mon['ip']['events']), len(mon['ip']['neigh']), gc, 'live' if mon['ip']['live'] else 'NOT LIVE',
             len(mon['nft']['events']), 'live' if mon['nft']['live'] else 'NOT LIVE', mon['ip']['settling']))
    for line in (mon['ip']['events'] + mon['nft']['events'])[:10] + mon['ip']['neigh'][:3]:
        print('   event: %s' % line[:150])
    for task in noop_timer['tasks']:
        if task['changed']:
            print('   changed in the no-op run: %s: %s' % (task['action'], '; '.join(task['actions'])[:300]))
    roles = {}
    for task in role_timer['tasks']:
        if task['module'] and task['role']:
            roles.setdefault(task['role'], []).append(task)
    print('module calls per host: %s; naive %d for %d containers'
          % ('; '.join('%s %d for %d containers (%s run, %s skipped; %s)'
                       % (role, sum(t['calls'] for t in ts), total, ', '.join(t['action'].rsplit('.', 1)[-1] for t in ts if t['calls']),
                          ', '.join(t['action'].rsplit('.', 1)[-1] for t in ts if not t['calls']) or 'none',
                          'at most one call per task' if max(t['calls'] for t in ts) <= 1 else 'SOME TASK LOOPS')
                       for role, ts in sorted(roles.items())), res['naive_calls'], len(naive_containers)))
    print()
    report_time(res, role_timer, noop_timer)
    inv = _bench.Invariants()
    for check in checks:
        inv.check('%s: state and traffic as expected' % check['label'], not check['problems'], '; '.join(check['problems'][:5]))
    inv.equal('(d) no-op re-run: changed and failed in the recap', (res['noop_recap'].get('changed'), res['noop_recap'].get('failed')), (0, 0))
    inv.equal('(d) no-op re-run: monitors live', (mon['ip']['live'], mon['nft']['live']), (True, True))
    inv.equal('(d) no-op re-run: kernel writes seen (ip, nft)', (len(mon['ip']['events']), len(mon['nft']['events'])), (0, 0))
    inv.equal('(d) modules replayed directly: failed', [r['module'] for r in res['replay'] if r['failed']], [])
    return inv.report()


if __name__ == '__main__':
    sys.exit(main())
