# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Address leases of overlay and macvlan networks in etcd (``linuxnet_ipam: {backend: etcd}``), on the controller.

The inventory allocator (``ipam.Allocator``) cannot see another controller's run; etcd can. Two keys per lease, under
``linuxnet_ipam.prefix``::

    <prefix>/ipam/<network>/address/<IPv4>        = <host>/<container>
    <prefix>/ipam/<network>/owner/<host>/<container> = <IPv4>

and, on an overlay or macvlan network with enable_ipv6, the IPv6 leases beside them (``address6``, ``owner6``), handled as a space of
their own (``lease_space``: the network's name and ``/ipv6``).

A lease is created by one transaction that puts both keys only if neither exists (create_revision 0 on both), so two
runs never lease one address, and an owner never holds two. Sending it again after a lost reply is safe: it fails,
and the keys read in the same transaction show the owner holds that address already. A lease is kept as long as its
owner is in the inventory (no renumbering), and released (both keys, only if they still hold each other) when the
owner leaves the inventory of a host in the play, when its network goes, and on ``linuxnet_state: absent`` / teardown.

Bridge networks do not lease here: their addresses are local to each host, as in Docker.
"""

from __future__ import annotations

import ipaddress
import os
import re

from ansible_collections.linuxnet.container.plugins.plugin_utils._plan import etcd
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.ipam import PoolExhausted, exhausted
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.topology import FAMILIES

BACKENDS = ('inventory', 'etcd')
IPAM_KEYS = frozenset(('backend', 'endpoints', 'prefix', 'tls', 'timeout'))
TLS_KEYS = frozenset(('ca', 'cert', 'key'))
DEFAULT_PREFIX = '/linuxnet'
DEFAULT_TIMEOUT = 30
# Validation asks every endpoint in turn for this long at most before it reports them unreachable.
PROBE_TIMEOUT = 10
ENDPOINT = re.compile(r'^https?://[^/\s]+$')
# Bounded retries of one address against concurrent runs (each retry follows a lease another run just took).
CLAIM_ATTEMPTS = 64
IPAM_FIX = 'Fix: start etcd or correct linuxnet_ipam.endpoints and linuxnet_ipam.tls, or leave linuxnet_ipam out to allocate from the inventory'


# The lease space of a network's IPv6 addresses: its name and this suffix (no network name holds a '/': it would split
# the keys). Its keys are address6/ and owner6/ under the network's.
IPV6_SPACE = '/ipv6'


def lease_space(network, version=4):
    """Where a network's leases of one family are kept: the network's name (IPv4), or its name and /ipv6."""
    return network if version == 4 else network + IPV6_SPACE


def _split_space(space):
    """(network, key suffix) of a lease space: '' for IPv4, '6' for IPv6 (address6/, owner6/)."""
    if space.endswith(IPV6_SPACE):
        return space[:-len(IPV6_SPACE)], '6'
    return space, ''


class LeaseError(Exception):
    """A lease cannot be taken (an address another owner holds, etcd unreachable); the message names it and the fix."""


def ipam_settings(hv):
    """linuxnet_ipam with its defaults, or None for the inventory backend."""
    raw = hv.get('linuxnet_ipam') or {}
    if not isinstance(raw, dict) or (raw.get('backend') or 'inventory') == 'inventory':
        return None
    tls = raw.get('tls') or {}
    return {'backend': raw['backend'], 'endpoints': list(raw.get('endpoints') or []),
            'prefix': (raw.get('prefix') or DEFAULT_PREFIX).rstrip('/'), 'timeout': raw.get('timeout') or DEFAULT_TIMEOUT,
            'tls': {k: tls.get(k) for k in TLS_KEYS}}


def ipam_problems(hostvars, hosts):
    """Problems of linuxnet_ipam (the same on every host of the play, a valid shape); [] for the inventory backend."""
    problems = []
    seen = {}
    for host in hosts:
        seen.setdefault(repr(hostvars.get(host, {}).get('linuxnet_ipam')), []).append(host)
    if len(seen) > 1:
        problems.append('linuxnet_ipam differs between the hosts of the play (%s). Fix: set it once, in group_vars/all'
                        % '; '.join(', '.join(group) for group in seen.values()))
    raw = hostvars.get(hosts[0], {}).get('linuxnet_ipam') if hosts else None
    if raw is None:
        return problems
    if not isinstance(raw, dict):
        return problems + ['linuxnet_ipam must be a dict, got %r. Fix: write it as {backend: etcd, endpoints: [...]}, or leave it '
                           'out' % (raw,)]
    unknown = sorted(set(raw) - IPAM_KEYS)
    if unknown:
        problems.append('linuxnet_ipam: unknown key(s) %s. Fix: use only %s' % (', '.join(unknown), ', '.join(sorted(IPAM_KEYS))))
    backend = raw.get('backend') or 'inventory'
    if backend not in BACKENDS:
        problems.append('linuxnet_ipam.backend is %r. Fix: use inventory or etcd' % (backend,))
    if backend != 'etcd':
        return problems
    endpoints = raw.get('endpoints')
    if not isinstance(endpoints, list) or not endpoints:
        problems.append('linuxnet_ipam.endpoints must be a non-empty list of URLs like https://192.0.2.10:2379. Fix: list '
                        'the client URLs of your etcd members')
    else:
        for url in endpoints:
            if not isinstance(url, str) or not ENDPOINT.match(url.rstrip('/')):
                problems.append('linuxnet_ipam.endpoints: %r is not an etcd client URL. Fix: write it like '
                                'https://192.0.2.10:2379' % (url,))
    tls = raw.get('tls') or {}
    if not isinstance(tls, dict) or set(tls) - TLS_KEYS:
        problems.append('linuxnet_ipam.tls must be a dict of ca, cert and key (files on the controller), got %r. Fix: '
                        'give the paths of the CA certificate, the client certificate and its key' % (tls,))
    else:
        if bool(tls.get('cert')) != bool(tls.get('key')):
            problems.append('linuxnet_ipam.tls: cert and key go together. Fix: give both, or neither')
        for name in sorted(TLS_KEYS):
            path = tls.get(name)
            if path and not os.path.isfile(str(path)):
                problems.append('linuxnet_ipam.tls.%s: %s is not a file on the controller. Fix: give the path of the '
                                'file on the machine that runs ansible-playbook' % (name, path))
    prefix = raw.get('prefix')
    if prefix is not None and (not isinstance(prefix, str) or not prefix.startswith('/')):
        problems.append('linuxnet_ipam.prefix must be a key prefix starting with /, got %r. Fix: use something like '
                        '/linuxnet/prod' % (prefix,))
    timeout = raw.get('timeout')
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 1):
        problems.append('linuxnet_ipam.timeout must be a number of seconds, 1 or more, got %r. Fix: use an integer '
                        'like 30' % (timeout,))
    return problems


def client_of(settings, timeout=None):
    tls = settings['tls']
    try:
        return etcd.Client(settings['endpoints'], ca=tls['ca'], cert=tls['cert'], key=tls['key'],
                           timeout=timeout or settings['timeout'])
    except (OSError, ValueError) as err:
        raise LeaseError('linuxnet_ipam.tls: cannot load the certificates (%s). %s' % (err, IPAM_FIX))


def reachable_problems(settings):
    """[] when etcd answers under the prefix within PROBE_TIMEOUT seconds, else one problem naming every endpoint."""
    try:
        client = client_of(settings, timeout=min(PROBE_TIMEOUT, settings['timeout']))
        try:
            client.call('kv/range', {'key': etcd.b64(settings['prefix'] + '/ipam/'),
                                     'range_end': etcd.prefix_end(settings['prefix'] + '/ipam/'), 'count_only': True})
        finally:
            client.close()
    except LeaseError as err:
        return [str(err)]
    except etcd.EtcdError as err:
        return ['linuxnet_ipam: etcd at %s does not answer (%s). %s' % (', '.join(settings['endpoints']), err, IPAM_FIX)]
    return []


def open_leases(hv, check_mode=False):
    """The Leases of linuxnet_ipam, read, or None for the inventory backend; ``check_mode`` writes nothing to etcd."""
    settings = ipam_settings(hv)
    if settings is None:
        return None
    client = client_of(settings)
    try:
        return Leases(client, settings['prefix'], dry_run=check_mode).read()
    except etcd.EtcdError as err:
        client.close()
        raise LeaseError('linuxnet_ipam: etcd at %s does not answer (%s). %s' % (', '.join(settings['endpoints']), err, IPAM_FIX))


def release_leases(hv, entries):
    """Release the leases ``entries`` ([[lease space, owner, address]], from Leases.others) of linuxnet_ipam, each only if
    its two keys still hold each other; the number released. Raises LeaseError naming the endpoints."""
    settings = ipam_settings(hv)
    if settings is None or not entries:
        return 0
    leases = Leases(client_of(settings), settings['prefix'])
    try:
        for network, owner, address in entries:
            leases.release(network, owner, ipaddress.ip_address(address))
    except etcd.EtcdError as err:
        raise LeaseError('linuxnet_ipam: etcd at %s failed while releasing the leases of removed containers (%s). %s'
                         % (', '.join(settings['endpoints']), err, IPAM_FIX)) from None
    finally:
        leases.client.close()
    return leases.released


def owner_of(host, container):
    return '%s/%s' % (host, container)


class Leases:
    """The leases under one prefix, read once; writes go to etcd at once (``dry_run``: only here, for check mode)."""

    def __init__(self, client, prefix, dry_run=False):
        self.client = client
        self.prefix = prefix.rstrip('/') + '/ipam/'
        self.dry_run = dry_run
        self.owners = {}      # lease space (lease_space) -> {owner: address}
        self.addresses = {}   # lease space -> {address: owner}
        self.claimed = 0
        self.released = 0

    def _address_key(self, space, address):
        return '%s%s/address%s/%s' % ((self.prefix,) + _split_space(space) + (address,))

    def _owner_key(self, space, owner):
        return '%s%s/owner%s/%s' % ((self.prefix,) + _split_space(space) + (owner,))

    def read(self):
        """Every lease under the prefix, in one request."""
        self.owners, self.addresses = {}, {}
        for key, (value, _revision) in self.client.range(self.prefix, prefix=True).items():
            network, kind, rest = (key[len(self.prefix):].split('/', 2) + ['', ''])[:3]
            version = 6 if kind.endswith('6') else 4
            space = lease_space(network, version)
            try:
                if kind in ('owner', 'owner6'):
                    self._remember(space, rest, FAMILIES[version]['ip'](value))
                elif kind in ('address', 'address6'):
                    self.addresses.setdefault(space, {})[FAMILIES[version]['ip'](rest)] = value
            except ValueError:
                continue  # not a key of ours: left alone
        return self

    def _remember(self, network, owner, address):
        self.owners.setdefault(network, {})[owner] = address
        self.addresses.setdefault(network, {})[address] = owner

    def _forget(self, network, owner, address):
        self.owners.get(network, {}).pop(owner, None)
        if self.addresses.get(network, {}).get(address) == owner:
            del self.addresses[network][address]

    def held(self, network, owner):
        return self.owners.get(network, {}).get(owner)

    def holders(self, network):
        """{address: owner} of every lease of ``network``."""
        return dict(self.addresses.get(network, {}))

    def claim(self, network, owner, address):
        """Lease ``address`` to ``owner``: (address the owner holds now, or None; who holds ``address``)."""
        if self.dry_run:
            holder = self.addresses.get(network, {}).get(address)
            if holder is None and self.held(network, owner) is None:
                self._remember(network, owner, address)
                return address, owner
            return self.held(network, owner), holder
        akey, okey = self._address_key(network, address), self._owner_key(network, owner)
        ok, responses = self.client.txn([etcd.absent(akey), etcd.absent(okey)],
                                        [etcd.put(akey, owner), etcd.put(okey, str(address))],
                                        [etcd.get(akey), etcd.get(okey)])
        if ok:
            self.claimed += 1
            self._remember(network, owner, address)
            return address, owner
        holder = etcd.ranged(responses[0]).get(akey)
        now = etcd.ranged(responses[1]).get(okey)
        now = ipaddress.ip_address(now) if now else None
        if holder is not None:
            self.addresses.setdefault(network, {})[address] = holder
        if now is not None:
            self._remember(network, owner, now)
        return now, holder

    def release(self, network, owner, address):
        """Drop a lease, only if its two keys still hold each other (a concurrent run may have moved it)."""
        self.released += 1
        self._forget(network, owner, address)
        if self.dry_run:
            return
        akey, okey = self._address_key(network, address), self._owner_key(network, owner)
        self.client.txn([etcd.holds(akey, owner), etcd.holds(okey, str(address))], [etcd.remove(akey), etcd.remove(okey)])

    def others(self, hosts, keep):
        """{host: [[network, owner, address]]}: the leases of owners on one of ``hosts`` that ``keep`` ({(network,
        owner)}) does not list, to release once their containers are gone (release_leases, after the converge): a lease
        released before, while the container still holds the address, could go to another run's container."""
        hosts = set(hosts)
        out = {}
        for network, owners in self.owners.items():
            for owner, address in owners.items():
                host = owner.rsplit('/', 1)[0]
                if host in hosts and (network, owner) not in keep:
                    out.setdefault(host, []).append([network, owner, str(address)])
        return out

    def allocate(self, net, members, pool, statics, version=4):
        """Lease every (host, endpoint) of ``members`` of ``net`` the address of the family ``version`` planned for it.
        ``pool`` is the Allocator of the network's IPAM entry of that family, each endpoint's address is set (static:
        ``statics`` holds its (host, container), leased already (``keep_leases``), kept from the host, or taken); an
        address another run leased since ``read`` is replaced by the next free one. Raises LeaseError."""
        name, field, ipam = lease_space(net.name, version), _FIELDS[version], net.ipam(version)
        for host, ep in members:
            owner = owner_of(host, ep.container)
            held = self.held(name, owner)
            if held is not None and held != getattr(ep, field):
                self.release(name, owner, held)
        for host, ep in members:
            owner = owner_of(host, ep.container)
            static = (host, ep.container) in statics
            for _attempt in range(CLAIM_ATTEMPTS):
                if self.held(name, owner) == getattr(ep, field):
                    break
                now, holder = self.claim(name, owner, getattr(ep, field))
                if now == getattr(ep, field):
                    break
                if now is not None:
                    # A concurrent run leased this owner another address: take it, as a later run would, unless this
                    # plan gives it to another endpoint for good (a static one, or one leased already); an endpoint
                    # merely planned on it meets this lease when it claims, and moves on.
                    if not static and now in ipam.subnet and now not in self._settled(name, members, statics, ep, field):
                        pool.reserve(now)
                        setattr(ep, field, now)
                        break
                    self.release(name, owner, now)
                    continue
                if static:
                    key = FAMILIES[version]['address']
                    raise LeaseError('host %s: container %s: network %s: %s %s is leased to %s in etcd. Fix: give '
                                     '%s another %s, or remove %s from the inventory that declares it'
                                     % (host, ep.container, net.name, key, getattr(ep, field), holder, ep.container, key, holder))
                # Another run leased this address since we read, and likely more: read them all, take the next free one.
                pool.reserve(getattr(ep, field))
                self._reserve_others(name, members, pool)
                try:
                    setattr(ep, field, pool.take())
                except PoolExhausted:
                    raise LeaseError(exhausted(host, ep.container, ipam, version)) from None
            else:
                raise LeaseError('host %s: container %s: network %s: no lease after %d attempts, other runs keep taking the '
                                 'addresses tried. Fix: run again' % (host, ep.container, net.name, CLAIM_ATTEMPTS))

    def _settled(self, space, members, statics, but, field):
        """The addresses (``field``) of ``members`` other than ``but`` that are static or leased to them."""
        return {getattr(ep, field) for host, ep in members if ep is not but
                and ((host, ep.container) in statics or self.held(space, owner_of(host, ep.container)) == getattr(ep, field))}

    def _reserve_others(self, space, members, pool):
        """Read the space's leases again (one request) and reserve those of owners that are not ``members``."""
        start = self._address_key(space, '')
        for key, (owner, _revision) in self.client.range(start, prefix=True).items():
            try:
                self.addresses.setdefault(space, {})[ipaddress.ip_address(key[len(start):])] = owner
            except ValueError:
                continue
        ours = {owner_of(host, ep.container) for host, ep in members}
        for address, owner in self.holders(space).items():
            if owner not in ours:
                pool.reserve(address)

    def keep_leases(self, net, members, pool, version=4):
        """Reserve what other owners lease (of the family ``version``), then give each endpoint without an address of
        that family the lease it holds."""
        space, field = lease_space(net.name, version), _FIELDS[version]
        ours = {owner_of(host, ep.container) for host, ep in members}
        for address, owner in self.holders(space).items():
            if owner not in ours:
                pool.reserve(address)
        for host, ep in members:
            if getattr(ep, field) is None:
                held = self.held(space, owner_of(host, ep.container))
                if pool.keep(held):
                    setattr(ep, field, held)


# The Endpoint attribute of each family's address.
_FIELDS = {4: 'address', 6: 'address6'}
