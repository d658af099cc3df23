# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Source allow-lists of published ports through site.yml, proved with traffic: a web server in a container on
docker-node1, published on two ports; one is allowed only from docker-node2 (the host's default list), the other
from everyone (its own empty list). docker-node2 gets the page, docker-node3 does not, except on the open port;
the host itself always does. Check mode predicts the converge, the second run changes nothing."""

from __future__ import annotations

import json
import re

import pytest

from labkit import Lab, lab as lab_cli, lab_name
from test_playbooks import SITE, TEARDOWN, inventory

LAB_NAME = lab_name('allow3')
PUBLISHER, ALLOWED, DENIED = 'docker-node1', 'docker-node2', 'docker-node3'
PAGE = 'linuxnet allow-list page'
INVENTORY = {PUBLISHER: {
    'linuxnet_publish_allow': ['192.0.2.12'],  # docker-node2
    'linuxnet_containers': [{'name': 'web', 'ports': ['8080:80', {'publish': '8081:80', 'allow': []}]}],
}}


@pytest.fixture(scope='module')
def lab3():
    lab_cli('down', '--name', LAB_NAME)  # leftovers of an interrupted run
    running = Lab(LAB_NAME, 3)
    yield running
    running.down()


def playbook(lab, tmp_path, path, host_vars, *extra):
    return lab.playbook(path, tmp_path, inventory=inventory(lab, tmp_path, host_vars), extra=extra)


def recap(proc):
    """{host: changed count} from the play recap."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r'^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)', proc.stdout, re.M)}


def curl(lab, host, url):
    """The page, or None when the connection fails (curl's exit status, never an exception)."""
    out = lab.ssh(host, 'curl -s -m 3 %s; echo " rc=$?"' % url).rsplit(' rc=', 1)
    return out[0].strip() if out[1].strip() == '0' else None


def ports_table(lab):
    proc = lab.ssh(PUBLISHER, 'nft -j list table ip linuxnet_ports 2>/dev/null || true')
    return json.loads(proc)['nftables'] if proc.strip() else None


def test_a_port_allowed_from_one_lab_host_only(lab3, tmp_path):
    server = None
    try:
        check = playbook(lab3, tmp_path, SITE, INVENTORY, '--check')
        assert check.returncode == 0, check.stdout
        assert ports_table(lab3) is None and lab3.namespaces(PUBLISHER) == []

        real = playbook(lab3, tmp_path, SITE, INVENTORY)
        assert real.returncode == 0, real.stdout
        assert recap(check) == recap(real) and recap(real)[PUBLISHER] > 0, (check.stdout, real.stdout)

        again = playbook(lab3, tmp_path, SITE, INVENTORY)
        assert again.returncode == 0 and set(recap(again).values()) == {0}, again.stdout

        lab3.ssh(PUBLISHER, 'mkdir -p /tmp/allow-www && echo "%s" > /tmp/allow-www/index.html' % PAGE)
        server = int(lab3.ssh(PUBLISHER, 'ip netns exec web setsid python3 -m http.server 80 --directory /tmp/allow-www '
                                         '>/dev/null 2>&1 < /dev/null & echo $!'))
        lab3.ssh(PUBLISHER, 'for i in $(seq 50); do ip netns exec web curl -s -m 1 http://127.0.0.1/ >/dev/null && exit 0; '
                            'sleep 0.1; done; exit 1')

        url = 'http://192.0.2.11:%d/'
        assert curl(lab3, ALLOWED, url % 8080) == PAGE
        assert curl(lab3, DENIED, url % 8080) is None  # not DNATed: the host's own stack refuses port 8080
        assert curl(lab3, DENIED, url % 8081) == PAGE  # the publication's own empty list: everyone
        # The host itself is always let in, on its address and on 127.0.0.1.
        assert curl(lab3, PUBLISHER, url % 8080) == PAGE
        assert curl(lab3, PUBLISHER, 'http://127.0.0.1:8080/') == PAGE

        # network_info puts the allow-list next to the port bindings.
        info = lab3.ansible(PUBLISHER, 'linuxnet.container.network_info',
                            {'networks': [{'name': 'bridge', 'bridge': 'docker0'}], 'containers': ['web']}, tmp_path)
        status, result = info[PUBLISHER]
        assert status == 'ok', result
        assert result['ports']['web'] == ['80/tcp -> 0.0.0.0:8080', '80/tcp -> 0.0.0.0:8081']
        assert result['port_allow'] == {'web': {'80/tcp -> 0.0.0.0:8080': ['192.0.2.12']}}

        # Another list: check mode with --diff shows it and changes nothing; the real run applies it.
        moved = {PUBLISHER: dict(INVENTORY[PUBLISHER], linuxnet_publish_allow=['192.0.2.13'])}
        diff = playbook(lab3, tmp_path, SITE, moved, '--check', '--diff')
        assert diff.returncode == 0 and recap(diff)[PUBLISHER] == 1, diff.stdout
        assert [line for line in diff.stdout.splitlines() if line.startswith('+') and '192.0.2.13' in line], diff.stdout
        assert curl(lab3, DENIED, url % 8080) is None
        assert recap(playbook(lab3, tmp_path, SITE, moved))[PUBLISHER] == 1
        assert curl(lab3, DENIED, url % 8080) == PAGE and curl(lab3, ALLOWED, url % 8080) is None
        assert set(recap(playbook(lab3, tmp_path, SITE, moved)).values()) == {0}
    finally:
        if server is not None:
            lab3.ssh(PUBLISHER, 'kill %d' % server)
        assert playbook(lab3, tmp_path, TEARDOWN, INVENTORY).returncode == 0
    assert ports_table(lab3) is None


def test_a_bad_allow_list_fails_before_any_host_changes(lab3, tmp_path):
    bad = {PUBLISHER: {'linuxnet_publish_allow': ['192.0.2.1/24'],
                       'linuxnet_containers': [{'name': 'web', 'ports': [{'publish': '8080:80', 'allow': ['10.0.0.300']}]}]}}
    proc = playbook(lab3, tmp_path, SITE, bad)
    assert proc.returncode != 0
    assert ('host docker-node1: linuxnet_publish_allow: invalid CIDR address: 192.0.2.1/24 has host bits set (it should '
            'be 192.0.2.0/24). Fix: write 192.0.2.0/24') in proc.stdout
    assert "host docker-node1: linuxnet_containers[0] (web): ports[0] (8080:80): allow: invalid CIDR address: '10.0.0.300'" in proc.stdout
    assert lab3.namespaces(PUBLISHER) == [] and ports_table(lab3) is None
