# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Namespaces that real processes hold (a runtime's container, ``ip netns exec``): teardown, re-converge, kill."""

from __future__ import annotations

import json
import os
import time

from pyroute2 import IPRoute

from labkit import ROOT

SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
TEARDOWN = os.path.join(ROOT, 'playbooks', 'teardown.yml')
HOST = 'docker-node1'
TAG = 'linuxnet.container'
CONTAINERS = {'linuxnet_containers': [{'name': 'web', 'ports': ['8080:80']}, {'name': 'db', 'networks': ['front']}],
              'linuxnet_networks': [{'name': 'front', 'subnet': '173.20.0.0/16'}]}


def run(lab, playbook, tmp_path, *extra, inventory=None):
    """Run a playbook with the test's containers (extra vars: every host of the lab gets them)."""
    path = tmp_path / 'containers.json'
    path.write_text(json.dumps(inventory or CONTAINERS))
    return lab.playbook(playbook, tmp_path, extra=('-e', '@%s' % path) + extra)


def start_holder(lab, namespace):
    """A process inside a container's namespace, as a runtime's would be; its PID."""
    return int(lab.ssh(HOST, 'ip netns exec %s setsid sleep 600 >/dev/null 2>&1 < /dev/null & echo $!' % namespace))


def alive(lab, pid):
    """True while the process a lab host knows as PID runs (a zombie waiting for its parent has ended)."""
    found = lab.machine_pid(HOST, pid)
    try:
        with open('/proc/%d/stat' % found) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, TypeError):
        return False


def stop(lab, pids):
    """End the holders this test started, by PID, after checking they are still its sleep."""
    for pid in pids:
        found = lab.machine_pid(HOST, pid)
        try:
            with open('/proc/%d/cmdline' % found, 'rb') as handle:
                if handle.read().split(b'\0')[:2] == [b'sleep', b'600']:
                    os.kill(found, 15)
        except (OSError, TypeError):
            pass


def links(netns_path):
    """{name: (alias, addresses)} of every link of a namespace, read with pyroute2."""
    with IPRoute(netns=netns_path, flags=0) as ipr:
        addrs = {}
        for msg in ipr.addr('dump'):
            addrs.setdefault(msg['index'], []).append('%s/%d' % (msg.get('address'), msg['prefixlen']))
        return {msg.get('ifname'): (msg.get('ifalias'), sorted(addrs.get(msg['index'], []))) for msg in ipr.link('dump')}


def tagged(lab):
    return sorted(name for name, (alias, _addrs) in links('/proc/%d/ns/net' % lab.pid(HOST)).items() if alias == TAG)


def tables(lab):
    return sorted(t['table']['name'] for t in json.loads(lab.ssh(HOST, 'nft -j list tables'))['nftables'] if 'table' in t)


def changed(proc):
    return [line for line in proc.stdout.splitlines() if 'changed=' in line and 'changed=0' not in line]


def test_teardown_reconverge_and_kill_while_processes_hold_namespaces(lab2, tmp_path):
    started = []
    try:
        assert run(lab2, SITE, tmp_path).returncode == 0
        assert len(tagged(lab2)) == 4  # docker0, br-front and the host ends of web and db
        started.append(start_holder(lab2, 'web'))
        held = started[-1]

        # Teardown succeeds, warns with the holder's PID and leaves nothing of ours: no tagged link on the host,
        # nothing but lo (without addresses beyond 127.0.0.1) in the namespace the holder still runs in, no table.
        down = run(lab2, TEARDOWN, tmp_path)
        assert down.returncode == 0, down.stdout
        assert 'network namespace web is still used by processes %d (sleep)' % held in down.stderr, down.stderr
        assert tagged(lab2) == []
        # (IPv6 is off in a container with no IPv6 network, as in Docker: no ::1 on its lo.)
        assert links(lab2.proc(HOST, held) + '/ns/net') == {'lo': (TAG, ['127.0.0.1/8'])}
        assert [t for t in tables(lab2) if t.startswith('linuxnet')] == []
        assert lab2.namespaces(HOST) == []
        assert alive(lab2, held)

        # Converging again needs no manual step, and is idempotent with a new holder in the new namespace.
        assert run(lab2, SITE, tmp_path).returncode == 0
        started.append(start_holder(lab2, 'web'))
        again = run(lab2, SITE, tmp_path)
        assert again.returncode == 0 and not changed(again), again.stdout

        # A runtime restarts and deletes the namespace's name while its process still runs: the host end of web's
        # pair stays, its peer in a namespace nothing names. The next converge replaces it.
        lab2.ssh(HOST, 'ip netns delete web')
        orphan = started[-1]
        before = links(lab2.proc(HOST, orphan) + '/ns/net')
        assert 'eth0' in before
        fixed = run(lab2, SITE, tmp_path, '-v')
        assert fixed.returncode == 0, fixed.stdout
        assert 'its peer is in a network namespace that has no name any more' in fixed.stdout
        assert set(links(lab2.proc(HOST, orphan) + '/ns/net')) == {'lo'}
        assert 'eth0' in links(lab2.host_path(HOST, '/run/netns/web'))
        assert len(tagged(lab2)) == 4
        third = run(lab2, SITE, tmp_path)
        assert third.returncode == 0 and not changed(third), third.stdout

        # kill_holders: teardown stops exactly the processes inside the namespaces it removes.
        started.append(start_holder(lab2, 'web'))
        killed = started[-1]
        check = run(lab2, TEARDOWN, tmp_path, '--check', '-e', 'linuxnet_teardown_kill_holders=true')
        assert check.returncode == 0 and alive(lab2, killed)
        final = run(lab2, TEARDOWN, tmp_path, '-v', '-e', 'linuxnet_teardown_kill_holders=true')
        assert final.returncode == 0, final.stdout
        assert 'stop processes %d (sleep) in network namespace web' % killed in final.stdout
        deadline = time.monotonic() + 15
        while alive(lab2, killed) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(lab2, killed)
        assert alive(lab2, held) and alive(lab2, orphan)  # not in a namespace the teardown removed
        assert tagged(lab2) == [] and lab2.namespaces(HOST) == []
    finally:
        stop(lab2, started)
        run(lab2, TEARDOWN, tmp_path)


def eth0_address(lab, container):
    return links(lab.host_path(HOST, '/run/netns/%s' % container))['eth0'][1][0]


def test_the_allocator_skips_addresses_the_host_holds_and_a_static_one_there_is_refused(lab2, tmp_path):
    front = [{'name': 'front', 'subnet': '173.20.0.0/16', 'bridge_name': 'br-front'}]
    two = {'linuxnet_networks': front, 'linuxnet_containers': [{'name': 'web', 'networks': ['front']},
                                                               {'name': 'db', 'networks': ['front']}]}
    try:
        assert run(lab2, SITE, tmp_path, inventory=two).returncode == 0
        assert (eth0_address(lab2, 'web'), eth0_address(lab2, 'db')) == ('173.20.0.2/16', '173.20.0.3/16')
        # Addresses nobody in the inventory assigned: one in db's namespace, one more on the bridge.
        lab2.ssh(HOST, 'ip -n db link add x1 type veth peer name x2 && ip -n db addr add 173.20.0.4/16 dev x1 && '
                       'ip addr add 173.20.0.5/16 dev br-front')
        three = dict(two, linuxnet_containers=two['linuxnet_containers'] + [{'name': 'new', 'networks': ['front']}])
        assert run(lab2, SITE, tmp_path, inventory=three).returncode == 0
        assert eth0_address(lab2, 'new') == '173.20.0.6/16'

        static = dict(two, linuxnet_containers=three['linuxnet_containers'] + [
            {'name': 'fixed', 'networks': [{'name': 'front', 'ipv4_address': '173.20.0.4'}]}])
        before = lab2.namespaces(HOST)
        refused = run(lab2, SITE, tmp_path, inventory=static)
        assert refused.returncode != 0
        assert ('container fixed: network front: ipv4_address 173.20.0.4: Address already in use: x1 in network '
                'namespace db already holds it') in refused.stdout, refused.stdout
        assert lab2.namespaces(HOST) == before
    finally:
        run(lab2, TEARDOWN, tmp_path, inventory=two)


def test_removing_a_second_name_leaves_the_shared_namespace_and_its_processes_alone(lab2, tmp_path):
    """container:web's name goes; web's namespace, its links and the process in it stay, even with kill_holders."""
    both = {'linuxnet_containers': [{'name': 'web'}, {'name': 'side', 'network_mode': 'container:web'}]}
    started = []
    try:
        assert run(lab2, SITE, tmp_path, inventory=both).returncode == 0
        started.append(start_holder(lab2, 'web'))
        alone = {'linuxnet_containers': both['linuxnet_containers'][:1]}
        proc = run(lab2, SITE, tmp_path, '-e', 'linuxnet_kill_holders=true', inventory=alone)
        assert proc.returncode == 0, proc.stdout
        assert 'still used by processes' not in proc.stderr
        assert lab2.namespaces(HOST) == ['web']
        assert 'eth0' in links(lab2.proc(HOST, started[0]) + '/ns/net') and alive(lab2, started[0])
    finally:
        stop(lab2, started)
        run(lab2, TEARDOWN, tmp_path, inventory=both)
