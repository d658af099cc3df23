# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_network: each part checked with its own module's spec before anything runs, in a fixed order; the
connected routes expect adds for port_map's check mode; in check mode, what the earlier parts of one call create is
what the later parts expect."""

from __future__ import annotations

import copy
import ipaddress

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._converge.expect import parse_expect
from ansible_collections.linuxnet.container.plugins.module_utils._converge.part import PartModule, validate_part
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.namespaces import NamespaceRef
from ansible_collections.linuxnet.container.plugins.module_utils._converge import host_network as hn
from ansible_collections.linuxnet.container.plugins.modules import host_network as host_network_module
from ansible_collections.linuxnet.container.tests.unit.plugins.module_utils.test_expect import FakeKernel, FakeNetlink


class FakeModule:
    def __init__(self, params, check_mode=False, diff=False):
        self.params = dict({name: None for name, _impl in hn.PARTS}, return_objects=True)
        self.params.update(params)
        self.check_mode = check_mode
        self._diff = diff
        self.warnings = []

    def warn(self, warning):
        self.warnings.append(warning)


def converge(module, netlink):
    """What the module does with its parameters (host_network.run, without the lock and the record)."""
    return hn.converge({name: module.params[name] for name in hn.PART_NAMES}, netlink, check_mode=module.check_mode,
                       diff=module._diff, warn=module.warn,  # pylint: disable=protected-access
                       return_objects=module.params['return_objects'])


def test_parts_run_in_dependency_order():
    assert [name for name, _impl in hn.PARTS] == ['netns', 'bridge', 'veth', 'vxlan', 'macvlan', 'docker_isolation', 'port_map',
                                                  'vtep_filter']


def test_a_part_is_validated_with_its_modules_spec_and_gets_its_defaults():
    params, errors = validate_part('port_map', dict(hn.PARTS)['port_map'].module_spec(),
                                   {'ports': [{'container_ip': '172.18.0.2', 'publish': ['80']}]})
    assert errors == []
    assert params['exclusive'] is False and params['forwarding'] is True and params['state'] == 'present'


def test_part_errors_name_the_part_and_the_option():
    _params, errors = validate_part('netns', dict(hn.PARTS)['netns'].module_spec(),
                                    {'name': 'a', 'namespaces': [{'name': 'b'}], 'colour': 'red'})
    assert errors and all(e.startswith('netns: ') for e in errors)
    assert any(e.startswith('netns: unsupported parameters: colour. Supported parameters include: ') for e in errors)
    assert 'netns: parameters are mutually exclusive: name|namespaces' in errors


def test_every_part_is_checked_before_any_runs(monkeypatch):
    ran = []
    for name, impl in hn.PARTS:
        monkeypatch.setattr(impl, 'run', lambda module, netlink, n=name: ran.append(n) or {'changed': False})
    module = FakeModule({'netns': {'namespaces': [{'name': 'a'}]}, 'veth': {'pairs': [{'name': 'v', 'colour': 1}]},
                         'port_map': {'state': 'gone'}})
    with pytest.raises(LinuxnetError) as err:
        converge(module, netlink=None)
    assert ran == []
    assert err.value.msg.startswith('invalid arguments, nothing was changed: veth: ')
    assert 'port_map: value of state must be one of: present, absent, got: gone' in err.value.msg


def test_a_failing_part_stops_the_run_and_carries_the_results_before_it(monkeypatch):
    def fail(module, netlink):
        raise LinuxnetError('master bridge br9 does not exist', hint='x')
    monkeypatch.setattr(dict(hn.PARTS)['netns'], 'run',
                        lambda module, netlink: {'changed': True, 'actions': ['create network namespace a'], 'diff': {}})
    monkeypatch.setattr(dict(hn.PARTS)['veth'], 'run', fail)
    monkeypatch.setattr(dict(hn.PARTS)['port_map'], 'run', lambda module, netlink: pytest.fail('ran after a failure'))
    module = FakeModule({'netns': {'namespaces': [{'name': 'a'}]}, 'veth': {'pairs': [{'name': 'v'}]},
                         'port_map': {'state': 'absent'}})
    with pytest.raises(LinuxnetError) as err:
        converge(module, netlink=None)
    assert err.value.msg == 'veth: master bridge br9 does not exist'
    assert err.value.details['failed_part'] == 'veth' and err.value.details['hint'] == 'x'
    assert err.value.details['changed'] is True
    assert err.value.details['parts'] == {'netns': {'changed': True, 'actions': ['create network namespace a']}}


def test_diff_only_in_diff_mode_one_entry_per_changed_part(monkeypatch):
    for name, impl in hn.PARTS:
        monkeypatch.setattr(impl, 'run', lambda module, netlink, n=name: {
            'changed': n == 'bridge', 'actions': [], 'diff': {'before': {}, 'after': {n: module.params['state']}}})
    args = {'bridge': {'name': 'br0'}, 'docker_isolation': {}}
    plain = converge(FakeModule(args), netlink=None)
    assert 'diff' not in plain and plain['changed'] and sorted(plain['parts']) == ['bridge', 'docker_isolation']
    shown = converge(FakeModule(args, diff=True), netlink=None)
    assert shown['diff'] == [{'before': {}, 'after': {'bridge': 'present'}, 'before_header': 'bridge', 'after_header': 'bridge'}]


def test_without_objects_each_part_returns_changed_actions_and_counters(monkeypatch):
    monkeypatch.setattr(dict(hn.PARTS)['veth'], 'run', lambda module, netlink: {
        'changed': True, 'actions': ['create veth pair v'], 'netlink_writes': 6, 'pairs': [{'name': 'v'}], 'diff': {}})
    args = {'veth': {'pairs': [{'name': 'v'}]}}
    assert converge(FakeModule(args), netlink=None)['parts']['veth']['pairs'] == [{'name': 'v'}]
    slim = converge(FakeModule(dict(args, return_objects=False)), netlink=None)
    assert slim == {'changed': True, 'parts': {'veth': {'changed': True, 'actions': ['create veth pair v'], 'netlink_writes': 6}}}


def test_part_warnings_carry_the_part_name():
    seen = []
    PartModule('veth', {}, False, seen.append).warn('something')
    assert seen == ['veth: something']


def test_expected_links_with_addresses_give_connected_routes_in_check_mode_only():
    raw = {'links': [{'name': 'br-a', 'addresses': ['172.18.0.1/16']}, {'name': 'br0', 'namespace': 'ov'}]}
    host = NamespaceRef(None)
    assert parse_expect(raw, check_mode=True).connected(host, set()) == [(ipaddress.ip_network('172.18.0.0/16'), 'br-a')]
    assert parse_expect(raw, check_mode=True).connected(host, {'br-a'}) == []  # it exists: the kernel's routes count
    assert parse_expect(raw, check_mode=False).connected(host, set()) == []
    with pytest.raises(LinuxnetError, match=r'expect.links\[0\]: address'):
        parse_expect({'links': [{'name': 'br-a', 'addresses': ['300.1.1.1/16']}]}, check_mode=True)


def test_port_map_sysctl_paths_keep_dots_in_interface_names():
    from ansible_collections.linuxnet.container.plugins.module_utils._parts.port_map import sysctl_path
    assert sysctl_path('net.ipv4.ip_forward') == '/proc/sys/net/ipv4/ip_forward'
    assert sysctl_path('net.ipv4.conf.br-hn.route_localnet') == '/proc/sys/net/ipv4/conf/br-hn/route_localnet'
    assert sysctl_path('net.ipv4.conf.br.1.route_localnet') == '/proc/sys/net/ipv4/conf/br.1/route_localnet'
    assert sysctl_path('net.ipv4.conf.default.route_localnet') == '/proc/sys/net/ipv4/conf/default/route_localnet'


# -- check mode: what the earlier parts of one call create is what the later parts expect ----------------------------

FRESH_HOST_ARGS = {
    'netns': {'namespaces': [{'name': 'hn-unit-web'}, {'name': 'hn-unit-gone', 'state': 'absent'}]},
    'bridge': {'bridges': [{'name': 'br-front', 'addresses': ['172.18.0.1/16']}, {'name': 'br-old', 'state': 'absent'}]},
    'veth': {'pairs': [{'name': 'vethweb0', 'master': 'br-front', 'hairpin': True,
                        'peer': {'name': 'eth0', 'namespace': 'hn-unit-web', 'addresses': ['172.18.0.2/16'], 'mac_from_ip': True,
                                 'routes': [{'dst': 'default', 'gateway': '172.18.0.1'}]}}]},
    'port_map': {'ports': [{'container_ip': '172.18.0.2', 'publish': ['8080:80']}], 'exclusive': True},
}


@pytest.fixture
def fresh_host(monkeypatch):
    """netns and port_map are stand-ins that keep the expect they get; bridge and veth are the real parts."""
    seen = {}

    def fake(name, result):
        def run(module, netlink):
            seen[name] = parse_expect(module.params.get('expect'), module.check_mode)
            return dict(result, changed=True)
        return run
    monkeypatch.setattr(dict(hn.PARTS)['netns'], 'run', fake('netns', {'actions': ['create network namespace hn-unit-web']}))
    monkeypatch.setattr(dict(hn.PARTS)['port_map'], 'run', fake('port_map', {'actions': ['publish 8080/tcp']}))
    for name in ('netns', 'port_map'):
        monkeypatch.delattr(dict(hn.PARTS)[name], 'preflight', raising=False)
    return seen


def empty_host(tmp_path):
    """A host namespace with no link (an in-memory kernel that fails on any write, or on opening a namespace it lacks)."""
    host = str(tmp_path / 'host')
    open(host, 'w').close()
    return FakeKernel(host)


def test_check_mode_of_one_call_predicts_every_creation_on_an_empty_host_without_expect(fresh_host, tmp_path):
    kernel = empty_host(tmp_path)
    netlink = FakeNetlink(kernel)
    module = FakeModule(copy.deepcopy(FRESH_HOST_ARGS), check_mode=True)
    out = converge(module, netlink)
    assert out['changed'] and list(out['parts']) == ['netns', 'bridge', 'veth', 'port_map']
    assert out['parts']['bridge']['actions'] == ['create bridge br-front in the host namespace',
                                                 'add address 172.18.0.1/16 to bridge br-front in the host namespace']
    veth_actions = out['parts']['veth']['actions']
    assert veth_actions[:2] == ['create veth pair vethweb0 (host), master br-front <-> eth0 (hn-unit-web)',
                                'set hairpin on of vethweb0 (host)']
    assert 'add address 172.18.0.2/16 to eth0 (hn-unit-web)' in veth_actions
    assert 'add route default via 172.18.0.1 to eth0 (hn-unit-web)' in veth_actions
    assert set(kernel.opened) == {kernel.host}  # the predicted namespace was never opened
    # port_map follows the predicted bridge's connected route to the container; nothing removed is predicted.
    host = NamespaceRef(None)
    assert fresh_host['port_map'].connected(host, set()) == [(ipaddress.ip_network('172.18.0.0/16'), 'br-front')]
    assert [link['name'] for link in fresh_host['port_map'].placeholders(host, set())] == ['br-front']
    assert fresh_host['port_map'].virtual(NamespaceRef('hn-unit-web'))
    assert not fresh_host['port_map'].exists(NamespaceRef('hn-unit-gone'))
    assert module.params == dict(FakeModule(FRESH_HOST_ARGS).params)  # the caller's arguments are left as they were


def test_a_given_expect_adds_to_the_prediction(fresh_host, tmp_path):
    args = copy.deepcopy(FRESH_HOST_ARGS)
    args['port_map']['expect'] = {'links': [{'name': 'docker0', 'addresses': ['172.17.0.1/16']}]}
    converge(FakeModule(args, check_mode=True), FakeNetlink(empty_host(tmp_path)))
    assert [name for _net, name in fresh_host['port_map'].connected(NamespaceRef(None), set())] == ['docker0', 'br-front']
    assert hn.with_created(None, {'namespaces': ['a'], 'links': []}) == {'namespaces': ['a'], 'links': [], 'host_network': True}
    created = {'namespaces': [], 'links': []}
    hn.add_created(created, 'netns', {'name': 'one', 'namespaces': None, 'state': 'present'})
    hn.add_created(created, 'bridge', {'name': 'br0', 'bridges': None, 'namespace': 'one', 'addresses': None, 'state': 'present'})
    hn.add_created(created, 'veth', {'pairs': [{'name': 'v'}], 'state': 'present'})
    assert created == {'namespaces': ['one'], 'links': [{'name': 'br0', 'namespace': 'one', 'addresses': []}]}


def test_check_mode_hint_names_the_calls_own_parts_not_expect(fresh_host, tmp_path):
    """A bridge that no part of the call creates: in host_network the hint is not the deprecated expect."""
    args = copy.deepcopy(FRESH_HOST_ARGS)
    args['veth']['pairs'][0]['master'] = 'br-elsewhere'
    with pytest.raises(LinuxnetError) as err:
        converge(FakeModule(args, check_mode=True), FakeNetlink(empty_host(tmp_path)))
    assert 'master bridge br-elsewhere does not exist' in err.value.msg
    assert 'host_network predicts only what its own earlier parts create' in err.value.msg and 'expect' not in err.value.msg
    standalone = parse_expect({'links': []}, check_mode=True)
    assert standalone.hint('links').endswith('list it in expect.links')


def test_a_parts_expect_is_accepted_and_deprecated():
    seen = []
    module = FakeModule({'veth': {'pairs': [], 'expect': {'namespaces': ['web']}}, 'bridge': {'bridges': []}})
    module.deprecate = lambda msg, version, collection_name: seen.append((msg, version, collection_name))
    host_network_module.deprecate_expect(module)
    assert seen == [('veth: expect is not needed in host_network, which predicts in check mode what its earlier parts create. '
                     'Fix: leave it out', '2.0.0', 'linuxnet.container')]
    seen.clear()
    host_network_module.deprecate_expect(FakeModule({'bridge': {'bridges': []}}))
    assert seen == []


def test_a_real_run_passes_the_parts_no_prediction(monkeypatch):
    seen = {}
    for name, impl in hn.PARTS:
        monkeypatch.setattr(impl, 'run', lambda module, netlink, n=name: seen.update({n: module.params.get('expect')}) or {'changed': False})
        monkeypatch.delattr(impl, 'preflight', raising=False)
    converge(FakeModule(copy.deepcopy(FRESH_HOST_ARGS)), netlink=None)
    assert seen == {'netns': None, 'bridge': None, 'veth': None, 'port_map': None}
