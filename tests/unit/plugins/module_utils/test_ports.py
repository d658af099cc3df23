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
    ('[::]:8080:80', ('::', (8080, 8080), (80, 80), 'tcp')),
    ('[2001:DB8:0::5]:8080:80/udp', ('2001:db8::5', (8080, 8080), (80, 80), 'udp')),
    ('[fd00:192:0:2::11]:9000-9001:9000-9001', ('fd00:192:0:2::11', (9000, 9001), (9000, 9001), 'tcp')),
    ('[0:0::1]:8081:80', ('::1', (8081, 8081), (80, 80), 'tcp')),  # served by systemd-socket-proxyd (port_proxy)
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
    ('a:b:c:d', 'an IPv6 host address goes in brackets'),
    ('[zz]:8080:80', '[zz]:8080:80: invalid IP address: zz. Fix: write an IPv6 address in brackets, like [2001:db8::5]:8080:80'),
    ('[192.0.2.1]:8080:80', '[192.0.2.1]:8080:80: invalid IP address: 192.0.2.1. Fix: write an IPv6 address in brackets'),
    ('[::1]:5353:53/udp', '[::1]:5353:53/udp: a publication on the IPv6 loopback address [::1] is served by '
                          'systemd-socket-proxyd, which relays TCP only, not UDP. Fix: publish it on 127.0.0.1 '
                          '(127.0.0.1:5353:53/udp) for the host alone'),
    ('[::1]:8081:80/sctp', 'relays TCP only, not SCTP'),
    ('[fe80::1]:8080:80', 'invalid IP address: fe80::1 is a link-local address. Fix: publish on [::]'),
    ('[ff02::1]:8080:80', 'invalid IP address: ff02::1 is a multicast address'),
    ('[::ffff:192.0.2.1]:8080:80', 'invalid IP address: ::ffff:192.0.2.1 is an IPv4-mapped address'),
    ('[2001:db8::5]:80', 'expected [ipv6]:hostPort:containerPort'),
    ('[2001:db8::5:8080:80', 'expected [ipv6]:hostPort:containerPort'),
    ('2001:db8::5:8080:80', 'an IPv6 host address goes in brackets. Fix: write it like [2001:db8::5]:8080:80'),
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


def test_every_address_is_both_families_on_a_container_with_ipv6():
    """Docker 27: 8080:80 (and 0.0.0.0:8080:80) binds 0.0.0.0 and [::] when the container has an IPv6 address."""
    both = dict(expand('173.20.0.2', parse_publish('8080:80'), 'fd00::2'))
    assert both == {('0.0.0.0', 'tcp', 8080): ('173.20.0.2', 80), ('::', 'tcp', 8080): ('fd00::2', 80)}
    assert dict(expand('173.20.0.2', parse_publish('0.0.0.0:8080:80'), 'fd00::2')) == both
    assert dict(expand('173.20.0.2', parse_publish('8080:80'))) == {('0.0.0.0', 'tcp', 8080): ('173.20.0.2', 80)}
    assert dict(expand('173.20.0.2', parse_publish('192.0.2.11:8080:80'), 'fd00::2')) == {
        ('192.0.2.11', 'tcp', 8080): ('173.20.0.2', 80)}
    assert dict(expand('173.20.0.2', parse_publish('[::]:8080:80'), 'fd00::2')) == {('::', 'tcp', 8080): ('fd00::2', 80)}
    with pytest.raises(PortError) as err:
        list(expand('173.20.0.2', parse_publish('[::]:8080:80')))
    assert 'the container has no IPv6 address' in str(err.value)


def test_conflicts_are_per_family():
    v6 = parse_publish('[2001:db8::5]:8080:80')
    # [::] and one IPv6 address of the same port conflict; an IPv4 publication of the port does not
    with pytest.raises(PortError) as err:
        build_maps([('web', '173.20.0.2', parse_publish('8080:80'), 'fd00::2'), ('db', '173.20.0.3', v6, 'fd00::3')])
    assert str(err.value) == ('web and db both publish [2001:db8::5]:8080/tcp. Fix: use another host port or host address '
                              'for one of them')
    maps = build_maps([('web', '173.20.0.2', parse_publish('192.0.2.11:8080:80'), 'fd00::2'), ('db', '173.20.0.3', v6, 'fd00::3')])
    assert sorted(maps) == [('192.0.2.11', 'tcp', 8080), ('2001:db8::5', 'tcp', 8080)]
    assert docker_port_lines(maps) == {'173.20.0.2': ['80/tcp -> 192.0.2.11:8080'], 'fd00::3': ['80/tcp -> [2001:db8::5]:8080']}


@pytest.mark.parametrize('key, listener, conflict', [
    (('::', 'tcp', 8080), ('tcp', '::', 8080, 1), True),
    (('::', 'tcp', 8080), ('tcp', '0.0.0.0', 8080, 1), False),
    (('::', 'tcp', 8080), ('tcp', '2001:db8::5', 8080, 1), True),
    (('2001:db8::5', 'tcp', 8080), ('tcp', '2001:db8:0::5', 8080, 1), True),
    (('2001:db8::5', 'tcp', 8080), ('tcp', '2001:db8::6', 8080, 1), False),
    (('0.0.0.0', 'tcp', 8080), ('tcp', '2001:db8::5', 8080, 1), False),
])
def test_listener_conflicts_ipv6(key, listener, conflict):
    found = listener_conflicts({key: (('fd00::2', 80), 'web')}, [listener])
    assert bool(found) is conflict
