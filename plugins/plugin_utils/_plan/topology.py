# -*- coding: utf-8 -*-
# Copyright: (c) 2026, linuxnet.container contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The inventory contract read as a topology: networks and container endpoints (pure logic).

Two users: the controller-side validation (every problem of every host, before any host
changes, with Docker's wording where Docker has one) and the planners of the roles, which
turn a valid topology plus what a host already holds into the arguments of a few module calls.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import types

from ansible_collections.linuxnet.container.plugins.module_utils._common.ids import bridge_name as derived_bridge_name
from ansible_collections.linuxnet.container.plugins.module_utils._common.normalize import (
    docker_mac,
    normalize_mac,
    validate_hostname,
    validate_ifname,
    validate_netns_name,
    validate_unicast_mac,
)
from ansible_collections.linuxnet.container.plugins.module_utils._common.ports import LOOPBACK6, PortError, build_maps, parse_allow, parse_publish
from ansible_collections.linuxnet.container.plugins.module_utils._common.resolv import FIXES, check_list
from ansible_collections.linuxnet.container.plugins.plugin_utils._plan.names import DEFAULT_BRIDGE, DEFAULT_NETWORK, container_mode

DRIVERS = ('bridge', 'overlay', 'macvlan')
CONTROL_PLANES = ('static', 'evpn')
DEFAULT_SUBNET = '172.17.0.0/16'
PREDEFINED = ('host', 'none')
BOOL_OPTIONS = {'icc': True, 'masquerade': True, 'internal': False}
# Resolver settings (docker run --dns, --dns-search, --dns-option) and the field of the netns module's resolv_conf each
# one fills; a container's, else its first network's that sets it, else linuxnet_dns..., else the host's.
DNS_KEYS = (('dns', 'nameservers'), ('dns_search', 'search'), ('dns_options', 'options'))
NETWORK_KEYS = frozenset(('name', 'driver', 'subnet', 'gateway', 'ip_range', 'bridge_name', 'mtu', 'icc', 'masquerade',
                          'internal', 'vni', 'parent', 'publish_allow', 'enable_ipv6', 'ipv6_subnet', 'ipv6_gateway',
                          'ipv6_ip_range', 'gateway_mode_ipv4', 'gateway_mode_ipv6', 'control_plane') + tuple(key for key, _field in DNS_KEYS))
# Docker's com.docker.network.bridge.gateway_mode_ipv6: nat (NAT66, the default), nat-unprotected (NAT66 without Docker
# 28's filter of direct routing from outside) or routed (no NAT66; only published container ports open directly).
GATEWAY_MODES = ('nat', 'nat-unprotected', 'routed')
# ... and gateway_mode_ipv4: routed IPv4 (no masquerade) is not supported.
GATEWAY_MODES4 = ('nat', 'nat-unprotected')
CONTAINER_KEYS = frozenset(('name', 'network_mode', 'networks', 'ports', 'links') + tuple(key for key, _field in DNS_KEYS))
ENDPOINT_KEYS = frozenset(('name', 'ipv4_address', 'ipv6_address', 'mac_address', 'aliases'))
# Each family's IPAM entry (Docker takes one IPv4 and one IPv6 entry per network): its keys, and what its messages show.
FAMILIES = {
    4: {'subnet': 'subnet', 'gateway': 'gateway', 'ip_range': 'ip_range', 'address': 'ipv4_address', 'name': 'IPv4',
        'network': ipaddress.IPv4Network, 'ip': ipaddress.IPv4Address, 'example': '173.20.0.0/16', 'prefix': 16,
        'range_example': '173.20.5.0/24', 'address_example': '173.20.0.4', 'longest': 30},
    6: {'subnet': 'ipv6_subnet', 'gateway': 'ipv6_gateway', 'ip_range': 'ipv6_ip_range', 'address': 'ipv6_address',
        'name': 'IPv6', 'network': ipaddress.IPv6Network, 'ip': ipaddress.IPv6Address, 'example': 'fd00:db8:20::/64',
        'prefix': 64, 'range_example': 'fd00:db8:20::/80', 'address_example': 'fd00:db8:20::4', 'longest': 126},
}
# A bridge network with enable_ipv6 and no ipv6_subnet takes the lowest free /64 of its host's ULA /48 (see ula_pool).
ULA_PREFIX = 64
# A publication given as a dict (the string form is docker -p syntax alone).
PUBLISH_KEYS = frozenset(('publish', 'allow'))
# Docker's container names (daemon/names): a letter or digit, then letters, digits, '_', '.' and '-'. Docker also wants
# two characters at least; a one-character name is accepted here.
NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]'
_NAME_RE = re.compile(NAME_CHARS + '*')
HOSTNAME_FIX = 'use letters, digits, - and _ in dot-separated labels of at most 63 characters, like db or db.internal'


def read_dns(raw, at, problems, prefix=''):
    """{resolv_conf field: values} of the dns, dns_search and dns_options (with ``prefix``: linuxnet_dns...) that ``raw``
    sets (empty lists count as unset); problems appended in Docker's wording."""
    found = {}
    for key, field in DNS_KEYS:
        values = raw.get(prefix + key)
        if values is None or values == []:
            continue
        try:
            found[field] = check_list(field, values)
        except ValueError as err:
            problems.append('%s: %s%s: %s. Fix: %s' % (at, prefix, key, err, FIXES[field]))
    return found


def resolvers(container, networks, nets, global_dns):
    """The resolv_conf argument of a container's namespace: each field from the container, else from the first of its
    ``networks`` (names, in order) that sets it, else from ``global_dns``; None where the host's applies."""
    own = read_dns(container, '', [])
    out = {}
    for _key, field in DNS_KEYS:
        value = own.get(field)
        for network in networks:
            if value is None:
                value = nets[network].dns.get(field)
        out[field] = value if value is not None else global_dns.get(field)
    if any(nets[network].ipv6 for network in networks):
        out['ipv6'] = True  # the host's IPv6 nameservers stay, as Docker keeps them for a container with IPv6
    return out


def read_allow(value, at, problems):
    """A source allow-list (parse_allow's tuple), or None when unset; a problem appended when it is wrong."""
    if value is None:
        return None
    try:
        return parse_allow(value)
    except PortError as err:
        problems.append('%s: %s' % (at, err))
        return None


def publications(container):
    """[(spec, allow)] of a container's ports: strings in docker -p syntax, or dicts {publish: SPEC, allow: [CIDR]};
    allow is None where the entry sets none (the network's publish_allow, else linuxnet_publish_allow applies)."""
    return [(entry.get('publish'), entry.get('allow')) if isinstance(entry, dict) else (entry, None)
            for entry in container.get('ports') or []]


def default_pools():
    """Docker's default address pools, in the order Docker hands them out: 172.17-31/16, then 192.168/20s."""
    pools = [ipaddress.ip_network('172.%d.0.0/16' % n) for n in range(17, 32)]
    pools.extend(ipaddress.ip_network('192.168.%d.0/20' % n) for n in range(0, 256, 16))
    return pools


def ula_pool(host):
    """The IPv6 subnets a host's bridge networks with enable_ipv6 and no ipv6_subnet take, lowest free first: the /64s
    of a ULA /48 (RFC 4193), fd00::/8 and a 40-bit global ID, the first five bytes of sha256('linuxnet.container ' +
    the host's inventory name). Docker derives its pool's global ID from its engine ID the same way; a name is what
    the inventory knows of a host, and it does not change between runs."""
    global_id = hashlib.sha256(('linuxnet.container ' + host).encode('utf-8')).digest()[:5]
    base = ipaddress.IPv6Network((b'\xfd' + global_id + b'\x00' * 10, 48))
    return base.subnets(new_prefix=ULA_PREFIX)


def _bool(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ('true', 'yes', 'on', '1', 'false', 'no', 'off', '0'):
        return value.lower() in ('true', 'yes', 'on', '1')
    raise ValueError('%r is not a boolean' % (value,))


class Network:
    """One network of linuxnet_networks (or the default one), normalised."""

    def __init__(self, name, driver='bridge', subnet=None, gateway=None, ip_range=None, bridge=None, mtu=None,
                 icc=True, masquerade=True, internal=False, vni=None, parent=None, default=False, dns=None,
                 publish_allow=None, ipv6=None, gateway_mode_ipv6='nat', control_plane='static', gateway_mode_ipv4='nat'):
        self.name = name
        self.gateway_mode_ipv4 = gateway_mode_ipv4
        self.gateway_mode_ipv6 = gateway_mode_ipv6
        self.control_plane = control_plane  # overlay: static (the inventory writes every FDB entry) or evpn (FRR)
        # enable_ipv6, and its IPAM entry (subnet6 None: picked per host from the ULA pool, see fleet).
        self.ipv6 = ipv6 is not None
        self.subnet6, self.gateway6, self.ip_range6 = ipv6 or (None, None, None)
        self.user_subnet6 = self.subnet6 is not None and not default
        self.publish_allow = publish_allow  # parse_allow's tuple (() = everyone), None: unset (linuxnet_publish_allow)
        self.dns = dns or {}            # {resolv_conf field: values} for the containers on it (see resolvers)
        self.driver = driver
        self.subnet = subnet            # ipaddress.IPv4Network or None (picked per host)
        self.user_subnet = subnet is not None and not default
        self.gateway = gateway          # ipaddress.IPv4Address or None (first address)
        self.ip_range = ip_range
        self.bridge = bridge or (DEFAULT_BRIDGE if default else derived_bridge_name(name))
        self.mtu = mtu
        self.icc = icc
        self.masquerade = masquerade
        self.internal = internal
        self.vni = vni
        self.parent = parent
        self.default = default

    def ipam(self, version):
        """The network's IPAM entry of one family, as the Allocator reads it: name, subnet, gateway, ip_range,
        user_subnet."""
        if version == 4:
            return self
        return types.SimpleNamespace(name=self.name, subnet=self.subnet6, gateway=self.gateway6, ip_range=self.ip_range6,
                                     user_subnet=self.user_subnet6)

    def set_ipam(self, version, subnet, gateway):
        """Set the subnet and gateway of one family (picked for the host, or found on its bridge)."""
        if version == 4:
            self.subnet, self.gateway = subnet, gateway
        else:
            self.subnet6, self.gateway6 = subnet, gateway


def read_networks(raw_networks, where, problems):
    """linuxnet_networks -> {name: Network}, with the default network; problems appended."""
    nets = {}
    declared_default = None
    if raw_networks is None:
        raw_networks = []
    if not isinstance(raw_networks, list):
        problems.append('%s: linuxnet_networks must be a list of networks, got %s. Fix: write it as a YAML list of dicts '
                        'with a name' % (where, type(raw_networks).__name__))
        raw_networks = []
    bridges = {}
    for index, raw in enumerate(raw_networks):
        at = '%s: linuxnet_networks[%d]' % (where, index)
        if not isinstance(raw, dict) or not isinstance(raw.get('name'), str) or not raw.get('name'):
            problems.append('%s must be a dict with a name, got %r. Fix: add "name: <network>"' % (at, raw))
            continue
        name = raw['name']
        at = '%s (%s)' % (at, name)
        unknown = sorted(set(raw) - NETWORK_KEYS)
        if unknown:
            problems.append('%s: unknown key(s) %s. Fix: use only %s' % (at, ', '.join(unknown), ', '.join(sorted(NETWORK_KEYS))))
        if name in PREDEFINED:
            problems.append('%s: operation is not permitted on predefined %s network. Fix: choose another name' % (at, name))
            continue
        if name in nets:
            problems.append('%s: network with name %s already exists. Fix: give every network a unique name' % (at, name))
            continue
        net = _read_network(raw, at, problems, default=(name == DEFAULT_NETWORK))
        if net is None:
            continue
        if net.driver == 'bridge':
            if net.bridge in bridges:
                problems.append('%s: bridge_name %s is also the bridge of network %s. Fix: give each network its own bridge_name'
                                % (at, net.bridge, bridges[net.bridge]))
            bridges.setdefault(net.bridge, name)
        nets[name] = net
        if name == DEFAULT_NETWORK:
            declared_default = net
    if declared_default is None:
        nets[DEFAULT_NETWORK] = Network(DEFAULT_NETWORK, default=True)
    _overlaps(nets, where, problems)
    return nets


def _read_network(raw, at, problems, default):
    before = len(problems)
    driver = raw.get('driver') or 'bridge'
    if driver not in DRIVERS:
        problems.append('%s: plugin "%s" not found (driver). Fix: use bridge, overlay or macvlan' % (at, driver))
        return None
    if default and driver != 'bridge':
        problems.append('%s: the default network %s is a bridge network. Fix: remove driver or choose another name'
                        % (at, DEFAULT_NETWORK))
    subnet, gateway, ip_range = _read_ipam(raw, 4, at, problems)
    if subnet is None and raw.get('subnet') is None and driver == 'macvlan':
        problems.append('%s: a macvlan network needs a subnet (its addresses live on the parent\'s segment). '
                        'Fix: set subnet' % at)
    ipv6 = None
    try:
        enable_ipv6 = _bool(raw['enable_ipv6']) if raw.get('enable_ipv6') is not None else False
    except ValueError:
        problems.append('%s: enable_ipv6 must be true or false, got %r' % (at, raw['enable_ipv6']))
        enable_ipv6 = None
    if enable_ipv6:
        ipv6 = _read_ipam(raw, 6, at, problems)
        if driver == 'overlay' and raw.get('ipv6_subnet') is None:
            # Docker's global address pools are IPv4 only (10.0.0.0/8): an overlay with IPv6 needs its own subnet.
            problems.append('%s: could not find an available, non-overlapping IPv6 address pool among the defaults to '
                            'assign to the network (an overlay takes no IPv6 subnet from a default pool). Fix: set '
                            'ipv6_subnet, like fd00:db8:40::/64, the same on every host' % at)
        elif driver == 'macvlan' and raw.get('ipv6_subnet') is None:
            # As its IPv4 subnet: the addresses live on the parent's segment, whose IPv6 prefix no pool can guess.
            problems.append('%s: a macvlan network with enable_ipv6 needs an ipv6_subnet (its addresses live on the '
                            'parent\'s segment, which no default pool knows). Fix: set ipv6_subnet to the IPv6 prefix of '
                            'that segment, like fd00:db8:50::/64, the same on every host' % at)
    mode6 = raw.get('gateway_mode_ipv6')
    if mode6 is not None and driver != 'bridge' and enable_ipv6:
        # An overlay's containers reach out through docker_gwbridge (IPv4 only), a macvlan's through the segment's own
        # router, never through this host: a gateway mode means nothing there.
        problems.append('%s: gateway_mode_ipv6 applies to bridge networks only. Fix: remove it' % at)
    elif mode6 is not None and mode6 not in GATEWAY_MODES:
        problems.append('%s: gateway_mode_ipv6 %r is not valid (Docker\'s com.docker.network.bridge.gateway_mode_ipv6). '
                        'Fix: use nat (NAT66, the default), nat-unprotected (NAT66, direct routing from outside not '
                        'filtered) or routed (no NAT66)' % (at, mode6))
    mode4 = raw.get('gateway_mode_ipv4')
    if mode4 is not None and driver != 'bridge':
        problems.append('%s: gateway_mode_ipv4 applies to bridge networks only. Fix: remove it' % at)
    elif mode4 == 'routed':
        problems.append('%s: gateway_mode_ipv4 routed is not supported (the collection always masquerades IPv4 and '
                        'publishes IPv4 ports on the host\'s addresses). Fix: use nat (the default) or nat-unprotected; '
                        'for direct routing, use gateway_mode_ipv6: routed with enable_ipv6' % at)
    elif mode4 is not None and mode4 not in GATEWAY_MODES4:
        problems.append('%s: gateway_mode_ipv4 %r is not valid (Docker\'s com.docker.network.bridge.gateway_mode_ipv4). '
                        'Fix: use nat (the default) or nat-unprotected (direct routing from outside not filtered)'
                        % (at, mode4))
    if enable_ipv6 is False:
        for key in ('ipv6_subnet', 'ipv6_gateway', 'ipv6_ip_range', 'gateway_mode_ipv6'):
            if raw.get(key) is not None:
                problems.append('%s: %s needs enable_ipv6: true (the network has no IPv6). Fix: set enable_ipv6: true, '
                                'or drop %s' % (at, key, key))
    bridge = raw.get('bridge_name')
    if bridge is not None:
        if driver != 'bridge':
            problems.append('%s: bridge_name applies to bridge networks only. Fix: remove it' % at)
        error = validate_ifname(bridge) if isinstance(bridge, str) else 'must be a string'
        if error:
            problems.append('%s: bridge_name %r: %s. Fix: use at most 15 bytes of letters, digits, - and _' % (at, bridge, error.split('. Fix:')[0]))
    elif driver == 'bridge' and not default and validate_ifname(derived_bridge_name(raw['name'])):
        problems.append('%s: cannot derive a bridge name. Fix: set bridge_name' % at)
    mtu = raw.get('mtu')
    if mtu is not None:
        try:
            mtu = int(mtu) if not isinstance(mtu, (bool, float)) or (isinstance(mtu, float) and mtu.is_integer()) else -1
        except (TypeError, ValueError):
            mtu = -1
        if not 68 <= mtu <= 65535:
            problems.append('%s: mtu %r is not a whole number in range (68-65535). Fix: use a number like 1500'
                            % (at, raw.get('mtu')))
    options = {}
    for key, default_value in BOOL_OPTIONS.items():
        try:
            options[key] = _bool(raw[key]) if raw.get(key) is not None else default_value
        except ValueError:
            problems.append('%s: %s must be true or false, got %r' % (at, key, raw[key]))
    vni = raw.get('vni')
    if vni is not None:
        if driver != 'overlay':
            problems.append('%s: vni applies to overlay networks only. Fix: remove it or set driver: overlay' % at)
        elif not isinstance(vni, int) or isinstance(vni, bool) or not 1 <= vni <= 16777215:
            problems.append('%s: vni %r is out of range (1-16777215). Fix: use a number like 256' % (at, vni))
    if raw.get('parent') is not None and driver != 'macvlan':
        problems.append('%s: parent applies to macvlan networks only. Fix: remove it or set driver: macvlan' % at)
    elif raw.get('parent') is not None:
        error = validate_ifname(raw['parent']) if isinstance(raw['parent'], str) else 'must be a string'
        if error:
            problems.append('%s: parent %r: %s. Fix: name the host interface, like eth0' % (at, raw['parent'], error.split('. Fix:')[0]))
    if driver == 'macvlan' and not raw.get('parent'):
        problems.append('%s: a macvlan network needs parent (the host interface it hangs from). Fix: set parent: eth0' % at)
    control_plane = raw.get('control_plane')
    if control_plane is not None and driver != 'overlay':
        problems.append('%s: control_plane applies to overlay networks only. Fix: remove it or set driver: overlay' % at)
    elif control_plane is not None and control_plane not in CONTROL_PLANES:
        problems.append('%s: control_plane %r is not one of %s. Fix: use static (the inventory writes every VTEP\'s FDB '
                        'entries) or evpn (BGP EVPN with FRR on every VTEP)' % (at, control_plane, ', '.join(CONTROL_PLANES)))
    dns = read_dns(raw, at, problems)
    publish_allow = read_allow(raw.get('publish_allow'), '%s: publish_allow' % at, problems)
    if len(problems) != before:
        return None
    if subnet is not None and gateway is None:
        gateway = subnet.network_address + 1
    if ipv6 is not None and ipv6[0] is not None and ipv6[1] is None:
        ipv6 = (ipv6[0], ipv6[0].network_address + 1, ipv6[2])
    return Network(raw['name'], driver=driver, subnet=subnet, gateway=gateway, ip_range=ip_range, bridge=bridge, mtu=mtu,
                   vni=vni, parent=raw.get('parent'), default=default, dns=dns, publish_allow=publish_allow, ipv6=ipv6,
                   gateway_mode_ipv6=mode6 or 'nat', control_plane=control_plane or 'static',
                   gateway_mode_ipv4=mode4 or 'nat', **options)


def _read_ipam(raw, version, at, problems):
    """(subnet, gateway, ip_range) of a network's IPAM entry of one family (FAMILIES), each None where unset or wrong;
    problems appended in Docker's wording. An IPv6 subnet has no broadcast address: only its first (the subnet-router
    anycast address) is never an endpoint's."""
    family = FAMILIES[version]
    key_subnet, key_gateway, key_range = family['subnet'], family['gateway'], family['ip_range']
    subnet = gateway = ip_range = None
    if raw.get(key_subnet) is not None:
        text = str(raw[key_subnet]).strip()
        try:
            subnet = family['network'](text, strict=False)
        except ValueError:
            problems.append('%s: invalid CIDR address: %s (%s). Fix: write it like %s' % (at, raw[key_subnet], key_subnet, family['example']))
        if subnet is not None and '/' not in text:
            problems.append('%s: invalid CIDR address: %s (%s has no prefix length). Fix: write it like %s/%d'
                            % (at, text, key_subnet, text, family['prefix']))
            subnet = None
        elif subnet is not None and subnet.network_address != family['ip'](text.split('/', maxsplit=1)[0]):
            problems.append('%s: invalid subnet %s : it should be %s. Fix: write %s: %s' % (at, text, subnet, key_subnet, subnet))
            subnet = None
        if subnet is not None and subnet.network_address.is_multicast:
            problems.append("%s: multicast subnet '%s' is not allowed. Fix: use a unicast subnet, like %s"
                            % (at, subnet, family['example']))
        elif subnet is not None and subnet.prefixlen > family['longest']:
            problems.append('%s: %s %s is too small for a gateway and endpoints. Fix: use a prefix of /%d or shorter'
                            % (at, key_subnet, subnet, family['longest']))
    if raw.get(key_gateway) is not None:
        try:
            gateway = family['ip'](str(raw[key_gateway]).strip())
        except ValueError:
            problems.append('%s: invalid %s address %s. Fix: write an %s address inside the subnet'
                            % (at, key_gateway, raw[key_gateway], family['name']))
    if gateway is not None:
        if subnet is None:
            problems.append('%s: a %s needs a %s. Fix: set %s as well, or drop %s' % (at, key_gateway, key_subnet, key_subnet, key_gateway))
        elif gateway not in subnet or gateway in reserved_addresses(subnet):
            problems.append('%s: no matching subnet for gateway %s (%s %s). Fix: use an address inside %s'
                            % (at, gateway, key_subnet, subnet, subnet))
    if raw.get(key_range) is not None:
        try:
            ip_range = family['network'](str(raw[key_range]).strip(), strict=True)
        except ValueError:
            problems.append('%s: invalid CIDR address: %s (%s). Fix: write it like %s' % (at, raw[key_range], key_range, family['range_example']))
        if ip_range is not None:
            if subnet is None:
                problems.append('%s: %s needs a %s. Fix: set %s as well' % (at, key_range, key_subnet, key_subnet))
            elif not ip_range.subnet_of(subnet):
                problems.append('%s: no matching subnet for range %s (%s %s). Fix: choose a range inside %s'
                                % (at, ip_range, key_subnet, subnet, subnet))
    return subnet, gateway, ip_range


def reserved_addresses(subnet):
    """The addresses of a subnet no endpoint and no gateway takes: the network and (IPv4) broadcast addresses."""
    if subnet.version == 4:
        return (subnet.network_address, subnet.broadcast_address)
    return (subnet.network_address,)


def _overlaps(nets, where, problems):
    """Every pair of overlapping subnets. The default network takes part with Docker's 172.17.0.0/16 when its
    subnet is not set: docker0 always holds it, and Docker refuses a local network on it. Overlays are in the
    global address space, as in Docker, and are only compared with one another and with set subnets."""
    subnets = [(n.subnet, n.name, n.driver) for n in nets.values() if n.subnet is not None]
    default = nets.get(DEFAULT_NETWORK)
    if default is not None and default.subnet is None:
        subnets.append((ipaddress.ip_network(DEFAULT_SUBNET), '%s (the default network, docker0)' % DEFAULT_NETWORK, None))
    subnets.extend((n.subnet6, n.name, n.driver) for n in nets.values() if n.subnet6 is not None)
    subnets.sort(key=lambda s: (s[0].version, s[0], s[1]))
    for index, (subnet, name, driver) in enumerate(subnets):
        for other, other_name, other_driver in subnets[index + 1:]:
            if other.version != subnet.version or other.network_address > subnet.broadcast_address:
                break
            if None in (driver, other_driver) and 'overlay' in (driver, other_driver):
                continue
            problems.append('%s: linuxnet_networks: %s %s of %s overlaps %s %s of %s (Pool overlaps with other one '
                            'on this address space). Fix: give the networks disjoint subnets'
                            % (where, FAMILIES[other.version]['subnet'], other, other_name, FAMILIES[subnet.version]['subnet'],
                               subnet, name))


class Endpoint:
    """A container's attachment to one network."""

    def __init__(self, container, network, ifname, address=None, mac=None, aliases=(), address6=None):
        self.container = container
        self.network = network
        self.ifname = ifname
        self.address = address      # static ipaddress.IPv4Address or None
        self.address6 = address6    # static ipaddress.IPv6Address or None (networks with enable_ipv6)
        self.mac = mac
        self.aliases = list(aliases)


def read_container_endpoints(container, nets, at, problems):
    """The endpoints of one bridge-mode container, in its order (eth0, eth1, ...)."""
    raw_list = container.get('networks')
    if raw_list is None:
        raw_list = [DEFAULT_NETWORK]
    if not isinstance(raw_list, list) or not raw_list:
        problems.append('%s: networks must be a non-empty list of network names or dicts. Fix: list at least one network, '
                        'or leave networks out to join the default network' % at)
        return []
    endpoints = []
    seen = set()
    for index, raw in enumerate(raw_list):
        raw = {'name': raw} if isinstance(raw, str) else raw
        if not isinstance(raw, dict) or not isinstance(raw.get('name'), str):
            problems.append('%s: networks[%d] must be a network name or a dict with a name, got %r' % (at, index, raw))
            continue
        name = raw['name']
        unknown = sorted(set(raw) - ENDPOINT_KEYS)
        if unknown:
            problems.append('%s: networks[%d] (%s): unknown key(s) %s. Fix: use only %s'
                            % (at, index, name, ', '.join(unknown), ', '.join(sorted(ENDPOINT_KEYS))))
        net = nets.get(name)
        if net is None:
            problems.append('%s: network %s not found. Fix: declare it in linuxnet_networks or fix the name' % (at, name))
            continue
        if name in seen:
            problems.append('%s: endpoint with name %s already exists in network %s. Fix: list each network once'
                            % (at, container['name'], name))
            continue
        seen.add(name)
        address = mac = address6 = None
        if raw.get('ipv4_address') is not None:
            address = _static_address(raw['ipv4_address'], net, 4, at, problems)
        if raw.get('ipv6_address') is not None:
            address6 = _static_address(raw['ipv6_address'], net, 6, at, problems)
        if raw.get('mac_address') is not None:
            try:
                mac = normalize_mac(str(raw['mac_address']))
            except ValueError:
                problems.append('%s: networks[%d] (%s): invalid MAC address %s. Fix: write it like 02:42:ac:11:00:02'
                                % (at, index, name, raw['mac_address']))
        if mac is not None and validate_unicast_mac(mac):
            problems.append('%s: networks[%d] (%s): mac_address %s %s: no interface can hold it (cannot assign requested '
                            'address). Fix: use a unicast MAC, whose first octet is even, like 02:42:ac:11:00:02'
                            % (at, index, name, mac, validate_unicast_mac(mac)))
            mac = None
        aliases = raw.get('aliases') or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a for a in aliases):
            problems.append('%s: networks[%d] (%s): aliases must be a list of names. Fix: write them like [db, db.internal]'
                            % (at, index, name))
            aliases = []
        elif aliases and net.default:
            problems.append('%s: network-scoped alias is supported only for containers in user defined networks '
                            '(aliases on %s). Fix: drop the aliases or use a user-defined network' % (at, name))
        for alias in aliases:
            if validate_hostname(alias):
                problems.append('%s: networks[%d] (%s): alias %r %s, so it cannot be a name in the hosts files. Fix: %s'
                                % (at, index, name, alias, validate_hostname(alias), HOSTNAME_FIX))
        endpoints.append(Endpoint(container['name'], name, 'eth%d' % len(endpoints), address, mac, aliases, address6))
    return endpoints


def _static_address(value, net, version, at, problems):
    """A static ipv4_address or ipv6_address (``version``) of an endpoint on ``net``, or None with a problem."""
    family = FAMILIES[version]
    key = family['address']
    try:
        address = family['ip'](str(value).strip())
    except ValueError:
        problems.append('%s: invalid %s address %s on network %s. Fix: write an address like %s'
                        % (at, family['name'], value, net.name, family['address_example']))
        return None
    ipam = net.ipam(version)
    if version == 6 and not net.ipv6:
        problems.append('%s: %s %s on %s, a network without IPv6 (enable_ipv6 is not set). Fix: set enable_ipv6: true and '
                        'an ipv6_subnet on network %s, or drop %s' % (at, key, address, net.name, net.name, key))
        return None
    if net.default:
        problems.append('%s: user specified IP address is supported on user defined networks only (%s %s on %s). '
                        'Fix: drop %s or use a user-defined network' % (at, key, address, net.name, key))
        return None
    if not ipam.user_subnet:
        problems.append('%s: user specified IP address is supported only when connecting to networks with user configured '
                        'subnets (%s %s on %s). Fix: set %s on network %s, or drop %s'
                        % (at, key, address, net.name, family['subnet'], net.name, key))
        return None
    if address not in ipam.subnet:
        problems.append("%s: Invalid address %s: It does not belong to any of this network's subnets (%s is %s). "
                        'Fix: use an address inside %s' % (at, address, net.name, ipam.subnet, ipam.subnet))
        return None
    if address in reserved_addresses(ipam.subnet) + (ipam.gateway,):
        problems.append('%s: Address already in use: %s is the network, broadcast or gateway address of %s. '
                        'Fix: choose another address' % (at, address, net.name))
        return None
    return address


def host_problems(host, hv):
    """Every problem in one host's linuxnet variables (networks as that host sees them)."""
    where = 'host %s' % host
    problems = []
    nets = read_networks(hv.get('linuxnet_networks'), where, problems)
    read_dns(hv, where, problems, prefix='linuxnet_')
    read_allow(hv.get('linuxnet_publish_allow'), '%s: linuxnet_publish_allow' % where, problems)
    containers = hv.get('linuxnet_containers')
    if containers is None:
        containers = []
    if not isinstance(containers, list):
        problems.append('%s: linuxnet_containers must be a list of containers, got %s. Fix: write it as a YAML list '
                        'of dicts with a name' % (where, type(containers).__name__))
        return problems
    names = {}
    valid = []
    for index, container in enumerate(containers):
        at = '%s: linuxnet_containers[%d]' % (where, index)
        if not isinstance(container, dict) or not isinstance(container.get('name'), str):
            problems.append('%s must be a dict with a name, got %r. Fix: add "name: <container>"' % (at, container))
            continue
        name = container['name']
        at = '%s (%s)' % (at, name)
        problem = validate_netns_name(name)
        if problem:
            problems.append('%s: %s. Fix: use a plain name like web1' % (at, problem))
            continue
        if not _NAME_RE.fullmatch(name):
            problems.append('%s: Invalid container name (%s), only %s are allowed. Fix: use a plain name like web1'
                            % (at, name, NAME_CHARS))
            continue
        if name in names:
            problems.append('%s: Conflict. The container name "/%s" is already in use by linuxnet_containers[%d]. '
                            'Fix: give every container a unique name' % (at, name, names[name]))
            continue
        names[name] = index
        unknown = sorted(set(container) - CONTAINER_KEYS)
        if unknown:
            problems.append('%s: unknown key(s) %s. Fix: use only %s' % (at, ', '.join(unknown), ', '.join(sorted(CONTAINER_KEYS))))
        mode = container.get('network_mode') or 'bridge'
        if not isinstance(mode, str) or (mode not in ('bridge', 'host', 'none') and not mode.startswith('container:')):
            problems.append('%s: network_mode %r is not valid. Fix: use bridge, host, none or container:<name>' % (at, mode))
            continue
        dns = read_dns(container, at, problems)
        if dns and container_mode(container) in ('host', 'container'):
            problems.append('%s: conflicting options: dns and the network mode (%s). Fix: drop %s, or set them on the '
                            'container whose namespace it uses' % (at, mode, ', '.join(k for k, f in DNS_KEYS if f in dns)))
        valid.append((index, at, container))
    endpoints = {}
    for index, at, container in valid:
        mode = container_mode(container)
        if mode != 'bridge' and container.get('networks'):
            problems.append('%s: conflicting options: network_mode %s cannot be combined with networks. '
                            'Fix: drop networks or use network_mode bridge' % (at, container['network_mode']))
        if mode == 'container':
            other = container['network_mode'].split(':', 1)[1]
            if other == container['name']:
                problems.append('%s: network_mode container:%s names the container itself (cannot join own network '
                                'namespace). Fix: name another container' % (at, other))
            elif other not in names:
                problems.append('%s: network_mode container:%s: No such container: %s. Fix: declare %s in '
                                'linuxnet_containers of %s' % (at, other, other, other, host))
            elif container_mode(containers[names[other]]) in ('container', 'host'):
                problems.append('%s: network_mode container:%s: %s has no namespace of its own (mode %s). '
                                'Fix: name a container in bridge or none mode' % (at, other, other, containers[names[other]]['network_mode']))
            if container.get('ports'):
                problems.append('%s: conflicting options: port publishing and the container type network mode. '
                                'Fix: publish the ports on %s' % (at, other))
        if mode == 'bridge':
            endpoints[container['name']] = read_container_endpoints(container, nets, at, problems)
    _duplicate_addresses(endpoints, where, problems)
    ats = {container['name']: at for _index, at, container in valid}
    members = {}
    for eps in endpoints.values():
        for ep in eps:
            members.setdefault(ep.network, []).append((ats[ep.container], ep.container, ep))
    for name, net_members in members.items():
        if nets[name].driver == 'bridge':  # overlay and macvlan networks span the fleet: fleet_problems
            network_clashes(nets[name], net_members, problems)
    _port_problems(valid, where, problems, endpoints, nets)
    _link_problems(valid, names, endpoints, nets, where, problems)
    return problems


def _duplicate_addresses(endpoints, where, problems):
    used = {}
    for container, eps in endpoints.items():
        for ep in eps:
            for address in (ep.address, ep.address6):
                if address is None:
                    continue
                key = (ep.network, address)
                if key in used:
                    problems.append('%s: linuxnet_containers (%s): Address already in use: %s on %s is also the %s of %s. '
                                    'Fix: give each container its own address'
                                    % (where, container, address, ep.network, FAMILIES[address.version]['address'], used[key]))
                used.setdefault(key, container)


def network_clashes(net, members, problems):
    """MACs and names that two endpoints of network ``net`` would share; ``members`` is [(at, owner, Endpoint)], ``at``
    where a container's problems are reported, ``owner`` how another container is named ("web", "web on host n1").

    A MAC is one endpoint's: a mac_address, or Docker's 02:42 + the static ipv4_address of an endpoint that sets none,
    or on a bridge network 02:42 + the gateway (the bridge's MAC). Docker checks none of this, and a bridge or a VXLAN
    then delivers to one of them. An alias that is another container's name would make that name resolve to the
    alias's address in some hosts files (Docker's DNS answers both addresses); aliases shared between containers are
    accepted, as Docker accepts them.
    """
    macs = {}
    if net.driver == 'bridge' and net.gateway is not None:
        macs[docker_mac(str(net.gateway))] = 'the gateway %s (the MAC of its bridge)' % net.gateway
    for _at, owner, ep in members:
        if ep.mac is None and ep.address is not None:
            macs.setdefault(docker_mac(str(ep.address)), '%s (Docker\'s 02:42 + its address %s)' % (owner, ep.address))
    for at, owner, ep in members:
        if ep.mac is None:
            continue
        if ep.mac in macs:
            problems.append('%s: mac_address %s on %s is also the MAC of %s. Fix: give every endpoint of %s its own MAC, '
                            'or drop mac_address (Docker derives one from the address)' % (at, ep.mac, net.name, macs[ep.mac], net.name))
        macs.setdefault(ep.mac, '%s (its mac_address)' % owner)
    names = {ep.container: owner for _at, owner, ep in members}
    for at, _owner, ep in members:
        for alias in sorted(set(ep.aliases)):
            if alias != ep.container and alias in names:
                problems.append('%s: alias %s on %s is also the name of container %s, so that name would resolve to %s in '
                                'some hosts files (Docker\'s DNS answers both addresses). Fix: give %s another alias'
                                % (at, alias, net.name, names[alias], ep.container, ep.container))


def _port_problems(valid, where, problems, endpoints, nets):
    entries = []
    for _index, at, container in valid:
        # Where its ports lead (the first non-internal bridge or macvlan network), and whether that has IPv6.
        target = next((ep for ep in endpoints.get(container['name'], []) if ep.network in nets
                       and nets[ep.network].driver in ('bridge', 'macvlan') and not nets[ep.network].internal), None)
        address6 = '::' if target is not None and nets[target.network].ipv6 else None
        # A routed IPv6 network opens the container port at the container's address: no IPv6 host port is taken.
        routed6 = address6 is not None and nets[target.network].gateway_mode_ipv6 == 'routed'
        if routed6:
            address6 = None
        ports = container.get('ports') or []
        if not isinstance(ports, list):
            problems.append('%s: ports must be a list like ["8080:80"]' % at)
            continue
        for index, entry in enumerate(ports):
            if isinstance(entry, dict):
                unknown = sorted(set(entry) - PUBLISH_KEYS)
                if unknown:
                    problems.append('%s: ports[%d]: unknown key(s) %s. Fix: use only allow, publish' % (at, index, ', '.join(unknown)))
                if not isinstance(entry.get('publish'), (str, int)) or isinstance(entry.get('publish'), bool):
                    problems.append('%s: ports[%d] needs publish in docker -p syntax, got %r. Fix: write it like '
                                    '{publish: "8080:80", allow: [192.0.2.0/24]}' % (at, index, entry))
                    continue
                read_allow(entry.get('allow'), '%s: ports[%d] (%s): allow' % (at, index, entry['publish']), problems)
                spec = entry['publish']
            else:
                spec = entry
            try:
                publication = parse_publish(spec)
            except PortError as err:
                problems.append('%s: ports: %s%s' % (at, err, '' if 'Fix:' in str(err) else '. Fix: write [ip:]hostPort:containerPort[/tcp|udp|sctp]'))
                continue
            if container_mode(container) == 'bridge':
                # [::1] is served by a userland proxy (to the IPv6 address, else the IPv4 one), not by NAT
                ipv6_nat = ':' in publication['host_ip'] and publication['host_ip'] != LOOPBACK6
                if ipv6_nat and routed6:
                    continue
                if ipv6_nat and address6 is None and target is not None:
                    problems.append('%s: ports: %s %s' % (at, spec, _no_ipv6(publication['host_ip'], target.network)))
                    continue
                entries.append((container['name'], '0.0.0.0', publication, address6))
    try:
        build_maps(entries)
    except PortError as err:
        problems.append('%s: linuxnet_containers: %s (Bind failed: port is already allocated)' % (where, err))


def _no_ipv6(host_ip, network):
    return ('publishes on the IPv6 host address %s, but its ports lead to network %s, which has no IPv6 (the userland '
            'proxy Docker would use for it is not there). Fix: set enable_ipv6: true on %s, or publish on an IPv4 '
            'address' % (host_ip, network, network))


def parse_link(value):
    text = str(value)
    name, _sep, alias = text.partition(':')
    return name, alias or name


def _link_problems(valid, names, endpoints, nets, where, problems):
    for _index, at, container in valid:
        links = container.get('links') or []
        if not isinstance(links, list):
            problems.append('%s: links must be a list of container names. Fix: write them like [db, db:database]' % at)
            continue
        for link in links:
            if not isinstance(link, str) or not link:
                problems.append('%s: links: %s. Fix: write each link as NAME or NAME:ALIAS'
                                % (at, 'empty string specified for links' if link in ('', None) else '%r is not a string' % (link,)))
                continue
            if link.count(':') > 1:
                problems.append('%s: links: bad format for links: %s. Fix: write it as NAME or NAME:ALIAS' % (at, link))
                continue
            target, alias = parse_link(link)
            if validate_hostname(alias):
                problems.append('%s: links: alias %r of %s %s, so it cannot be a name in the hosts file. Fix: %s'
                                % (at, alias, link, validate_hostname(alias), HOSTNAME_FIX))
                continue
            if target not in names:
                problems.append('%s: links: could not get container for %s. Fix: declare %s on this host or drop the link'
                                % (at, target, target))
                continue
            if container_mode(container) != 'bridge':
                problems.append('%s: conflicting options: links need network_mode bridge. Fix: drop links' % at)
                continue
            if link_address_network(container['name'], target, endpoints, nets) is None:
                problems.append('%s: Cannot link to /%s, as it does not belong to the default network. '
                                'Fix: put both on a common network' % (at, target))


def link_address_network(source, target, endpoints, nets):
    """The network through which ``source`` reaches linked ``target``: the default one first."""
    mine = {ep.network for ep in endpoints.get(source, [])}
    theirs = [ep.network for ep in endpoints.get(target, [])]
    common = [n for n in theirs if n in mine]
    for name in common:
        if nets[name].default:
            return name
    return common[0] if common else None


def fleet_problems(hostvars, hosts):
    """Problems that only show across hosts: global networks' endpoint names and static addresses, VNIs, VTEPs."""
    problems = []
    names, addresses, vteps, members = {}, {}, {}, {}
    for host in hosts:
        hv = hostvars.get(host, {})
        if (hv.get('linuxnet_state') or 'present') == 'absent':
            continue
        scratch = []
        nets = read_networks(hv.get('linuxnet_networks'), 'host %s' % host, scratch)
        if scratch:
            continue  # reported by host_problems
        vnis = {}
        for net in nets.values():
            if net.driver == 'overlay' and net.vni:
                if net.vni in vnis:
                    problems.append('host %s: linuxnet_networks (%s): vni %d is also the VNI of overlay %s. Fix: give every '
                                    'overlay its own vni, or leave vni out to allocate one' % (host, net.name, net.vni, vnis[net.vni]))
                vnis.setdefault(net.vni, net.name)
        vtep = hv.get('linuxnet_vtep_address')
        if vtep:
            try:
                vtep = str(ipaddress.ip_address(str(vtep).strip()))
            except ValueError:
                problems.append('host %s: linuxnet_vtep_address %r is not an IP address. Fix: set the host\'s underlay '
                                'address, like 192.0.2.11' % (host, vtep))
                vtep = None
        if vtep:
            if vtep in vteps:
                problems.append('host %s: linuxnet_vtep_address %s is also the VTEP of host %s. Fix: give every host its '
                                'own underlay address' % (host, vtep, vteps[vtep]))
            vteps.setdefault(vtep, host)
        containers = hv.get('linuxnet_containers') or []
        if not isinstance(containers, list):
            continue
        for index, container in enumerate(containers):
            if not isinstance(container, dict) or not isinstance(container.get('name'), str) or container_mode(container) != 'bridge':
                continue
            eps = read_container_endpoints(container, nets, '', [])
            for ep in eps:
                if nets[ep.network].driver not in ('overlay', 'macvlan'):
                    continue
                members.setdefault(ep.network, (nets[ep.network], []))[1].append(
                    ('host %s: linuxnet_containers[%d] (%s)' % (host, index, ep.container), '%s on host %s' % (ep.container, host), ep))
                key = (ep.network, ep.container)
                if key in names and names[key] != host:
                    problems.append('host %s: linuxnet_containers (%s): endpoint with name %s already exists in network %s '
                                    '(on host %s). Fix: give the container another name'
                                    % (host, ep.container, ep.container, ep.network, names[key]))
                names.setdefault(key, host)
                for address in (ep.address, ep.address6):
                    if address is None:
                        continue
                    akey = (ep.network, address)
                    if akey in addresses and addresses[akey] != (host, ep.container):
                        problems.append('host %s: linuxnet_containers (%s): Address already in use: %s on %s is also the '
                                        '%s of %s on host %s. Fix: give each container its own address'
                                        % (host, ep.container, address, ep.network, FAMILIES[address.version]['address'],
                                           addresses[akey][1], addresses[akey][0]))
                    addresses.setdefault(akey, (host, ep.container))
    for net, net_members in members.values():
        network_clashes(net, net_members, problems)
    problems.extend(evpn_problems(hostvars, hosts))
    return problems


EVPN_KEYS = ('linuxnet_evpn_asn', 'linuxnet_evpn_route_reflectors', 'linuxnet_evpn_listen_ranges')


def evpn_problems(hostvars, hosts):
    """linuxnet_evpn_asn (1-4294967295), linuxnet_evpn_route_reflectors (inventory hosts), linuxnet_evpn_listen_ranges
    (CIDRs): well formed, and the same on every host of the play (one iBGP fleet)."""
    problems, seen = [], {}
    for host in hosts:
        hv = hostvars.get(host, {})
        if (hv.get('linuxnet_state') or 'present') == 'absent':
            continue
        values = {}
        asn = hv.get('linuxnet_evpn_asn')
        if asn is not None:
            if isinstance(asn, bool) or not isinstance(asn, int) or not 1 <= asn <= 4294967295:
                problems.append('host %s: linuxnet_evpn_asn %r is not an AS number (1-4294967295). Fix: use a private one, '
                                'like 65000 (the default)' % (host, asn))
                continue
        values['linuxnet_evpn_asn'] = asn or 65000
        reflectors = hv.get('linuxnet_evpn_route_reflectors') or []
        if not isinstance(reflectors, list) or not all(isinstance(h, str) for h in reflectors):
            problems.append('host %s: linuxnet_evpn_route_reflectors must be a list of inventory host names, got %r. Fix: '
                            'write it like [node1, node2], or leave it out for a full mesh' % (host, reflectors))
            continue
        unknown = [h for h in reflectors if h not in hostvars]
        if unknown:
            problems.append('host %s: linuxnet_evpn_route_reflectors names %s, which %s not in the inventory. Fix: name '
                            'inventory hosts' % (host, ', '.join(unknown), 'is' if len(unknown) == 1 else 'are'))
            continue
        values['linuxnet_evpn_route_reflectors'] = sorted(set(reflectors))
        ranges = hv.get('linuxnet_evpn_listen_ranges') or []
        normal = []
        for item in ranges if isinstance(ranges, list) else [ranges]:
            try:
                normal.append(str(ipaddress.ip_network(str(item).strip(), strict=False)))
            except ValueError:
                problems.append('host %s: linuxnet_evpn_listen_ranges: %r is not a CIDR. Fix: write it like 192.0.2.0/24'
                                % (host, item))
        values['linuxnet_evpn_listen_ranges'] = sorted(normal)
        for key in EVPN_KEYS:
            if key in seen and seen[key][1] != values[key]:
                problems.append('host %s: %s is %s, but %s on host %s (one BGP EVPN fleet has one setting). Fix: set it '
                                'once, in group_vars/all' % (host, key, values[key], seen[key][1], seen[key][0]))
            seen.setdefault(key, (host, values[key]))
    return problems
