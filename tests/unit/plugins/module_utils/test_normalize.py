# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._common import normalize as n


@pytest.mark.parametrize('ip, mac', [
    ('172.17.0.2', '02:42:ac:11:00:02'),
    ('173.20.0.4/16', '02:42:ad:14:00:04'),
    ('10.0.0.255', '02:42:0a:00:00:ff'),
])
def test_docker_mac_matches_libnetwork(ip, mac):
    assert n.docker_mac(ip) == mac


def test_docker_mac_rejects_ipv6():
    with pytest.raises(ValueError):
        n.docker_mac('fd00::1')


@pytest.mark.parametrize('given, expected', [
    ('02:42:AC:11:00:02', '02:42:ac:11:00:02'),
    ('02-42-ac-11-00-02', '02:42:ac:11:00:02'),
    ('0242.ac11.0002', '02:42:ac:11:00:02'),
])
def test_normalize_mac(given, expected):
    assert n.normalize_mac(given) == expected


@pytest.mark.parametrize('bad', ['02:42:ac:11:00', 'zz:42:ac:11:00:02', '', '02:42:ac:11:00:02:00'])
def test_normalize_mac_rejects(bad):
    with pytest.raises(ValueError, match='not a MAC address'):
        n.normalize_mac(bad)


@pytest.mark.parametrize('given, expected', [
    ('173.20.0.1/16', '173.20.0.1/16'),
    ('fd00::0001/64', 'fd00::1/64'),
    (' 10.0.0.1 ', '10.0.0.1/32'),
])
def test_normalize_interface_address(given, expected):
    assert n.normalize_interface_address(given) == expected


def test_normalize_interface_address_names_the_value():
    with pytest.raises(ValueError, match="'173.20.0.1/33'"):
        n.normalize_interface_address('173.20.0.1/33')


@pytest.mark.parametrize('name, ok', [
    ('eth0', True),
    ('br-0123456789ab', True),      # 15 bytes: the longest Docker bridge name
    ('br-0123456789abc', False),    # 16 bytes
    ('a/b', False), ('a b', False), ('.', False), ('', False), ('a:b', False),
])
def test_validate_ifname(name, ok):
    assert (n.validate_ifname(name) is None) is ok


def test_validate_ifname_counts_bytes_not_characters():
    # 8 characters, 16 bytes in UTF-8
    assert 'bytes' in n.validate_ifname('\u00e9' * 8)


@pytest.mark.parametrize('key, dotted, parts', [
    ('net.ipv4.ip_forward', 'net.ipv4.ip_forward', ['net', 'ipv4', 'ip_forward']),
    ('net/ipv4/conf/eth0.100/rp_filter', 'net.ipv4.conf.eth0.100.rp_filter',
     ['net', 'ipv4', 'conf', 'eth0.100', 'rp_filter']),
])
def test_normalize_sysctl_key(key, dotted, parts):
    assert n.normalize_sysctl_key(key) == (dotted, parts)


@pytest.mark.parametrize('bad', ['net..ipv4', 'net/../../etc', ''])
def test_normalize_sysctl_key_rejects(bad):
    with pytest.raises(ValueError):
        n.normalize_sysctl_key(bad)


@pytest.mark.parametrize('value, expected', [(True, '1'), (False, '0'), (1, '1'), ('4096\t87380  6291456', '4096 87380 6291456')])
def test_normalize_sysctl_value(value, expected):
    assert n.normalize_sysctl_value(value) == expected


def test_render_hosts_has_header_defaults_and_entries():
    text = n.render_hosts([{'address': 'fd00::0002', 'names': ['web', 'www']}], '# hdr')
    lines = text.splitlines()
    assert lines[0] == '# hdr'
    assert '127.0.0.1\tlocalhost' in lines
    assert lines[-1] == 'fd00::2\tweb www'
    assert text.endswith('\n')


@pytest.mark.parametrize('mac, ip', [('02:42:ac:11:00:02', '172.17.0.2'), ('02:42:0a:00:00:ff', '10.0.0.255'),
                                     ('02:00:ac:11:00:02', None), ('aa:42:ac:11:00:02', None), (None, None)])
def test_mac_ipv4_is_docker_macs_inverse(mac, ip):
    assert n.mac_ipv4(mac) == (None if ip is None else n.ipaddress.IPv4Address(ip))
    if ip is not None:
        assert n.docker_mac(ip) == mac


@pytest.mark.parametrize('mac, error', [
    ('02:42:ac:11:00:02', None), ('aa:bb:cc:00:00:01', None), ('fe:ff:ff:ff:ff:ff', None),
    ('00:00:00:00:00:00', 'is all zeros'),
    ('ff:ff:ff:ff:ff:ff', 'is a broadcast address'),
    ('01:00:5e:00:00:01', 'is a multicast address'), ('33:33:00:00:00:01', 'is a multicast address'),
    ('07:51:9a:4d:8f:30', 'is a multicast address'),
])
def test_validate_unicast_mac_refuses_what_the_kernel_refuses(mac, error):
    found = n.validate_unicast_mac(mac)
    assert (found is None) if error is None else found.startswith(error)


@pytest.mark.parametrize('name', ['db', 'db.internal', 'web-1', 'a', '_srv', 'x' * 63, '.'.join(['a' * 63] * 3) + '.' + 'a' * 61])
def test_validate_hostname_accepts_dns_names(name):
    assert n.validate_hostname(name) is None


@pytest.mark.parametrize('name, error', [
    ('a b', "has the label 'a b'"), ('-db', "has the label '-db'"), ('db-', "has the label 'db-'"),
    ('db#x', "has the label 'db#x'"), ('db\n', "has the label 'db\\n'"), ('x' * 64, 'has a label of 64 characters'),
    ('.'.join(['a' * 63] * 4), 'is 255 characters long'), ('db..x', 'has an empty label'), ('db.', 'has an empty label'),
    ('', 'must be a non-empty string'), (5, 'must be a non-empty string'),
])
def test_validate_hostname_refuses_what_a_hosts_file_cannot_hold(name, error):
    assert error in n.validate_hostname(name)
