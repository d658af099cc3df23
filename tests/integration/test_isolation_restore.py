# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_isolation gives back the sysctls it changed: state=absent restores their earlier values.

Runs on its own one-host lab (named LINUXNET_ITEST_LAB-restore, default itest-restore), started and stopped here.
Sysctls are read from the lab host's kernel over ssh, the record from the host's private /run.
"""

from __future__ import annotations

import json
import os

import pytest

from labkit import Lab

HOST = 'docker-node1'
MODULE = 'linuxnet.container.docker_isolation'
FWD = 'net.ipv4.ip_forward'
BNF = 'net.bridge.bridge-nf-call-iptables'
RECORD_DIR = '/run/linuxnet-container'
APPLY = {'networks': [{'bridge': 'br-restore', 'subnet': '10.77.0.0/24', 'icc': False},
                      {'bridge': 'br-other', 'subnet': '10.78.0.0/24'}]}
ABSENT = {'state': 'absent'}


@pytest.fixture(scope='module')
def lab():
    running = Lab(os.environ.get('LINUXNET_ITEST_LAB', 'itest') + '-restore', 1)  # beside other labs: see conftest's lab2
    try:
        yield running
    finally:
        running.down()


def sysctls(lab, netns=None):
    """The two sysctls as the kernel of the lab host (or of one of its named namespaces) reports them."""
    prefix = 'ip netns exec %s ' % netns if netns else ''
    out = lab.ssh(HOST, '%scat /proc/sys/net/ipv4/ip_forward /proc/sys/net/bridge/bridge-nf-call-iptables' % prefix)
    forward, bridge = out.split()
    return {FWD: forward, BNF: bridge}


def set_sysctls(lab, values, netns=None):
    prefix = 'ip netns exec %s ' % netns if netns else ''
    lab.ssh(HOST, '; '.join('%ssysctl -qw %s=%s' % (prefix, key, value) for key, value in values.items()))
    assert sysctls(lab, netns) == values


def records(lab):
    """The record files in the lab host's /run/linuxnet-container ([] when the directory is not there)."""
    try:
        return sorted(os.listdir(lab.host_path(HOST, RECORD_DIR)))
    except FileNotFoundError:
        return []


def read_record(lab, name):
    with open(lab.host_path(HOST, os.path.join(RECORD_DIR, name))) as handle:
        return json.load(handle)


def nft_tables(lab, netns=None):
    prefix = 'ip netns exec %s ' % netns if netns else ''
    return lab.ssh(HOST, '%snft list tables' % prefix)


def run(lab, args, tmp_path, check=False):
    status, result = lab.ansible(HOST, MODULE, args, tmp_path, check=check, extra=['--diff'])[HOST]
    assert status == 'ok', result
    return result


def test_removal_restores_the_earlier_values(lab, tmp_path):
    set_sysctls(lab, {FWD: '0', BNF: '0'})
    assert records(lab) == []

    applied = run(lab, APPLY, tmp_path)
    assert applied['changed']
    assert sysctls(lab) == {FWD: '1', BNF: '1'}
    assert 'linuxnet_isolation' in nft_tables(lab)
    earlier = {FWD: {'before': '0', 'set': '1'}, BNF: {'before': '0', 'set': '1'}}
    assert applied['saved_sysctls'] == earlier and applied['restored_sysctls'] == {}
    assert records(lab) == ['docker_isolation.host.json']
    assert read_record(lab, 'docker_isolation.host.json')['sysctls'] == earlier

    again = run(lab, APPLY, tmp_path)
    assert not again['changed'] and again['saved_sysctls'] == earlier
    assert read_record(lab, 'docker_isolation.host.json')['sysctls'] == earlier, 'a second run never rewrites the record'

    # Check mode predicts the removal and changes nothing.
    check = run(lab, ABSENT, tmp_path, check=True)
    assert check['changed']
    assert check['restored_sysctls'] == {FWD: '0', BNF: '0'} and check['saved_sysctls'] == {}
    assert check['diff']['before']['sysctls'] == {FWD: '1', BNF: '1'}
    assert check['diff']['after']['sysctls'] == {FWD: '0', BNF: '0'}
    assert sysctls(lab) == {FWD: '1', BNF: '1'}
    assert records(lab) == ['docker_isolation.host.json']
    assert 'linuxnet_isolation' in nft_tables(lab)

    removed = run(lab, ABSENT, tmp_path)
    assert removed['changed']
    assert removed['actions'] == check['actions'] and removed['diff'] == check['diff']
    assert removed['restored_sysctls'] == {FWD: '0', BNF: '0'} and removed['saved_sysctls'] == {}
    assert sysctls(lab) == {FWD: '0', BNF: '0'}
    assert records(lab) == []
    assert 'linuxnet_isolation' not in nft_tables(lab)

    again = run(lab, ABSENT, tmp_path)
    assert not again['changed'] and again['restored_sysctls'] == {}


def test_values_already_set_stay_after_removal(lab, tmp_path):
    set_sysctls(lab, {FWD: '1', BNF: '1'})
    applied = run(lab, APPLY, tmp_path)
    assert applied['changed'] and applied['saved_sysctls'] == {}
    assert records(lab) == []
    removed = run(lab, ABSENT, tmp_path)
    assert removed['changed'] and removed['restored_sysctls'] == {}
    assert sysctls(lab) == {FWD: '1', BNF: '1'}
    assert records(lab) == []


def test_only_the_sysctl_changed_is_restored(lab, tmp_path):
    set_sysctls(lab, {FWD: '0', BNF: '1'})
    applied = run(lab, APPLY, tmp_path)
    assert applied['saved_sysctls'] == {FWD: {'before': '0', 'set': '1'}}
    removed = run(lab, ABSENT, tmp_path)
    assert removed['restored_sysctls'] == {FWD: '0'}
    assert sysctls(lab) == {FWD: '0', BNF: '1'}
    assert records(lab) == []


def test_a_value_changed_since_is_left_with_a_warning(lab, tmp_path):
    set_sysctls(lab, {FWD: '0', BNF: '1'})
    run(lab, APPLY, tmp_path)
    set_sysctls(lab, {FWD: '0', BNF: '1'})  # forwarding turned off again by hand: nothing left to restore
    removed = run(lab, ABSENT, tmp_path)
    assert removed['changed'] and removed['restored_sysctls'] == {}
    assert not removed.get('warnings'), 'already back at its earlier value: nothing to warn about'
    assert sysctls(lab) == {FWD: '0', BNF: '1'} and records(lab) == []

    run(lab, APPLY, tmp_path)
    set_sysctls(lab, {FWD: '2', BNF: '1'})  # a third value (the kernel keeps 2): somebody else's now
    check = run(lab, ABSENT, tmp_path, check=True)
    removed = run(lab, ABSENT, tmp_path)
    assert removed['restored_sysctls'] == check['restored_sysctls'] == {}
    assert len(removed['warnings']) == 1 and FWD in removed['warnings'][0] and 'left as it is' in removed['warnings'][0]
    assert removed['warnings'] == check['warnings']
    assert sysctls(lab) == {FWD: '2', BNF: '1'} and records(lab) == []
    set_sysctls(lab, {FWD: '0', BNF: '1'})


def test_named_namespace_and_pid_have_their_own_record(lab, tmp_path):
    lab.ssh(HOST, 'ip netns add rns')
    try:
        set_sysctls(lab, {FWD: '0', BNF: '0'}, netns='rns')
        set_sysctls(lab, {FWD: '1', BNF: '1'})
        run(lab, dict(APPLY, namespace='rns'), tmp_path)
        assert sysctls(lab, 'rns') == {FWD: '1', BNF: '1'}
        assert records(lab) == ['docker_isolation.netns-rns.json']
        assert read_record(lab, 'docker_isolation.netns-rns.json')['namespace'] == 'rns'

        # The host namespace by PID (the lab host's init, PID 1 in its own PID namespace): filed under its nsfs inode.
        set_sysctls(lab, {FWD: '0', BNF: '1'})
        by_pid = 'pid:1'
        inode = os.stat('/proc/%d/ns/net' % lab.pid(HOST)).st_ino
        run(lab, dict(APPLY, namespace=by_pid), tmp_path)
        assert records(lab) == ['docker_isolation.netns-rns.json', 'docker_isolation.nsfs-%d.json' % inode]

        removed = run(lab, dict(ABSENT, namespace='rns'), tmp_path)
        assert removed['restored_sysctls'] == {FWD: '0', BNF: '0'}
        assert sysctls(lab, 'rns') == {FWD: '0', BNF: '0'}
        assert records(lab) == ['docker_isolation.nsfs-%d.json' % inode]

        removed = run(lab, dict(ABSENT, namespace=by_pid), tmp_path)
        assert removed['restored_sysctls'] == {FWD: '0'}
        assert sysctls(lab) == {FWD: '0', BNF: '1'}
        assert records(lab) == []
    finally:
        lab.ssh(HOST, 'ip netns delete rns')
