# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Published ports: ``docker run -p`` syntax, expansion to single-port maps, conflicts, source allow-lists (pure logic)."""

from __future__ import annotations

import ipaddress

PROTOCOLS = ('tcp', 'udp', 'sctp')
ANY = '0.0.0.0'
EVERYONE = ipaddress.IPv4Network('0.0.0.0/0')
ALLOW_FIX = 'write IPv4 addresses or networks like 192.0.2.12 or 198.51.100.0/24'


class PortError(ValueError):
    """A publication that cannot be honoured; the message names it and the fix."""


def _port_range(text, what, spec):
    text = str(text).strip()
    try:
        if '-' in text:
            low, high = (int(p) for p in text.split('-', 1))
        else:
            low = high = int(text)
    except ValueError:
        raise PortError('%s: %s %r is not a port or a range like 9000-9010' % (spec, what, text))
    if not (1 <= low <= 65535 and 1 <= high <= 65535) or low > high:
        raise PortError('%s: %s %s is out of range (1-65535, low-high)' % (spec, what, text))
    return low, high


def parse_publish(spec):
    """Docker's ``-p`` syntax: ``[ip:]hostPort:containerPort[/proto]`` with ports or ranges.

    Returns a dict: host_ip, host_ports (low, high), container_ports (low, high), protocol.
    Docker's ``-p 80`` (a random host port) has no stable equivalent and is refused.
    """
    text = str(spec).strip()
    protocol = 'tcp'
    if '/' in text:
        text, protocol = text.rsplit('/', 1)
        protocol = protocol.lower()
    if protocol not in PROTOCOLS:
        raise PortError('%s: protocol %r is not one of %s' % (spec, protocol, ', '.join(PROTOCOLS)))
    if text.startswith('['):  # [::1]:80:80
        raise PortError('%s: IPv6 host addresses are not supported yet. Fix: publish on an IPv4 address' % spec)
    parts = text.split(':')
    if len(parts) == 1:
        raise PortError('%s: a host port is needed (Docker would pick a random one, which cannot converge). '
                        'Fix: write HOSTPORT:%s' % (spec, parts[0]))
    if len(parts) == 2:
        host_ip, host, container = ANY, parts[0], parts[1]
    elif len(parts) == 3:
        host_ip, host, container = parts[0] or ANY, parts[1], parts[2]
    else:
        raise PortError('%s: expected [ip:]hostPort:containerPort[/protocol]' % spec)
    if host_ip != ANY:
        try:
            host_ip = ipaddress.IPv4Address(host_ip).compressed
        except ValueError:
            raise PortError('%s: host address %r is not an IPv4 address' % (spec, host_ip))
    if not host:
        raise PortError('%s: a host port is needed. Fix: write %s:HOSTPORT:%s' % (spec, host_ip, container))
    host_ports = _port_range(host, 'host port', spec)
    container_ports = _port_range(container, 'container port', spec)
    if container_ports[1] - container_ports[0] not in (0, host_ports[1] - host_ports[0]):
        raise PortError('%s: the host range %d-%d and the container range %d-%d differ in size. '
                        'Fix: give ranges of the same length, or one container port'
                        % ((spec,) + host_ports + container_ports))
    return {'host_ip': host_ip, 'host_ports': host_ports, 'container_ports': container_ports, 'protocol': protocol}


def expand(container_ip, publication):
    """One (key, target) per host port: key (host_ip, protocol, port), target (container_ip, port)."""
    low, high = publication['host_ports']
    clow, chigh = publication['container_ports']
    for offset, port in enumerate(range(low, high + 1)):
        cport = clow if clow == chigh else clow + offset
        yield (publication['host_ip'], publication['protocol'], port), (container_ip, cport)


def build_maps(entries):
    """entries: [(label, container_ip, publication)] -> {key: (target, label)}; conflicts raise PortError.

    A port published on all addresses conflicts with the same port on one address, as in Docker
    ("port is already allocated").
    """
    maps = {}
    by_port = {}
    for label, container_ip, publication in entries:
        for key, target in expand(container_ip, publication):
            host_ip, protocol, port = key
            for other_key in by_port.get((protocol, port), []):
                if other_key[0] == host_ip or ANY in (other_key[0], host_ip):
                    other_label = maps[other_key][1]
                    raise PortError('%s and %s both publish %s:%d/%s. Fix: use another host port or host address '
                                    'for one of them' % (other_label, label, host_ip, port, protocol))
            by_port.setdefault((protocol, port), []).append(key)
            maps[key] = (target, label)
    return maps


def docker_port_lines(maps):
    """``docker port`` style: {container_ip: ['80/tcp -> 0.0.0.0:8080', ...]} in port order."""
    lines = {}
    for key in sorted(maps, key=lambda k: (maps[k][0][0], maps[k][0][1], k[1], k[2], k[0])):
        (container_ip, cport), _label = maps[key]
        lines.setdefault(container_ip, []).append(port_line(key, cport))
    return lines


def port_line(key, container_port):
    """One ``docker port`` line: ``80/tcp -> 0.0.0.0:8080``."""
    host_ip, protocol, port = key
    return '%d/%s -> %s:%d' % (container_port, protocol, host_ip, port)


def cidr_text(net):
    """A source network as nftables lists it back: a bare address for a /32, else ADDRESS/LEN."""
    return str(net.network_address) if net.prefixlen == 32 else net.with_prefixlen


def cidr_sort_key(text):
    net = ipaddress.IPv4Network(text)
    return (int(net.network_address), net.prefixlen)


def parse_allow(values):
    """A source allow-list (``allow: [CIDR, ...]``) -> a sorted tuple of disjoint networks (``cidr_text`` form).

    A bare address is its /32. Networks inside another one of the list are dropped and adjacent ones merged (an
    nftables interval set refuses overlapping elements). The empty tuple means everyone: an empty list, or one that
    holds 0.0.0.0/0. Raises PortError naming the entry and the fix.
    """
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise PortError('must be a list of sources, got %r. Fix: %s, as a YAML list' % (values, ALLOW_FIX))
    nets = []
    for value in values:
        text = str(value).strip()
        if ':' in text:
            raise PortError('%s: IPv6 sources are not supported yet. Fix: %s' % (text, ALLOW_FIX))
        try:
            net = ipaddress.IPv4Network(text, strict=False)
        except ValueError:
            raise PortError('invalid CIDR address: %r. Fix: %s' % (value, ALLOW_FIX))
        if net.network_address != ipaddress.IPv4Interface(text).ip:
            raise PortError('invalid CIDR address: %s has host bits set (it should be %s). Fix: write %s, or %s/32 for that '
                            'address alone' % (text, net, net, text.split('/', 1)[0]))
        nets.append(net)
    if EVERYONE in nets:
        return ()
    return tuple(cidr_text(net) for net in ipaddress.collapse_addresses(nets))


def allow_from_elements(sets):
    """The allow-lists in port_map's table: {(host_ip, protocol, port): allow tuple} of its restricted publications.

    ``restricted_any`` / ``restricted_addr`` hold the keys (without / with the host address) that have a list,
    ``allow_any`` / ``allow_addr`` one element per (source network, key).
    """
    allow = {}
    for name, with_ip in (('any', False), ('addr', True)):
        for elem in sets.get('restricted_%s' % name, []):
            allow[tuple(elem) if with_ip else (ANY,) + tuple(elem)] = []
        for elem in sets.get('allow_%s' % name, []):
            key = tuple(elem[1:]) if with_ip else (ANY,) + tuple(elem[1:])
            if key in allow:
                allow[key].append(elem[0])
    return {key: tuple(sorted(cidrs, key=cidr_sort_key)) for key, cidrs in allow.items()}


def allow_lines(maps, allow):
    """{container_ip: {docker port line: [sources]}} of the restricted publications (see docker_port_lines)."""
    lines = {}
    for key in sorted(allow):
        if key in maps:
            (container_ip, cport), _label = maps[key]
            lines.setdefault(container_ip, {})[port_line(key, cport)] = list(allow[key])
    return lines


def _covers(listen_addr, host_ip):
    """Whether a socket bound to listen_addr takes connections for host_ip (0.0.0.0: every address; a dual-stack
    socket on :: every IPv4 address too; ::ffff:a.b.c.d the IPv4 address a.b.c.d)."""
    if listen_addr in (ANY, '::'):
        return True
    if listen_addr.startswith('::ffff:'):
        listen_addr = listen_addr[len('::ffff:'):]
    elif ':' in listen_addr:
        return False  # an IPv6 address: publications are IPv4
    return host_ip == ANY or listen_addr == host_ip


def listener_conflicts(maps, listeners):
    """The publications a host socket shadows: [(key, label, listener)] in key order.

    ``maps``: build_maps' {(host_ip, protocol, port): (target, label)}; ``listeners``: [(protocol, address, port,
    inode)] of the host's listening TCP and bound UDP sockets. A publication on 0.0.0.0 conflicts with a socket on
    any address of its port, one on an address with a socket on that address or on all of them, as Docker's bind
    fails ("address already in use").
    """
    by_port = {}
    for listener in listeners:
        by_port.setdefault((listener[0], listener[2]), []).append(listener)
    found = []
    for key in sorted(maps):
        host_ip, protocol, port = key
        for listener in by_port.get((protocol, port), []):
            if _covers(listener[1], host_ip):
                found.append((key, maps[key][1], listener))
                break
    return found
