# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role etcd_cluster on three bare lab hosts: check mode predicts and changes nothing, the real run forms a
3-member cluster with mutual TLS (the v3 gateway's member list, asked with the controller's client certificate), a
second run changes nothing, a client without a certificate is refused; site.yml with linuxnet_ipam pointing at the
cluster leases an overlay's addresses in it, and still does with one member stopped; linuxnet_etcd_state=absent
leaves no unit, configuration or data on the hosts.

The lab's underlay (192.0.2.0/24) exists only inside the lab's switch namespace, so the controller reaches each
member's client port through a forwarder on its loopback (socat into the switch namespace); the members'
certificates name 127.0.0.1, so TLS verification is the same as against their own addresses."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

import pytest

from labkit import ROOT, Lab, lab_name

sys.path.insert(0, os.path.join(ROOT, '.build', 'collections'))
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan import etcd  # noqa: E402  pylint: disable=wrong-import-position

ETCD_PLAYBOOK = os.path.join(ROOT, 'playbooks', 'etcd.yml')
SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
MEMBERS = ['docker-node1', 'docker-node2', 'docker-node3']
NETWORKS = [{'name': 'ovx', 'driver': 'overlay', 'subnet': '10.88.0.0/24'}]


@pytest.fixture(scope='module')
def lab3():
    lab = Lab(lab_name('etcd'), 3)
    yield lab
    lab.down()


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.fixture
def forwarders(lab3, tmp_path):
    """127.0.0.1:PORT on the controller -> ADDRESS:2379 in the lab's underlay, one per member."""
    procs, urls = [], {}
    netns = '/proc/%d/ns/net' % lab3.state['switch_pid']
    for host in MEMBERS:
        port = free_port()
        # A script, because socat's address syntax would split an EXEC command line at its colons.
        script = tmp_path / ('forward-%s' % host)
        script.write_text('#!/bin/sh\nexec nsenter --net=%s -- socat STDIO TCP:%s:2379\n' % (netns, lab3.hosts[host]['address']))
        script.chmod(0o755)
        procs.append(subprocess.Popen(['socat', 'TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork' % port, 'EXEC:%s' % script],
                                      stdin=subprocess.DEVNULL))
        urls[host] = 'https://127.0.0.1:%d' % port
    time.sleep(0.3)
    yield urls
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def inventory(lab3, tmp_path, name, **variables):
    data = json.load(open(lab3.inventory))
    data['all']['children']['etcd'] = {'hosts': {h: {} for h in MEMBERS}}
    data['all']['vars'].update(linuxnet_etcd_pki_dir=str(tmp_path / 'pki'), **variables)
    path = tmp_path / ('%s.json' % name)
    path.write_text(json.dumps(data))
    return str(path)


def play(lab3, playbook, inv, tmp_path, *extra):
    started = time.monotonic()
    proc = lab3.playbook(playbook, tmp_path, inventory=inv, extra=list(extra), env={'ANSIBLE_FORCE_COLOR': '0', 'NO_COLOR': '1'})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    return [int(n) for n in re.findall(r'changed=(\d+)', out.split('PLAY RECAP')[-1])], time.monotonic() - started, out


def on_host(lab3, host, path):
    return os.path.lexists(lab3.host_path(host, path))


def test_the_role_runs_a_three_member_cluster_for_the_etcd_ipam(lab3, forwarders, tmp_path):
    inv = inventory(lab3, tmp_path, 'etcd')
    pki = tmp_path / 'pki'

    # Check mode: predicts the package, the files and the start; writes nothing on the hosts or the controller.
    changed, took, out = play(lab3, ETCD_PLAYBOOK, inv, tmp_path, '--check', '--diff')
    assert all(changed) and len(changed) == 3, out[-3000:]
    assert 'would install etcd-server' in out and 'would enable and start linuxnet-etcd.service' in out
    assert not pki.exists()
    assert not any(on_host(lab3, h, '/etc/linuxnet-etcd') or on_host(lab3, h, '/etc/systemd/system/linuxnet-etcd.service')
                   for h in MEMBERS)

    # Real run: the cluster forms and every member reports its health.
    changed, formed, out = play(lab3, ETCD_PLAYBOOK, inv, tmp_path)
    assert all(changed), out[-3000:]
    print('cluster formed (play, package install included) in %.1f s' % formed)
    ipam = __import__('yaml').safe_load((pki / 'linuxnet_ipam.yml').read_text())['linuxnet_ipam']
    assert ipam['backend'] == 'etcd'
    assert ipam['endpoints'] == ['https://%s:2379' % lab3.hosts[h]['address'] for h in MEMBERS]
    assert ipam['tls'] == {'ca': str(pki / 'ca.pem'), 'cert': str(pki / 'clients' / 'controller.pem'),
                           'key': str(pki / 'clients' / 'controller-key.pem')}
    for host in MEMBERS:   # Debian's default member never ran: masked before the package came
        assert os.readlink(lab3.host_path(host, '/etc/systemd/system/etcd.service')) == '/dev/null'
        assert lab3.ssh(host, 'systemctl is-active linuxnet-etcd; systemctl is-enabled linuxnet-etcd').split() == ['active', 'enabled']
        assert not on_host(lab3, host, '/etc/linuxnet-etcd/ca-key.pem')   # the CA's key stays on the controller

    # Again: nothing changes.
    changed, took, out = play(lab3, ETCD_PLAYBOOK, inv, tmp_path)
    assert changed == [0, 0, 0], out[-3000:]
    print('second run (no change) in %.1f s' % took)

    # The members, through the v3 gateway with the controller's client certificate.
    urls = [forwarders[h] for h in MEMBERS]
    client = etcd.Client(urls, **ipam['tls'], timeout=20)
    try:
        members = client.call('cluster/member/list', {})['members']
        assert sorted(m['name'] for m in members) == MEMBERS
        assert sorted(m['clientURLs'][0] for m in members) == ipam['endpoints']
    finally:
        client.close()

    # Without a client certificate: refused during the TLS handshake.
    context = ssl.create_default_context(cafile=ipam['tls']['ca'])
    port = int(urls[0].rsplit(':', 1)[1])
    with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        with socket.create_connection(('127.0.0.1', port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname='127.0.0.1') as tls:
                tls.sendall(b'POST /v3/maintenance/status HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}')
                if not tls.recv(100):
                    raise ConnectionResetError('closed')

    # site.yml with linuxnet_ipam pointing at the cluster: the overlay's addresses are leased in etcd.
    pointed = dict(ipam, endpoints=urls, prefix='/etcdrole')
    containers = {'docker-node1': ['ea1', 'ea2'], 'docker-node2': ['eb1']}
    site_inv = tmp_path / 'site.json'

    def converge(with_containers):
        data = json.load(open(inv))
        for host, names in with_containers.items():
            data['all']['children']['lab']['hosts'][host]['linuxnet_containers'] = [{'name': c, 'networks': ['ovx']} for c in names]
        data['all']['vars'].update(linuxnet_networks=NETWORKS, linuxnet_ipam=pointed, linuxnet_manage_prerequisites=False)
        site_inv.write_text(json.dumps(data))
        return play(lab3, SITE, str(site_inv), tmp_path)

    changed, took, out = converge(containers)
    print('site.yml with the etcd IPAM: %.1f s' % took)

    def leases():
        reader = etcd.Client(urls, **ipam['tls'], timeout=20)
        try:
            return {k.rsplit('/', 1)[-1]: v for k, (v, _rev) in reader.range('/etcdrole/ipam/', prefix=True).items() if '/owner/' in k}
        finally:
            reader.close()

    got = leases()
    assert sorted(got) == ['ea1', 'ea2', 'eb1'] and len(set(got.values())) == 3, got
    for host, names in containers.items():
        for name in names:
            assert 'inet %s/24' % got[name] in lab3.ssh(host, 'ip -n %s -4 -o addr show dev eth0' % name)

    # The leader killed (SIGKILL: no leadership transfer, as a power cut), then kept stopped: a quorum of 2/3 remains,
    # a new leader is elected, and the IPAM still allocates.
    def leader():
        for host in MEMBERS:
            one = etcd.Client([forwarders[host]], **ipam['tls'], timeout=10)
            try:
                status = one.call('maintenance/status', {})
            finally:
                one.close()
            if status['leader'] == status['header']['member_id']:
                return host
        raise AssertionError('no leader')

    stopped = leader()
    lab3.ssh(stopped, 'systemctl kill --signal=KILL linuxnet-etcd')
    client = etcd.Client([forwarders[stopped]] + [forwarders[h] for h in MEMBERS if h != stopped], **ipam['tls'], timeout=30)
    try:
        started = time.monotonic()
        ok, _responses = client.txn([etcd.absent('/etcdrole/probe')], [etcd.put('/etcdrole/probe', 'x')])
        assert ok
        print('a write with the leader %s killed: %.2f s (failovers %d)' % (stopped, time.monotonic() - started, client.failovers))
    finally:
        client.close()
    lab3.ssh(stopped, 'systemctl stop linuxnet-etcd')   # no restart (Restart=on-failure) while site.yml runs
    changed, took, out = converge(dict(containers, **{'docker-node2': ['eb1', 'eb2']}))
    print('site.yml with one member stopped: %.1f s' % took)
    got = leases()
    assert sorted(got) == ['ea1', 'ea2', 'eb1', 'eb2'] and len(set(got.values())) == 4, got

    # Removal: no unit, configuration, certificates or data left; Debian's etcd.service is no longer masked.
    changed, took, out = play(lab3, ETCD_PLAYBOOK, inv, tmp_path, '-e', 'linuxnet_etcd_state=absent')
    assert all(changed), out[-3000:]
    for host in MEMBERS:
        for path in ('/etc/systemd/system/linuxnet-etcd.service', '/etc/linuxnet-etcd', '/var/lib/linuxnet-etcd',
                     '/etc/systemd/system/etcd.service'):
            assert not on_host(lab3, host, path), (host, path)
        assert lab3.ssh(host, 'systemctl is-active linuxnet-etcd || true').strip() == 'inactive'
    changed, took, out = play(lab3, ETCD_PLAYBOOK, inv, tmp_path, '-e', 'linuxnet_etcd_state=absent')
    assert changed == [0, 0, 0], out[-3000:]


def test_a_group_of_two_is_refused_before_anything_changes(lab3, tmp_path):
    data = json.loads(open(inventory(lab3, tmp_path, 'two')).read())
    data['all']['children']['etcd'] = {'hosts': {'docker-node1': {}, 'docker-node2': {}}}
    path = tmp_path / 'two-members.json'
    path.write_text(json.dumps(data))
    proc = lab3.playbook(ETCD_PLAYBOOK, tmp_path, inventory=str(path), env={'ANSIBLE_FORCE_COLOR': '0', 'NO_COLOR': '1'})
    assert proc.returncode != 0
    assert "linuxnet_etcd_group 'etcd' has 2 host(s) (docker-node1, docker-node2); an etcd cluster needs 3 or 5 members" in proc.stdout
    assert not (tmp_path / 'pki').exists()
