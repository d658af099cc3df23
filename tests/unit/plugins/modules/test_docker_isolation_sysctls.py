# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""docker_isolation: the record of earlier sysctl values and their restore on removal (no kernel needed)."""

from __future__ import annotations

import contextlib
import json
import os

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT
from ansible_collections.linuxnet.container.plugins.module_utils._parts import docker_isolation as iso

FWD = 'net.ipv4.ip_forward'
BNF = 'net.bridge.bridge-nf-call-iptables'


# -- the record's name -------------------------------------------------------------------------
def test_record_key_by_namespace_identity():
    assert iso.record_key(NamespaceRef(None)) == 'host'
    assert iso.record_key(NamespaceRef('')) == 'host'
    assert iso.record_key(NamespaceRef('blue')) == 'netns-blue'
    assert iso.record_key(NamespaceRef('/proc/1/ns/net'), inode=4026531840) == 'nsfs-4026531840'
    assert iso.record_key(NamespaceRef('pid:42'), inode=4026532001) == 'nsfs-4026532001'
    with pytest.raises(ValueError):
        iso.record_key(NamespaceRef('pid:42'))


def test_named_namespace_called_host_does_not_share_the_host_record():
    assert iso.record_path(iso.record_key(NamespaceRef('host'))) != iso.record_path(iso.record_key(NamespaceRef(None)))


def test_record_path():
    assert iso.record_path('host') == '/run/linuxnet-container/docker_isolation.host.json'
    assert iso.record_path('netns-blue', '/tmp/x') == '/tmp/x/docker_isolation.netns-blue.json'


def test_record_path_of_a_very_long_name_fits_a_file_name():
    key = 'netns-' + 'n' * 255
    name = os.path.basename(iso.record_path(key))
    assert len(name) <= 255 and name.startswith('docker_isolation.netns-sha256-')
    assert iso.record_path(key) == iso.record_path(key)
    assert iso.record_path(key) != iso.record_path('netns-' + 'm' * 255)


# -- what is recorded --------------------------------------------------------------------------
def test_first_change_is_recorded():
    assert iso.record_changes(ABSENT, {FWD: ('0', '1')}) == {FWD: {'before': '0', 'set': '1'}}


def test_value_already_wanted_records_nothing():
    assert iso.record_changes(ABSENT, {}) == {}
    assert iso.record_changes(ABSENT, {FWD: ('1', '1')}) == {}


def test_earlier_record_is_never_overwritten():
    saved = {FWD: {'before': '0', 'set': '1'}}
    # Drift back to 0 and a second change: still 0 from before the module, never the 1 it set.
    assert iso.record_changes(saved, {FWD: ('0', '1')}) == saved
    assert iso.record_changes(saved, {FWD: ('2', '1')}) == saved
    assert saved == {FWD: {'before': '0', 'set': '1'}}, 'the input record is not modified'


def test_second_sysctl_joins_the_record():
    saved = {FWD: {'before': '0', 'set': '1'}}
    assert iso.record_changes(saved, {BNF: ('0', '1')}) == {FWD: {'before': '0', 'set': '1'},
                                                            BNF: {'before': '0', 'set': '1'}}


# -- what removal does -------------------------------------------------------------------------
def test_restore_when_the_module_value_is_still_there():
    saved = {FWD: {'before': '0', 'set': '1'}, BNF: {'before': '0', 'set': '1'}}
    assert iso.plan_restore(saved, {FWD: '1', BNF: '1'}) == ({FWD: '0', BNF: '0'}, [])


def test_already_back_needs_nothing_and_no_warning():
    assert iso.plan_restore({FWD: {'before': '0', 'set': '1'}}, {FWD: '0'}) == ({}, [])


def test_changed_by_someone_else_is_left_with_a_warning():
    restore, warnings = iso.plan_restore({FWD: {'before': '0', 'set': '1'}}, {FWD: '2'})
    assert restore == {}
    assert len(warnings) == 1 and FWD in warnings[0] and 'left as it is' in warnings[0]


def test_vanished_sysctl_is_a_warning():
    restore, warnings = iso.plan_restore({BNF: {'before': '0', 'set': '1'}}, {FWD: '1', BNF: None})
    assert restore == {} and len(warnings) == 1 and BNF in warnings[0]


def test_no_record_restores_nothing():
    assert iso.plan_restore(ABSENT, {FWD: '1'}) == ({}, [])


# -- the file ----------------------------------------------------------------------------------
def test_record_round_trip():
    saved = {FWD: {'before': '0', 'set': '1'}}
    text = iso.render_record(saved, 'host')
    assert json.loads(text)['namespace'] == 'host'
    assert iso.parse_record(text, '/x') == saved


@pytest.mark.parametrize('text', ['', 'not json', '[]', '{}', '{"sysctls": []}',
                                  '{"sysctls": {"net.ipv4.conf.all.rp_filter": {"before": "0", "set": "1"}}}',
                                  '{"sysctls": {"net.ipv4.ip_forward": {"before": 0, "set": "1"}}}',
                                  '{"sysctls": {"net.ipv4.ip_forward": {"before": "0"}}}'])
def test_foreign_or_broken_record_names_the_file(text):
    with pytest.raises(LinuxnetError) as err:
        iso.parse_record(text, '/run/linuxnet-container/docker_isolation.host.json')
    assert '/run/linuxnet-container/docker_isolation.host.json' in err.value.msg and 'Fix:' in err.value.msg


# -- the whole flow against an in-memory kernel, the record in a temporary directory -----------------
class FakeModule:
    def __init__(self, check_mode=False):
        self.check_mode = check_mode
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


class FakeNetlink:
    """No namespaces; a channel whose link and IPv6 route dumps are ``links`` and ``routes`` (decoded messages' fields)."""
    links = ()
    routes = ()

    @contextlib.contextmanager
    def inside(self, ns):
        yield

    def channel(self, ns):
        return self

    def link(self, command):
        assert command == 'dump'
        return [dict(link) for link in self.links]

    def route(self, command, family, table):
        assert (command, family, table) == ('dump', 10, 254)
        return [dict(route) for route in self.routes]

    def flush(self):
        pass

    def invalidate(self):
        pass


class MemoryIsolation(iso.IsolationReconciler):
    """The record file is real (in a temporary directory); sysctls and the table come from the fixture below."""

    def __init__(self, module, record, netlink=None):
        super().__init__(module, netlink or FakeNetlink(), NamespaceRef(None))
        self.record = record


@pytest.fixture
def kernel(monkeypatch):
    """The sysctls live in a dict, the nftables table is never there."""
    values = {}
    monkeypatch.setattr(iso, 'read_sysctls', lambda: dict(values))
    monkeypatch.setattr(iso, 'write_sysctl', values.__setitem__)
    monkeypatch.setattr(iso.nft, 'list_table', lambda family, name: None)
    return values


@pytest.fixture
def present(monkeypatch):
    """A present run's desired state with the nftables half planned as 'nothing to do' (it needs nft)."""
    monkeypatch.setattr(iso.nft, 'table_commands', lambda *a, **k: [])
    monkeypatch.setattr(iso.nft, 'planned_rule_ids', lambda *a, **k: {})
    monkeypatch.setattr(iso, 'summary', lambda sets: {})
    return {'sysctls': {FWD: '1', BNF: '1'}, 'sets': None}


def run(record, desired, check=False, netlink=None):
    module = FakeModule(check)
    reconciler = MemoryIsolation(module, str(record), netlink)
    result = reconciler.run(desired)
    return result, reconciler, module


def test_apply_records_then_removal_restores(tmp_path, present, kernel):
    record = tmp_path / 'lc' / 'docker_isolation.host.json'
    kernel.update({FWD: '0', BNF: '0'})

    check, _r, _m = run(record, present, check=True)
    assert check['changed'] and not record.exists() and kernel == {FWD: '0', BNF: '0'}

    real, _r, _m = run(record, present)
    assert kernel == {FWD: '1', BNF: '1'}
    assert real['actions'] == check['actions']
    assert real['actions'][0].startswith('record %s=0, %s=0 in ' % (BNF, FWD))
    assert real['after'][iso.SAVED] == {FWD: {'before': '0', 'set': '1'}, BNF: {'before': '0', 'set': '1'}}
    assert json.loads(record.read_text())['sysctls'] == real['after'][iso.SAVED]
    assert real['diff'] == check['diff']

    again, _r, _m = run(record, present)
    assert not again['changed']

    check, reconciler, _m = run(record, ABSENT, check=True)
    assert check['changed'] and reconciler.restored == {FWD: '0', BNF: '0'}
    assert kernel == {FWD: '1', BNF: '1'} and record.exists(), 'check mode restores and deletes nothing'
    assert check['diff']['before']['sysctls'] == {FWD: '1', BNF: '1'}
    assert check['diff']['after']['sysctls'] == {FWD: '0', BNF: '0'}

    real, reconciler, module = run(record, ABSENT)
    assert real['changed'] and reconciler.restored == {FWD: '0', BNF: '0'} and not module.warnings
    assert real['actions'] == check['actions'] and real['diff'] == check['diff']
    assert kernel == {FWD: '0', BNF: '0'} and not record.exists()
    assert not record.parent.exists()  # the directory goes with its last record

    again, reconciler, _m = run(record, ABSENT)
    assert not again['changed'] and reconciler.restored == {}


def test_value_already_set_is_neither_recorded_nor_restored(tmp_path, present, kernel):
    record = tmp_path / 'docker_isolation.host.json'
    kernel.update({FWD: '1', BNF: '1'})
    result, _r, _m = run(record, present)
    assert not result['changed'] and not record.exists()
    result, reconciler, _m = run(record, ABSENT)
    assert not result['changed'] and reconciler.restored == {} and kernel == {FWD: '1', BNF: '1'}


def test_drift_after_apply_is_left_with_a_warning(tmp_path, present, kernel):
    record = tmp_path / 'docker_isolation.host.json'
    kernel.update({FWD: '0', BNF: '1'})
    run(record, present)
    assert json.loads(record.read_text())['sysctls'] == {FWD: {'before': '0', 'set': '1'}}
    kernel[FWD] = '2'  # somebody else's value
    result, reconciler, module = run(record, ABSENT)
    assert kernel[FWD] == '2' and reconciler.restored == {} and not record.exists()
    assert len(module.warnings) == 1 and 'left as it is' in module.warnings[0]
    assert result['actions'] == ['delete the record of earlier sysctl values %s' % record]


def test_reapply_after_drift_keeps_the_first_record(tmp_path, present, kernel):
    record = tmp_path / 'docker_isolation.host.json'
    kernel.update({FWD: '0', BNF: '1'})
    run(record, present)
    kernel[FWD] = '0'
    result, _r, _m = run(record, present)
    assert result['actions'] == ['set %s=1' % FWD]
    assert json.loads(record.read_text())['sysctls'] == {FWD: {'before': '0', 'set': '1'}}


FWD6 = 'net.ipv6.conf.all.forwarding'
BNF6 = 'net.bridge.bridge-nf-call-ip6tables'


def test_a_network_with_ipv6_wants_ipv6_forwarding_and_with_icc_off_bridged_ipv6_through_the_hook():
    def desired(**net):
        params = {'state': 'present', 'forwarding': True,
                  'networks': [dict({'bridge': 'br-a', 'subnet': '10.1.0.0/24', 'icc': True, 'masquerade': True,
                                     'internal': False}, **net)]}
        return iso._desired(params)['sysctls']
    assert desired() == {FWD: '1'}  # IPv4 only: as before
    assert desired(ipv6=True) == {FWD: '1', FWD6: '1'}
    assert desired(ipv6=True, icc=False) == {FWD: '1', BNF: '1', FWD6: '1', BNF6: '1'}


def test_ipv6_forwarding_is_recorded_and_restored_and_read_after_its_record_is_gone(tmp_path, monkeypatch, present):
    values = {FWD: '0', BNF: '0', FWD6: '0'}
    monkeypatch.setattr(iso, 'read_sysctls', lambda keys=iso.BASE_SYSCTLS: {key: values.get(key) for key in keys})
    monkeypatch.setattr(iso, 'write_sysctl', values.__setitem__)
    monkeypatch.setattr(iso.nft, 'list_table', lambda family, name: None)
    record = tmp_path / 'docker_isolation.host.json'
    wanted = dict(present, sysctls={FWD: '1', FWD6: '1'})

    real, _r, _m = run(record, wanted)
    assert values == {FWD: '1', BNF: '0', FWD6: '1'}
    assert real['after'][iso.SAVED] == {FWD: {'before': '0', 'set': '1'}, FWD6: {'before': '0', 'set': '1'}}
    again, _r, _m = run(record, wanted)
    assert not again['changed']

    # Removal restores both and deletes the record; the read after it (which finds no record) still sees IPv6.
    removed, reconciler, module = run(record, ABSENT)
    assert removed['changed'] and reconciler.restored == {FWD: '0', FWD6: '0'} and not module.warnings
    assert values == {FWD: '0', BNF: '0', FWD6: '0'} and not record.exists()
    assert removed['diff']['after']['sysctls'] == {FWD: '0', BNF: '0', FWD6: '0'}


RA_ETH0 = 'net.ipv6.conf.eth0.accept_ra'
RA_ETH1 = 'net.ipv6.conf.eth1.accept_ra'


def test_an_uplink_configured_by_router_advertisements_keeps_them_when_ipv6_forwarding_goes_on(tmp_path, monkeypatch, present):
    # eth0 has its IPv6 default route from an RA (protocol 9) and accept_ra 1; eth1 has an RA route but accept_ra 0
    # (the admin's choice: left alone); br-a has only kernel routes.
    values = {FWD: '1', BNF: '0', FWD6: '0', RA_ETH0: '1', RA_ETH1: '0'}
    writes = []
    monkeypatch.setattr(iso, 'read_sysctls', lambda keys=iso.BASE_SYSCTLS: {key: values.get(key) for key in keys})
    monkeypatch.setattr(iso, 'write_sysctl', lambda key, value: (writes.append(key), values.__setitem__(key, value)))
    monkeypatch.setattr(iso.nft, 'list_table', lambda family, name: None)
    netlink = FakeNetlink()
    netlink.links = [{'index': 2, 'ifname': 'eth0'}, {'index': 3, 'ifname': 'eth1'}, {'index': 4, 'ifname': 'br-a'}]
    netlink.routes = [{'oif': 2, 'proto': 9}, {'oif': 2, 'proto': 2}, {'oif': 3, 'proto': 9}, {'oif': 4, 'proto': 2}]
    record = tmp_path / 'docker_isolation.host.json'
    wanted = dict(present, sysctls={FWD: '1', FWD6: '1'})

    check, _r, _m = run(record, wanted, check=True, netlink=netlink)
    assert writes == [] and not record.exists()
    real, _r, _m = run(record, wanted, netlink=netlink)
    assert real['actions'] == check['actions']
    # accept_ra 2 first: turning forwarding on drops the RA default routes of an accept_ra 1 interface at once.
    assert writes == [RA_ETH0, FWD6]
    assert real['actions'][1] == ('set %s=2 (so that it keeps its router advertisements with IPv6 forwarding on)' % RA_ETH0)
    assert real['after'][iso.SAVED] == {FWD6: {'before': '0', 'set': '1'}, RA_ETH0: {'before': '1', 'set': '2'}}
    again, _r, _m = run(record, wanted, netlink=netlink)
    assert not again['changed'], again['actions']

    del writes[:]
    removed, reconciler, module = run(record, ABSENT, netlink=netlink)
    assert reconciler.restored == {FWD6: '0', RA_ETH0: '1'} and not module.warnings
    assert writes == [FWD6, RA_ETH0] and values[RA_ETH0] == '1' and values[RA_ETH1] == '0' and not record.exists()


def test_only_accept_ra_of_a_real_interface_name_is_a_sysctl_of_the_module():
    assert iso.sysctl_path(RA_ETH0) == '/proc/sys/net/ipv6/conf/eth0/accept_ra'
    for key in ('net.ipv6.conf.all.accept_ra', 'net.ipv6.conf.default.accept_ra', 'net.ipv6.conf.a/b.accept_ra',
                'net.ipv6.conf.eth0.forwarding', 'kernel.panic'):
        with pytest.raises(KeyError):
            iso.sysctl_path(key)
    assert iso.ra_interfaces([(2, 9), (5, 9), (3, 2), (2, 9)], {2: 'eth0', 3: 'br-a'}) == ['eth0']


def test_a_kernel_without_ipv6_is_named():
    with pytest.raises(LinuxnetError) as err:
        iso.plan_table({'sysctls': {FWD6: '1'}, 'sets': {name: [] for name in iso.SETS}},
                       {'sysctls': {FWD6: None}, iso.KEY: ABSENT, iso.SAVED: ABSENT},
                       iso.nft.TableState(None), '/tmp/record')
    assert 'IPv6 is disabled in this kernel (ipv6.disable=1)' in str(err.value)
