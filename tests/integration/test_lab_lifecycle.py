# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stopping a lab leaves the machine's links, namespaces, mounts, processes and files as they were."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from pyroute2 import IPRoute

from labkit import Lab, STATE_ROOT, lab_name

LAB = lab_name('lifecycle')


def lab_namespaces(lab):
    """(kind, dev, inode) of every namespace of a running lab: each host's own net and mount
    namespaces and the named network namespaces inside it."""
    found = set()
    for pid in [lab.state['switch_pid']] + [h['pid'] for h in lab.state['hosts']]:
        for kind in ('net', 'mnt'):
            st = os.stat('/proc/%d/ns/%s' % (pid, kind))
            found.add((kind, st.st_dev, st.st_ino))
        netns_dir = '/proc/%d/root/run/netns' % pid
        for name in os.listdir(netns_dir) if os.path.isdir(netns_dir) else []:
            st = os.stat(os.path.join(netns_dir, name))
            found.add(('net', st.st_dev, st.st_ino))
    return found


def processes_of(namespaces):
    """Processes inside any of the namespaces, or carrying this lab's marker."""
    found = set()
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % entry, 'rb') as handle:
                cmdline = handle.read().replace(b'\0', b' ').decode(errors='replace').strip()
            net = os.stat('/proc/%s/ns/net' % entry)
            mnt = os.stat('/proc/%s/ns/mnt' % entry)
        except OSError:
            continue
        inside = ('net', net.st_dev, net.st_ino) in namespaces or ('mnt', mnt.st_dev, mnt.st_ino) in namespaces
        if inside or 'linuxnet-lab:%s:' % LAB in cmdline:
            found.add((int(entry), cmdline))
    return found


def snapshot():
    """What a lab could leave behind on the machine itself (other labs may run meanwhile)."""
    with IPRoute() as ipr:
        links = sorted((link['index'], link.get('ifname')) for link in ipr.link('dump'))
    with open('/proc/self/mountinfo') as handle:
        mounts = sorted(line.split(' - ')[0].split(' ', 4)[4] for line in handle)
    # Labs of other tests, which run side by side (pytest-xdist), mount and unmount their hosts' roots meanwhile.
    ours = os.path.join(STATE_ROOT, LAB) + '/'
    mounts = [m for m in mounts if not m.startswith(STATE_ROOT + '/') or m.startswith(ours)]
    return {
        'links': links,
        'mounts': mounts,
        'netns': sorted(os.listdir('/run/netns')) if os.path.isdir('/run/netns') else None,
        'lab_state': os.path.exists(os.path.join(STATE_ROOT, LAB)),
        'wtmp': os.stat('/var/log/wtmp').st_size if os.path.exists('/var/log/wtmp') else None,
        'cgroups': [tree for tree in ('/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified')
                    if os.path.exists(os.path.join(tree, 'linuxnet-lab', LAB))],
        'nspawn': sorted(name for name in (os.listdir('/run/systemd/nspawn/propagate')
                                           if os.path.isdir('/run/systemd/nspawn/propagate') else [])
                         if name.startswith(LAB + '-')),
    }


def test_stopping_the_lab_leaves_the_machine_as_it_was(tmp_path):
    before = snapshot()
    lab = Lab(LAB, 2)
    try:
        # Give the lab real work: namespaces made by the module, a veth in one of them, and a
        # long-running process inside a container namespace, started over ssh.
        results = lab.ansible('all', 'linuxnet.container.netns', {'namespaces': [{'name': 'c1'}, {'name': 'c2'}]}, tmp_path)
        assert all(status == 'ok' and res['changed'] for status, res in results.values()), results
        lab.ssh('docker-node1', 'ip -n c1 link add v0 type veth peer name v1; '
                                'setsid ip netns exec c2 sleep 600 </dev/null >/dev/null 2>&1 &')
        during = snapshot()
        namespaces = lab_namespaces(lab)
        # The background sleep is started over ssh and may still be exec'ing: wait for it, bounded.
        deadline = time.time() + 10
        running = processes_of(namespaces)
        while not any('sleep 600' in cmd for _pid, cmd in running) and time.time() < deadline:
            time.sleep(0.1)
            running = processes_of(namespaces)
        assert any('sleep 600' in cmd for _pid, cmd in running), running
        assert lab.namespaces('docker-node1') == ['c1', 'c2']
        # The machine's own namespace never sees the lab's links: peers are created in place.
        assert during['links'] == before['links']
    finally:
        lab.down()
    deadline = time.time() + 10
    while processes_of(namespaces) and time.time() < deadline:
        time.sleep(0.2)
    assert processes_of(namespaces) == set()
    assert snapshot() == before


def test_a_lab_host_reboots_for_real(tmp_path):
    """reboot: runtime network state is gone, the disk stays, the host answers again with a new boot id."""
    lab = Lab(lab_name('reboot'), 1, prepare=False)
    host = 'docker-node1'
    try:
        for hard in (False, True):
            boot_id = lab.ssh(host, 'cat /proc/sys/kernel/random/boot_id').strip()
            pid = lab.pid(host)
            lab.ssh(host, 'ip netns add before-reboot && touch /root/kept-on-disk')
            assert lab.namespaces(host) == ['before-reboot']
            lab.reboot(host, hard=hard)
            assert lab.pid(host) != pid and not os.path.exists('/proc/%d/ns' % pid)
            assert lab.ssh(host, 'cat /proc/sys/kernel/random/boot_id').strip() != boot_id
            assert lab.namespaces(host) == []
            assert lab.ssh(host, 'ls /root/kept-on-disk').strip() == '/root/kept-on-disk'
            assert lab.ssh(host, 'systemctl is-system-running --wait').strip() in ('running', 'degraded')
            # The underlay is back: the host reaches the router.
            lab.ssh(host, 'ping -c 1 -W 2 %s' % lab.state['router'])
    finally:
        lab.down()


def test_the_shipped_lab_inventory_follows_lab_name(tmp_path):
    """`make lab LAB_NAME=x` converges lab x: the Makefile exports the name, the inventory reads its ssh config."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    inventory = os.path.join(root, 'playbooks', 'inventories', 'lab')
    for name in (None, 'other'):
        env = {k: v for k, v in os.environ.items() if k not in ('LINUXNET_LAB_NAME', 'LINUXNET_LAB_ROOT')}
        if name:
            env['LINUXNET_LAB_NAME'] = name
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible'), '-i', inventory, 'lab', '-m',
                               'ansible.builtin.debug', '-a', 'var=ansible_ssh_args', '-o'], env=env, cwd=str(tmp_path),
                              capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
        want = '-F %s/%s/ssh_config' % (STATE_ROOT, name or 'lab')
        assert proc.stdout.count(want) == 3, proc.stdout
    # What every recipe of the Makefile sees (an extra rule, evaluated after the Makefile is read).
    make = subprocess.run(['make', '-s', '--eval', 'lab-name: ; @echo "$$LINUXNET_LAB_NAME"', 'lab-name', 'LAB_NAME=other'],
                          cwd=root, capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL)
    assert make.stdout.strip() == 'other', make.stdout
