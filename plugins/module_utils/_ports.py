# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Published ports: ``docker run -p`` syntax, expansion to single-port maps, conflicts (pure logic)."""

from __future__ import annotations

import ipaddress

PROTOCOLS = ('tcp', 'udp', 'sctp')
ANY = '0.0.0.0'


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
        host_ip, protocol, port = key
        lines.setdefault(container_ip, []).append('%d/%s -> %s:%d' % (cport, protocol, host_ip, port))
    return lines
