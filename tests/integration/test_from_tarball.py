# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a user gets from the built collection and its docs alone: the tarball installed into an empty collections
path, an inventory and a playbook taken only from the docs/examples it ships, a two-host lab converged from a directory outside
the checkout, then the kernel, traffic by name and a second run that changes nothing."""

from __future__ import annotations

import glob
import json
import os
import re

import pytest

from labkit import ROOT, VENV_BIN, Lab, lab_name, run

MARKED = re.compile(r'<!-- example: (\S+) -->\n```yaml\n(.*?)```', re.S)


def example_blocks(collection):
    """{path: text} of every marked block of the installed collection's docs/examples/*.md."""
    blocks = {}
    for page in sorted(glob.glob(os.path.join(collection, 'docs', 'examples', '*.md'))):
        with open(page) as handle:
            for path, text in MARKED.findall(handle.read()):
                assert path not in blocks, '%s is marked twice' % path
                blocks[path] = text
    return blocks


@pytest.fixture(scope='module')
def installed(tmp_path_factory):
    """The collection built from the checkout and installed into a collections path of its own."""
    base = tmp_path_factory.mktemp('tarball')
    build = run([os.path.join(VENV_BIN, 'ansible-galaxy'), 'collection', 'build', '--output-path', str(base / 'dist'), ROOT],
                capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = glob.glob(str(base / 'dist' / 'linuxnet-container-*.tar.gz'))
    assert len(tarball) == 1, tarball
    collections = base / 'collections'
    # Only that path: with the checkout's on ANSIBLE_COLLECTIONS_PATH, ansible-galaxy would find it installed already.
    install = run([os.path.join(VENV_BIN, 'ansible-galaxy'), 'collection', 'install', '-p', str(collections), tarball[0]],
                  capture_output=True, text=True, check=False, cwd=str(base), env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections)))
    assert install.returncode == 0, install.stdout + install.stderr
    assert os.path.isfile(collections / 'ansible_collections' / 'linuxnet' / 'container' / 'playbooks' / 'site.yml')
    return collections


def test_the_overlay_example_converges_from_the_tarball(installed, tmp_path):
    blocks = example_blocks(os.path.join(str(installed), 'ansible_collections', 'linuxnet', 'container'))
    work = tmp_path / 'user'  # outside the checkout: no ansible.cfg, collections or roles of the checkout apply
    for path in ('s8-overlay/inventory.yml', 'converge.yml'):
        target = work / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(blocks[path])
    lab = Lab(lab_name('docs-tarball'), 2, prepare=False)  # bare hosts: the installed site playbook prepares them
    try:
        # How to reach the lab's hosts, as the shipped lab inventory does; what they hold is the example's.
        (work / 'hosts.yml').write_text(json.dumps({'all': {
            'hosts': {name: {} for name in lab.hosts},
            'vars': {'ansible_user': 'root', 'ansible_ssh_args': '-F %s' % os.path.join(os.path.dirname(lab.inventory), 'ssh_config'),
                     'ansible_ssh_use_tty': False, 'ansible_python_interpreter': '/usr/bin/python3',
                     'linuxnet_prerequisites_source': 'offline'}}}))
        inventory = ['-i', 'hosts.yml', '-i', 's8-overlay/inventory.yml']
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(installed), ANSIBLE_HOST_KEY_CHECKING='False',
                   ANSIBLE_FORCE_COLOR='0', NO_COLOR='1')
        env.pop('ANSIBLE_CONFIG', None)
        env.pop('ANSIBLE_ROLES_PATH', None)

        def playbook(*args):
            return run([os.path.join(VENV_BIN, 'ansible-playbook')] + inventory + list(args), capture_output=True, text=True,
                       env=env, cwd=str(work), check=False)

        first = playbook('converge.yml')
        assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-2000:]
        # The only copy Ansible can load is the installed one.
        listed = run([os.path.join(VENV_BIN, 'ansible-galaxy'), 'collection', 'list', 'linuxnet.container'], capture_output=True,
                     text=True, env=env, cwd=str(work), check=False).stdout
        assert re.findall(r'^# (\S+)', listed, re.M) == [str(installed / 'ansible_collections')], listed

        # The kernel: test1's eth0 on demo (10.0.0.2, MTU 1450, Docker's MAC), eth1 on docker_gwbridge, VNI 256.
        links = {link['ifname']: link for link in json.loads(lab.ssh('docker-node1', 'ip -n test1 -j addr show'))}
        assert [(a['local'], a['prefixlen']) for a in links['eth0']['addr_info'] if a['family'] == 'inet'] == [('10.0.0.2', 24)]
        assert links['eth0']['mtu'] == 1450 and links['eth0']['address'] == '02:42:0a:00:00:02', links['eth0']
        assert [a['local'] for a in links['eth1']['addr_info'] if a['family'] == 'inet'][0].startswith('172.18.0.')
        test2 = json.loads(lab.ssh('docker-node2', 'ip -n test2 -j addr show dev eth0'))[0]
        assert [a['local'] for a in test2['addr_info'] if a['family'] == 'inet'] == ['10.0.0.3']
        overlay_ns = [line.split()[0] for line in lab.ssh('docker-node1', 'ip netns list').splitlines() if line.startswith('1-')]
        vnis = set()
        for ns in overlay_ns:
            for link in json.loads(lab.ssh('docker-node1', 'ip -n %s -d -j link show type vxlan' % ns)):
                vnis.add(link['linkinfo']['info_data']['id'])
        assert vnis == {256, 257}, vnis
        # The VTEP filter accepts each overlay from its own hosts: (source . VNI) pairs in the IPv4 drop rule, no VTEP
        # for every VNI.
        vtep = json.loads(lab.ssh('docker-node1', 'nft -j list table inet linuxnet_vtep'))['nftables']
        elements = next(item['set'] for item in vtep if item.get('set', {}).get('name') == 'vteps4').get('elem', [])
        pairs = sorted(tuple(elem['concat']) for item in vtep if 'rule' in item for expr in item['rule']['expr']
                       if 'concat' in expr.get('match', {}).get('left', {}) for elem in expr['match']['right']['set'])
        assert elements == [] and pairs == [('192.0.2.11', 256), ('192.0.2.11', 257), ('192.0.2.12', 256)], (elements, pairs)

        # Traffic: by name across the hosts, and not from another overlay.
        lab.ssh('docker-node1', 'ip netns exec test1 ping -c1 -W2 test2')
        lab.ssh('docker-node2', 'ip netns exec test2 ping -c1 -W2 test1')
        assert lab.ssh('docker-node1', 'ip netns exec test3 ping -c1 -W1 10.0.0.3 >/dev/null 2>&1 && echo reached || echo dropped'
                       ).strip() == 'dropped'

        # The playbook by its name, as the docs say, changes nothing now.
        again = playbook('linuxnet.container.site')
        assert again.returncode == 0, again.stdout[-4000:]
        recap = re.findall(r'^(\S+)\s+: ok=\d+\s+changed=(\d+)', again.stdout, re.M)
        assert sorted(recap) == [('docker-node1', '0'), ('docker-node2', '0')], again.stdout[-2000:]
    finally:
        lab.down()
