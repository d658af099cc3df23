# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Normalisation and validation shared by every module (pure functions, no kernel access).

Values are normalised before they are compared, so that ``02:42:AC:11:00:02``
and ``02:42:ac:11:00:02``, or ``fd00::0001/64`` and ``fd00::1/64``, never count
as a change.
"""

from __future__ import annotations

import ipaddress
import re

# What the collection writes into objects it creates so that later runs find
# their own leftovers and never touch anything else: the IFLA_IFALIAS of links
# (for a namespace: of its ``lo``), the comment of nftables objects and the
# first line of files.
TAG = 'linuxnet.container'
FILE_TAG = '# Managed by linuxnet.container'

IFNAMSIZ = 16  # including the trailing NUL: 15 bytes usable
# The outer headers of a VXLAN packet by the underlay's family (Ethernet 14 + IP + UDP 8 + VXLAN 8; IP is 20 bytes
# for IPv4, 40 for IPv6): what a VXLAN device's MTU is below its underlay device's.
VXLAN_OVERHEAD = {4: 50, 6: 70}
_MAC_RE = re.compile(r'^[0-9a-f]{2}(:[0-9a-f]{2}){5}$')
_LABEL_RE = re.compile(r'[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?')


def validate_ifname(name):
    """Error message for an invalid interface name, or None (the kernel's dev_valid_name)."""
    if not isinstance(name, str) or not name:
        return 'interface name must be a non-empty string'
    raw = name.encode('utf-8')
    if len(raw) > IFNAMSIZ - 1:
        return ('interface name %r is %d bytes; Linux allows at most %d. Fix: use a shorter name'
                % (name, len(raw), IFNAMSIZ - 1))
    if name in ('.', '..') or '/' in name or ':' in name or any(c.isspace() for c in name):
        return "interface name %r must not be '.' or '..' nor contain '/', ':' or white space" % name
    return None


def normalize_mac(mac):
    """Lower-case colon form of a MAC address; raise ValueError when it is not one."""
    if mac is None:
        return None
    text = str(mac).strip().lower().replace('-', ':')
    if '.' in text and ':' not in text:  # Cisco style 0242.ac11.0002
        digits = text.replace('.', '')
        text = ':'.join(digits[i:i + 2] for i in range(0, len(digits), 2))
    if not _MAC_RE.match(text):
        raise ValueError('%r is not a MAC address (expected six hex octets like 02:42:ac:11:00:02)' % (mac,))
    return text


def docker_mac(ipv4):
    """Docker's MAC for an IPv4 address: 02:42 followed by the four octets.

    172.17.0.2 -> 02:42:ac:11:00:02 (libnetwork's genMAC for IPv4).
    """
    addr = ipaddress.IPv4Address(str(ipv4).split('/', 1)[0])
    return '02:42:' + ':'.join('%02x' % octet for octet in addr.packed)


def mac_ipv4(mac):
    """The IPv4 address whose Docker MAC ``mac`` is (02:42 followed by four octets; docker_mac's inverse), or None."""
    if mac is None or not mac.startswith('02:42:'):
        return None
    return ipaddress.IPv4Address(bytes(int(octet, 16) for octet in mac.split(':')[2:]))


def validate_unicast_mac(mac):
    """Error message for a normalised MAC that no interface can hold (the kernel's is_valid_ether_addr), or None."""
    if mac == '00:00:00:00:00:00':
        return 'is all zeros'
    if int(mac[:2], 16) & 1:
        return ('is a broadcast address' if mac == 'ff:ff:ff:ff:ff:ff' else
                'is a multicast address (the low bit of its first octet is set)')
    return None


def validate_hostname(name):
    """Error message for a name that cannot be a name of a hosts file line (a DNS name: labels of 1-63 letters,
    digits, '-' and '_' that neither start nor end with '-', separated by dots, 253 characters in all), or None."""
    if not isinstance(name, str) or not name:
        return 'must be a non-empty string'
    if len(name) > 253:
        return 'is %d characters long; a DNS name has at most 253' % len(name)
    for label in name.split('.'):
        if not label:
            return 'has an empty label (two dots in a row, or a dot at either end)'
        if len(label) > 63:
            return 'has a label of %d characters (%s...); a DNS label has at most 63' % (len(label), label[:20])
        if not _LABEL_RE.fullmatch(label):
            return ('has the label %r: a DNS label has only letters, digits, - and _, and neither starts nor ends with -'
                    % label)
    return None


def normalize_interface_address(value):
    """'173.20.0.1/16' -> '173.20.0.1/16'; 'fd00::0001/64' -> 'fd00::1/64'. ValueError if invalid.

    A bare address gets the host prefix (/32 or /128), as ``ip addr add`` does.
    """
    try:
        iface = ipaddress.ip_interface(str(value).strip())
    except ValueError:
        raise ValueError('%r is not an address with a prefix length (like 173.20.0.1/16)' % (value,))
    return '%s/%d' % (iface.ip.compressed, iface.network.prefixlen)


def normalize_address(value):
    try:
        return ipaddress.ip_address(str(value).strip()).compressed
    except ValueError:
        raise ValueError('%r is not an IP address' % (value,))


def address_key(text):
    """A sort key putting addresses in order: IPv4 before IPv6, each in numeric order."""
    address = ipaddress.ip_address(text)
    return (address.version, int(address))


def normalize_network(value, strict=True):
    try:
        return ipaddress.ip_network(str(value).strip(), strict=strict).compressed
    except ValueError as err:
        raise ValueError('%r is not a network in CIDR form (like 173.20.0.0/16): %s' % (value, err))


def normalize_sysctl_key(key):
    """'net.ipv4.ip_forward' or 'net/ipv4/ip_forward' -> 'net.ipv4.ip_forward'.

    Interface names may contain dots, so slashes are the only unambiguous separator;
    the dotted form is taken as sysctl(8) does.
    """
    text = str(key).strip()
    if '/' in text:
        parts = [p for p in text.split('/') if p]
    else:
        parts = text.split('.')
    if not parts or any(p in ('', '.', '..') for p in parts):
        raise ValueError('%r is not a sysctl name' % (key,))
    return '.'.join(parts), parts


def normalize_sysctl_value(value):
    """Sysctl values compare as their whitespace-separated words (the kernel prints tabs)."""
    if isinstance(value, bool):
        return '1' if value else '0'
    return ' '.join(str(value).split())


def render_hosts(entries, header):
    """Render an /etc/hosts file: the header line, Docker's default lines, then the entries.

    ``entries`` is a list of dicts with ``address`` and ``names``.
    """
    lines = [header,
             '127.0.0.1\tlocalhost',
             '::1\tlocalhost ip6-localhost ip6-loopback',
             'fe00::0\tip6-localnet',
             'ff00::0\tip6-mcastprefix',
             'ff02::1\tip6-allnodes',
             'ff02::2\tip6-allrouters']
    for entry in entries:
        lines.append('%s\t%s' % (normalize_address(entry['address']), ' '.join(entry['names'])))
    return '\n'.join(lines) + '\n'


def validate_netns_name(name):
    """Return an error message for an invalid named namespace, or None (iproute2's rules)."""
    if not isinstance(name, str) or not name:
        return 'namespace name must be a non-empty string'
    if '/' in name or name in ('.', '..'):
        return "namespace name %r must not contain '/' and must not be '.' or '..'" % name
    if len(name.encode('utf-8')) > 255:
        return 'namespace name %r is longer than 255 bytes' % name
    if any(c.isspace() for c in name):
        return 'namespace name %r must not contain white space' % name
    return None
