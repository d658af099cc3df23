# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""expect (check mode only): parsing, virtual namespaces, placeholder bridges, and the predictions of bridge, veth,
vxlan and macvlan against an in-memory kernel, compared with what they plan once the earlier tasks have run."""

from __future__ import annotations

import errno
import os

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._converge.expect import Expect, argument_spec, parse_expect
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.links import NsView, Views
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError, NetlinkError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import TAG
from ansible_collections.linuxnet.container.plugins.module_utils._parts import bridge as br
from ansible_collections.linuxnet.container.plugins.module_utils._kernel import links
from ansible_collections.linuxnet.container.plugins.module_utils._parts import macvlan as mv
from ansible_collections.linuxnet.container.plugins.module_utils._parts import veth
from ansible_collections.linuxnet.container.plugins.module_utils._parts import vxlan as vx
from ansible_collections.linuxnet.container.tests.unit.netlink_messages import FakeChannel, link_msg


# -- parsing --------------------------------------------------------------------------------------------------------

def test_argument_spec_is_a_fresh_dict_each_time():
    spec = argument_spec()
    assert spec['type'] == 'dict' and spec['options']['links']['options']['name']['required'] is True
    spec['options']['links']['options']['name']['required'] = False
    assert argument_spec()['options']['links']['options']['name']['required'] is True


def test_outside_check_mode_expect_is_validated_but_inert(tmp_path):
    raw = {'namespaces': [str(tmp_path / 'new')], 'links': [{'name': 'docker0', 'namespace': None}]}
    expect = parse_expect(raw, check_mode=False)
    ref = NamespaceRef(str(tmp_path / 'new'))
    assert not expect.active and not expect.virtual(ref) and not expect.exists(ref)
    assert expect.placeholders(NamespaceRef(None), set()) == []
    assert expect.hint('namespaces') == ''
    with pytest.raises(LinuxnetError, match=r'expect.links\[0\]: interface name .* Linux allows at most 15'):
        parse_expect({'links': [{'name': 'a' * 16}]}, check_mode=False)


@pytest.mark.parametrize('raw, words', [
    ({'namespaces': ['bad name']}, r'expect.namespaces\[0\]: .*must not contain white space'),
    ({'namespaces': ['']}, r'expect.namespaces\[0\]: a namespace name, path or pid:N is required'),
    ({'links': [{'name': 'br0', 'namespace': 'a/b'}]}, r"expect.links\[0\]: namespace name 'a/b' must not contain '/'"),
    ({'links': [{'name': 'a:b'}]}, r"expect.links\[0\]: interface name 'a:b' must not"),
])
def test_bad_entries_name_the_entry(raw, words):
    with pytest.raises(LinuxnetError, match=words):
        parse_expect(raw, check_mode=True)


def test_empty_or_missing_expect_changes_nothing(tmp_path):
    for raw in (None, {}, {'namespaces': None, 'links': None}):
        expect = parse_expect(raw, check_mode=True)
        assert not expect.virtual(NamespaceRef(str(tmp_path / 'x')))
        assert expect.placeholders(NamespaceRef(None), set()) == []


def test_virtual_only_for_listed_namespaces_that_do_not_exist(tmp_path):
    there = tmp_path / 'there'
    there.write_text('')
    expect = parse_expect({'namespaces': [str(there), str(tmp_path / 'new')]}, check_mode=True)
    assert expect.virtual(NamespaceRef(str(tmp_path / 'new')))
    assert expect.exists(NamespaceRef(str(tmp_path / 'new')))
    assert not expect.virtual(NamespaceRef(str(there))) and expect.exists(NamespaceRef(str(there)))
    assert not expect.exists(NamespaceRef(str(tmp_path / 'unlisted')))
    assert not expect.virtual(NamespaceRef(None))
    assert expect.identity(NamespaceRef(str(tmp_path / 'new'))) != expect.identity(NamespaceRef(str(tmp_path / 'other')))
    assert 'list it in expect.namespaces' in expect.hint('namespaces')


def test_placeholders_for_missing_links_only_with_negative_indices():
    expect = parse_expect({'links': [{'name': 'docker0'}, {'name': 'br-1', 'namespace': None}, {'name': 'docker0'},
                                     {'name': 'br0', 'namespace': 'ov'}]}, check_mode=True)
    host = expect.placeholders(NamespaceRef(None), {'br-1'})
    assert [(p['name'], p['index'], p['kind'], p['mtu'], p['master_index']) for p in host] == [('docker0', -1, 'bridge', 1500, None)]
    assert [p['name'] for p in expect.placeholders(NamespaceRef('ov'), set())] == ['br0']
    assert expect.placeholders(NamespaceRef('other'), set()) == []
    assert host[0]['alias'] == TAG and host[0]['hwtype'] == 1


# -- an in-memory kernel --------------------------------------------------------------------------------------------

class FakeIPR(FakeChannel):
    def __init__(self, kernel, path):
        self.kernel, self.path = kernel, path

    def _msg(self, link):
        return link_msg(link['index'], link['name'], link['mac'], link['mtu'], int(link['up']), ifalias=link['alias'],
                        master=link.get('master'), kind=link['kind'])

    def link(self, command, **kw):
        links = self.kernel.ns[self.path]
        if command == 'dump':
            return [self._msg(link) for link in links.values()]
        if command == 'get':
            if kw['ifname'] not in links:
                raise NetlinkError(errno.ENODEV)
            return [self._msg(links[kw['ifname']])]
        raise AssertionError('no write expected, got link %s %r' % (command, kw))

    def addr(self, command, **kw):
        assert command == 'dump', 'no write expected'
        return []

    def route(self, command, **kw):
        assert command == 'dump', 'no write expected'
        return []


class FakeKernel:
    def __init__(self, host):
        self.host = host
        self.ns = {host: {}}
        self.opened = []
        self.next_index = 1

    def add_ns(self, path):
        open(path, 'w').close()
        self.ns[path] = {}

    def add_link(self, path, name, kind, mtu=1500):
        self.next_index += 1
        self.ns[path][name] = {'index': self.next_index, 'name': name, 'kind': kind, 'mtu': mtu, 'up': True,
                               'mac': 'aa:bb:cc:00:00:%02x' % self.next_index, 'alias': TAG if kind == 'bridge' else None}


class FakeNetlink:
    def __init__(self, kernel):
        self.kernel = kernel

    def ref(self, spec):
        return spec if isinstance(spec, NamespaceRef) else NamespaceRef(spec)

    def channel(self, spec=None):
        """Dumps, gets and writes go through the same fake socket (the real Netlink's Channel speaks netlink)."""
        return self.ipr(spec)

    def flush(self):
        """The fake socket answers every write at once: nothing is ever pending."""

    def invalidate(self):
        """The fake socket caches nothing."""

    def ipr(self, spec=None):
        ref = self.ref(spec)
        path = ref.path or self.kernel.host
        self.kernel.opened.append(path)
        if path not in self.kernel.ns:
            raise AssertionError('opened %s, which does not exist' % path)
        return FakeIPR(self.kernel, path)


class FakeModule:
    def __init__(self, check_mode, params=None):
        self.check_mode = check_mode
        self.params = params or {}
        self.warnings = []

    def warn(self, msg):
        self.warnings.append(msg)


@pytest.fixture
def kernel(tmp_path, monkeypatch):
    """The host namespace (a plain file) with eth0; c1 and ov are namespaces an earlier task creates."""
    host = str(tmp_path / 'host')
    open(host, 'w').close()
    monkeypatch.setattr(mv, 'HOME_NS', host)
    monkeypatch.setattr(links, 'HOME_NS', host)  # namespace ids: the fake host is a plain file
    k = FakeKernel(host)
    k.add_link(host, 'eth0', 'veth')
    k.c1, k.ov = str(tmp_path / 'c1'), str(tmp_path / 'ov')
    return k


def earlier_tasks(k):
    """What netns and bridge do for real before the later tasks run."""
    k.add_ns(k.c1)
    k.add_ns(k.ov)
    k.add_link(k.host, 'docker0', 'bridge')
    k.add_link(k.ov, 'br0', 'bridge', mtu=1450)


def expectations(k):
    return {'namespaces': [k.c1, k.ov], 'links': [{'name': 'docker0', 'namespace': None}, {'name': 'br0', 'namespace': k.ov}]}


def test_a_virtual_namespace_is_read_empty_and_never_opened(kernel):
    expect = parse_expect(expectations(kernel), check_mode=True)
    view = Views(FakeNetlink(kernel), expect).get(NamespaceRef(kernel.ov))
    assert view.virtual and view.link('br0')['kind'] == 'bridge' and view.link('eth0') is None
    assert view.addresses(view.link('br0')['index']) == [] and view.routes(-1) == []
    assert view.ports_of(view.link('br0')['index']) == []
    assert kernel.opened == []
    host = NsView(FakeNetlink(kernel), NamespaceRef(None), expect)
    assert host.link('eth0')['kind'] == 'veth' and host.link('docker0')['index'] < 0
    assert host.name_of(host.link('docker0')['index']) == 'docker0'
    assert kernel.opened == [kernel.host]


# -- predictions: check mode with expect == check mode after the earlier tasks --------------------------------------

def predict(k, run, expect):
    """Run a module's plan in check mode; return (actions, after) and check nothing was written or opened wrongly."""
    result = run(FakeModule(True), FakeNetlink(k), expect)
    assert set(k.opened) <= set(p for p in k.ns if os.path.exists(p) or p == k.host)
    return result['actions'], result['after'], result['changed']


def same_after_earlier_tasks(k, run):
    checked = predict(k, run, parse_expect(expectations(k), check_mode=True))
    earlier_tasks(k)
    assert predict(k, run, parse_expect(None, check_mode=True)) == checked
    assert predict(k, run, parse_expect(expectations(k), check_mode=True)) == checked  # existing objects: read as usual
    return checked


def veth_params(k):
    def end(**extra):
        out = {'mac': None, 'mac_from_ip': False, 'addresses': None, 'routes': None, 'master': None, 'hairpin': None}
        out.update(extra)
        return out
    pairs = [
        dict(end(master='docker0', hairpin=True), name='vethc1', namespace=None, mtu=None, link_state='up',
             purge_addresses=True, state=None, recreate=None,
             peer=dict(end(addresses=['172.17.0.2/16'], mac_from_ip=True, routes=[{'dst': 'default', 'gateway': '172.17.0.1'}]),
                       name='eth0', namespace=k.c1)),
        dict(end(master='br0'), name='veth0', namespace=k.ov, mtu=1450, link_state='up', purge_addresses=True, state=None,
             recreate=None, peer=dict(end(addresses=['10.0.0.2/24']), name='eth1', namespace=k.c1)),
    ]
    return {'pairs': pairs, 'state': 'present', 'recreate': False}


def run_veth(k):
    def run(module, netlink, expect):
        module.params = veth_params(k)
        return veth.VethReconciler(module, netlink, expect).run(veth._desired(module, expect))
    return run


def test_veth_predicts_the_pairs_in_new_namespaces_on_new_bridges(kernel):
    actions, after, changed = same_after_earlier_tasks(kernel, run_veth(kernel))
    assert changed and actions[:2] == [
        'create veth pair vethc1 (host), master docker0 <-> eth0 (%s)' % kernel.c1,
        'set hairpin on of vethc1 (host)']
    assert 'add route default via 172.17.0.1 to eth0 (%s)' % kernel.c1 in actions
    assert after['vethc1']['master'] == 'docker0' and after['vethc1']['peer']['mac'] == '02:42:ac:11:00:02'
    assert after['%s/veth0' % kernel.ov]['peer']['addresses'] == ['10.0.0.2/24']


def test_veth_without_expect_fails_in_check_mode_with_the_hint(kernel):
    module = FakeModule(True, veth_params(kernel))
    with pytest.raises(LinuxnetError, match='network namespace %s of eth0 does not exist.*list it in expect.namespaces' % kernel.c1):
        veth._desired(module, parse_expect(None, check_mode=True))
    expect = parse_expect({'namespaces': [kernel.c1, kernel.ov]}, check_mode=True)
    with pytest.raises(LinuxnetError, match='master bridge docker0 does not exist in the host namespace.*expect.links'):
        veth.VethReconciler(module, FakeNetlink(kernel), expect).run(veth._desired(module, expect))


def test_a_real_run_ignores_expect(kernel):
    module = FakeModule(False, veth_params(kernel))
    expect = parse_expect(expectations(kernel), check_mode=False)
    with pytest.raises(LinuxnetError, match='network namespace %s of eth0 does not exist. Fix: create it first '
                                            r'\(linuxnet.container.netns\) or check the name, path or PID$' % kernel.c1):
        veth._desired(module, expect)


def test_bridge_predicts_a_bridge_in_a_new_namespace(kernel):
    def run(module, netlink, expect):
        module.params = {'bridges': [{'name': 'br0', 'namespace': kernel.ov, 'addresses': ['10.0.0.1/24'], 'purge_addresses': True,
                                      'mtu': 1450, 'mac': None, 'stp': None, 'vlan_filtering': None, 'link_state': 'up',
                                      'ports': None, 'purge_ports': False, 'state': None}], 'namespace': None, 'state': 'present'}
        return br.BridgeReconciler(module, netlink, expect).run(br._desired(module))
    actions, after, changed = predict(kernel, run, parse_expect({'namespaces': [kernel.ov]}, check_mode=True))
    assert actions == ['create bridge br0 in network namespace %s with mtu 1450' % kernel.ov,
                       'add address 10.0.0.1/24 to bridge br0 in network namespace %s' % kernel.ov]
    assert after['%s/br0' % kernel.ov]['mtu'] == 1450 and kernel.opened == []


def vxlan_params(k):
    device = {'name': 'vxlan0', 'namespace': k.ov, 'vni': 256, 'local': None, 'dev': 'eth0', 'underlay_namespace': None,
              'learning': False, 'proxy': None, 'ttl': None, 'mtu': 1450, 'master': 'br0', 'link_state': 'up',
              'peers': ['192.0.2.12'], 'fdb': [{'mac': '02:42:0a:00:00:03', 'dst': '192.0.2.12', 'vni': None}],
              'neighbors': [{'address': '10.0.0.3', 'mac': '02:42:0a:00:00:03', 'on': 'device'}],
              'purge': True, 'recreate': False, 'state': None, 'port': None}
    top = dict((key, None) for key in vx._PER_DEVICE + ('name', 'namespace', 'underlay_namespace', 'local', 'dev'))
    top.update(devices=[device], state='present', port=4789)
    return top


def test_vxlan_predicts_a_device_in_a_new_namespace_with_a_new_master(kernel):
    def run(module, netlink, expect):
        module.params = vxlan_params(kernel)
        return vx.VxlanReconciler(module, netlink, expect).run(vx._desired(module))
    actions, after, changed = same_after_earlier_tasks(kernel, run)
    label = 'vxlan vxlan0 in network namespace %s' % kernel.ov
    assert actions == ['create %s with vni 256, port 4789, dev eth0 in the host namespace, learning off, mtu 1450, master br0' % label,
                       'add peer 192.0.2.12 to %s' % label,
                       'add FDB entry 02:42:0a:00:00:03 dst 192.0.2.12 to %s' % label,
                       'set neighbour 10.0.0.3 to 02:42:0a:00:00:03 on the device of %s' % label]
    state = after['%s/vxlan0' % kernel.ov]
    assert (state['master'], state['peers'], state['mtu']) == ('br0', ['192.0.2.12'], 1450)


def test_macvlan_predicts_an_endpoint_in_a_new_namespace(kernel):
    def run(module, netlink, expect):
        raw = {'name': 'eth0', 'namespace': kernel.c1, 'parent': 'eth0', 'parent_namespace': None, 'mode': 'bridge',
               'mac': None, 'mac_from_ip': True, 'addresses': ['198.51.100.2/24'], 'routes': None, 'mtu': None,
               'link_state': 'up', 'purge_addresses': False, 'state': None, 'recreate': None}
        params = {'endpoints': [raw], 'state': 'present', 'recreate': False, 'prune': True}
        return mv.MacvlanReconciler(module, netlink, prune=True, expect=expect).run(mv.desired_state(params, expect))
    actions, after, changed = same_after_earlier_tasks(kernel, run)
    assert actions == ['create macvlan eth0 in network namespace %s on parent eth0 in the host namespace, mode bridge, '
                       'mac 02:42:c6:33:64:02' % kernel.c1,
                       'add address 198.51.100.2/24 to macvlan eth0 in network namespace %s' % kernel.c1]
    assert after['%s/eth0' % kernel.c1]['mtu'] == 1500


def test_macvlan_without_expect_fails_in_check_mode(kernel):
    raw = {'name': 'eth0', 'namespace': kernel.c1, 'parent': 'eth0', 'parent_namespace': None, 'mode': 'bridge', 'mac': None,
           'mac_from_ip': False, 'addresses': None, 'routes': None, 'mtu': None, 'link_state': 'up', 'purge_addresses': False,
           'state': None, 'recreate': None}
    with pytest.raises(LinuxnetError, match='does not exist.*list it in expect.namespaces'):
        mv.desired_state({'endpoints': [raw], 'state': 'present', 'recreate': False}, Expect([], [], active=True))
