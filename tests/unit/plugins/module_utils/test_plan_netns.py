# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""netns: the pure planner (plan_namespaces) against recorded states, no kernel, no /proc, no /run/netns."""

from __future__ import annotations

import copy

from ansible_collections.linuxnet.container.plugins.module_utils._converge.reconcile import ABSENT
from ansible_collections.linuxnet.container.plugins.module_utils._parts import netns
from ansible_collections.linuxnet.container.tests.unit.recorded_links import kinds

FORWARD = 'net.ipv4.ip_forward'
HOSTS = '# linuxnet.container (network namespace web); edits are overwritten\n127.0.0.1\tlocalhost\n'


def want(state='present', sysctls=None, share=None, hosts=HOSTS):
    sysctls = {FORWARD: '1'} if sysctls is None else sysctls
    return {'state': state, 'sysctls': sysctls, 'sysctl_paths': {k: '/proc/sys/' + k.replace('.', '/') for k in sysctls},
            'share': share, 'sysctl_keys': [], 'hosts_content': hosts, 'resolv_content': None}


def have(name='web', lo_up=True, links=('eth0',), forward='1', hosts=HOSTS, owned=True):
    """A namespace as NetnsReconciler._read_one reads it: lo's flags and alias from the link dump, the other links'
    names, the sysctls read inside, the lines of the files the collection wrote."""
    state = {'name': name, 'state': 'present', 'owned': owned, 'lo_up': lo_up, 'links': sorted(links)}
    if forward is not None:
        state['sysctls'] = {FORWARD: forward}
    if hosts is not None:
        state['hosts_file'] = hosts.splitlines()
    return state


def held(*pids, key=(4, 4026532290)):
    return {'netns_key': key, 'holders': list(pids), 'described': ', '.join('%d (sleep)' % p for p in pids)}


def test_create_from_nothing():
    actions, predicted, warnings = netns.plan_namespaces({'web': want()}, {'web': ABSENT}, {'web': {'leftovers': []}})
    assert kinds(actions) == [('netns_create', 'create network namespace web'),
                              ('set_sysctls', 'set net.ipv4.ip_forward=1 in network namespace web'),
                              ('write_file', 'write /etc/netns/web/hosts')]
    assert actions[1]['values'] == {FORWARD: '1'} and actions[1]['paths'] == {FORWARD: '/proc/sys/net/ipv4/ip_forward'}
    assert actions[2]['content'] == HOSTS and actions[2]['filename'] == 'hosts'
    assert predicted == {'web': have(links=())} and warnings == []


def test_files_left_by_an_earlier_namespace_of_the_name_go_unless_wanted():
    """A namespace made again (a runtime removed it, or a reboot) finds the hosts and resolv.conf the collection wrote
    for the one before: those not wanted now are removed, a wanted one is written over."""
    actions, predicted, dummy = netns.plan_namespaces({'web': want(hosts=None)}, {'web': ABSENT},
                                                      {'web': {'leftovers': ['hosts', 'resolv.conf']}})
    assert kinds(actions) == [('netns_create', 'create network namespace web'),
                              ('set_sysctls', 'set net.ipv4.ip_forward=1 in network namespace web'),
                              ('remove_file', 'remove leftover /etc/netns/web/hosts'),
                              ('remove_file', 'remove leftover /etc/netns/web/resolv.conf')]
    assert 'hosts_file' not in predicted['web'] and 'resolv_conf' not in predicted['web']
    actions, predicted, dummy = netns.plan_namespaces({'web': want()}, {'web': ABSENT}, {'web': {'leftovers': ['hosts']}})
    assert kinds(actions)[2:] == [('write_file', 'write /etc/netns/web/hosts')]
    assert predicted['web']['hosts_file'] == HOSTS.splitlines()


def test_equal_is_no_action():
    now = {'web': have()}
    actions, predicted, warnings = netns.plan_namespaces({'web': want()}, copy.deepcopy(now), {})
    assert (actions, warnings) == ([], [])
    assert predicted == now


def test_drift_lo_down_sysctl_and_file_is_repaired():
    now = {'web': have(lo_up=False, forward='0', hosts='# linuxnet.container (network namespace web)\n10.0.0.9\tstale\n')}
    actions, predicted, dummy = netns.plan_namespaces({'web': want()}, now, {})
    assert kinds(actions) == [('lo_up', 'bring lo up in network namespace web'),
                              ('set_sysctls', 'set net.ipv4.ip_forward=1 in network namespace web'),
                              ('write_file', 'write /etc/netns/web/hosts')]
    assert predicted['web'] == have()


def test_namespace_to_prune_and_one_to_remove():
    current = {'web': have(), 'old': have('old', links=('eth0', 'eth1')), 'gone': have('gone', links=())}
    facts = {'old': held(), 'gone': held()}
    actions, predicted, warnings = netns.plan_namespaces({'web': want(), 'gone': want(state='absent')}, current, facts)
    assert kinds(actions) == [
        ('netns_remove', 'remove network namespace old with its links eth0, eth1 (pruned: made by linuxnet.container, not listed)'),
        ('netns_remove', 'remove network namespace gone')]
    assert (actions[0]['links'], actions[0]['holders']) == (['eth0', 'eth1'], [])
    assert predicted == {'web': have(), 'old': ABSENT, 'gone': ABSENT} and warnings == []


def test_namespace_held_by_a_process_is_emptied_first_with_a_warning():
    current = {'old': have('old'), 'alias': have('alias')}  # two names of one namespace, both going
    facts = {'old': held(100, 101), 'alias': held(100, 101)}
    actions, dummy, warnings = netns.plan_namespaces({}, current, facts)
    assert kinds(actions) == [
        ('empty_links', 'delete links eth0 in network namespace old first (processes 100, 101 hold it)'),
        ('netns_remove', 'remove network namespace old with its links eth0 (pruned: made by linuxnet.container, not listed)'),
        ('empty_links', 'delete links eth0 in network namespace alias first (processes 100, 101 hold it)'),
        ('netns_remove', 'remove network namespace alias with its links eth0 (pruned: made by linuxnet.container, not listed)')]
    assert len(warnings) == 1  # one namespace, whatever its names
    assert warnings[0].startswith('network namespace old is still used by processes 100 (sleep), 101 (sleep): its links')


def test_kill_holders_stops_them_once():
    current = {'old': have('old', links=()), 'alias': have('alias', links=())}
    actions, dummy, warnings = netns.plan_namespaces({}, current, {'old': held(100), 'alias': held(100)}, kill_holders=True,
                                                     kill_timeout=3)
    assert kinds(actions) == [
        ('stop_holders', 'stop processes 100 (sleep) in network namespace old (SIGTERM, SIGKILL after 3 s)'),
        ('netns_remove', 'remove network namespace old (pruned: made by linuxnet.container, not listed)'),
        ('netns_remove', 'remove network namespace alias (pruned: made by linuxnet.container, not listed)')]
    assert (actions[0]['pids'], actions[0]['netns_key'], actions[0]['timeout']) == ([100], (4, 4026532290), 3)
    assert warnings == []


def test_leftover_files_of_a_namespace_already_gone():
    actions, predicted, dummy = netns.plan_namespaces({'web': want(state='absent')}, {'web': ABSENT},
                                                      {'web': {'leftovers': ['hosts', 'resolv.conf']}})
    assert kinds(actions) == [('remove_files', 'remove leftover /etc/netns/web/hosts, /etc/netns/web/resolv.conf')]
    assert predicted == {'web': ABSENT}
    assert netns.plan_namespaces({'web': want(state='absent')}, {'web': ABSENT}, {'web': {'leftovers': []}})[0] == []


def test_second_name_is_bound_after_the_namespaces_and_rebound_when_it_names_another():
    desired = {'side': want(sysctls={}, share='web', hosts=None), 'web': want()}
    actions, predicted, dummy = netns.plan_namespaces(desired, {'side': ABSENT, 'web': have()}, {})
    assert kinds(actions) == [('netns_bind', 'give network namespace web the second name side')]
    assert predicted['side']['share'] == 'web'
    side = dict(have('side', forward=None, hosts=None), share=None)
    actions, dummy, dummy2 = netns.plan_namespaces(desired, {'side': side, 'web': have()}, {})
    assert [(a['kind'], a['target']) for a in actions] == [('netns_rebind', 'web')]


class Module:
    check_mode = True

    def warn(self, msg):
        raise AssertionError(msg)


def test_the_reconciler_lists_what_it_removes_with_its_holders():
    rec = netns.NetnsReconciler(Module(), None, prune=True)
    rec.facts = {'old': held(100)}
    plan, predicted = rec.plan({'web': want()}, {'web': have(), 'old': have('old')})
    assert [c.description for c in plan.changes] == [
        'delete links eth0 in network namespace old first (processes 100 hold it)',
        'remove network namespace old with its links eth0 (pruned: made by linuxnet.container, not listed)']
    assert rec.pruned == [{'name': 'old', 'links': ['eth0'], 'holders': [100]}]
    assert len(plan.warnings) == 1 and predicted['old'] is ABSENT


def test_ipv6_off_is_both_disable_ipv6_keys_and_a_sysctl_given_by_hand_wins(monkeypatch):
    monkeypatch.setattr(netns.os.path, 'isdir', lambda path: path == '/proc/sys/net/ipv6')
    assert netns._ipv6_sysctls(False, 'web', 'namespaces[0]', None) == {
        'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1'}
    assert netns._ipv6_sysctls(True, 'web', 'namespaces[0]', None) == {
        'net.ipv6.conf.all.disable_ipv6': '0', 'net.ipv6.conf.default.disable_ipv6': '0'}
    assert netns._ipv6_sysctls(None, 'web', 'namespaces[0]', None) == {}


def test_ipv6_on_a_kernel_booted_without_ipv6(monkeypatch):
    monkeypatch.setattr(netns.os.path, 'isdir', lambda path: False)
    assert netns._ipv6_sysctls(False, 'web', 'namespaces[0]', None) == {}  # off already
    try:
        netns._ipv6_sysctls(True, 'web', 'namespaces[0]', None)
    except netns.LinuxnetError as err:
        assert 'ipv6.disable=1' in str(err) and 'Fix:' in str(err)
    else:
        raise AssertionError('ipv6: true on a kernel without IPv6 must fail')


def test_ipv6_flip_is_one_sysctl_action_and_none_when_equal():
    off = {'net.ipv6.conf.all.disable_ipv6': '1', 'net.ipv6.conf.default.disable_ipv6': '1'}
    on = {k: '0' for k in off}
    current = dict(have(forward=None), sysctls=dict(off))
    actions, _predicted, _warnings = netns.plan_namespaces({'web': want(sysctls=off)}, {'web': current}, {})
    assert actions == []
    actions, predicted, _warnings = netns.plan_namespaces({'web': want(sysctls=on)}, {'web': current}, {})
    assert [(a['kind'], a['values']) for a in actions] == [('set_sysctls', on)]
    assert predicted['web']['sysctls'] == on
