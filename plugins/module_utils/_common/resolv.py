# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A container namespace's resolv.conf as Docker builds it (pure logic, private to the collection).

Docker (libnetwork's resolvconf package) gives a container the nameservers, search domains and options of
``docker run --dns/--dns-search/--dns-option``; each one not given comes from the host's resolv.conf. The
host's nameservers are filtered: loopback ones (127.0.0.0/8, ::1) cannot be reached from another network
namespace and go, and so do IPv6 ones (and link-local ones) for a container with no network with IPv6;
when none is left, Google's public resolvers take their place (IPv6 ones too for a container with IPv6). A host whose only nameserver is
systemd-resolved's stub (127.0.0.53) is read from /run/systemd/resolve/resolv.conf instead.
"""

from __future__ import annotations

import ipaddress
import re

HOST_RESOLV_CONF = '/etc/resolv.conf'
SYSTEMD_RESOLV_CONF = '/run/systemd/resolve/resolv.conf'
SYSTEMD_STUB = '127.0.0.53'
DEFAULT_NAMESERVERS = ('8.8.8.8', '8.8.4.4')
DEFAULT_NAMESERVERS6 = ('2001:4860:4860::8888', '2001:4860:4860::8844')
FIELDS = ('nameservers', 'search', 'options')
# Docker's validateDomain: labels of letters, digits and inner hyphens, at least one letter, under 255 bytes.
_LABEL = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
_DOMAIN_RE = re.compile(r'^%s(?:\.%s)*\.?$' % (_LABEL, _LABEL))


def check_nameserver(value):
    """The address of a --dns value, normalised, or ValueError with Docker's wording."""
    try:
        return ipaddress.ip_address(str(value).strip()).compressed
    except ValueError:
        raise ValueError('%s is not an ip address' % (value,))


def check_search(value):
    """A --dns-search domain ('.' for none), or ValueError with Docker's wording."""
    text = str(value).strip(' ')
    if text == '.':
        return text
    if not re.search('[a-zA-Z]', text) or not _DOMAIN_RE.match(text) or len(text) >= 255:
        raise ValueError('%s is not a valid domain' % (value,))
    return text


def check_option(value):
    """A --dns-option (like ndots:2): one word."""
    text = str(value).strip()
    if not text or len(text.split()) != 1:
        raise ValueError('%r is not a resolv.conf option (one word, like ndots:2)' % (value,))
    return text


CHECKS = {'nameservers': check_nameserver, 'search': check_search, 'options': check_option}
FIXES = {'nameservers': 'list IP addresses, like [192.0.2.53]', 'search': 'list domains, like [example.com]',
         'options': 'list options, like [ndots:2]'}


def check_list(field, values):
    """Normalised values of one field, or ValueError naming the first bad one; a lone string counts as a list."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, (list, tuple)):
        raise ValueError('must be a list, got %s' % type(values).__name__)
    return [CHECKS[field](value) for value in values]


def _words(line, keyword):
    """The words after ``keyword`` on a resolv.conf line (comments stripped), or None for another line."""
    words = re.split(r'[#;]', line, maxsplit=1)[0].split()
    if not words or words[0] != keyword:
        return None
    return words[1:]


def parse(text):
    """{nameservers, search, options} of a resolv.conf: every nameserver, the last search and options lines."""
    found = {'nameservers': [], 'search': [], 'options': []}
    for line in text.splitlines():
        words = _words(line, 'nameserver')
        if words:
            try:
                found['nameservers'].append(ipaddress.ip_address(words[0].split('%')[0]).compressed)
            except ValueError:
                pass
            continue
        for keyword, field in (('search', 'search'), ('domain', 'search'), ('options', 'options')):
            words = _words(line, keyword)
            if words is not None:
                found[field] = words
    return found


def use_systemd_resolved(host):
    """True when the host's resolv.conf names only systemd-resolved's stub listener (Docker then reads the real one)."""
    return host['nameservers'] == [SYSTEMD_STUB]


def host_defaults(host, ipv6=False):
    """What a container takes from the host's parsed resolv.conf: nameservers without loopback and link-local ones,
    and without IPv6 ones unless ``ipv6`` (the container has a network with IPv6); Docker's defaults when none is left
    (its IPv6 ones too with ``ipv6``); search domains and options as they are."""
    kept = [ns for ns in host['nameservers'] if _reachable(ipaddress.ip_address(ns), ipv6)]
    defaults = DEFAULT_NAMESERVERS + (DEFAULT_NAMESERVERS6 if ipv6 else ())
    return {'nameservers': kept or list(defaults), 'search': list(host['search']), 'options': list(host['options'])}


def _reachable(address, ipv6):
    return not address.is_loopback and (address.version == 4 or (ipv6 and not address.is_link_local))


def merge(wanted, host):
    """The container's fields: each one given in ``wanted`` (None: not given), else the host's filtered one."""
    return {field: list(wanted[field]) if wanted.get(field) else host[field] for field in FIELDS}


def render(header, conf):
    """The file, in Docker's order: search (unless only '.'), one nameserver line each, options."""
    lines = [header]
    search = [s for s in conf['search'] if s != '.']
    if search:
        lines.append('search ' + ' '.join(search))
    lines.extend('nameserver ' + ns for ns in conf['nameservers'])
    if conf['options']:
        lines.append('options ' + ' '.join(conf['options']))
    return '\n'.join(lines) + '\n'
