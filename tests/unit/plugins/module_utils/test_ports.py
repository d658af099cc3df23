# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import pytest

from ansible_collections.linuxnet.container.plugins.module_utils._common.ports import (
    PortError,
    build_maps,
    docker_port_lines,
    expand,
    listener_conflicts,
    parse_publish,
)


@pytest.mark.parametrize('spec, parsed', [
    ('8080:80', ('0.0.0.0', (8080, 8080), (80, 80), 'tcp')),
    ('127.0.0.1:5353:53/udp', ('127.0.0.1', (5353, 5353), (53, 53), 'udp')),
    ('9000-9010:9000-9010/tcp', ('0.0.0.0', (9000, 9010), (9000, 9010), 'tcp')),
    ('9000-9002:80', ('0.0.0.0', (9000, 9002), (80, 80), 'tcp')),
    (':8080:80/SCTP', ('0.0.0.0', (8080, 8080), (80, 80), 'sctp')),
])
def test_parse_publish(spec, parsed):
    p = parse_publish(spec)
    assert (p['host_ip'], p['host_ports'], p['container_ports'], p['protocol']) == parsed


@pytest.mark.parametrize('spec, words', [
    ('80', 'a host port is needed'),
    ('8080:80/icmp', "protocol 'icmp'"),
    ('8080:70000', 'out of range'),
    ('9000-9010:80-81', 'differ in size'),
    ('300.1.1.1:80:80', 'not an IPv4 address'),
    ('[::1]:80:80', 'IPv6'),
    ('a:b:c:d', 'expected [ip:]hostPort'),
    ('x:80', 'is not a port'),
])
def test_parse_publish_errors_name_the_spec(spec, words):
    with pytest.raises(PortError) as err:
        parse_publish(spec)
    assert spec in str(err.value) and words in str(err.value)


def test_expand_keeps_offsets_or_one_port():
    assert list(expand('172.17.0.2', parse_publish('9000-9001:8000-8001'))) == [
        (('0.0.0.0', 'tcp', 9000), ('172.17.0.2', 8000)), (('0.0.0.0', 'tcp', 9001), ('172.17.0.2', 8001))]
    assert [t for _key, t in expand('172.17.0.2', parse_publish('9000-9001:80'))] == [('172.17.0.2', 80)] * 2


def test_conflicts_name_both_publications():
    entries = [('web 8080:80', '172.17.0.2', parse_publish('8080:80')),
               ('api 8080:81', '172.17.0.3', parse_publish('8080:81'))]
    with pytest.raises(PortError, match=r'web 8080:80 and api 8080:81 both publish 0.0.0.0:8080/tcp'):
        build_maps(entries)


def test_all_addresses_conflicts_with_one_address_but_protocols_do_not():
    with pytest.raises(PortError):
        build_maps([('a', '172.17.0.2', parse_publish('127.0.0.1:80:80')), ('b', '172.17.0.3', parse_publish('80:80'))])
    maps = build_maps([('a', '172.17.0.2', parse_publish('53:53/udp')), ('b', '172.17.0.3', parse_publish('53:53/tcp')),
                       ('c', '172.17.0.4', parse_publish('127.0.0.1:80:80')), ('d', '172.17.0.5', parse_publish('192.0.2.11:80:80'))])
    assert len(maps) == 4


def test_docker_port_lines():
    maps = build_maps([('a', '172.17.0.2', parse_publish('8080:80')), ('a', '172.17.0.2', parse_publish('127.0.0.1:5353:53/udp'))])
    assert docker_port_lines(maps) == {'172.17.0.2': ['53/udp -> 127.0.0.1:5353', '80/tcp -> 0.0.0.0:8080']}


# -- host sockets on published ports (Docker: "bind: address already in use") ---------------------------------------
def _maps(*specs):
    return build_maps([('c%d %s' % (i, spec), '172.17.0.%d' % (i + 2), parse_publish(spec)) for i, spec in enumerate(specs)])


@pytest.mark.parametrize('spec,listener,conflict', [
    ('8080:80', ('tcp', '0.0.0.0', 8080, 1), True),
    ('8080:80', ('tcp', '127.0.0.1', 8080, 1), True),           # all addresses cover loopback
    ('8080:80', ('tcp', '::', 8080, 1), True),                  # a dual-stack socket takes IPv4 too
    ('8080:80', ('tcp', '::1', 8080, 1), False),                # IPv6 only: publications are IPv4
    ('8080:80', ('udp', '0.0.0.0', 8080, 1), False),            # another protocol
    ('8080:80', ('tcp', '0.0.0.0', 8081, 1), False),            # another port
    ('127.0.0.1:8080:80', ('tcp', '0.0.0.0', 8080, 1), True),   # a socket on every address covers this one
    ('127.0.0.1:8080:80', ('tcp', '192.0.2.11', 8080, 1), False),
    ('192.0.2.11:8080:80', ('tcp', '::ffff:192.0.2.11', 8080, 1), True),
    ('53:53/udp', ('udp', '127.0.0.53', 53, 1), True),
])
def test_listener_conflicts(spec, listener, conflict):
    found = listener_conflicts(_maps(spec), [listener])
    assert bool(found) is conflict
    if conflict:
        assert found[0][1] == 'c0 %s' % spec and found[0][2] == listener


def test_listener_conflicts_one_line_per_publication_in_key_order():
    maps = _maps('9000-9001:80', '127.0.0.1:7000:70')
    listeners = [('tcp', '0.0.0.0', 9001, 5), ('tcp', '::', 9001, 6), ('tcp', '0.0.0.0', 7000, 7), ('tcp', '0.0.0.0', 9000, 8)]
    assert [(key, listener[3]) for key, _label, listener in listener_conflicts(maps, listeners)] == [
        (('0.0.0.0', 'tcp', 9000), 8), (('0.0.0.0', 'tcp', 9001), 5), (('127.0.0.1', 'tcp', 7000), 7)]
