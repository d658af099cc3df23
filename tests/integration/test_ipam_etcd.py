# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""linuxnet_ipam with backend etcd, through site.yml against a lab: an etcd member on the controller's loopback
(started by this test, mutual TLS), two controllers converging parts of one fleet at once on one overlay network,
check mode, a second run that changes nothing, teardown releasing the leases, and an unreachable etcd failing the
validation before any host changes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from labkit import ROOT, VENV_BIN

sys.path.insert(0, os.path.join(ROOT, 'tests', 'unit', 'plugins', 'plugin_utils'))
sys.path.insert(0, os.path.join(ROOT, '.build', 'collections'))
from etcd_cluster import ETCD, Cluster, free_ports  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan import etcd  # noqa: E402  pylint: disable=wrong-import-position

SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
TEARDOWN = os.path.join(ROOT, 'playbooks', 'teardown.yml')
NETWORKS = [{'name': 'ovx', 'driver': 'overlay', 'subnet': '10.87.0.0/24'}]

pytestmark = pytest.mark.skipif(ETCD is None, reason='etcd is not installed (scripts/bootstrap.sh installs etcd-server)')


@pytest.fixture
def etcd_member(tmp_path):
    cluster = Cluster(tmp_path / 'etcd', 1)
    yield cluster
    cluster.stop()


def part(lab, tmp_path, host, ipam, containers, name):
    """An inventory of one controller: only ``host`` of the lab, with its containers on the overlay."""
    data = json.load(open(lab.inventory))
    hosts = data['all']['children']['lab']['hosts']
    for other in [h for h in hosts if h != host]:
        del hosts[other]
    hosts[host].update(linuxnet_containers=[{'name': c, 'networks': ['ovx']} for c in containers])
    data['all']['vars'].update(linuxnet_networks=NETWORKS, linuxnet_ipam=ipam, linuxnet_manage_prerequisites=False)
    path = tmp_path / ('%s.json' % name)
    path.write_text(json.dumps(data))
    return str(path)


def start(lab, playbook, inventory, tmp_path, extra=()):
    env = dict(os.environ, ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_FORCE_COLOR='0', NO_COLOR='1')
    env.setdefault('ANSIBLE_COLLECTIONS_PATH', os.path.join(ROOT, '.build', 'collections'))
    return subprocess.Popen([os.path.join(VENV_BIN, 'ansible-playbook'), '-i', inventory, playbook] + list(extra),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, env=env,
                            cwd=str(tmp_path))


def finish(proc):
    out = proc.communicate(timeout=600)[0]
    return proc.returncode, out


def changed(out):
    return [int(n) for n in re.findall(r'changed=(\d+)', out.split('PLAY RECAP')[-1])]


def overlay_address(lab, host, container):
    out = lab.ssh(host, 'ip -n %s -4 -o addr show dev eth0' % container)
    return re.search(r'inet (10\.87\.0\.\d+)/24', out).group(1)


def leases(cluster, prefix):
    client = etcd.Client(cluster.client_urls, **cluster.tls)
    try:
        return {k[len(prefix):]: v for k, (v, _r) in client.range(prefix + '/ipam/', prefix=True).items() if '/owner/' in k}
    finally:
        client.close()


def test_two_controllers_at_once_lease_disjoint_addresses_in_etcd(lab2, etcd_member, tmp_path):
    ipam = {'backend': 'etcd', 'endpoints': etcd_member.client_urls, 'tls': etcd_member.tls, 'prefix': '/itest'}
    one = part(lab2, tmp_path, 'docker-node1', ipam, ['ea1', 'ea2', 'ea3'], 'one')
    two = part(lab2, tmp_path, 'docker-node2', ipam, ['eb1', 'eb2', 'eb3'], 'two')
    try:
        rc, out = finish(start(lab2, SITE, one, tmp_path, ['--check']))
        assert rc == 0 and sum(changed(out)) > 0, out[-3000:]
        assert leases(etcd_member, '/itest') == {}   # check mode writes no lease
        # Both controllers at once: each sees only its own host, both hand out addresses of ovx.
        first, second = start(lab2, SITE, one, tmp_path), start(lab2, SITE, two, tmp_path)
        (rc1, out1), (rc2, out2) = finish(first), finish(second)
        assert rc1 == 0, out1[-3000:]
        assert rc2 == 0, out2[-3000:]
        got = {c: overlay_address(lab2, 'docker-node1', c) for c in ('ea1', 'ea2', 'ea3')}
        got.update({c: overlay_address(lab2, 'docker-node2', c) for c in ('eb1', 'eb2', 'eb3')})
        assert len(set(got.values())) == 6, got
        stored = leases(etcd_member, '/itest')
        assert {k.rsplit('/', 1)[-1]: v for k, v in stored.items()} == got
        # Again: the leases are kept, nothing changes.
        rc, out = finish(start(lab2, SITE, one, tmp_path))
        assert rc == 0 and changed(out) == [0], out[-3000:]
        assert {c: overlay_address(lab2, 'docker-node1', c) for c in ('ea1', 'ea2', 'ea3')} == {c: got[c] for c in ('ea1', 'ea2', 'ea3')}
    finally:
        for inventory in (one, two):
            rc, out = finish(start(lab2, TEARDOWN, inventory, tmp_path, ['-e', 'linuxnet_manage_prerequisites=false']))
            assert rc == 0, out[-3000:]
    assert leases(etcd_member, '/itest') == {}   # teardown released every lease of its hosts


def test_an_unreachable_etcd_fails_the_validation_before_any_host_changes(lab2, etcd_member, tmp_path):
    dead = 'https://127.0.0.1:%d' % free_ports(1)[0]
    ipam = {'backend': 'etcd', 'endpoints': [dead], 'tls': etcd_member.tls, 'timeout': 3}
    inventory = part(lab2, tmp_path, 'docker-node1', ipam, ['ez1'], 'dead')
    before = lab2.namespaces('docker-node1')
    rc, out = finish(start(lab2, SITE, inventory, tmp_path))
    assert rc != 0
    assert 'linuxnet_ipam: etcd at %s does not answer (%s: connection refused). Fix: start etcd' % (dead, dead) in out, out[-3000:]
    assert 'Check the linuxnet variables of every host in the play' in out.split('linuxnet_ipam: etcd at')[0]
    assert 'TASK [linuxnet.container' not in out   # no role ran: nothing on the host changed
    assert lab2.namespaces('docker-node1') == before
