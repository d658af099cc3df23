# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml and teardown.yml against a lab, with inventories written by the test."""

from __future__ import annotations

import json
import os
import re

from labkit import ROOT

SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
TEARDOWN = os.path.join(ROOT, 'playbooks', 'teardown.yml')


def inventory(lab, tmp_path, host_vars):
    data = json.load(open(lab.inventory))
    for host, hv in host_vars.items():
        data['all']['children']['lab']['hosts'][host].update(hv)
    path = tmp_path / 'inventory.json'
    path.write_text(json.dumps(data))
    return str(path)


def test_invalid_inventory_fails_before_any_host_changes(lab2, tmp_path):
    inv = inventory(lab2, tmp_path, {
        'docker-node1': {'linuxnet_containers': [{'name': 'good1'}, {'name': 'good2'}]},
        'docker-node2': {'linuxnet_containers': [{'name': 'ok'}, {'name': 'side', 'network_mode': 'container:nope'}]},
    })
    before = {h: lab2.namespaces(h) for h in lab2.hosts}
    proc = lab2.playbook(SITE, tmp_path, inventory=inv)
    assert proc.returncode != 0
    assert 'host docker-node2: linuxnet_containers[1] (side): network_mode container:nope: No such container: nope' in proc.stdout
    assert {h: lab2.namespaces(h) for h in lab2.hosts} == before


def test_subnets_that_collide_with_the_hosts_fail_before_any_host_changes(lab2, tmp_path):
    before = {h: lab2.namespaces(h) for h in lab2.hosts}
    cases = [
        # The default network's 172.17.0.0/16, taken by a user network: refused for the whole inventory.
        ('172.17.0.0/16', 'host docker-node1: linuxnet_networks: subnet 172.17.0.0/16 of front overlaps subnet '
                          '172.17.0.0/16 of bridge (the default network, docker0) (Pool overlaps with other one on this '
                          'address space)'),
        # A subnet the host routes already (the lab's underlay on eth0), read from the host before any change.
        ('192.0.2.128/25', 'host docker-node1: network front: subnet 192.0.2.128/25 overlaps the route to 192.0.2.0/24 on '
                           'eth0, which this host has already (Pool overlaps with other one on this address space)'),
    ]
    for subnet, message in cases:
        inv = inventory(lab2, tmp_path, {'docker-node1': {'linuxnet_networks': [{'name': 'front', 'subnet': subnet}],
                                                          'linuxnet_containers': [{'name': 'a', 'networks': ['front']}]},
                                         'docker-node2': {'linuxnet_containers': [{'name': 'b'}]}})
        proc = lab2.playbook(SITE, tmp_path, inventory=inv)
        assert proc.returncode != 0 and message in proc.stdout, proc.stdout
        assert {h: lab2.namespaces(h) for h in lab2.hosts} == before


def test_site_converges_prunes_and_teardown_removes_everything(lab2, tmp_path):
    inv = inventory(lab2, tmp_path, {
        'docker-node1': {'linuxnet_containers': [{'name': 'web'}, {'name': 'side', 'network_mode': 'container:web'},
                                                 {'name': 'iso', 'network_mode': 'none'}, {'name': 'h', 'network_mode': 'host'}]},
        'docker-node2': {'linuxnet_containers': [{'name': 'db'}]},
    })
    proc = lab2.playbook(SITE, tmp_path, inventory=inv)
    assert proc.returncode == 0, proc.stdout
    # side is a second name of web's namespace (docker run --network container:web).
    assert lab2.namespaces('docker-node1') == ['iso', 'side', 'web']
    assert lab2.namespaces('docker-node2') == ['db']

    again = lab2.playbook(SITE, tmp_path, inventory=inv)
    assert again.returncode == 0 and 'changed=0' in again.stdout and 'changed=1' not in again.stdout, again.stdout

    # A container leaves the inventory: its namespace is pruned on the next converge.
    inv = inventory(lab2, tmp_path, {'docker-node1': {'linuxnet_containers': [{'name': 'web'}]},
                                     'docker-node2': {'linuxnet_containers': [{'name': 'db'}]}})
    assert lab2.playbook(SITE, tmp_path, inventory=inv).returncode == 0
    assert lab2.namespaces('docker-node1') == ['web']

    proc = lab2.playbook(TEARDOWN, tmp_path, inventory=inv)
    assert proc.returncode == 0, proc.stdout
    assert lab2.namespaces('docker-node1') == [] and lab2.namespaces('docker-node2') == []


def test_bridges_keep_a_fixed_mac_as_containers_come_and_go(lab2, tmp_path):
    """Docker's 02:42 + the gateway's IPv4 on every bridge, set at creation, kept when ports change, repaired."""
    host = 'docker-node1'

    def macs():
        return {link['ifname']: link['address'] for link in json.loads(lab2.ssh(host, 'ip -j link show type bridge'))}

    nets = [{'name': 'front', 'subnet': '10.77.0.0/24'}]
    both = inventory(lab2, tmp_path, {host: {'linuxnet_networks': nets, 'linuxnet_containers': [
        {'name': 'm1'}, {'name': 'm2'}, {'name': 'f1', 'networks': ['front']}]}})
    try:
        assert lab2.playbook(SITE, tmp_path, inventory=both).returncode == 0
        first = macs()
        front = next(name for name in first if name.startswith('br-'))
        assert first['docker0'] == '02:42:ac:11:00:01' and first[front] == '02:42:0a:4d:00:01', first
        # The ports' MACs are not the bridge's: the kernel would otherwise have taken the lowest of them.
        ports = json.loads(lab2.ssh(host, 'ip -j link show master docker0'))
        assert len(ports) == 2 and first['docker0'] not in {p['address'] for p in ports}
        one = inventory(lab2, tmp_path, {host: {'linuxnet_networks': nets, 'linuxnet_containers': [
            {'name': 'm2'}, {'name': 'f1', 'networks': ['front']}]}})
        assert lab2.playbook(SITE, tmp_path, inventory=one).returncode == 0
        assert macs()['docker0'] == '02:42:ac:11:00:01'
        # Changed by hand: one run puts it back and says so, the next changes nothing.
        lab2.ssh(host, 'ip link set docker0 address 02:00:00:00:00:99')
        repair = lab2.playbook(SITE, tmp_path, inventory=one, extra=['--diff'])
        assert repair.returncode == 0 and '02:42:ac:11:00:01' in repair.stdout, repair.stdout
        assert macs()['docker0'] == '02:42:ac:11:00:01'
        again = lab2.playbook(SITE, tmp_path, inventory=one)
        assert again.returncode == 0 and 'changed=1' not in again.stdout, again.stdout
    finally:
        assert lab2.playbook(TEARDOWN, tmp_path, inventory=both).returncode == 0


def test_published_ports_answer_containers_of_other_networks(lab2, tmp_path):
    """A frontend network calls an API another network publishes, through the host's address and through the API
    network's gateway, with no userland proxy (Docker answers through docker-proxy); isolation still drops direct
    traffic between the networks, and an internal network reaches nothing."""
    host = 'docker-node1'
    nets = [{'name': 'api', 'subnet': '10.78.1.0/24'}, {'name': 'front', 'subnet': '10.78.2.0/24'},
            {'name': 'closed', 'subnet': '10.78.3.0/24', 'internal': True}]
    inv = inventory(lab2, tmp_path, {host: {'linuxnet_networks': nets, 'linuxnet_containers': [
        {'name': 'srv', 'networks': [{'name': 'api', 'ipv4_address': '10.78.1.5'}], 'ports': ['8090:80']},
        {'name': 'cli', 'networks': ['front']}, {'name': 'shut', 'networks': ['closed']}]}})
    server = None
    try:
        assert lab2.playbook(SITE, tmp_path, inventory=inv).returncode == 0
        lab2.ssh(host, 'mkdir -p /tmp/api-www && echo api-page > /tmp/api-www/index.html')
        server = int(lab2.ssh(host, 'ip netns exec srv setsid python3 -m http.server 80 --directory /tmp/api-www '
                                    '>/dev/null 2>&1 < /dev/null & echo $!'))
        lab2.ssh(host, 'for i in $(seq 50); do ip netns exec srv curl -s -m 1 http://127.0.0.1/ >/dev/null && exit 0; '
                       'sleep 0.1; done; exit 1')

        def get(ns, url):
            out = lab2.ssh(host, 'ip netns exec %s curl -s -m 2 %s; echo " rc=$?"' % (ns, url)).rsplit(' rc=', 1)
            return out[0].strip() if out[1].strip() == '0' else None

        assert get('cli', 'http://192.0.2.11:8090/') == 'api-page'   # the host's address
        assert get('cli', 'http://10.78.1.1:8090/') == 'api-page'    # the API network's gateway
        assert get('cli', 'http://10.78.1.5:80/') is None            # isolation: not the container itself
        assert get('shut', 'http://10.78.3.1:8090/') is None         # internal: no way out, published or not
        # Internal, as Docker: the default route stays (via the gateway) and what leaves by it is dropped.
        assert [r.get('gateway') for r in json.loads(lab2.ssh(host, 'ip netns exec shut ip -j route show default'))] == ['10.78.3.1']
        assert lab2.ssh(host, 'ip netns exec shut ping -c1 -W1 192.0.2.1 >/dev/null 2>&1 && echo yes || echo no').strip() == 'no'
    finally:
        if server is not None:
            lab2.ssh(host, 'kill %d' % server)
        assert lab2.playbook(TEARDOWN, tmp_path, inventory=inv).returncode == 0


def test_a_host_process_on_a_published_port_is_refused_before_the_host_changes(lab2, tmp_path):
    """Docker refuses to publish a port a host process listens on; so do we, naming the process. A process that
    binds the port after it is published only gets a warning on later runs: the port was the container's first."""
    host = 'docker-node1'
    inv = inventory(lab2, tmp_path, {host: {'linuxnet_containers': [{'name': 'pub', 'ports': ['8095:80']}]}})
    before = lab2.namespaces(host)
    squatter = int(lab2.ssh(host, 'setsid python3 -m http.server 8095 --bind 0.0.0.0 >/dev/null 2>&1 < /dev/null & '
                                  'echo $!'))
    late = None
    try:
        lab2.ssh(host, 'for i in $(seq 50); do curl -s -m 1 -o /dev/null http://127.0.0.1:8095/ && exit 0; sleep 0.1; '
                       'done; exit 1')
        for extra in (['--check'], []):
            proc = lab2.playbook(SITE, tmp_path, inventory=inv, extra=extra)
            assert proc.returncode != 0, proc.stdout
            assert ('pub 8095:80 publishes 0.0.0.0:8095/tcp, but a host socket listens on 0.0.0.0:8095/tcp (%d (python3)): '
                    'listen tcp4 0.0.0.0:8095: bind: address already in use' % squatter) in proc.stdout, proc.stdout
            assert 'Fix: stop that process or move it to another port, or publish another host port' in proc.stdout
            assert lab2.namespaces(host) == before  # refused before any part ran
        lab2.ssh(host, 'kill %d' % squatter)
        squatter = None
        assert lab2.playbook(SITE, tmp_path, inventory=inv).returncode == 0
        # Bound later, on loopback only: shadowed (its clients get the container), warned about, not refused.
        late = int(lab2.ssh(host, 'setsid python3 -m http.server 8095 --bind 127.0.0.1 >/dev/null 2>&1 < /dev/null & '
                                  'echo $!'))
        lab2.ssh(host, 'for i in $(seq 50); do ss -Hltn "sport = :8095" | grep -q . && exit 0; sleep 0.1; done; exit 1')
        again = lab2.playbook(SITE, tmp_path, inventory=inv)
        assert again.returncode == 0 and 'changed=1' not in again.stdout, again.stdout
        shown = ' '.join((again.stdout + again.stderr).split())  # warnings go to stderr, wrapped
        assert 'a host socket listens on 127.0.0.1:8095/tcp (%d (python3))' % late in shown, shown
        assert 'Clients of 0.0.0.0:8095 reach the container, not that process' in shown
    finally:
        for pid in (squatter, late):
            if pid is not None:
                lab2.ssh(host, 'kill %d' % pid)
        assert lab2.playbook(TEARDOWN, tmp_path, inventory=inv).returncode == 0


# What the two-call layout of earlier versions left on a host: the bridge_network record without the overlay parts,
# which were the overlay_network record (the arguments of the second call), in that order.
SPLIT_RECORD = r'''
import json
path = '/var/lib/linuxnet-container/desired.json'
doc = json.load(open(path))
first = doc['records'][0]
second = {'name': 'overlay_network', 'args': {part: first['args'].pop(part) for part in ('vxlan', 'macvlan', 'vtep_filter')
                                               if part in first['args']}}
assert second['args'], first
doc['records'].append(second)
open(path, 'w').write(json.dumps(doc, indent=1, sort_keys=True) + '\n')
'''


CONVERGE = 'Namespaces, bridges, endpoints, overlays, macvlan endpoints, isolation, published ports and the VTEP filter'
MODULE_READ = 'Read the bridges, endpoints, routes and published ports the host holds'


def task_lines(out, task):
    """The per-host lines (ok:, changed:, skipping:) Ansible printed under ``task``."""
    block = out.split('TASK [linuxnet.container.bridge_network : %s]' % task, 1)[1].split('\nTASK [', 1)[0]
    return [line for line in block.splitlines() if line.startswith(('ok:', 'changed:', 'skipping:', 'fatal:'))]


def test_one_call_per_host_and_a_host_of_the_two_call_layout_ends_with_one_record(lab2, tmp_path):
    """site.yml converges each host with one read and one host_network call, overlays included (and predicts it in
    check mode on hosts with no container yet). A host whose record the earlier two-call layout wrote
    (bridge_network, then overlay_network) keeps its kernel state and ends with the one bridge_network record; the
    next run changes nothing, and makes one Python process per host: the host answers the read with its recorded
    code, and host_network is skipped. Drift (a bridge deleted by hand) is still found, predicted by check mode and
    repaired in one run. Teardown removes everything, the record with it."""
    nets = [{'name': 'ovm', 'driver': 'overlay', 'subnet': '10.84.0.0/24'}]
    inv = inventory(lab2, tmp_path, {
        'docker-node1': {'linuxnet_networks': nets, 'linuxnet_containers': [{'name': 'o1', 'networks': ['ovm']}]},
        'docker-node2': {'linuxnet_networks': nets, 'linuxnet_containers': [{'name': 'o2', 'networks': ['ovm']}]},
    })

    def records(host):
        return [r['name'] for r in json.loads(lab2.ssh(host, 'cat /var/lib/linuxnet-container/desired.json'))['records']]
    before = {host: lab2.namespaces(host) for host in ('docker-node1', 'docker-node2')}
    try:
        checked = lab2.playbook(SITE, tmp_path, inventory=inv, extra=['--check'])
        assert checked.returncode == 0, checked.stdout
        assert {host: lab2.namespaces(host) for host in before} == before
        proc = lab2.playbook(SITE, tmp_path, inventory=inv)
        assert proc.returncode == 0, proc.stdout
        assert proc.stdout.count('TASK [linuxnet.container.') == checked.stdout.count('TASK [linuxnet.container.')
        for out in (checked.stdout, proc.stdout):  # one read (raw, else the module), one plan, one converge
            tasks = [line for line in out.splitlines() if line.startswith('TASK [linuxnet.container.')]
            # (Besides: the EVPN tasks, a stat of FRR's drop-in and the include of evpn.yml, and the release of etcd
            # leases on the controller, all skipped here.)
            assert len([t for t in tasks if 'bridge_network : ' in t and 'Validating arguments' not in t
                        and 'FRR' not in t and 'etcd leases' not in t]) == 4, tasks
            assert not [t for t in tasks if 'overlay_network' in t], tasks
            # Nothing recorded yet: the module reads, host_network converges.
            assert not [line for line in task_lines(out, MODULE_READ) if line.startswith('skipping:')], out
        o2 = json.loads(lab2.ssh('docker-node2', 'ip -n o2 -j addr show dev eth0'))[0]['addr_info'][0]['local']
        lab2.ssh('docker-node1', 'ip netns exec o1 ping -c 1 -W 2 %s' % o2)
        for host in ('docker-node1', 'docker-node2'):
            assert records(host) == ['bridge_network']
            lab2.ssh(host, "python3 - <<'EOF'\n%sEOF" % SPLIT_RECORD)
            assert records(host) == ['bridge_network', 'overlay_network']
        moved = lab2.playbook(SITE, tmp_path, inventory=inv, extra=['--diff'])
        assert moved.returncode == 0, moved.stdout
        assert 'changed: [docker-node1]' in moved.stdout and 'changed: [docker-node2]' in moved.stdout
        for host in ('docker-node1', 'docker-node2'):
            assert records(host) == ['bridge_network']
        again = lab2.playbook(SITE, tmp_path, inventory=inv)
        assert again.returncode == 0 and not re.search(r'changed=[1-9]', again.stdout), again.stdout
        for out in (again.stdout, lab2.playbook(SITE, tmp_path, inventory=inv, extra=['--check']).stdout):
            # Settled: the hosts answered the read themselves, and hold this plan with nothing to change.
            assert sorted(task_lines(out, MODULE_READ)) == ['skipping: [docker-node1]', 'skipping: [docker-node2]'], out
            assert sorted(task_lines(out, CONVERGE)) == ['skipping: [docker-node1]', 'skipping: [docker-node2]'], out
        # Drift the recorded state does not hold: a bridge deleted (its veths stay, off any bridge).
        lab2.ssh('docker-node1', 'ip link del docker_gwbridge')
        checked = lab2.playbook(SITE, tmp_path, inventory=inv, extra=['--check'])
        assert checked.returncode == 0 and sorted(task_lines(checked.stdout, CONVERGE)) == [
            'changed: [docker-node1]', 'skipping: [docker-node2]'], checked.stdout
        assert 'docker_gwbridge' not in lab2.ssh('docker-node1', 'ip -br link show type bridge')
        repaired = lab2.playbook(SITE, tmp_path, inventory=inv)
        assert repaired.returncode == 0 and sorted(task_lines(repaired.stdout, CONVERGE)) == [
            'changed: [docker-node1]', 'skipping: [docker-node2]'], repaired.stdout
        ports = json.loads(lab2.ssh('docker-node1', 'ip -j link show master docker_gwbridge'))
        assert len(ports) == 1 and ports[0]['ifname'].startswith('veth'), ports
        gateway = json.loads(lab2.ssh('docker-node1', 'ip -n o1 -j route show default'))[0]['gateway']
        lab2.ssh('docker-node1', 'ip netns exec o1 ping -c 1 -W 2 %s' % gateway)  # docker_gwbridge's address
        settled = lab2.playbook(SITE, tmp_path, inventory=inv)
        assert settled.returncode == 0 and not re.search(r'changed=[1-9]', settled.stdout), settled.stdout
        assert sorted(task_lines(settled.stdout, CONVERGE)) == ['skipping: [docker-node1]', 'skipping: [docker-node2]']
    finally:
        assert lab2.playbook(TEARDOWN, tmp_path, inventory=inv).returncode == 0
    for host in ('docker-node1', 'docker-node2'):
        assert lab2.namespaces(host) == before[host]
        assert lab2.ssh(host, 'test -e /var/lib/linuxnet-container/desired.json; echo $?').strip() == '1'
        assert lab2.ssh(host, 'test -e /var/cache/linuxnet-container; echo $?').strip() == '1', 'the bytecode cache outlived teardown'
