# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""[::1] publications as systemd-socket-proxyd unit pairs: parsing, the pure plan, the reconciler on a unit directory
with a recorded systemctl, port_map's split between its tables and the units, and the controller's plan."""

from __future__ import annotations

import os

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._common.ports import build_maps, expand, parse_publish
from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT
from ansible_collections.linuxnet.container.plugins.module_utils._kernel.errors import LinuxnetError
from ansible_collections.linuxnet.container.plugins.module_utils._parts import inspect
from ansible_collections.linuxnet.container.plugins.module_utils._parts import port_map as pm
from ansible_collections.linuxnet.container.plugins.module_utils._parts import port_proxy as pp
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.fleet import plan_host
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.topology import host_problems

PROXYD = '/usr/lib/systemd/systemd-socket-proxyd'
KEY = ('::1', 'tcp', 8081)
NAME = 'linuxnet-proxy-tcp-8081'


def test_expand_leads_loopback6_to_the_ipv6_address_else_the_ipv4_one():
    publication = parse_publish('[::1]:8081-8082:80-81')
    assert list(expand('173.20.0.2', publication, 'fd00:db8:20::2')) == [
        (('::1', 'tcp', 8081), ('fd00:db8:20::2', 80)), (('::1', 'tcp', 8082), ('fd00:db8:20::2', 81))]
    # No IPv6 on the container's network: Docker's proxy reaches its IPv4 address, so does ours.
    assert list(expand('10.78.0.2', parse_publish('[::1]:8081:80'))) == [(KEY, ('10.78.0.2', 80))]
    # [::1] and [::] on one port conflict (one bind fails in Docker); [::1] and 127.0.0.1 do not.
    with pytest.raises(ValueError, match=r'both publish \[::1\]:8081/tcp'):
        build_maps([('a', '10.0.0.2', parse_publish('[::]:8081:80'), 'fd00::2'), ('b', '10.0.0.3', parse_publish('[::1]:8081:80'))])
    assert len(build_maps([('a', '10.0.0.2', parse_publish('127.0.0.1:8081:80')), ('b', '10.0.0.3', parse_publish('[::1]:8081:80'))])) == 2


def test_unit_texts_carry_the_record_and_listen_on_loopback6_only():
    socket_text, service_text = pp.unit_texts(KEY, ('fd00:db8:20::2', 80), 'web [::1]:8081:80', PROXYD)
    assert pp.unit_name(KEY) == NAME
    lines = socket_text.splitlines()
    assert lines[0].startswith(pp.MARKER)
    assert 'ListenStream=[::1]:8081' in lines and 'BindIPv6Only=ipv6-only' in lines and 'WantedBy=sockets.target' in lines
    assert 'ExecStart=%s fd00:db8:20::2:80' % PROXYD in service_text.splitlines()
    assert 'Requires=%s.socket' % NAME in service_text.splitlines()
    for text in (socket_text, service_text):
        assert pp.parse_record(text) == (KEY, ('fd00:db8:20::2', 80), 'web [::1]:8081:80')
    ipv4 = pp.unit_texts(KEY, ('10.78.0.2', 80), 'legacy', PROXYD)[1]
    assert 'ExecStart=%s 10.78.0.2:80' % PROXYD in ipv4.splitlines()
    assert pp.parse_record('[Socket]\nListenStream=[::1]:8081\n') is None
    assert pp.parse_record(pp.MARKER + '{not json\n') is None


def _state(target=('fd00:db8:20::2', 80), enabled=True, active=True):
    socket_text, service_text = pp.unit_texts(KEY, target, 'web [::1]:8081:80', PROXYD)
    return {'socket': socket_text, 'service': service_text, 'enabled': enabled, 'active': active}


def _desired(maps, exclusive=True):
    return {'units': pp.wanted_units(maps, PROXYD), 'exclusive': exclusive, 'remove': []}


WEB = {KEY: (('fd00:db8:20::2', 80), 'web [::1]:8081:80')}


def test_plan_new_units_write_reload_once_start():
    actions, predicted = pp.plan_units(_desired({**WEB, ('::1', 'tcp', 8082): (('fd00:db8:20::2', 81), 'web x')}), {})
    assert [(a['op'], a['key'], a['phase']) for a in actions] == [
        ('write', NAME, 0), ('write', 'linuxnet-proxy-tcp-8082', 0), ('reload', 'systemd', 1),
        ('start', NAME, 2), ('start', 'linuxnet-proxy-tcp-8082', 2)]
    assert predicted[NAME] == _state()
    assert actions[0]['description'] == ('write systemd units %s.socket and %s.service ([::1]:8081)' % (NAME, NAME))


def test_plan_nothing_when_equal_and_start_only_when_stopped():
    assert pp.plan_units(_desired(WEB), {NAME: _state()}) == ([], {NAME: _state()})
    actions, predicted = pp.plan_units(_desired(WEB), {NAME: _state(enabled=False, active=False)})
    assert [(a['op'], a['restart']) for a in actions] == [('start', False)]  # no file written: no daemon-reload
    assert predicted[NAME]['active'] and predicted[NAME]['enabled']


def test_plan_a_new_target_rewrites_the_service_and_stops_the_running_proxy():
    actions, _predicted = pp.plan_units(_desired(WEB), {NAME: _state(target=('fd00:db8:20::9', 80))})
    write = actions[0]
    assert write['op'] == 'write' and write['stop_service'] and write['restart']  # the socket's Description changed too
    assert [a['op'] for a in actions] == ['write', 'reload', 'start']


def test_plan_prune_only_ours_and_only_with_exclusive_or_absent():
    other = 'linuxnet-proxy-tcp-9000'
    current = {NAME: _state(), other: _state()}
    actions, predicted = pp.plan_units(_desired(WEB), current)
    assert [(a['op'], a['key']) for a in actions] == [('remove', other), ('reload', 'systemd')]
    assert predicted[other] is ABSENT and predicted[NAME] == _state()
    assert pp.plan_units(_desired(WEB, exclusive=False), current)[0] == []
    actions, predicted = pp.plan_units(ABSENT, current)
    assert sorted(a['key'] for a in actions if a['op'] == 'remove') == [NAME, other] and predicted == {NAME: ABSENT, other: ABSENT}
    actions, _predicted = pp.plan_units({'units': {}, 'exclusive': False, 'remove': [other, 'linuxnet-proxy-tcp-1']}, current)
    assert [(a['op'], a['key']) for a in actions] == [('remove', other), ('reload', 'systemd')]
    assert pp.plan_units(ABSENT, {}) == ([], {})


def test_plan_refuses_a_unit_of_that_name_that_is_not_ours():
    with pytest.raises(LinuxnetError, match='exists in /etc/systemd/system but was not made by linuxnet.container'):
        pp.plan_units(_desired(WEB), {}, foreign=[NAME])


class Module:
    check_mode = False
    return_objects = True

    def __init__(self, check_mode=False):
        self.check_mode = check_mode
        self.warnings = []

    def warn(self, message):
        self.warnings.append(message)


class Systemctl:
    """systemctl as the reconciler calls it: records the calls, keeps enabled/active per socket in ``unit_dir``."""

    def __init__(self, unit_dir):
        self.unit_dir = unit_dir
        self.calls = []
        self.active = set()

    def __call__(self, argv):
        assert argv[0] == 'systemctl'
        self.calls.append(' '.join(argv[1:]))
        verb, names = argv[1], [a for a in argv[2:] if not a.startswith('-')]
        wants = os.path.join(self.unit_dir, pp.WANTS)
        if verb == 'show':
            return 0, '\n\n'.join('Id=%s\nActiveState=%s' % (n, 'active' if n in self.active else 'inactive') for n in names) + '\n', ''
        for name in names:
            if verb == 'enable':
                os.makedirs(wants, exist_ok=True)
                os.symlink(os.path.join(self.unit_dir, name), os.path.join(wants, name))
                self.active.add(name)
            elif verb == 'disable':
                os.unlink(os.path.join(wants, name))
                self.active.discard(name)
            elif verb == 'stop':
                self.active.discard(name)
        return 0, '', ''


def test_reconciler_writes_verifies_prunes_on_a_unit_directory(tmp_path):
    unit_dir = str(tmp_path)
    (tmp_path / 'linuxnet-proxy-mine.service').write_text('[Service]\nExecStart=/bin/true\n')  # a user's: not ours
    systemctl = Systemctl(unit_dir)
    checked = pp.ProxyReconciler(Module(check_mode=True), systemctl, unit_dir).run(_desired(WEB))
    assert checked['changed'] and os.listdir(unit_dir) == ['linuxnet-proxy-mine.service'] and systemctl.calls == []
    result = pp.ProxyReconciler(Module(), systemctl, unit_dir).run(_desired(WEB))
    assert result['actions'] == checked['actions'] and result['after'] == checked['after']
    assert systemctl.calls == ['daemon-reload', 'enable --now %s.socket' % NAME, 'show --property=Id,ActiveState -- %s.socket' % NAME]
    assert pp.read_maps(unit_dir) == WEB
    assert oct(os.stat(os.path.join(unit_dir, NAME + '.service')).st_mode & 0o777) == '0o644'
    assert result['diff']['after'][NAME]['service'][0].startswith(pp.MARKER)
    systemctl.calls = []
    again = pp.ProxyReconciler(Module(), systemctl, unit_dir).run(_desired(WEB))
    assert not again['changed'] and systemctl.calls == ['show --property=Id,ActiveState -- %s.socket' % NAME]
    gone = pp.ProxyReconciler(Module(), systemctl, unit_dir).run(ABSENT)
    assert gone['changed'] and sorted(os.listdir(unit_dir)) == ['linuxnet-proxy-mine.service', pp.WANTS]
    assert os.listdir(os.path.join(unit_dir, pp.WANTS)) == []
    systemctl.calls = []
    assert not pp.ProxyReconciler(Module(), systemctl, unit_dir).run(ABSENT)['changed'] and systemctl.calls == []


def test_a_socket_that_does_not_come_up_fails_the_run(tmp_path):
    class Broken(Systemctl):
        def __call__(self, argv):
            if argv[1] == 'enable':
                return 1, '', 'Job for linuxnet-proxy-tcp-8081.socket failed.\n'
            return super().__call__(argv)
    with pytest.raises(LinuxnetError, match=r'systemctl enable --now linuxnet-proxy-tcp-8081.socket failed \(exit status 1\): '
                                            r'Job for linuxnet-proxy-tcp-8081.socket failed. Fix: see what systemctl status linuxnet-proxy-tcp-8081.socket '
                                            r'and journalctl -u linuxnet-proxy-tcp-8081.socket say'):
        pp.ProxyReconciler(Module(), Broken(str(tmp_path)), str(tmp_path)).run(_desired(WEB))


def test_check_host_names_the_publication_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(pp, 'SYSTEMD_RUNNING', str(tmp_path / 'none'))
    with pytest.raises(LinuxnetError) as err:
        pp.check_host(WEB)
    assert str(err.value.msg).startswith('web [::1]:8081:80: a publication on the IPv6 loopback address [::1] is served by '
                                         'systemd-socket-proxyd (as Docker serves it with its userland proxy), but this host '
                                         'does not run systemd')
    assert 'Fix: publish it on 127.0.0.1 for the host alone' in err.value.msg
    monkeypatch.setattr(pp, 'SYSTEMD_RUNNING', str(tmp_path))
    monkeypatch.setattr(pp, 'PROXYD', (str(tmp_path / 'proxyd'),))
    assert pp.systemd_problem(pp.PROXYD, pp.SYSTEMD_RUNNING)[0].startswith('systemd-socket-proxyd is not installed')
    pp.check_host({})  # nothing on [::1]: nothing to check


def test_port_map_keeps_loopback6_out_of_its_tables_and_hands_it_to_the_units(monkeypatch):
    params = {'ports': [{'name': 'web', 'container_ip': '173.20.0.2', 'container_ip6': 'fd00:db8:20::2',
                         'publish': ['8080:80', '[::1]:8081:80'], 'allow': ['192.0.2.12', 'fd00::/64']}],
              'state': 'present', 'exclusive': True}
    maps, allow = pm._maps(params)
    assert set(maps) == {('0.0.0.0', 'tcp', 8080), ('::', 'tcp', 8080), KEY}
    assert KEY not in allow  # the host alone reaches [::1]: no allow-list
    assert KEY not in pm._of_family(maps, 6) and ('::', 'tcp', 8080) in pm._of_family(maps, 6)
    monkeypatch.setattr(pp, 'check_host', lambda maps: None)
    monkeypatch.setattr(pp, 'find_proxyd', lambda paths=None: PROXYD)
    desired = {'state': 'present', 'exclusive': True, 'maps': maps}
    assert pm._proxy_desired(desired) == {'units': pp.wanted_units({KEY: maps[KEY]}, PROXYD), 'exclusive': True, 'remove': []}
    assert pm._proxy_desired(dict(desired, state='absent')) == {'units': {}, 'exclusive': False, 'remove': [NAME]}
    assert pm._proxy_desired(ABSENT) is ABSENT


def test_our_own_socket_is_no_conflict_but_a_stranger_on_loopback6_is():
    ours = {KEY: WEB[KEY]}
    listener = ('tcp', '::1', 8081, 77)
    assert pm._our_socket(listener, ours, WEB, exclusive=False)
    assert pm._our_socket(listener, ours, {}, exclusive=True)  # exclusive: this run removes it
    assert not pm._our_socket(listener, ours, {}, exclusive=False)
    assert not pm._our_socket(listener, {}, WEB, exclusive=True)  # no unit of ours: a host process
    assert not pm._our_socket(('tcp', '::', 8081, 77), ours, WEB, exclusive=True)


NETS = [{'name': 'front', 'subnet': '173.20.0.0/16', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:20::/64'},
        {'name': 'plain', 'subnet': '10.78.0.0/24'},
        {'name': 'direct', 'subnet': '10.79.0.0/24', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:40::/64',
         'gateway_mode_ipv6': 'routed'}]


def test_the_controller_accepts_loopback6_on_every_network_and_passes_it_on():
    containers = [{'name': 'web', 'networks': ['front'], 'ports': ['[::1]:8081:80']},
                  {'name': 'legacy', 'networks': ['plain'], 'ports': ['[::1]:8082:80']},
                  {'name': 'probe', 'networks': ['direct'], 'ports': ['[::1]:8083:80']}]
    hostvars = {'linuxnet_networks': NETS, 'linuxnet_containers': containers}
    assert host_problems('h1', hostvars) == []
    result = plan_host('h1', hostvars, {})
    items = {item['name']: item for item in result['ports']}
    assert items['web']['publish'] == ['[::1]:8081:80'] and items['web']['container_ip6'] == 'fd00:db8:20::2'
    assert items['legacy']['publish'] == ['[::1]:8082:80'] and 'container_ip6' not in items['legacy']
    assert items['probe']['publish'] == ['[::1]:8083:80']  # routed IPv6: the proxy reaches the IPv4 address
    direct = next(item for item in result['isolation'] if item['subnet'] == '10.79.0.0/24')
    assert not direct.get('routed_ports6') and not direct.get('routed_ports')  # no container port opened for [::1]


def test_network_info_lists_the_units_publications_as_docker_port_does(tmp_path):
    for name, (socket_text, service_text) in pp.wanted_units(WEB, PROXYD).items():
        (tmp_path / (name + '.socket')).write_text(socket_text)
        (tmp_path / (name + '.service')).write_text(service_text)
    published = {('0.0.0.0', 'tcp', 8080): (('173.20.0.2', 80), 'web'), ('::', 'tcp', 8080): (('fd00:db8:20::2', 80), 'web')}
    published.update(pp.read_maps(str(tmp_path)))
    endpoints = [{'container': 'web', 'addresses': ['173.20.0.2/16', 'fd00:db8:20::2/64']}]
    assert inspect.port_lines(published, endpoints) == {'web': ['80/tcp -> 0.0.0.0:8080', '80/tcp -> [::]:8080', '80/tcp -> [::1]:8081']}
