# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Containers behind a restrictive host firewall, on stock Debian hosts, with the lines docs/host-firewalls.md
gives (read from that file, so the docs cannot drift from what is tested): docker-node1 runs a hardened
/etc/nftables.conf (policy drop on input and forward), docker-node2 ufw (enabled, its defaults), docker-node3
firewalld (default zone public); docker-node4 has none and plays the client and the overlay peer.

Each firewall is in place before site.yml runs. Without the documented lines, container egress (to the lab's
router), a published port from docker-node4 and a ping across the overlay from docker-node4 fail; with them,
all three pass, and again after the firewall reloads. firewalld: the collection's listener restores a table
removed behind its back on `firewall-cmd --reload`, and starts by itself when the first record is written on a
host whose firewalld runs already. Teardown leaves the firewalls as they were and nothing of ours."""

from __future__ import annotations

import json
import os
import re
import time

import pytest

from labkit import Lab, ROOT, lab as lab_cli, lab_name
from test_playbooks import SITE, TEARDOWN, inventory

LAB_NAME = lab_name('fw')
NFT, UFW, FIREWALLD, PEER = 'docker-node1', 'docker-node2', 'docker-node3', 'docker-node4'
GUARDED = {NFT: 1, UFW: 2, FIREWALLD: 3}
NETWORKS = [{'name': 'demo', 'driver': 'overlay', 'subnet': '10.0.9.0/24'}]
HOST_VARS = {host: {'linuxnet_networks': NETWORKS,
                    'linuxnet_containers': [{'name': 'web', 'ports': ['8080:80']}, {'name': 'ov%d' % n, 'networks': ['demo']}]}
             for host, n in GUARDED.items()}
HOST_VARS[PEER] = {'linuxnet_networks': NETWORKS, 'linuxnet_containers': [{'name': 'ov4', 'networks': ['demo']}]}
# The ufw host's default network is dual stack: its publication 8080:80 answers over IPv6 too, which ufw's IPv6 forward
# chain (before6.rules) drops until the documented line is there.
HOST_VARS[UFW]['linuxnet_networks'] = NETWORKS + [{'name': 'bridge', 'enable_ipv6': True}]
UFW6 = 'fd00:192:0:2::12'  # docker-node2's address on the lab's IPv6 underlay
OURS = {'linuxnet_isolation', 'linuxnet_ports', 'linuxnet_vtep'}
# A hardened nftables.conf, as an operator writes one: ssh in, nothing forwarded.
NFTABLES_CONF = '''#!/usr/sbin/nft -f
flush ruleset
table inet filter {
    chain input {
        type filter hook input priority filter; policy drop;
        ct state established,related accept
        iif lo accept
        tcp dport 22 accept
    }
    chain forward {
        type filter hook forward priority filter; policy drop;
        ct state established,related accept
    }
}
'''


def documented():
    """{marker: text} of the fenced blocks after each `<!-- tested: MARKER -->` in docs/host-firewalls.md."""
    with open(os.path.join(ROOT, 'docs', 'host-firewalls.md')) as handle:
        text = handle.read()
    blocks = dict(re.findall(r'<!-- tested: ([\w ]+) -->\n```\w*\n(.*?)```', text, re.S))
    assert set(blocks) == {'nftables forward', 'nftables input', 'ufw', 'firewalld'}, blocks
    return blocks


def recap(proc):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r'^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)', proc.stdout, re.M)}


def sh(lab, host, command):
    """(exit status, output) of a command on a host; never raises."""
    out = lab.ssh(host, '(%s) 2>&1; echo " rc=$?"' % command).rsplit(' rc=', 1)
    return int(out[1]), out[0].strip()


def tables(lab, host):
    return {t['table']['family'] + ' ' + t['table']['name']
            for t in json.loads(lab.ssh(host, 'nft -j list tables'))['nftables'] if 'table' in t}


def overlay_address(lab, host):
    links = json.loads(lab.ssh(host, 'ip -j -n ov%d addr show dev eth0' % GUARDED[host]))
    return next(a['local'] for a in links[0]['addr_info'] if a['family'] == 'inet')


def reach(lab, host):
    """What works for the containers of a guarded host: egress, its published port from PEER, the overlay."""
    n = GUARDED[host]
    egress = sh(lab, host, 'ip netns exec web curl -s -o /dev/null -m 3 -w %{http_code} http://192.0.2.1:8000/')
    published = sh(lab, PEER, 'curl -s -m 3 http://192.0.2.1%d:8080/' % n)
    # A few tries: an ARP request lost while the firewall dropped VXLAN leaves a FAILED neighbour entry, which
    # fails the next ping at once.
    overlay = sh(lab, PEER, 'for i in 1 2 3; do ip netns exec ov4 ping -c 1 -W 1 %s >/dev/null && exit 0; sleep 0.5; '
                            'done; exit 1' % overlay_address(lab, host))
    found = {'egress': egress == (0, '200'), 'published': published == (0, 'page %s' % host), 'overlay': overlay[0] == 0}
    if host == UFW:
        found['published6'] = sh(lab, PEER, 'curl -s -m 3 http://[%s]:8080/' % UFW6) == (0, 'page %s' % host)
    return found


ALL = {'egress': True, 'published': True, 'overlay': True}


def everything(host):
    """What reach() finds for ``host`` once its firewall lets the collection's traffic through."""
    return dict(ALL, published6=True) if host == UFW else ALL


LISTENER = 'linuxnet-container-firewalld.service'


def listener(lab, want, timeout=10.0):
    """The listener's state once it is ``want`` (it starts after firewalld, or after a record is written)."""
    deadline = time.monotonic() + timeout
    while True:
        state = lab.ssh(FIREWALLD, 'systemctl is-active %s; true' % LISTENER).strip()
        if state == want or time.monotonic() > deadline:
            return state
        time.sleep(0.1)


@pytest.fixture(scope='module')
def fwlab(tmp_path_factory):
    lab_cli('down', '--name', LAB_NAME)
    running = Lab(LAB_NAME, 4)
    tmp = tmp_path_factory.mktemp('fw')
    servers = {}
    try:
        # The firewalls, before the collection comes: installed offline from the lab's repository.
        running.ssh(NFT, 'cat > /etc/nftables.conf <<"EOF"\n%sEOF\nsystemctl restart nftables' % NFTABLES_CONF)
        running.ssh(UFW, 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ufw >/dev/null && ufw allow 22/tcp '
                         '>/dev/null && ufw --force enable')
        running.ssh(FIREWALLD, 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firewalld >/dev/null && '
                               'systemctl is-active firewalld')
        inv = inventory(running, tmp, HOST_VARS)
        check = running.playbook(SITE, tmp, inventory=inv, extra=['--check'])
        assert check.returncode == 0, check.stdout
        real = running.playbook(SITE, tmp, inventory=inv)
        assert real.returncode == 0, real.stdout
        assert recap(check) == recap(real), (check.stdout, real.stdout)
        again = running.playbook(SITE, tmp, inventory=inv)
        assert again.returncode == 0 and set(recap(again).values()) == {0}, again.stdout
        for host in GUARDED:
            running.ssh(host, 'mkdir -p /srv/fw-www && echo "page %s" > /srv/fw-www/index.html' % host)
            # Both families where web has IPv6 (python3 -m http.server binds 0.0.0.0 only, unless told ::).
            bind = '--bind :: ' if host == UFW else ''
            servers[host] = int(running.ssh(host, 'ip netns exec web setsid python3 -m http.server 80 %s--directory '
                                                  '/srv/fw-www >/dev/null 2>&1 < /dev/null & echo $!' % bind))
            running.ssh(host, 'for i in $(seq 50); do ip netns exec web curl -s -m 1 http://127.0.0.1/ >/dev/null && '
                              'exit 0; sleep 0.1; done; exit 1')
        yield running, inv, tmp
    finally:
        for host, pid in servers.items():
            running.ssh(host, 'kill %d' % pid)
        running.down()


def reload_restores(lab):
    """Whether the listener puts back a table deleted behind its back, within 5 s of `firewall-cmd --reload`."""
    lab.ssh(FIREWALLD, 'nft delete table inet linuxnet_isolation')
    assert reach(lab, FIREWALLD)['egress'] is False  # no masquerade: the router cannot answer
    lab.firewall('firewalld', FIREWALLD)
    deadline = time.monotonic() + 5
    while 'inet linuxnet_isolation' not in tables(lab, FIREWALLD) and time.monotonic() < deadline:
        time.sleep(0.05)
    return 'inet linuxnet_isolation' in tables(lab, FIREWALLD)


def enough(lab, host, without, add, reload):
    """The documented lines are needed (``without`` is what works before them) and enough, also after ``reload``."""
    assert reach(lab, host) == without
    status, out = sh(lab, host, add)
    assert status == 0, out
    # A restart of nftables.service flushed the ruleset too; the collection's drop-in put its tables back.
    assert OURS <= {t.split()[1] for t in tables(lab, host)}
    assert reach(lab, host) == everything(host)
    lab.ssh(host, reload)
    assert OURS <= {t.split()[1] for t in tables(lab, host)}
    assert reach(lab, host) == everything(host)


def test_nftables_policy_drop_needs_one_rule_per_chain(fwlab):
    blocks = documented()
    conf = NFTABLES_CONF.replace('tcp dport 22 accept\n', 'tcp dport 22 accept\n        %s' % blocks['nftables input'])
    conf = conf.replace('policy drop;\n        ct state established,related accept\n    }',
                        'policy drop;\n        ct state established,related accept\n        %s    }' % blocks['nftables forward'])
    assert conf.count('accept\n') == NFTABLES_CONF.count('accept\n') + 2, conf
    enough(fwlab[0], NFT, dict.fromkeys(ALL, False),
           'cat > /etc/nftables.conf <<"EOF"\n%sEOF\nsystemctl restart nftables' % conf, 'systemctl reload nftables')


def test_ufw_needs_one_line_in_before_rules(fwlab):
    enough(fwlab[0], UFW, dict.fromkeys(everything(UFW), False), documented()['ufw'], 'ufw reload')
    for rules in ('before.rules', 'before6.rules'):
        assert fwlab[0].ssh(UFW, 'grep -c -- "-m mark --mark 0x10000000/0x10000000 -j ACCEPT" /etc/ufw/%s' % rules).strip() == '1'


def test_firewalld_needs_the_bridges_in_the_trusted_zone(fwlab):
    lab, inv, tmp = fwlab
    # DNATed traffic passes firewalld (ct status dnat accept); what it does not know, it rejects.
    enough(lab, FIREWALLD, {'egress': False, 'published': True, 'overlay': False}, documented()['firewalld'],
           'firewall-cmd --reload')

    # A table removed behind our back comes back on firewalld's Reloaded signal, with one journal line.
    assert listener(lab, 'active') == 'active'
    assert reload_restores(lab)
    journal = lab.ssh(FIREWALLD, 'journalctl -u linuxnet-container-firewalld.service -o cat --no-pager')
    assert re.search(r'repaired after a change of firewalld in [0-9.]+ s: .*create nftables table inet linuxnet_isolation',
                     journal), journal
    assert reach(lab, FIREWALLD) == ALL

    # The listener stops with firewalld and comes back with it.
    lab.ssh(FIREWALLD, 'systemctl stop firewalld')
    assert listener(lab, 'inactive') == 'inactive'
    lab.ssh(FIREWALLD, 'systemctl start firewalld')
    assert listener(lab, 'active') == 'active'
    assert reach(lab, FIREWALLD) == ALL

    # On a host whose firewalld runs already, the first converge's record starts the listener (its path unit).
    assert lab.playbook(TEARDOWN, tmp, inventory=inv, extra=['--limit', FIREWALLD]).returncode == 0
    assert listener(lab, 'inactive') in ('inactive', 'unknown')  # teardown removed the unit
    converge = lab.playbook(SITE, tmp, inventory=inv)  # the whole fleet: an overlay is planned with every host
    assert converge.returncode == 0, converge.stdout
    assert {host: n for host, n in recap(converge).items() if n} == {FIREWALLD: recap(converge)[FIREWALLD]}, converge.stdout
    assert listener(lab, 'active') == 'active'
    assert reload_restores(lab)


def test_teardown_leaves_the_firewalls_and_nothing_of_ours(fwlab):
    lab, inv, tmp = fwlab
    before = {host: tables(lab, host) - {'%s %s' % (family, n) for n in OURS for family in ('inet', 'ip', 'ip6')}
              for host in GUARDED}
    proc = lab.playbook(TEARDOWN, tmp, inventory=inv)
    assert proc.returncode == 0, proc.stdout
    for host in list(GUARDED) + [PEER]:
        assert not {t.split()[1] for t in tables(lab, host)} & OURS, host
        assert lab.namespaces(host) == [], host
    assert {host: tables(lab, host) for host in GUARDED} == before
    assert 'inet filter' in before[NFT] and 'ip filter' in before[UFW] and 'inet firewalld' in before[FIREWALLD]
