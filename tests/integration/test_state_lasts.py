# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""State that lasts, with no controller: a converged host restores its networks after nft flush ruleset (the
watcher), after nftables.service restarts and reloads (its drop-in), after a reboot and a power cut (the boot
unit, before the application's own unit that runs in a container's namespace), proved with traffic: a published
port from the other host and a ping across an overlay. site.yml afterwards changes nothing; teardown removes
the record, the command and its units."""

from __future__ import annotations

import json
import re
import time

from test_playbooks import SITE, TEARDOWN, inventory
from test_publish_allow import curl, recap

WEB, PEER = 'docker-node1', 'docker-node2'
PAGE = 'linuxnet state that lasts'
NETWORKS = [{'name': 'demo', 'driver': 'overlay', 'subnet': '10.0.9.0/24'}]
# 150 more containers: the host_network call's arguments are then larger than a pipe holds (64 KiB), which
# deadlocked ansible's respawn_module when the module moved to the collection's virtualenv.
FILLER = [{'name': 'f%d' % i} for i in range(150)]
HOST_VARS = {
    # web's default network is dual stack: its IPv6 gateway and addresses must last as the IPv4 ones do.
    WEB: {'linuxnet_networks': NETWORKS + [{'name': 'bridge', 'enable_ipv6': True}], 'linuxnet_restore_watch': True,
          'linuxnet_containers': [{'name': 'web', 'ports': ['8080:80']}, {'name': 'c1', 'networks': ['demo']}] + FILLER},
    PEER: {'linuxnet_networks': NETWORKS, 'linuxnet_containers': [{'name': 'c2', 'networks': ['demo']}]},
}
# The application: a unit that runs in web's namespace, as a runtime's container would, ordered after the
# collection's boot unit; it starts again at boot.
APP_UNIT = '''[Unit]
Description=test application in the container web
After=linuxnet-container.service
[Service]
NetworkNamespacePath=/run/netns/web
ExecStart=/usr/bin/python3 -m http.server 80 --directory /srv/state-www
[Install]
WantedBy=multi-user.target
'''
UNITS = ['linuxnet-container.service', 'linuxnet-container-firewalld.service', 'linuxnet-container-firewalld.path',
         'linuxnet-container-watch.path']
FILES = ['/usr/local/sbin/linuxnet-container', '/var/lib/linuxnet-container',
         '/etc/systemd/system/nftables.service.d/linuxnet-container.conf',
         '/etc/systemd/system/linuxnet-container.service', '/etc/systemd/system/linuxnet-container-watch.service']


def address(lab, host, ns, ifname='eth0'):
    links = json.loads(lab.ssh(host, 'ip -j -n %s addr show dev %s' % (ns, ifname)))
    return next(a['local'] for a in links[0]['addr_info'] if a['family'] == 'inet')


def wait_for(predicate, timeout=10.0):
    """Seconds until predicate() held (None if it never did)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def overlay_ping(lab, target):
    return lab.ssh(PEER, 'ip netns exec c2 ping -c 1 -W 1 %s >/dev/null 2>&1; echo $?' % target).strip() == '0'


def works(lab, target):
    return curl(lab, PEER, 'http://192.0.2.11:8080/') == PAGE and overlay_ping(lab, target)


def global6(lab, netns, dev):
    """The global IPv6 addresses (address/prefix) of a link of WEB, or of a link in namespace ``netns``."""
    prefix = 'ip -n %s' % netns if netns else 'ip'
    links = json.loads(lab.ssh(WEB, '%s -j -6 addr show dev %s scope global' % (prefix, dev)) or '[]')
    return ['%s/%d' % (a['local'], a['prefixlen']) for link in links for a in link['addr_info'] if a.get('local')]


def test_a_host_restores_itself_after_flushes_restarts_and_reboots(lab2, tmp_path):
    inv = inventory(lab2, tmp_path, HOST_VARS)
    try:
        real = lab2.playbook(SITE, tmp_path, inventory=inv)
        assert real.returncode == 0, real.stdout
        lab2.ssh(WEB, 'mkdir -p /srv/state-www && echo "%s" > /srv/state-www/index.html && cat > '
                      '/etc/systemd/system/state-app.service <<"EOF"\n%sEOF\nsystemctl daemon-reload && '
                      'systemctl enable --now state-app.service' % (PAGE, APP_UNIT))
        target = address(lab2, WEB, 'c1')
        assert wait_for(lambda: works(lab2, target)) is not None

        # The record, the command, and its check mode: nothing to do on a converged host (exit 0).
        status = json.loads(lab2.ssh(WEB, 'linuxnet-container status'))
        assert [r['name'] for r in status['records']] == ['bridge_network'], status  # one call converges the host
        assert lab2.ssh(WEB, 'stat -c %a /var/lib/linuxnet-container/desired.json').strip() == '600'
        assert lab2.ssh(WEB, 'linuxnet-container apply --check >/dev/null; echo $?').strip() == '0'
        # Every unit passes systemd-analyze verify.
        lab2.ssh(WEB, 'systemd-analyze verify /etc/systemd/system/linuxnet-container*')

        # nft flush ruleset: the watcher puts every table back, and says so in the journal.
        lab2.firewall('flush', WEB)
        assert wait_for(lambda: works(lab2, target), 5.0) is not None
        # (One repair per burst of events: links that changed in the same burst are named with it.)
        journal = lab2.ssh(WEB, 'journalctl -u linuxnet-container-watch -o cat')
        assert re.search(r'repaired after a change of (links, )?nftables in', journal), journal

        # nftables.service restarts and reloads (its ruleset flushes everything): back before systemctl returns,
        # also with the watcher stopped.
        lab2.ssh(WEB, 'systemctl stop linuxnet-container-watch.path linuxnet-container-watch.service')
        for how in ('restart', 'reload'):
            lab2.firewall(how, WEB)
            tables = lab2.ssh(WEB, 'nft -j list tables')
            assert {'linuxnet_isolation', 'linuxnet_ports', 'linuxnet_vtep'} <= {
                t['table']['name'] for t in json.loads(tables)['nftables'] if 'table' in t}, (how, tables)
            assert works(lab2, target), how
        # Without the watcher, a flush stays until something applies again; linuxnet-container apply does.
        lab2.firewall('flush', WEB)
        assert curl(lab2, PEER, 'http://192.0.2.11:8080/') is None
        assert lab2.ssh(WEB, 'linuxnet-container apply --check >/dev/null; echo $?').strip() == '1'
        assert lab2.ssh(WEB, 'linuxnet-container apply >/dev/null; echo $?').strip() == '1'
        assert works(lab2, target)
        lab2.ssh(WEB, 'systemctl start linuxnet-container-watch.path')

        # A link goes missing (a bridge of ours): the watcher repairs it too.
        lab2.ssh(WEB, 'systemctl is-active linuxnet-container-watch.service')
        bridge = json.loads(lab2.ssh(WEB, 'ip -j link show type bridge'))
        doomed = next(b['ifname'] for b in bridge if b['ifname'].startswith('br-') or b['ifname'] == 'docker0')
        lab2.ssh(WEB, 'ip link delete %s' % doomed)
        assert wait_for(lambda: works(lab2, target), 5.0) is not None

        # The IPv6 gateway address of docker0 deleted: the watcher puts it back too.
        gateway6 = global6(lab2, None, 'docker0')
        assert len(gateway6) == 1, gateway6
        lab2.ssh(WEB, 'ip addr del %s dev docker0' % gateway6[0])
        assert wait_for(lambda: global6(lab2, None, 'docker0') == gateway6, 10.0) is not None

        # A reboot, then a power cut of the other host: every namespace, link and table comes back at boot, before
        # the application's unit starts in its namespace.
        lab2.reboot(WEB)
        assert wait_for(lambda: works(lab2, target), 20.0) is not None
        assert 'web' in lab2.namespaces(WEB) and len(lab2.namespaces(WEB)) == 3 + len(FILLER)  # and the overlay's
        assert global6(lab2, None, 'docker0') == gateway6 and len(global6(lab2, 'web', 'eth0')) == 1
        lab2.reboot(PEER, hard=True)
        assert wait_for(lambda: works(lab2, target), 20.0) is not None

        # The controller again: nothing to change anywhere.
        again = lab2.playbook(SITE, tmp_path, inventory=inv)
        assert again.returncode == 0 and set(recap(again).values()) == {0}, again.stdout

        # Units turned off by their variables.
        off = lab2.playbook(SITE, tmp_path, inventory=inv, extra=['-e', 'linuxnet_restore_watch=false',  # the default
                                                                  '-e', 'linuxnet_restore_on_nftables=false'])
        assert off.returncode == 0, off.stdout
        assert lab2.ssh(WEB, 'systemctl is-enabled linuxnet-container-watch.path; true').strip() == 'disabled'
        assert lab2.ssh(WEB, 'systemctl is-active linuxnet-container-watch.service; true').strip() == 'inactive'
        assert lab2.ssh(WEB, 'test -e /etc/systemd/system/nftables.service.d/linuxnet-container.conf; echo $?').strip() == '1'
    finally:
        lab2.ssh(WEB, 'systemctl disable --now state-app.service; rm -rf /etc/systemd/system/state-app.service '
                      '/srv/state-www; systemctl daemon-reload')
        down = lab2.playbook(TEARDOWN, tmp_path, inventory=inv)
    assert down.returncode == 0, down.stdout
    for host in (WEB, PEER):
        assert lab2.ssh(host, 'ls -d %s 2>/dev/null; true' % ' '.join(FILES)).split() == [], host
        enabled = lab2.ssh(host, 'systemctl is-enabled %s 2>&1; true' % ' '.join(UNITS))
        assert 'enabled' not in enabled.split(), enabled
