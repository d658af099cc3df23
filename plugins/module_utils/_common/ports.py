# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Published ports: ``docker run -p`` syntax, expansion to single-port maps, conflicts, source allow-lists (pure logic)."""

from __future__ import annotations

import ipaddress

PROTOCOLS = ('tcp', 'udp', 'sctp')
ANY = '0.0.0.0'
ANY6 = '::'
# A publication on the IPv6 loopback address is served by a userland proxy (systemd-socket-proxyd, port_proxy.py), not
# by NAT: the kernel drops the container's replies addressed to ::1 that arrive on a bridge (IPv6 has no route_localnet).
LOOPBACK6 = '::1'
EVERYONE = ipaddress.IPv4Network('0.0.0.0/0')
EVERYONE6 = ipaddress.IPv6Network('::/0')
ALLOW_FIX = 'write IPv4 or IPv6 addresses or networks like 192.0.2.12, 198.51.100.0/24 or 2001:db8::/32'
V6_HOST_FIX = 'publish on [::] (every IPv6 address of the host) or on a global or unique-local address the host holds'


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
    if text.startswith('['):  # [::]:8080:80, [2001:db8::5]:8080:80
        end = text.find(']')
        parts = text[end + 2:].split(':') if end > 0 and text[end + 1:end + 2] == ':' else []
        if len(parts) != 2:
            raise PortError('%s: expected [ipv6]:hostPort:containerPort[/protocol]' % spec)
        host_ip, (host, container) = _ipv6_host(text[1:end], spec), parts
        parts = [host_ip, host, container]
    else:
        parts = text.split(':')
    if len(parts) > 3 and not text.startswith('['):
        raise PortError('%s: an IPv6 host address goes in brackets. Fix: write it like [2001:db8::5]:8080:80' % spec)
    if len(parts) == 1:
        raise PortError('%s: a host port is needed (Docker would pick a random one, which cannot converge). '
                        'Fix: write HOSTPORT:%s' % (spec, parts[0]))
    if len(parts) == 2:
        host_ip, host, container = ANY, parts[0], parts[1]
    elif len(parts) == 3:
        host_ip, host, container = parts[0] or ANY, parts[1], parts[2]
    else:
        raise PortError('%s: expected [ip:]hostPort:containerPort[/protocol]' % spec)
    if host_ip != ANY and ':' not in host_ip:
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
    if host_ip == LOOPBACK6 and protocol != 'tcp':
        # Docker's proxy relays UDP and SCTP too; systemd-socket-proxyd, which serves [::1] here, relays TCP only.
        raise PortError('%s: a publication on the IPv6 loopback address [::1] is served by systemd-socket-proxyd, which '
                        'relays TCP only, not %s. Fix: publish it on 127.0.0.1 (127.0.0.1:%s:%s/%s) for the host alone'
                        % (spec, protocol.upper(), host, container, protocol))
    return {'host_ip': host_ip, 'host_ports': host_ports, 'container_ports': container_ports, 'protocol': protocol}


def _ipv6_host(text, spec):
    """The host address of ``[ADDRESS]:hostPort:containerPort``, compressed; '::' for every IPv6 address."""
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        raise PortError('%s: invalid IP address: %s. Fix: write an IPv6 address in brackets, like [2001:db8::5]:8080:80' % (spec, text))
    if address.ipv4_mapped or address.is_multicast or address.is_link_local:
        raise PortError('%s: invalid IP address: %s is %s. Fix: %s' % (
            spec, text, 'an IPv4-mapped address' if address.ipv4_mapped else 'a multicast address' if address.is_multicast
            else 'a link-local address', V6_HOST_FIX))
    return address.compressed


def proxied(key):
    """Whether a publication's key (host_ip, protocol, port) is served by a userland proxy, not by NAT."""
    return key[0] == LOOPBACK6


def family(host_ip):
    """6 for a key on an IPv6 host address (or [::]), else 4."""
    return 6 if ':' in host_ip else 4


def any_of(version):
    return ANY6 if version == 6 else ANY


def host_port(host_ip, port):
    """``0.0.0.0:8080`` or ``[::]:8080``, as docker port prints a binding."""
    return ('[%s]:%d' if ':' in host_ip else '%s:%d') % (host_ip, port)


def expand(container_ip, publication, container_ip6=None):
    """One (key, target) per host port: key (host_ip, protocol, port), target (container_ip, port).

    As Docker 27 does, a publication on every address (``8080:80``, ``0.0.0.0:8080:80``) of a container with an IPv6
    address (``container_ip6``) is published over both families: a second key on ``::`` leads to that address. One on
    an IPv6 host address leads to ``container_ip6``; a container without one raises PortError, except on ``[::1]``,
    whose userland proxy reaches the IPv4 address then, as Docker's does.
    """
    low, high = publication['host_ports']
    clow, chigh = publication['container_ports']
    host_ip = publication['host_ip']
    if host_ip == LOOPBACK6:
        bindings = [(host_ip, container_ip6 or container_ip)]
    elif ':' in host_ip:
        if container_ip6 is None:
            raise PortError('publishes on the IPv6 host address %s, but the container has no IPv6 address (its ports lead '
                            'to a network without enable_ipv6). Fix: connect it first to a network with enable_ipv6, or '
                            'publish on an IPv4 address' % host_ip)
        bindings = [(host_ip, container_ip6)]
    else:
        bindings = [(host_ip, container_ip)] + ([(ANY6, container_ip6)] if host_ip == ANY and container_ip6 else [])
    for bound, target in bindings:
        for offset, port in enumerate(range(low, high + 1)):
            cport = clow if clow == chigh else clow + offset
            yield (bound, publication['protocol'], port), (target, cport)


def build_maps(entries):
    """entries: [(label, container_ip, publication[, container_ip6])] -> {key: (target, label)}; conflicts raise PortError.

    A port published on all addresses of a family conflicts with the same port on one address of that family, as in
    Docker ("port is already allocated").
    """
    maps = {}
    by_port = {}
    for entry in entries:
        label, container_ip, publication = entry[:3]
        try:
            expanded = list(expand(container_ip, publication, entry[3] if len(entry) > 3 else None))
        except PortError as err:
            raise PortError('%s %s' % (label, err))
        for key, target in expanded:
            host_ip, protocol, port = key
            for other_key in by_port.get((protocol, port), []):
                if family(other_key[0]) == family(host_ip) and (other_key[0] == host_ip or any_of(family(host_ip)) in (other_key[0], host_ip)):
                    other_label = maps[other_key][1]
                    raise PortError('%s and %s both publish %s/%s. Fix: use another host port or host address '
                                    'for one of them' % (other_label, label, host_port(host_ip, port), protocol))
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
    return '%d/%s -> %s' % (container_port, protocol, host_port(host_ip, port))


def cidr_text(net):
    """A source network as nftables lists it back: a bare address for a /32 (/128), else ADDRESS/LEN."""
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else net.with_prefixlen


def cidr_sort_key(text):
    net = ipaddress.ip_network(text)
    return (net.version, int(net.network_address), net.prefixlen)


def sources_for(allow, version):
    """The sources of an allow-list (parse_allow's tuple) that restrict a publication of one family: None for
    everyone (no list, or the family's /0 in it), else the family's entries; () when the list names none of that
    family, so that only the host itself reaches it (a list never opens a family it does not name)."""
    if not allow:
        return None
    mine = tuple(text for text in allow if ipaddress.ip_network(text).version == version)
    if str(EVERYONE if version == 4 else EVERYONE6) in mine:
        return None
    return mine


def parse_allow(values):
    """A source allow-list (``allow: [CIDR, ...]``) -> a sorted tuple of disjoint networks (``cidr_text`` form).

    A bare address is its /32 (/128). Networks inside another one of the list are dropped and adjacent ones merged (an
    nftables interval set refuses overlapping elements), per family, IPv4 first. The empty tuple means everyone: an
    empty list, or one that holds 0.0.0.0/0 and no IPv6 entry but ::/0 (sources_for splits it per family).
    Raises PortError naming the entry and the fix.
    """
    if values is None:
        return ()
    if isinstance(values, str) or not isinstance(values, (list, tuple)):
        raise PortError('must be a list of sources, got %r. Fix: %s, as a YAML list' % (values, ALLOW_FIX))
    nets = {4: [], 6: []}
    for value in values:
        text = str(value).strip()
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise PortError('invalid CIDR address: %r. Fix: %s' % (value, ALLOW_FIX))
        if net.network_address != ipaddress.ip_interface(text).ip:
            raise PortError('invalid CIDR address: %s has host bits set (it should be %s). Fix: write %s, or %s/%d for that '
                            'address alone' % (text, net, net, text.split('/', 1)[0], net.max_prefixlen))
        if net.version == 6 and net.network_address.ipv4_mapped:
            raise PortError('%s: an IPv4-mapped IPv6 source never reaches a publication. Fix: write the IPv4 address %s'
                            % (text, net.network_address.ipv4_mapped))
        nets[net.version].append(net)
    if EVERYONE in nets[4] and all(net == EVERYONE6 for net in nets[6]):
        return ()
    return tuple(cidr_text(net) for version in (4, 6) for net in ipaddress.collapse_addresses(nets[version]))


def allow_from_elements(sets, any_ip=ANY):
    """The allow-lists in port_map's table: {(host_ip, protocol, port): allow tuple} of its restricted publications
    (an empty tuple: the host itself only).

    ``restricted_any`` / ``restricted_addr`` hold the keys (without / with the host address) that have a list,
    ``allow_any`` / ``allow_addr`` one element per (source network, key). ``any_ip``: the table's all-addresses key
    (ANY, or ANY6 in the IPv6 table).
    """
    allow = {}
    for name, with_ip in (('any', False), ('addr', True)):
        for elem in sets.get('restricted_%s' % name, []):
            allow[tuple(elem) if with_ip else (any_ip,) + tuple(elem)] = []
        for elem in sets.get('allow_%s' % name, []):
            key = tuple(elem[1:]) if with_ip else (any_ip,) + tuple(elem[1:])
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
    """Whether a socket bound to listen_addr takes connections for host_ip (0.0.0.0: every IPv4 address; ::: every
    IPv6 address and, dual stack, every IPv4 one too; ::ffff:a.b.c.d the IPv4 address a.b.c.d)."""
    if listen_addr == '::':
        return True
    if listen_addr == ANY:
        return ':' not in host_ip
    if listen_addr.startswith('::ffff:'):
        listen_addr = listen_addr[len('::ffff:'):]
    if (':' in listen_addr) != (':' in host_ip):
        return False  # the other family
    return host_ip in (ANY, ANY6) or ipaddress.ip_address(listen_addr) == ipaddress.ip_address(host_ip)


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
