# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every container namespace's /etc/netns/NAME/resolv.conf: from inventory, else the host's (loopback left out)."""

from __future__ import annotations

import os

import pytest

from test_held_namespaces import HOST, SITE, TEARDOWN, changed, run

# The host's IPv6 nameservers reach only containers with a network with IPv6 (::1, loopback, never).
HOST_RESOLV = 'nameserver 127.0.0.1\nnameserver 192.0.2.1\nnameserver ::1\nnameserver fd00:192:0:2::53\nsearch lab.example\noptions ndots:2\n'
HEADER = '# Managed by linuxnet.container (network namespace %s); edits are overwritten'
INVENTORY = {
    'linuxnet_networks': [{'name': 'front', 'subnet': '173.20.0.0/16', 'dns_search': ['front.example'],
                           'dns_options': ['timeout:2']},
                          {'name': 'dual', 'subnet': '173.21.0.0/16', 'enable_ipv6': True, 'ipv6_subnet': 'fd00:db8:21::/64'}],
    'linuxnet_containers': [{'name': 'web', 'networks': ['front'], 'dns': ['192.0.2.53', '192.0.2.54']},
                            {'name': 'db', 'networks': ['front']},
                            {'name': 'plain'},
                            {'name': 'side', 'network_mode': 'container:web'},
                            {'name': 'six', 'networks': ['dual']}],
}


def key(path):
    st = os.stat(path)
    return (st.st_dev, st.st_ino)


def resolv_conf(lab, name):
    path = lab.host_path(HOST, '/etc/netns/%s/resolv.conf' % name)
    return open(path).read() if os.path.exists(path) else None


def test_resolv_conf_from_inventory_else_the_hosts_without_loopback(lab2, tmp_path):
    if key(lab2.host_path(HOST, '/etc/resolv.conf')) == key('/etc/resolv.conf'):
        pytest.skip('the lab host shares this machine\'s /etc/resolv.conf: not rewriting it')
    saved = lab2.ssh(HOST, 'cat /etc/resolv.conf')
    try:
        lab2.ssh(HOST, "printf '%s' > /etc/resolv.conf" % HOST_RESOLV.replace('\n', '\\n'))
        check = run(lab2, SITE, tmp_path, '--check', inventory=INVENTORY)
        assert check.returncode == 0, check.stdout
        assert lab2.namespaces(HOST) == [] and resolv_conf(lab2, 'web') is None
        assert run(lab2, SITE, tmp_path, inventory=INVENTORY).returncode == 0
        web = '\n'.join([HEADER % 'web', 'search front.example', 'nameserver 192.0.2.53', 'nameserver 192.0.2.54',
                         'options timeout:2']) + '\n'
        assert resolv_conf(lab2, 'web') == web
        assert resolv_conf(lab2, 'side') == web.replace(HEADER % 'web', HEADER % 'side')
        assert resolv_conf(lab2, 'db') == '\n'.join([HEADER % 'db', 'search front.example', 'nameserver 192.0.2.1',
                                                     'options timeout:2']) + '\n'
        # Nothing in inventory: the host's, with its loopback nameserver dropped.
        assert resolv_conf(lab2, 'plain') == '\n'.join([HEADER % 'plain', 'search lab.example', 'nameserver 192.0.2.1',
                                                        'options ndots:2']) + '\n'
        # A container with IPv6 keeps the host's IPv6 nameserver too (not ::1).
        assert resolv_conf(lab2, 'six') == '\n'.join([HEADER % 'six', 'search lab.example', 'nameserver 192.0.2.1',
                                                      'nameserver fd00:192:0:2::53', 'options ndots:2']) + '\n'
        # ip netns exec shows it as /etc/resolv.conf, and names still resolve through the hosts file.
        assert lab2.ssh(HOST, 'ip netns exec db cat /etc/resolv.conf') == resolv_conf(lab2, 'db')
        assert lab2.ssh(HOST, 'ip netns exec db getent hosts web').split()[1:] == ['web']
        again = run(lab2, SITE, tmp_path, inventory=INVENTORY)
        assert again.returncode == 0 and not changed(again), again.stdout

        # A change shows in check mode with --diff, changes nothing there, and is then applied.
        moved = dict(INVENTORY, linuxnet_containers=[dict(INVENTORY['linuxnet_containers'][0], dns=['198.51.100.53'])]
                     + INVENTORY['linuxnet_containers'][1:])
        diff = run(lab2, SITE, tmp_path, '--check', '--diff', inventory=moved)
        added = [line for line in diff.stdout.splitlines() if line.startswith('+') and 'nameserver 198.51.100.53' in line]
        assert diff.returncode == 0 and added, diff.stdout
        assert resolv_conf(lab2, 'web') == web
        assert run(lab2, SITE, tmp_path, inventory=moved).returncode == 0
        assert 'nameserver 198.51.100.53\n' in resolv_conf(lab2, 'web')

        assert run(lab2, TEARDOWN, tmp_path, inventory=moved).returncode == 0
        assert not os.path.exists(lab2.host_path(HOST, '/etc/netns/web'))
    finally:
        lab2.ssh(HOST, "cat > /etc/resolv.conf <<'EOF'\n%sEOF" % saved)
        run(lab2, TEARDOWN, tmp_path, inventory=INVENTORY)


def test_bad_resolvers_fail_before_any_host_changes_with_dockers_wording(lab2, tmp_path):
    bad = {'linuxnet_containers': [{'name': 'web', 'dns': ['1.2.3'], 'dns_search': ['-x.example']}]}
    proc = run(lab2, SITE, tmp_path, inventory=bad)
    assert proc.returncode != 0
    assert 'linuxnet_containers[0] (web): dns: 1.2.3 is not an ip address' in proc.stdout, proc.stdout
    assert 'linuxnet_containers[0] (web): dns_search: -x.example is not a valid domain' in proc.stdout
    assert lab2.namespaces(HOST) == []
