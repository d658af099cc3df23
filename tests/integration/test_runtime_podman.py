# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real runtime in our namespaces: podman (Debian's package, with runc) runs busybox httpd in the namespaces
site.yml made (``--network ns:/run/netns/NAME``), the containers reach each other by name through the hosts and
resolv.conf files the collection writes, teardown succeeds while podman holds the namespaces (and kills nothing),
and after the runtime restarts its containers a re-converge needs no manual step."""

from __future__ import annotations

import json
import os
import shlex

import pytest

from labkit import Lab, ROOT, lab_name

SITE = os.path.join(ROOT, 'playbooks', 'site.yml')
TEARDOWN = os.path.join(ROOT, 'playbooks', 'teardown.yml')
HOST = 'docker-node1'
INVENTORY = {'linuxnet_networks': [{'name': 'front', 'subnet': '173.21.0.0/16'}],
             'linuxnet_containers': [{'name': 'web', 'networks': ['front']}, {'name': 'db', 'networks': ['front']}]}
# Our namespace for the network; the collection's hosts file and resolv.conf for names (podman would write its
# own from the host's otherwise); the host's root is an overlayfs, so podman's storage is vfs.
PODMAN = ('podman --runtime runc run -d --pids-limit 0 --name {name} --network ns:/run/netns/{name} '
          '-v /etc/netns/{name}/hosts:/etc/hosts:ro -v /etc/netns/{name}/resolv.conf:/etc/resolv.conf:ro '
          '--rootfs /srv/busybox httpd -f -p 80 -h /www')


@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    running = Lab(lab_name('podman'), 1)
    status, res = running.ansible(HOST, 'ansible.builtin.apt', {'name': ['podman', 'runc', 'busybox-static'],
                                                                'update_cache': True, 'install_recommends': False},
                                  tmp_path_factory.mktemp('apt'))[HOST]
    assert status == 'ok', res
    running.ssh(HOST, 'mkdir -p /etc/containers /srv/busybox/bin /srv/busybox/www && '
                      'printf \'[storage]\\ndriver = "vfs"\\nrunroot = "/run/containers/storage"\\n'
                      'graphroot = "/var/lib/containers/storage"\\n\' > /etc/containers/storage.conf && '
                      'cp /bin/busybox /srv/busybox/bin/ && cd /srv/busybox/bin && '
                      'for applet in $(./busybox --list); do ln -sf busybox $applet; done && cd / && '
                      'mkdir -p /srv/busybox/tmp && '
                      'mkdir -p /srv/busybox/etc && : > /srv/busybox/etc/hosts && : > /srv/busybox/etc/resolv.conf')
    yield running
    running.ssh(HOST, 'podman rm -f -t 0 web db >/dev/null 2>&1 || true')
    running.down()


def converge(lab, tmp_path, playbook=SITE):
    path = tmp_path / 'inventory.json'
    path.write_text(json.dumps(INVENTORY))
    proc = lab.playbook(playbook, tmp_path, extra=('-e', '@%s' % path))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    return proc


def start_containers(lab):
    for name in ('web', 'db'):
        lab.ssh(HOST, 'echo "busybox httpd in %s" > /srv/busybox/www/index.html.%s' % (name, name))
        lab.ssh(HOST, 'podman rm -f -t 0 %s >/dev/null 2>&1; ' % name + PODMAN.format(name=name)
                + ' >/dev/null')
    # Each container's process lives in our namespace of its name.
    for name in ('web', 'db'):
        pid = lab.ssh(HOST, "podman inspect -f '{{.State.Pid}}' %s" % name).strip()
        assert pid in lab.ssh(HOST, 'ip netns pids %s' % name).split(), name


def traffic_by_name(lab):
    # Inside the runtime's containers the names come from the hosts file the collection wrote. (Debian's static
    # busybox cannot use glibc's resolver, so the container looks the name up in its /etc/hosts itself; its wget -T
    # crashes, so busybox timeout bounds it.)
    for client, server in (('web', 'db'), ('db', 'web')):
        url = 'http://$(awk \'$2 == "%s" {print $1; exit}\' /etc/hosts)/index.html.%s' % (server, server)
        out = lab.ssh(HOST, 'podman exec %s sh -c %s' % (client, shlex.quote('timeout 5 wget -q -O - ' + url)))
        assert out.strip() == 'busybox httpd in %s' % server
    # Host tools in the namespaces resolve the names with glibc (ip netns exec bind-mounts the same files).
    out = lab.ssh(HOST, 'ip netns exec db curl -s -m 3 http://web/index.html.web')
    assert out.strip() == 'busybox httpd in web'
    assert lab.ssh(HOST, 'podman exec web cat /etc/hosts') == lab.ssh(HOST, 'cat /etc/netns/web/hosts')


def test_podman_in_our_namespaces(lab, tmp_path):
    converge(lab, tmp_path)
    start_containers(lab)
    traffic_by_name(lab)

    # Teardown while podman holds both namespaces: it succeeds, names the holders, kills nothing.
    down = converge(lab, tmp_path, TEARDOWN)
    assert 'still used by processes' in down.stdout + down.stderr
    assert lab.namespaces(HOST) == []
    assert lab.ssh(HOST, "podman inspect -f '{{.State.Running}}' web db").split() == ['true', 'true']
    # Nothing of ours is left on the host: no tagged link, no nftables table of ours.
    links = json.loads(lab.ssh(HOST, 'ip -j link show'))
    assert [link['ifname'] for link in links if link.get('ifalias') == 'linuxnet.container'] == []
    tables = json.loads(lab.ssh(HOST, 'nft -j list tables'))['nftables']
    assert [t for t in tables if 'table' in t and t['table']['name'].startswith('linuxnet')] == []

    # The runtime restarts its containers: a re-converge, then the containers in the new namespaces; no manual step.
    lab.ssh(HOST, 'podman rm -f -t 0 web db >/dev/null')
    converge(lab, tmp_path)
    again = converge(lab, tmp_path)
    assert 'changed=0' in again.stdout, again.stdout[-2000:]
    start_containers(lab)
    traffic_by_name(lab)
    lab.ssh(HOST, 'podman rm -f -t 0 web db >/dev/null')
    converge(lab, tmp_path, TEARDOWN)


RUNC_CONFIG = r'''
import json, sys
config = json.load(open("/srv/runc-web/config.json"))
config["process"]["terminal"] = False
config["process"]["args"] = ["httpd", "-f", "-p", "8081", "-h", "/www"]
config["root"] = {"path": "/srv/busybox", "readonly": True}
config["linux"]["namespaces"] = [n if n["type"] != "network" else {"type": "network", "path": "/run/netns/web"}
                                 for n in config["linux"]["namespaces"]]
config["mounts"] += [{"destination": "/etc/" + f, "type": "bind", "source": "/etc/netns/web/" + f,
                      "options": ["bind", "ro"]} for f in ("hosts", "resolv.conf")]
json.dump(config, open("/srv/runc-web/config.json", "w"))
'''


def test_runc_in_our_namespace(lab, tmp_path):
    converge(lab, tmp_path)
    lab.ssh(HOST, 'mkdir -p /srv/runc-web && cd /srv/runc-web && rm -f config.json && runc spec && '
                  'python3 -c %s' % shlex.quote(RUNC_CONFIG))
    lab.ssh(HOST, 'echo "runc httpd in web" > /srv/busybox/www/runc.html && '
                  'runc run -d --bundle /srv/runc-web rweb </dev/null >/dev/null 2>&1')
    try:
        pid = json.loads(lab.ssh(HOST, 'runc state rweb'))['pid']
        assert str(pid) in lab.ssh(HOST, 'ip netns pids web').split()
        assert lab.ssh(HOST, 'runc exec rweb cat /etc/hosts') == lab.ssh(HOST, 'cat /etc/netns/web/hosts')
        out = lab.ssh(HOST, 'ip netns exec db curl -s -m 3 http://web:8081/runc.html')
        assert out.strip() == 'runc httpd in web'
    finally:
        lab.ssh(HOST, 'runc kill rweb KILL; sleep 0.2; runc delete --force rweb')
    converge(lab, tmp_path, TEARDOWN)
