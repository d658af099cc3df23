# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vxlan's pure planner against recorded kernel states: the actions, their order and the predicted state."""

from __future__ import annotations

import os
import re
import socket

import pytest
from pyroute2.netlink.rtnl.ndmsg import ndmsg

from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._parts import vxlan as vx
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT
from ansible_collections.linuxnet.container.tests.unit.netlink_messages import link_msg

KEY = 'ov/vxlan0'
LABEL = 'vxlan vxlan0 in network namespace ov'
MAC3 = '02:42:0a:00:00:03'
MAC4 = '02:42:0a:00:00:04'
# The device is 5 in namespace ov, its bridge br0 is 4; eth0 (2) of the host is the underlay, MTU 1500.
FACTS = {'index': 5, 'master_index': 4, 'dev_index': 2, 'mtu': 1450, 'master': {'index': 4, 'kind': 'bridge'}}


class Module:
    def __init__(self, params):
        self.params = params


def desired(**device):
    item = {'name': 'vxlan0', 'namespace': 'ov', 'vni': 256, 'local': '192.0.2.11', 'dev': 'eth0', 'underlay_namespace': None,
            'learning': False, 'proxy': None, 'ttl': None, 'mtu': None, 'master': 'br0', 'link_state': 'up',
            'peers': ['192.0.2.12'], 'fdb': [{'mac': MAC3, 'dst': '192.0.2.12', 'vni': None}],
            'neighbors': [{'address': '10.0.0.3', 'mac': MAC3, 'on': 'device'}],
            'purge': True, 'recreate': False, 'state': None, 'port': None}
    item.update(device)
    top = dict((key, None) for key in vx._PER_DEVICE + ('name', 'namespace', 'underlay_namespace', 'local', 'dev'))
    top.update(devices=[item], state='present', port=4789)
    return vx._desired(Module(top))


def fdb_msg(mac, dst, vni=None, index=5):
    """One entry of an AF_BRIDGE neighbour (FDB) dump, as the kernel sends it for `bridge fdb append ... self permanent`."""
    msg = ndmsg()
    msg['family'], msg['ifindex'], msg['state'], msg['flags'] = socket.AF_BRIDGE, index, vx.NUD_PERMANENT | vx.NUD_NOARP, vx.NTF_SELF
    msg['attrs'] = [('NDA_LLADDR', mac), ('NDA_DST', dst)] + ([('NDA_VNI', vni)] if vni else [])
    msg.encode()
    decoded = ndmsg(msg.data)
    decoded.decode()
    return decoded


def neigh_msg(address, mac, index=5, state=vx.NUD_PERMANENT):
    msg = ndmsg()
    msg['family'], msg['ifindex'], msg['state'] = socket.AF_INET, index, state
    msg['attrs'] = [('NDA_DST', address), ('NDA_LLADDR', mac)]
    msg.encode()
    decoded = ndmsg(msg.data)
    decoded.decode()
    return decoded


def recorded(vni=256, port=4789, local='192.0.2.11', mtu=1450, learning=0, fdb=None, neigh=None):
    """read()'s state of vxlan0 from a recorded RTM_NEWLINK and FDB and neighbour dumps (decoded as read() decodes them).
    By default what a converge of desired() leaves: one peer, one FDB entry, one neighbour, plus what the kernel
    adds on its own (an entry the bridge learnt, a reachable neighbour on another link)."""
    link = link_msg(5, 'vxlan0', '6a:1f:00:00:00:05', mtu, 1, ifalias='linuxnet.container', master=4, kind='vxlan',
                    info_data=[('IFLA_VXLAN_ID', vni), ('IFLA_VXLAN_LOCAL', local), ('IFLA_VXLAN_PORT', port),
                               ('IFLA_VXLAN_LEARNING', learning), ('IFLA_VXLAN_TTL', 0), ('IFLA_VXLAN_LINK', 2)])
    if fdb is None:
        fdb = [fdb_msg(vx.ZERO_MAC, '192.0.2.12'), fdb_msg(MAC3, '192.0.2.12')]
    if neigh is None:
        neigh = [neigh_msg('10.0.0.3', MAC3)]
    learnt = ndmsg()
    learnt['family'], learnt['ifindex'], learnt['state'], learnt['flags'] = socket.AF_BRIDGE, 5, 0x02, 0  # reachable, master
    noise = [neigh_msg('192.0.2.1', '02:00:00:00:00:01', index=2, state=0x02)]
    attrs = vx.vxlan_attrs(link.get(('linkinfo', 'data')))
    state = {'name': 'vxlan0', 'namespace': 'ov', 'state': 'present', 'kind': link.get(('linkinfo', 'kind')), 'owned': True,
             'up': True, 'mtu': link.get('mtu'), 'mac': link.get('address'), 'master': 'br0', 'underlay_namespace': None,
             'dev': 'eth0'}
    state.update((field, attrs[field]) for field in ('vni', 'port', 'local', 'learning', 'proxy', 'ttl'))
    state.update(vx.device_entries(fdb + [learnt], neigh + noise, 5, attrs['vni'], link.get('master')))
    return {KEY: state}


def plan(want, current, **facts):
    return vx.plan_devices(want, current, {KEY: dict(FACTS, **facts)})


def described(actions):
    return [a['description'] for a in actions]


def test_the_recorded_state_decodes_as_read_returns_it():
    state = recorded()[KEY]
    assert {k: state[k] for k in ('vni', 'port', 'local', 'learning', 'proxy', 'ttl')} == {
        'vni': 256, 'port': 4789, 'local': '192.0.2.11', 'learning': False, 'proxy': False, 'ttl': 0}
    assert (state['peers'], state['fdb'], state['neighbors']) == (
        ['192.0.2.12'], [{'mac': MAC3, 'dst': '192.0.2.12', 'vni': None}], [{'address': '10.0.0.3', 'mac': MAC3, 'on': 'device'}])
    # an entry with the device's own VNI is listed without it; another VNI stays
    state = recorded(fdb=[fdb_msg(MAC3, '192.0.2.12', vni=256), fdb_msg(MAC4, '192.0.2.13', vni=300)])[KEY]
    assert state['fdb'] == [{'mac': MAC3, 'dst': '192.0.2.12', 'vni': None}, {'mac': MAC4, 'dst': '192.0.2.13', 'vni': 300}]


def test_create_from_nothing():
    actions, predicted = plan(desired(), {KEY: ABSENT}, index=None, master_index=None)
    assert described(actions) == [
        'create %s with vni 256, port 4789, local 192.0.2.11, dev eth0 in the host namespace, learning off, mtu 1450, '
        'master br0' % LABEL,
        'add peer 192.0.2.12 to %s' % LABEL,
        'add FDB entry %s dst 192.0.2.12 to %s' % (MAC3, LABEL),
        'set neighbour 10.0.0.3 to %s on the device of %s' % (MAC3, LABEL)]
    assert actions[0] == {'key': KEY, 'description': described(actions)[0], 'op': 'create', 'up': True, 'master_index': 4,
                          'create': {'kind': 'vxlan', 'vxlan_id': 256, 'vxlan_port': 4789, 'mtu': 1450,
                                     'vxlan_local': '192.0.2.11', 'vxlan_link': 2, 'vxlan_learning': 0}}
    # the entries go to the device this plan creates: index None, filled in when it is applied
    assert [(a['op'], a['index'], a['command']) for a in actions[1:]] == [('fdb', None, 'append'), ('fdb', None, 'append'),
                                                                          ('neigh', None, 'replace')]
    assert actions[1]['entry'] == {'mac': vx.ZERO_MAC, 'dst': '192.0.2.12', 'vni': None}
    want = recorded()[KEY]
    assert vx.VxlanReconciler.comparable(None, predicted[KEY]) == vx.VxlanReconciler.comparable(None, want)


def test_equal_is_zero_actions_and_predicts_the_state_read():
    current = recorded()
    actions, predicted = plan(desired(), current)
    assert actions == [] and predicted == current


def test_missing_fdb_and_neighbour_entries_are_added_to_the_existing_device():
    actions, predicted = plan(desired(), recorded(fdb=[fdb_msg(vx.ZERO_MAC, '192.0.2.12')], neigh=[]))
    assert [(a['op'], a['index'], a['command'], a['entry']) for a in actions] == [
        ('fdb', 5, 'append', {'mac': MAC3, 'dst': '192.0.2.12', 'vni': None}),
        ('neigh', 5, 'replace', {'address': '10.0.0.3', 'mac': MAC3, 'on': 'device'})]
    assert predicted == recorded()


def test_a_stale_remote_goes_with_purge_only():
    stale = recorded(fdb=[fdb_msg(vx.ZERO_MAC, '192.0.2.12'), fdb_msg(vx.ZERO_MAC, '192.0.2.13'), fdb_msg(MAC3, '192.0.2.12'),
                          fdb_msg(MAC4, '192.0.2.13')])
    actions, predicted = plan(desired(), stale)
    assert described(actions) == ['remove peer 192.0.2.13 from %s (not listed)' % LABEL,
                                  'remove FDB entry %s dst 192.0.2.13 from %s (not listed)' % (MAC4, LABEL)]
    assert [(a['op'], a['index'], a['command']) for a in actions] == [('fdb', 5, 'del')] * 2
    assert predicted == recorded()
    actions, predicted = plan(desired(purge=False), stale)
    assert actions == [] and predicted == stale


def test_a_listed_mac_behind_another_vtep_is_moved():
    moved = recorded(fdb=[fdb_msg(vx.ZERO_MAC, '192.0.2.12'), fdb_msg(MAC3, '192.0.2.13')],
                     neigh=[neigh_msg('10.0.0.3', MAC4)])
    actions, predicted = plan(desired(purge=False), moved)
    assert described(actions) == ['remove FDB entry %s dst 192.0.2.13 from %s (replaced)' % (MAC3, LABEL),
                                  'add FDB entry %s dst 192.0.2.12 to %s' % (MAC3, LABEL),
                                  'set neighbour 10.0.0.3 to %s on the device of %s' % (MAC3, LABEL)]
    assert predicted == recorded()


@pytest.mark.parametrize('field, kernel, words', [
    ('vni', {'vni': 300}, "vni 300 (wanted 256)"),
    ('port', {'port': 8472}, "port 8472 (wanted 4789)"),
    ('local', {'local': '192.0.2.99'}, "local '192.0.2.99' (wanted '192.0.2.11')"),
])
def test_a_wrong_identity_is_refused_or_recreated(field, kernel, words):
    current = recorded(**kernel)
    with pytest.raises(LinuxnetError, match=re.escape('the device exists with %s; the kernel cannot change these in place' % words)):
        plan(desired(), current)
    actions, predicted = plan(desired(recreate=True), current)
    assert described(actions)[0] == 'delete %s to recreate it (%s changed)' % (LABEL, field)
    assert (actions[0]['op'], actions[0]['index']) == ('delete', 5)
    assert [a['op'] for a in actions[1:]] == ['create', 'fdb', 'fdb', 'neigh']
    assert all(a['index'] is None for a in actions[2:])  # the new device, not index 5
    assert vx.VxlanReconciler.comparable(None, predicted[KEY]) == vx.VxlanReconciler.comparable(None, recorded()[KEY])


def test_settings_changed_in_place():
    actions, predicted = plan(desired(mtu=1400, learning=True, link_state='down'), recorded(), mtu=1400)
    assert [(a['op'], a['what'], a['attrs']) for a in actions] == [
        ('set', 'set mtu 1400', {'mtu': 1400}),
        ('set', 'set learning on', {'kind': 'vxlan', 'vxlan_learning': 1}),
        ('set', 'bring down', {'state': 'down'})]
    assert (predicted[KEY]['mtu'], predicted[KEY]['learning'], predicted[KEY]['up']) == (1400, True, False)


def test_removal():
    actions, predicted = plan(desired(state='absent'), recorded())
    assert actions == [{'key': KEY, 'description': 'delete %s' % LABEL, 'op': 'delete', 'index': 5}]
    assert predicted == {KEY: ABSENT}
    assert plan(desired(state='absent'), {KEY: ABSENT}) == ([], {KEY: ABSENT})


def test_a_link_of_another_kind_is_refused():
    current = recorded()
    current[KEY]['kind'] = 'dummy'
    with pytest.raises(LinuxnetError, match='already exists in network namespace ov and is a dummy link, not a vxlan device'):
        plan(desired(), current)


class Writer:
    """Records the writes apply_action makes."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, method):
        return lambda *args, **kwargs: self.calls.append((method, args[1:], kwargs)) or (17 if method == 'index' else None)


def test_applying_the_actions_fills_in_the_created_index():
    want = desired()
    actions, _predicted = plan(want, {KEY: ABSENT}, index=None, master_index=None)
    writer, created = Writer(), {}
    with pytest.MonkeyPatch.context() as patch:
        # created in the underlay (the host) and moved into ov at once
        patch.setattr(vx, 'open_ns_fd', lambda ref: os.open(os.devnull, os.O_RDONLY))
        for action in actions:
            vx.apply_action(writer, want[KEY], action, created)
    assert created == {'index': 17}
    assert [(method, args[0]) for method, args, _kwargs in writer.calls] == [
        ('link_add', 'vxlan0'), ('index', 'vxlan0'), ('link_set', 'vxlan0'), ('fdb', 'vxlan0'), ('fdb', 'vxlan0'), ('neigh', 'vxlan0')]
    assert writer.calls[0][2]['vxlan_id'] == 256 and isinstance(writer.calls[0][2]['net_ns_fd'], int)
    assert writer.calls[2][2] == {'ifalias': 'linuxnet.container', 'state': 'up', 'master': 4}
    assert [args[1:3] for method, args, _kwargs in writer.calls[3:]] == [('append', 17), ('append', 17), ('replace', 17)]


def bridge_fdb_msg(mac, port, master=4, state=vx.NUD_NOARP):
    """An entry of the bridge's own FDB (`bridge fdb replace MAC dev PORT master static`): NDA_MASTER, no NTF_SELF."""
    msg = ndmsg()
    msg['family'], msg['ifindex'], msg['state'], msg['flags'] = socket.AF_BRIDGE, port, state, 0
    msg['attrs'] = [('NDA_LLADDR', mac), ('NDA_MASTER', master)]
    msg.encode()
    decoded = ndmsg(msg.data)
    decoded.decode()
    return decoded


class View:
    def name_of(self, index):
        return {6: 'veth1', 7: 'veth2'}.get(index)


def test_static_entries_are_the_bridge_ports_static_ones_only():
    msgs = [bridge_fdb_msg(MAC3, 6), bridge_fdb_msg(MAC4, 7, state=0x02),               # static; learnt (reachable)
            bridge_fdb_msg('02:42:0a:00:00:05', 7, state=vx.NUD_PERMANENT),            # the port's own address
            bridge_fdb_msg('02:42:0a:00:00:06', 6, master=9), fdb_msg(MAC4, '192.0.2.12')]  # another bridge; the device's
    assert vx.static_entries(msgs, View(), 5, 4) == [{'mac': MAC3, 'port': 'veth1'}]


def test_evpn_device_names_its_namespace_for_frr_and_writes_only_its_static_macs():
    want = desired(peers=None, fdb=None, neighbors=None, purge=False, evpn=True,
                   static_macs=[{'mac': MAC4, 'port': 'veth2'}])
    current = recorded(fdb=[], neigh=[])
    current[KEY].update(evpn=False, protodown=True, port_learning=True, static_macs=[{'mac': MAC3, 'port': 'veth1'}])
    actions, predicted = plan(want, current)
    assert described(actions) == [
        'remove static FDB entry %s on veth1 of %s (not listed)' % (MAC3, LABEL),
        'add static FDB entry %s on port veth2 of %s' % (MAC4, LABEL),
        'turn bridge port learning off on %s' % LABEL,
        'name network namespace ov for FRR (/run/linuxnet-container/evpn/ov) and turn protodown off once zebra has adopted it']
    assert predicted[KEY]['static_macs'] == [{'mac': MAC4, 'port': 'veth2'}]
    assert (predicted[KEY]['evpn'], predicted[KEY]['protodown'], predicted[KEY]['port_learning']) == (True, False, False)
    learning_off = next(a for a in actions if a['op'] == 'brport')
    assert (learning_off['index'], learning_off['attrs']) == (5, {'learning': 0})
    # Named already, protodown on (zebra adopted it while it ran): turned off; then nothing to do.
    current[KEY].update(evpn=True, port_learning=False, static_macs=[{'mac': MAC4, 'port': 'veth2'}])
    actions, predicted = plan(want, current)
    assert [(a['op'], a['attrs']) for a in actions] == [('set', {'IFLA_PROTO_DOWN': 0})]
    assert plan(want, predicted)[0] == []


def test_a_static_overlay_switched_to_evpn_loses_its_static_remote_entries_before_frr_adopts_it():
    want = desired(peers=None, fdb=None, neighbors=None, purge=False, evpn=True, static_macs=[])
    current = recorded()  # what the static control plane wrote: a peer, a remote MAC, its neighbour
    current[KEY].update(evpn=False, protodown=False, port_learning=False, static_macs=[])
    actions, predicted = plan(want, current)
    assert described(actions) == [
        'remove peer 192.0.2.12 from %s (not listed)' % LABEL,
        'remove FDB entry %s dst 192.0.2.12 from %s (not listed)' % (MAC3, LABEL),
        'remove neighbour 10.0.0.3 (%s) from the device of %s (not listed)' % (MAC3, LABEL),
        'name network namespace ov for FRR (/run/linuxnet-container/evpn/ov) and turn protodown off once zebra has adopted it']
    assert (predicted[KEY]['peers'], predicted[KEY]['fdb'], predicted[KEY]['neighbors']) == ([], [], [])
    # Once FRR has the device, its entries (the same kinds) are FRR's: left alone.
    frr = recorded()
    frr[KEY].update(evpn=True, protodown=False, port_learning=False, static_macs=[])
    assert plan(want, frr)[0] == []


def test_a_new_evpn_device_stops_its_bridge_port_learning_before_frr_adopts_it():
    want = desired(peers=None, fdb=None, neighbors=None, purge=False, evpn=True, static_macs=[])
    actions, predicted = plan(want, {KEY: ABSENT}, index=None, master_index=None, evpn=False, static_macs=[])
    ops = [(a['op'], a.get('index')) for a in actions]
    assert ops[0] == ('create', None) and ('brport', None) in ops
    assert ops.index(('brport', None)) < ops.index(('evpn_bind', None)), ops
    assert predicted[KEY]['port_learning'] is False
    assert plan(want, predicted)[0] == []


def test_evpn_needs_a_named_namespace_and_static_macs_a_master():
    with pytest.raises(LinuxnetError, match='evpn needs the device in a named namespace'):
        desired(namespace=None, evpn=True)
    with pytest.raises(LinuxnetError, match='static_macs need master'):
        desired(master=None, static_macs=[{'mac': MAC3, 'port': 'veth1'}])


def test_a_device_named_for_frr_is_compared_without_frrs_entries():
    """FRR installs its flood list and remote MACs while the module runs (after zebra adopts the namespace): the verify
    after a converge compares the rest only; a device of the static control plane is compared with its entries."""
    state = recorded()[KEY]
    frr = dict(state, evpn=True, peers=['192.0.2.13'], fdb=[], neighbors=[])
    assert vx.VxlanReconciler.comparable(None, frr) == vx.VxlanReconciler.comparable(None, dict(state, evpn=True))
    assert vx.VxlanReconciler.comparable(None, dict(frr, evpn=False)) != vx.VxlanReconciler.comparable(None, dict(state, evpn=False))
