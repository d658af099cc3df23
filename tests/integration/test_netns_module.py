# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netns on a lab host: drift repair, the missing-library message, the built tarball."""

from __future__ import annotations

import glob
import os
import subprocess

from pyroute2 import IPRoute
from pyroute2 import netns as pnetns

from labkit import ROOT, VENV_BIN

ARGS = {'namespaces': [{'name': 'drift', 'sysctls': {'net.ipv4.ip_forward': 1},
                        'hosts': [{'address': '10.0.0.2', 'names': ['peer']}]}]}


def read_ns(lab, host, name):
    """lo flags/alias and ip_forward of a lab host's namespace, read from its kernel (not the module)."""
    home = os.open('/proc/self/ns/net', os.O_RDONLY)
    fd = os.open(lab.host_path(host, '/run/netns/' + name), os.O_RDONLY)
    try:
        pnetns.setns(fd, flags=0)
        with open('/proc/sys/net/ipv4/ip_forward') as handle:
            forward = handle.read().strip()
        with IPRoute() as ipr:
            lo = ipr.link('get', ifname='lo')[0]
    finally:
        pnetns.setns(home, flags=0)
        os.close(fd)
        os.close(home)
    return {'lo_up': bool(lo['flags'] & 1), 'alias': lo.get('ifalias'), 'ip_forward': forward}


def test_drift_is_repaired_in_one_run(lab2, tmp_path):
    host = 'docker-node1'
    status, res = lab2.ansible(host, 'linuxnet.container.netns', ARGS, tmp_path)[host]
    assert status == 'ok' and res['changed']
    hosts_file = lab2.host_path(host, '/etc/netns/drift/hosts')
    good_hosts = open(hosts_file).read()
    # Drift by hand: lo down, forwarding off, the hosts file edited.
    lab2.ssh(host, 'ip -n drift link set lo down; ip netns exec drift sysctl -qw net.ipv4.ip_forward=0; '
                   'echo "6.6.6.6 evil" >> /etc/netns/drift/hosts')
    assert read_ns(lab2, host, 'drift') == {'lo_up': False, 'alias': 'linuxnet.container', 'ip_forward': '0'}

    status, check = lab2.ansible(host, 'linuxnet.container.netns', ARGS, tmp_path, check=True)[host]
    assert status == 'ok' and check['changed']
    assert read_ns(lab2, host, 'drift')['lo_up'] is False, 'check mode must not repair anything'

    status, res = lab2.ansible(host, 'linuxnet.container.netns', ARGS, tmp_path)[host]
    assert status == 'ok'
    assert res['actions'] == check['actions'] == [
        'bring lo up in network namespace drift',
        'set net.ipv4.ip_forward=1 in network namespace drift',
        'write /etc/netns/drift/hosts']
    assert read_ns(lab2, host, 'drift') == {'lo_up': True, 'alias': 'linuxnet.container', 'ip_forward': '1'}
    assert open(hosts_file).read() == good_hosts

    status, res = lab2.ansible(host, 'linuxnet.container.netns', ARGS, tmp_path)[host]
    assert status == 'ok' and not res['changed'] and res['actions'] == []

    status, res = lab2.ansible(host, 'linuxnet.container.netns', {'name': 'drift', 'state': 'absent'}, tmp_path)[host]
    assert status == 'ok' and res['changed']
    assert 'drift' not in lab2.namespaces(host)
    assert not os.path.exists(lab2.host_path(host, '/etc/netns/drift'))


def test_a_namespace_made_again_drops_the_files_left_by_the_one_before(lab2, tmp_path):
    """Deleted behind our back (ip netns delete, as a runtime or a reboot does), a namespace leaves the hosts file the
    module wrote for it; made again without hosts, it must not inherit that file: check mode predicts the removal,
    the real run does it (it failed its own post-apply check before), the next run changes nothing."""
    host = 'docker-node1'
    status, res = lab2.ansible(host, 'linuxnet.container.netns', ARGS, tmp_path)[host]
    assert status == 'ok' and res['changed']
    lab2.ssh(host, 'ip netns delete drift')
    assert os.path.exists(lab2.host_path(host, '/etc/netns/drift/hosts'))
    plain = {'namespaces': [{'name': 'drift'}]}
    try:
        status, check = lab2.ansible(host, 'linuxnet.container.netns', plain, tmp_path, check=True)[host]
        assert status == 'ok' and os.path.exists(lab2.host_path(host, '/etc/netns/drift/hosts'))
        status, res = lab2.ansible(host, 'linuxnet.container.netns', plain, tmp_path)[host]
        assert status == 'ok', res
        assert res['actions'] == check['actions'] == ['create network namespace drift', 'remove leftover /etc/netns/drift/hosts']
        assert 'drift' in lab2.namespaces(host) and not os.path.exists(lab2.host_path(host, '/etc/netns/drift/hosts'))
        status, res = lab2.ansible(host, 'linuxnet.container.netns', plain, tmp_path)[host]
        assert status == 'ok' and not res['changed'], res
    finally:
        status, res = lab2.ansible(host, 'linuxnet.container.netns', {'name': 'drift', 'state': 'absent'}, tmp_path)[host]
    assert status == 'ok' and not os.path.exists(lab2.host_path(host, '/etc/netns/drift'))


def test_untagged_namespaces_are_never_pruned(lab2, tmp_path):
    host = 'docker-node2'
    lab2.ssh(host, 'ip netns add foreign')
    try:
        status, res = lab2.ansible(host, 'linuxnet.container.netns', {'namespaces': [{'name': 'mine'}]}, tmp_path)[host]
        assert status == 'ok'
        status, res = lab2.ansible(host, 'linuxnet.container.netns', {'namespaces': [], 'prune': True}, tmp_path)[host]
        assert status == 'ok'
        assert [r['name'] for r in res['removed']] == ['mine']
        assert lab2.namespaces(host) == ['foreign']
    finally:
        lab2.ssh(host, 'ip netns delete foreign')


def test_built_tarball_installs_and_runs(lab2, tmp_path):
    tarballs = glob.glob(os.path.join(ROOT, '.build', 'dist', 'linuxnet-container-*.tar.gz'))
    if not tarballs:
        subprocess.run([os.path.join(VENV_BIN, 'ansible-galaxy'), 'collection', 'build', '--force',
                        '--output-path', str(tmp_path / 'dist'), ROOT], check=True, capture_output=True)
        tarballs = glob.glob(str(tmp_path / 'dist' / '*.tar.gz'))
    install = tmp_path / 'collections'
    subprocess.run([os.path.join(VENV_BIN, 'ansible-galaxy'), 'collection', 'install', '--force', '-p', str(install),
                    tarballs[0]], check=True, capture_output=True)
    installed = install / 'ansible_collections' / 'linuxnet' / 'container'
    assert (installed / 'plugins' / 'modules' / 'netns.py').exists()
    assert not (installed / '.venv').exists() and not (installed / 'tests' / 'output').exists()
    env = {'ANSIBLE_COLLECTIONS_PATH': str(install)}
    doc = subprocess.run([os.path.join(VENV_BIN, 'ansible-doc'), 'linuxnet.container.netns'], capture_output=True,
                         text=True, env=dict(os.environ, **env), check=False)
    assert doc.returncode == 0 and 'prune' in doc.stdout
    status, res = lab2.ansible('docker-node2', 'linuxnet.container.netns', {'name': 'from_tarball'}, tmp_path, env=env)['docker-node2']
    assert status == 'ok' and res['changed'], res
    assert 'from_tarball' in lab2.namespaces('docker-node2')
    status, res = lab2.ansible('docker-node2', 'linuxnet.container.netns', {'name': 'from_tarball', 'state': 'absent'},
                               tmp_path, env=env)['docker-node2']
    assert status == 'ok' and res['changed']
    assert 'from_tarball' not in lab2.namespaces('docker-node2')
