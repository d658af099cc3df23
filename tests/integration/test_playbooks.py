# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml and teardown.yml against a lab, with inventories written by the test."""

from __future__ import annotations

import json
import os

from labkit import ROOT

SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
TEARDOWN = os.path.join(ROOT, 'playbooks', 'teardown.yml')


def inventory(lab, tmp_path, host_vars):
    data = json.load(open(lab.inventory))
    for host, hv in host_vars.items():
        data['all']['children']['lab']['hosts'][host].update(hv)
    path = tmp_path / 'inventory.json'
    path.write_text(json.dumps(data))
    return str(path)


def test_invalid_inventory_fails_before_any_host_changes(lab2, tmp_path):
    inv = inventory(lab2, tmp_path, {
        'docker-node1': {'linuxnet_containers': [{'name': 'good1'}, {'name': 'good2'}]},
        'docker-node2': {'linuxnet_containers': [{'name': 'ok'}, {'name': 'side', 'network_mode': 'container:nope'}]},
    })
    before = {h: lab2.namespaces(h) for h in lab2.hosts}
    proc = lab2.playbook(SITE, tmp_path, inventory=inv)
    assert proc.returncode != 0
    assert 'host docker-node2: linuxnet_containers[1] (side): network_mode container:nope: No such container: nope' in proc.stdout
    assert {h: lab2.namespaces(h) for h in lab2.hosts} == before


def test_site_converges_prunes_and_teardown_removes_everything(lab2, tmp_path):
    inv = inventory(lab2, tmp_path, {
        'docker-node1': {'linuxnet_containers': [{'name': 'web'}, {'name': 'side', 'network_mode': 'container:web'},
                                                 {'name': 'iso', 'network_mode': 'none'}, {'name': 'h', 'network_mode': 'host'}]},
        'docker-node2': {'linuxnet_containers': [{'name': 'db'}]},
    })
    proc = lab2.playbook(SITE, tmp_path, inventory=inv)
    assert proc.returncode == 0, proc.stdout
    # side is a second name of web's namespace (docker run --network container:web).
    assert lab2.namespaces('docker-node1') == ['iso', 'side', 'web']
    assert lab2.namespaces('docker-node2') == ['db']

    again = lab2.playbook(SITE, tmp_path, inventory=inv)
    assert again.returncode == 0 and 'changed=0' in again.stdout and 'changed=1' not in again.stdout, again.stdout

    # A container leaves the inventory: its namespace is pruned on the next converge.
    inv = inventory(lab2, tmp_path, {'docker-node1': {'linuxnet_containers': [{'name': 'web'}]},
                                     'docker-node2': {'linuxnet_containers': [{'name': 'db'}]}})
    assert lab2.playbook(SITE, tmp_path, inventory=inv).returncode == 0
    assert lab2.namespaces('docker-node1') == ['web']

    proc = lab2.playbook(TEARDOWN, tmp_path, inventory=inv)
    assert proc.returncode == 0, proc.stdout
    assert lab2.namespaces('docker-node1') == [] and lab2.namespaces('docker-node2') == []
